//! Sessions in progress: the list, watching one in the browser as it happens, and killing one
//! with a message to its user. Needs the `live` console right, scoped by the role's hosts.
//!
//! Watching is read-only by construction: the WebSocket carries the session's output to the
//! browser and nothing back (messages from the browser are ignored). It speaks asciicast v2
//! over WebSocket (`v2.asciicast` subprotocol), which asciinema-player plays live: first the
//! header with the terminal's size, then the current screen as one output event, then every
//! output chunk as it is written. A cross-site page cannot open it: the cookie is
//! `SameSite=Strict`, and the `Origin` must be the console's own.

use std::time::Instant;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::header::{HOST, ORIGIN};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use maud::html;
use policies::ConsoleRight;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use utf8carry::LossyText;

use crate::auth::Viewer;
use crate::backend::{LiveInfo, LiveWatch};
use crate::html::{self, Nav};
use crate::{scope, AppState};

/// How the viewer is named in `session_watched` / `session_killed`.
fn by(viewer: &Viewer) -> String {
    format!("{} (console, {})", viewer.user, viewer.source)
}

fn visible(state: &AppState, viewer: &Viewer) -> Result<Vec<LiveInfo>, Response> {
    viewer.require(state, ConsoleRight::Live, "live sessions")?;
    Ok(state
        .backend
        .live()
        .into_iter()
        .filter(|s| scope::sees(state, viewer, ConsoleRight::Live, &s.host))
        .collect())
}

/// The live session `id` if the viewer may act on it; else 404 (audited).
fn one(state: &AppState, viewer: &Viewer, id: i64, what: &str) -> Result<LiveInfo, Response> {
    viewer.require(state, ConsoleRight::Live, what)?;
    match state.backend.live().into_iter().find(|s| s.id == id) {
        Some(s) if scope::sees(state, viewer, ConsoleRight::Live, &s.host) => Ok(s),
        Some(s) => Err(viewer.deny(
            state,
            what,
            &format!("session {id} is on {}, outside the viewer's hosts", s.host),
            StatusCode::NOT_FOUND,
        )),
        None => Err((
            StatusCode::NOT_FOUND,
            html::message_page("Not found", "That session is not running."),
        )
            .into_response()),
    }
}

/// `GET /api/v1/live`.
pub async fn json(State(state): State<AppState>, viewer: Viewer) -> Response {
    super::off_runtime(move || json_blocking(state, viewer)).await
}

fn json_blocking(state: AppState, viewer: Viewer) -> Response {
    match visible(&state, &viewer) {
        Ok(items) => Json(serde_json::json!({ "items": items })).into_response(),
        Err(r) => r,
    }
}

/// `GET /live`.
pub async fn page(State(state): State<AppState>, viewer: Viewer) -> Response {
    super::off_runtime(move || page_blocking(state, viewer)).await
}

fn page_blocking(state: AppState, viewer: Viewer) -> Response {
    let list = match visible(&state, &viewer) {
        Ok(list) => list,
        Err(r) => return r,
    };
    let body = html! {
        @if list.is_empty() { p.muted { "No session in progress on your hosts." } }
        table #live {
            thead { tr { th { "#" } th { "user" } th { "target" } th { "node" } th {} th { "kill, with a message to the user" } } }
            tbody {
                @for s in &list {
                    tr data-session=(s.id) {
                        td.num { (s.id) }
                        td { (s.user) }
                        td { (s.login) "@" (s.host) }
                        td { (s.node) }
                        td { a.watch href=(format!("/live/{}", s.id)) { "Watch" } }
                        td {
                            form.kill method="post" action=(format!("/live/{}/kill", s.id)) {
                                input type="hidden" name="csrf" value=(viewer.csrf);
                                input name="message" placeholder="why (shown to the user)" maxlength="200";
                                button type="submit" { "Kill" }
                            }
                        }
                    }
                }
            }
        }
    };
    html::layout(&viewer, Nav::Live, "Live sessions", false, body).into_response()
}

/// `GET /live/{id}`: the watch page (the player connects to `/live/{id}/ws`).
pub async fn watch_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Response {
    super::off_runtime(move || watch_page_blocking(state, viewer, id)).await
}

