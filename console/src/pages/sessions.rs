//! The session list: every session the viewer's roles let them see, filtered (user, host,
//! login, kind, time range, active, with blocked commands), sorted and paged.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::{Deserialize, Serialize};
use store::{Page, SessionCursor, SessionQuery, SessionRow, SessionSort};

use super::{flag, query_without_offset, text};
use crate::auth::Viewer;
use crate::html::{self, Nav};
use crate::{scope, AppState};

/// The list's filters, as query parameters.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct Params {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `YYYY-MM-DD` or RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Keyset paging (newest and oldest orders): the page after this session's
    /// `STARTED_AT:ID`; `offset` then only numbers the rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// ... or the page before it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

/// The keyset cursor asked for, if any (`after` when both are given); 400 when either is
/// malformed, whatever the order (a cursor is only used with newest or oldest: other orders
/// page by offset).
fn cursor_of(p: &Params, sort: SessionSort) -> Result<Option<SessionCursor>, Response> {
    let parse = |name: &str, v: &Option<String>, backward: bool| match text(v) {
        None => Ok(None),
        Some(t) => SessionCursor::parse(&t, backward)
            .map(Some)
            .ok_or_else(|| super::bad_param(name, "expected STARTED_AT:ID")),
    };
    let after = parse("after", &p.after, false)?;
    let before = parse("before", &p.before, true)?;
    if !matches!(sort, SessionSort::Newest | SessionSort::Oldest) {
        return Ok(None);
    }
    Ok(after.or(before))
}

/// The requested order (newest when absent); an unknown `sort` is refused rather than
/// silently ignored.
fn sort_of(p: &Params) -> Result<SessionSort, Response> {
    let Some(wanted) = text(&p.sort) else {
        return Ok(SessionSort::default());
    };
    SessionSort::ALL
        .iter()
        .find(|(name, _)| *name == wanted)
        .map(|(_, s)| *s)
        .ok_or_else(|| super::bad_param("sort", "expected newest, oldest, user, host or bytes"))
}

/// The cursors of the page's first and last rows, for pager links, where the order has them.
fn keyset_links(p: &Params, page: &Page<SessionRow>) -> Option<(String, String)> {
    if !matches!(sort_of(p), Ok(SessionSort::Newest | SessionSort::Oldest)) {
        return None;
    }
    let first = page.items.first()?;
    let last = page.items.last()?;
    Some((SessionCursor::text_of(first), SessionCursor::text_of(last)))
}

/// Runs the query for `viewer`.
fn fetch(state: &AppState, viewer: &Viewer, p: &Params) -> Result<Page<SessionRow>, Response> {
    let hosts = scope::audit_hosts(state, viewer, "sessions")?;
    let sort = sort_of(p)?;
    let cursor = cursor_of(p, sort)?;
    let (offset, limit) = super::paging(p.offset, p.limit, 50)?;
    let q = SessionQuery {
        hosts,
        user: text(&p.user),
        host: text(&p.host),
        login: text(&p.login),
        kind: text(&p.kind),
        from: super::time("from", &p.from, false)?,
        to: super::time("to", &p.to, true)?,
        active_only: flag(&p.active),
        with_blocked: flag(&p.blocked),
        sort,
        cursor,
        offset,
        limit,
    };
    state
        .backend
        .store()
        .browse_sessions(&q)
        .map_err(|e| html::internal(&e))
}

/// `GET /api/v1/sessions`.
pub async fn json(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(p): Query<Params>,
) -> Response {
    super::off_runtime(move || json_blocking(state, viewer, p)).await
}

fn json_blocking(state: AppState, viewer: Viewer, p: Params) -> Response {
    super::json_of(fetch(&state, &viewer, &p))
}

/// `GET /sessions`.
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(p): Query<Params>,
) -> Response {
    super::off_runtime(move || page_blocking(state, viewer, p)).await
}

fn page_blocking(state: AppState, viewer: Viewer, p: Params) -> Response {
    let page = match fetch(&state, &viewer, &p) {
        Ok(page) => page,
        Err(r) => return r,
    };
    let value = super::value;
    let body = html! {
        form.filters method="get" action="/sessions" {
            label { "user" input name="user" value=(value(&p.user)); }
            label { "host" input name="host" value=(value(&p.host)); }
            label { "login" input name="login" value=(value(&p.login)); }
            label { "kind" select name="kind" {
                option value="" { "any" }
                @for k in ["shell", "exec", "scp", "rsync", "sftp"] {
                    option value=(k) selected[p.kind.as_deref() == Some(k)] { (k) }
                }
            } }
            label { "from" input type="date" name="from" value=(value(&p.from)); }
            label { "to" input type="date" name="to" value=(value(&p.to)); }
            label { "sort" select name="sort" {
                @for (name, s) in SessionSort::ALL {
                    option value=(name) selected[sort_of(&p).ok() == Some(s)] { (name) }
                }
            } }
            label { span { input type="checkbox" name="active" checked[flag(&p.active)]; " active only" } }
            label { span { input type="checkbox" name="blocked" checked[flag(&p.blocked)]; " with blocked commands" } }
            button type="submit" { "Filter" }
        }
        table #sessions {
            thead { tr {
                th { "#" } th { "started" } th { "user" } th { "from" } th { "host" } th { "login" }
                th { "kind" } th { "command" } th { "duration" } th { "status" } th { "bytes in / out" } th { "node" }
            } }
            tbody {
                @for s in &page.items {
                    tr data-session=(s.id) {
                        td.num { a href=(format!("/sessions/{}", s.id)) { (s.id) } }
                        td { (html::when(s.started_at)) }
                        td { (s.user) }
                        td { (s.source) }
                        td { (s.host) }
                        td { (s.login) }
                        td { (s.kind) }
                        td.cmd { (s.command.as_deref().unwrap_or("")) }
                        td.num { (html::duration(s.ended_at.unwrap_or_else(store::now_ts) - s.started_at)) }
                        td { (s.status) @if let Some(code) = s.exit_status { " (" (code) ")" } }
                        td.num { (html::bytes(s.bytes_in)) " / " (html::bytes(s.bytes_out)) }
                        td { (s.node.as_deref().unwrap_or("")) }
                    }
                }
            }
        }
        (html::pager("/sessions", &query_without_offset(&p), &page, keyset_links(&p, &page)))
    };
    html::layout(&viewer, Nav::Sessions, "Sessions", false, body).into_response()
}
