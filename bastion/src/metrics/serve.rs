//! The `/metrics` listener: plain HTTP, as Prometheus scrapes by default, on the address of
//! `[metrics] listen`. It serves counts only (no user, host or command names), but bind it
//! where only the monitoring system reaches it, as one does a node exporter.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// Renders the page (it reads the store, so it runs on a blocking thread).
type Render = dyn Fn() -> Result<String, store::StoreError> + Send + Sync;

/// Serves `/metrics` on `listener` until the process ends.
pub async fn serve(
    listener: tokio::net::TcpListener,
    render: impl Fn() -> Result<String, store::StoreError> + Send + Sync + 'static,
) {
    let render: Arc<Render> = Arc::new(render);
    let app = Router::new()
        .route("/metrics", get(metrics))
        .with_state(render);
    if let Err(e) = axum::serve(listener, app).await {
        tracing::error!("metrics listener stopped: {e}");
    }
}

async fn metrics(State(render): State<Arc<Render>>) -> Response {
    let rendered = tokio::task::spawn_blocking(move || render())
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| e.to_string()));
    match rendered {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::error!("metrics: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, "metrics unavailable\n").into_response()
        }
    }
}
