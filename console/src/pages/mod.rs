//! One module per page. Each page's handler has a twin under `/api/v1` answering the same
//! query as JSON (what the browser shows and what a script reads come from one function).

pub mod audit;
pub mod commands;
pub mod live;
pub mod reports;
pub mod requests;
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
    } else if viewer.grant.has(policies::ConsoleRight::Live) {
        Redirect::to("/live")
    } else {
        Redirect::to("/requests")
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

/// The query string of `params` without the paging (`offset`, and the `after`/`before`
/// cursors), for pager links.
pub fn query_without_offset<T: serde::Serialize>(params: &T) -> String {
    let encoded = serde_urlencoded::to_string(params).unwrap_or_default();
    encoded
        .split('&')
        .filter(|kv| {
            !kv.is_empty()
                && !["offset=", "after=", "before="]
                    .iter()
                    .any(|p| kv.starts_with(p))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A rejected query parameter: 400 naming it.
pub fn bad_param(name: &str, why: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(serde_json::json!({"error": format!("{name}: {why}")})),
    )
        .into_response()
}

/// `offset` and `limit` (1-500, `default` when absent), or 400.
pub fn paging(
    offset: Option<u64>,
    limit: Option<u64>,
    default: u64,
) -> Result<(u64, u64), Response> {
    let limit = limit.unwrap_or(default);
    if !(1..=500).contains(&limit) {
        return Err(bad_param("limit", "must be between 1 and 500"));
    }
    let offset = offset.unwrap_or(0);
    if offset > i64::MAX as u64 {
        return Err(bad_param("offset", "too large"));
    }
    Ok((offset, limit))
}

/// A time filter (`YYYY-MM-DD` or RFC 3339; empty: none), or 400 naming the parameter.
pub fn time(name: &str, v: &Option<String>, end_of_day: bool) -> Result<Option<f64>, Response> {
    // Empty means no filter; anything else must be a date or time exactly as the API document
    // says (surrounding blanks included: they are not "empty").
    match v.as_deref() {
        None | Some("") => Ok(None),
        Some(t) if t == t.trim() => html::parse_time(t, end_of_day)
            .map(Some)
            .ok_or_else(|| bad_param(name, "expected YYYY-MM-DD or an RFC 3339 time")),
        Some(_) => Err(bad_param(name, "expected YYYY-MM-DD or an RFC 3339 time")),
    }
}

/// Runs a handler's body (its store queries and the page it renders) on tokio's blocking pool
/// rather than on a runtime worker. The console shares the runtime, and the node's store, with
/// the SSH sessions: a search over a million commands or an audit verification takes a second
/// or more, and on a worker it would stall every session task queued behind it.
pub async fn off_runtime<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(body).await {
        Ok(value) => value,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("console request cancelled: {e}"),
    }
}

/// A page's JSON twin: the value, or the refusal the query gave.
pub fn json_of<T: serde::Serialize>(result: Result<T, Response>) -> Response {
    match result {
        Ok(v) => axum::Json(v).into_response(),
        Err(r) => r,
    }
}

/// A filter's current value for its form field.
pub fn value(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}
