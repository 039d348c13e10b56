//! Command search: the command log's trigram index (a case-insensitive substring from three
//! characters), with the session list's filters; each hit opens its session at that moment.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::{Deserialize, Serialize};
use store::{CommandQuery, CommandRow, Page};

use super::{flag, query_without_offset, text};
use crate::auth::Viewer;
use crate::html::{self, Nav};
use crate::{scope, AppState};

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct Params {
    /// The text to find.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

fn fetch(state: &AppState, viewer: &Viewer, p: &Params) -> Result<Page<CommandRow>, Response> {
    let hosts = scope::audit_hosts(state, viewer, "commands")?;
    let (offset, limit) = super::paging(p.offset, p.limit, 50)?;
    let q = CommandQuery {
        hosts,
        text: text(&p.q),
        user: text(&p.user),
        host: text(&p.host),
        session: None,
        from: super::time("from", &p.from, false)?,
        to: super::time("to", &p.to, true)?,
        blocked_only: flag(&p.blocked),
        offset,
        limit,
    };
    state
        .backend
        .store()
        .browse_commands(&q)
        .map_err(|e| html::internal(&e))
}

/// `GET /api/v1/commands`.
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

/// `GET /commands`.
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
        form.filters method="get" action="/commands" {
            label { "contains" input name="q" type="search" value=(value(&p.q)) autofocus; }
            label { "user" input name="user" value=(value(&p.user)); }
            label { "host" input name="host" value=(value(&p.host)); }
            label { "from" input type="date" name="from" value=(value(&p.from)); }
            label { "to" input type="date" name="to" value=(value(&p.to)); }
            label { span { input type="checkbox" name="blocked" checked[flag(&p.blocked)]; " blocked only" } }
            button type="submit" { "Search" }
        }
        table #commands {
            thead { tr {
                th { "time" } th { "user" } th { "target" } th { "command" } th { "exit" } th { "session" }
            } }
            tbody {
                @for c in &page.items {
                    tr {
                        td { (html::when(c.ts)) }
                        td { (c.user) }
                        td { (c.login) "@" (c.host) }
                        td.cmd.blocked[c.blocked] { (c.command) @if c.blocked { " (blocked)" } }
                        td.num { @if let Some(code) = c.exit_status { (code) } }
                        td { a.hit href=(format!("/sessions/{}#t={:.3}", c.session_id, c.offset)) { "session " (c.session_id) " at " (html::duration(c.offset)) } }
                    }
                }
            }
        }
        (html::pager("/commands", &query_without_offset(&p), &page, None))
    };
    html::layout(&viewer, Nav::Commands, "Commands", false, body).into_response()
}
