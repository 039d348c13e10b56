//! One module per page. Each page's handler has a twin under `/api/v1` answering the same
//! query as JSON (what the browser shows and what a script reads come from one function).

pub mod audit;
pub mod commands;
pub mod live;
pub mod reports;
pub mod session;
pub mod sessions;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::auth::Viewer;
use crate::html;

/// `/`: the session list, or the live sessions for a viewer who may only watch.
pub async fn home(viewer: Viewer) -> Redirect {
    if viewer.grant.has(policies::ConsoleRight::Audit) {
        Redirect::to("/sessions")
    } else {
        Redirect::to("/live")
    }
}

/// Anything else.
pub async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        html::message_page("Not found", "There is no such page."),
    )
        .into_response()
}

/// A checkbox (`on`) or an API flag (`true`, `1`).
pub fn flag(v: &Option<String>) -> bool {
    matches!(v.as_deref(), Some("on" | "true" | "1" | "yes"))
}

/// A filter value, `None` when empty.
pub fn text(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// The query string of `params` without `offset`, for pager links.
pub fn query_without_offset<T: serde::Serialize>(params: &T) -> String {
    let encoded = serde_urlencoded::to_string(params).unwrap_or_default();
    encoded
        .split('&')
        .filter(|kv| !kv.is_empty() && !kv.starts_with("offset="))
        .collect::<Vec<_>>()
        .join("&")
}
