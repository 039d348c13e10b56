//! The web console: what auditors, watchers and approvers see in a browser, served by
//! `bastion serve` over HTTPS.
//!
//! It is another edge of the same one-way flow as the SSH server: a browser request is
//! authenticated (`auth`: a one-time link issued over SSH opens a cookie session), the access
//! decision comes from the same policies (`access::Access::console`, scoped by the role's
//! hosts, `scope`), and what is shown is read from the store (`store::browse`). Nothing here
//! writes session data; it only reads, audits what it showed, and (live) asks the running
//! server to stop a session.
//!
//! Untrusted content — commands, file names, recorded output, even user and host names — is
//! data: pages are built with `maud`, which escapes every interpolation; the only script is
//! `assets/console.js` and the vendored asciinema-player, both served from here under a
//! Content-Security-Policy without inline script (`headers`); every state-changing request
//! carries the session's CSRF token (`auth`).
//!
//! Modules: `backend` (what the console needs from the server), `tls` (certificates and the
//! HTTPS accept loop), `auth`, `scope`, `html` (layout), `pages/` (one per page, each also
//! answering as JSON under `/api/v1`), `api` (the OpenAPI document), `assets`, `headers`.

mod api;
mod assets;
mod auth;
mod backend;
mod headers;
mod html;
mod pages;
mod scope;
mod tls;

use std::sync::Arc;
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;

pub use auth::{new_login_link, LINK_VALIDITY};
pub use backend::{Backend, Decision, LiveInfo, LiveWatch};
pub use tls::ensure_self_signed;

/// How the console is reached and how long its sessions last.
#[derive(Clone, Debug)]
pub struct ConsoleConfig {
    /// `HOST:PORT` to listen on.
    pub listen: String,
    /// What printed links start with (`https://bastion.example.com:8443`).
    pub public_url: String,
    pub cert: std::path::PathBuf,
    pub key: std::path::PathBuf,
    /// A browser session ends after this long without a request.
    pub idle: Duration,
    /// ... and this long after login, whatever happens.
    pub max_age: Duration,
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    backend: Arc<dyn Backend>,
    config: Arc<ConsoleConfig>,
}

/// The console's routes.
fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/login/{token}", get(auth::login))
        .route("/logout", post(auth::logout))
        .route("/sessions", get(pages::sessions::page))
        .route("/sessions/{id}", get(pages::session::page))
        .route("/sessions/{id}/cast", get(pages::session::cast))
        .route("/commands", get(pages::commands::page))
        .route("/live", get(pages::live::page))
        .route("/live/{id}", get(pages::live::watch_page))
        .route("/live/{id}/ws", get(pages::live::socket))
        .route("/live/{id}/kill", post(pages::live::kill))
        .route("/requests", get(pages::requests::page))
        .route("/requests/{id}", get(pages::requests::one_page))
        .route("/reviews/{id}", get(pages::requests::review_link))
        .route("/requests/{id}/approve", post(pages::requests::approve))
        .route("/requests/{id}/deny", post(pages::requests::deny))
        .route("/api/v1/requests", get(pages::requests::json))
        .route("/reports", get(pages::reports::page))
        .route("/reports.csv", get(pages::reports::csv))
        .route("/audit", get(pages::audit::page))
        .route("/audit/verify", post(pages::audit::verify))
        .route("/api/v1/openapi.json", get(api::openapi))
        .route("/api/v1/sessions", get(pages::sessions::json))
        .route("/api/v1/sessions/{id}", get(pages::session::json))
        .route("/api/v1/commands", get(pages::commands::json))
        .route("/api/v1/audit", get(pages::audit::json))
        .route("/api/v1/live", get(pages::live::json))
        .route("/api/v1/reports", get(pages::reports::json))
        .route("/api/v1/audit/verify", post(pages::audit::verify_json))
        .route("/assets/{name}", get(assets::serve))
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn(headers::security))
        .with_state(state)
}

/// Binds the console's address and loads its certificate, then serves it in a task of its
/// own. Fails at once (so `bastion serve` refuses to start, naming the problem) when the
/// address cannot be bound or the certificate cannot be read.
pub async fn start(
    config: ConsoleConfig,
    backend: Arc<dyn Backend>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let tls = tls::server_config(&config.cert, &config.key)?;
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "web console: listening on {}: {e} (set [web] listen, or enabled = false)",
                config.listen
            )
        })?;
    let local = listener.local_addr()?;
    tracing::info!("console listening on https://{local}");
    eprintln!(
        "bastion: web console on https://{local} (links start {})",
        config.public_url
    );
    let state = AppState {
        backend,
        config: Arc::new(config),
    };
    Ok(tokio::spawn(async move {
        if let Err(e) = tls::serve(listener, tls, router(state)).await {
            tracing::error!("web console stopped: {e}");
        }
    }))
}