fn watch_page_blocking(state: AppState, viewer: Viewer, id: i64) -> Response {
    let s = match one(&state, &viewer, id, &format!("watch session {id}")) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let title = format!(
        "Watching session {} — {} as {} on {} (node {})",
        s.id, s.user, s.login, s.host, s.node
    );
    let body = html! {
        p.muted { "Read-only: what the user's terminal shows, as it happens." }
        div #player data-live=(format!("/live/{}/ws", s.id)) {}
        form.kill method="post" action=(format!("/live/{}/kill", s.id)) {
            input type="hidden" name="csrf" value=(viewer.csrf);
            input name="message" placeholder="why (shown to the user)" maxlength="200";
            button type="submit" { "Kill this session" }
        }
    };
    html::layout(&viewer, Nav::Live, &title, true, body).into_response()
}

/// True when the request's `Origin` is this console (the `Host` it was sent to).
fn same_origin(headers: &HeaderMap) -> bool {
    let origin = headers.get(ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(HOST).and_then(|v| v.to_str().ok());
    matches!((origin, host), (Some(o), Some(h)) if o == format!("https://{h}"))
}

/// `GET /live/{id}/ws`: the session's output, live.
pub async fn socket(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if let Err(r) = one(&state, &viewer, id, &format!("watch session {id}")) {
        return r;
    }
    if !same_origin(&headers) {
        return viewer.deny(
            &state,
            &format!("watch session {id}"),
            "cross-origin WebSocket",
            StatusCode::FORBIDDEN,
        );
    }
    let backend = state.backend.clone();
    let who = by(&viewer);
    let started = tokio::task::spawn_blocking(move || backend.watch(id, &who)).await;
    let Ok(Some(watch)) = started else {
        return (StatusCode::NOT_FOUND, "session ended").into_response();
    };
    ws.protocols(["v2.asciicast"])
        .on_upgrade(move |socket| stream(socket, watch))
}

/// Sends the header, the current screen, then output until the session or the browser ends.
async fn stream(mut socket: WebSocket, mut watch: LiveWatch) {
    let started = Instant::now();
    let header = serde_json::json!({"version": 2, "width": watch.cols, "height": watch.rows});
    // A character split between two chunks is completed by the next one instead of becoming
    // two replacement characters.
    let mut text = LossyText::default();
    let first = serde_json::json!([0.0, "o", text.decode(&watch.screen)]);
    if socket
        .send(Message::text(header.to_string()))
        .await
        .is_err()
        || socket.send(Message::text(first.to_string())).await.is_err()
    {
        return;
    }
    loop {
        tokio::select! {
            chunk = watch.stream.recv() => match chunk {
                Ok(bytes) => {
                    let event = serde_json::json!([started.elapsed().as_secs_f64(), "o", text.decode(&bytes)]);
                    if socket.send(Message::text(event.to_string())).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Lagged(n)) => tracing::debug!("a console watcher skipped {n} chunks"),
                Err(RecvError::Closed) => break,
            },
            incoming = socket.recv() => match incoming {
                // Read-only: whatever the browser sends is dropped; it may only close.
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
    let _ = socket.send(Message::Close(None)).await;
}

#[derive(Deserialize)]
pub struct KillForm {
    csrf: String,
    #[serde(default)]
    message: String,
}

/// `POST /live/{id}/kill`.
pub async fn kill(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(f): Form<KillForm>,
) -> Response {
    super::off_runtime(move || kill_blocking(state, viewer, id, f)).await
}

fn kill_blocking(state: AppState, viewer: Viewer, id: i64, f: KillForm) -> Response {
    if !viewer.csrf_ok(&f.csrf) {
        return viewer.deny(
            &state,
            &format!("kill session {id}"),
            "bad CSRF token",
            StatusCode::FORBIDDEN,
        );
    }
    if let Err(r) = one(&state, &viewer, id, &format!("kill session {id}")) {
        return r;
    }
    let message: String = f
        .message
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    state.backend.kill(id, &by(&viewer), &message);
    Redirect::to("/live").into_response()
}
