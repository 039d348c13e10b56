//! Access requests and held command lines, for approvers: what waits for a decision, what was
//! decided lately, and approve (optionally for less time) / deny with a reason. Needs the
//! `approve` console right, scoped by the role's hosts; whether this viewer may decide a given
//! request is the server's one rule (`Backend::decide`: a listed approver, never the
//! requester), so the page shows the buttons and the server says no where it must.
//!
//! The list follows new requests without a reload button: `console.js` polls
//! `/api/v1/requests?pending=true` and reloads the page when the pending set changes (never
//! while the approver is typing in one of its forms).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use maud::{html, Markup};
use policies::ConsoleRight;
use serde::Deserialize;
use store::RequestRow;

use crate::auth::Viewer;
use crate::backend::Decision;
use crate::html::{self, Nav};
use crate::{scope, AppState};

/// How many decided requests the page shows below the pending ones.
const RECENT: usize = 50;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    pending: Option<String>,
}

/// The requests the viewer may see: on hosts their approve right covers.
fn visible(
    state: &AppState,
    viewer: &Viewer,
    pending_only: bool,
) -> Result<Vec<RequestRow>, Response> {
    viewer.require(state, ConsoleRight::Approve, "requests")?;
    let rows = state
        .backend
        .store()
        .requests(
            pending_only,
            if pending_only { 1000 } else { 1000 + RECENT },
        )
        .map_err(|e| html::internal(&e.to_string()))?;
    let mut out: Vec<RequestRow> = rows
        .into_iter()
        .filter(|r| scope::sees(state, viewer, ConsoleRight::Approve, &r.host))
        .collect();
    if !pending_only {
        // Pending first (oldest waiting first), then the latest decided.
        let (mut pending, decided): (Vec<_>, Vec<_>) =
            out.into_iter().partition(|r| r.status == "pending");
        pending.reverse();
        pending.extend(decided.into_iter().take(RECENT));
        out = pending;
    }
    Ok(out)
}

/// The one request `id` if the viewer may see it; else 404 (audited when it exists).
fn one(state: &AppState, viewer: &Viewer, id: i64, what: &str) -> Result<RequestRow, Response> {
    viewer.require(state, ConsoleRight::Approve, what)?;
    let found = state
        .backend
        .store()
        .request(id)
        .map_err(|e| html::internal(&e.to_string()))?;
    match found {
        Some(r) if scope::sees(state, viewer, ConsoleRight::Approve, &r.host) => Ok(r),
        Some(r) => Err(viewer.deny(
            state,
            what,
            &format!("request {id} is for {}, outside the viewer's hosts", r.host),
            StatusCode::NOT_FOUND,
        )),
        None => Err((
            StatusCode::NOT_FOUND,
            html::message_page("Not found", "There is no such request."),
        )
            .into_response()),
    }
}

/// `GET /api/v1/requests[?pending=true]`.
pub async fn json(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(p): Query<ListParams>,
) -> Response {
    super::off_runtime(move || json_blocking(state, viewer, p)).await
}

fn json_blocking(state: AppState, viewer: Viewer, p: ListParams) -> Response {
    match visible(&state, &viewer, super::flag(&p.pending)) {
        Ok(items) => Json(serde_json::json!({ "items": items })).into_response(),
        Err(r) => r,
    }
}

/// `GET /requests`.
pub async fn page(State(state): State<AppState>, viewer: Viewer) -> Response {
    super::off_runtime(move || page_blocking(state, viewer)).await
}

fn page_blocking(state: AppState, viewer: Viewer) -> Response {
    let rows = match visible(&state, &viewer, false) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let pending = rows.iter().filter(|r| r.status == "pending").count();
    let body = html! {
        @if pending == 0 { p.muted #none-pending { "Nothing waits for a decision." } }
        table #requests data-follow="/api/v1/requests?pending=true" {
            thead { tr {
                th { "#" } th { "asked" } th { "user" } th { "target" } th { "what" }
                th { "reason / command" } th { "status" } th { "decide" }
            } }
            tbody { @for r in &rows { (row(&viewer, r)) } }
        }
    };
    html::layout(&viewer, Nav::Requests, "Requests", false, body).into_response()
}

/// `GET /requests/{id}`: one request (what notifications link to).
pub async fn one_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Response {
    super::off_runtime(move || one_page_blocking(state, viewer, id)).await
}

fn one_page_blocking(state: AppState, viewer: Viewer, id: i64) -> Response {
    let r = match one(&state, &viewer, id, &format!("request {id}")) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let body = html! {
        table #requests {
            thead { tr {
                th { "#" } th { "asked" } th { "user" } th { "target" } th { "what" }
                th { "reason / command" } th { "status" } th { "decide" }
            } }
            tbody { (row(&viewer, &r)) }
        }
        @if let Some(s) = r.session_id {
            p { a href=(format!("/sessions/{s}")) { "The session the line was typed in" } }
        }
    };
    html::layout(
        &viewer,
        Nav::Requests,
        &format!("Request {id}"),
        false,
        body,
    )
    .into_response()
}

/// `GET /reviews/{id}`: held command lines are requests too.
pub async fn review_link(Path(id): Path<i64>) -> Redirect {
    Redirect::to(&format!("/requests/{id}"))
}

fn row(viewer: &Viewer, r: &RequestRow) -> Markup {
    let what = match r.kind.as_str() {
        "access" => format!("access for {}", store::seconds_text(r.seconds.unwrap_or(0))),
        _ => "command".to_string(),
    };
    html! {
        tr data-request=(r.id) data-status=(r.status) {
            td.num { a href=(format!("/requests/{}", r.id)) { (r.id) } }
            td { (store::format_ts(r.created_at)) }
            td { (r.user) }
            td { (r.login) "@" (r.host) }
            td { (what) }
            td { code { (r.text) } }
            td.status { (status(r)) }
            td {
                @if r.status == "pending" {
                    form.approve method="post" action=(format!("/requests/{}/approve", r.id)) {
                        input type="hidden" name="csrf" value=(viewer.csrf);
                        @if r.kind == "access" {
                            input name="duration" placeholder="shorter? e.g. 30m" size="16";
                        }
                        button type="submit" { "Approve" }
                    }
                    form.deny method="post" action=(format!("/requests/{}/deny", r.id)) {
                        input type="hidden" name="csrf" value=(viewer.csrf);
                        input name="reason" placeholder="reason (required)" required maxlength="200";
                        button type="submit" { "Deny" }
                    }
                }
            }
        }
    }
}

fn status(r: &RequestRow) -> String {
    let by = r.decided_by.as_deref().unwrap_or("");
    match (r.status.as_str(), r.granted_until) {
        ("pending", _) => format!("waiting for {}", policies::approvers_text(&r.approvers)),
        ("approved", Some(u)) => format!("approved by {by} until {}", store::format_ts(u)),
        ("approved", None) => format!("approved by {by}"),
        ("denied", _) => format!("denied by {by}: {}", r.note.as_deref().unwrap_or("")),
        (other, _) => format!("{other}: {}", r.note.as_deref().unwrap_or("")),
    }
}

#[derive(Deserialize)]
pub struct ApproveForm {
    csrf: String,
    #[serde(default)]
    duration: String,
}

#[derive(Deserialize)]
pub struct DenyForm {
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// `POST /requests/{id}/approve`.
pub async fn approve(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(f): Form<ApproveForm>,
) -> Response {
    super::off_runtime(move || approve_blocking(state, viewer, id, f)).await
}

fn approve_blocking(state: AppState, viewer: Viewer, id: i64, f: ApproveForm) -> Response {
    let duration = match f.duration.trim() {
        "" => None,
        d => match policies::parse_duration(d) {
            Ok(d) => Some(d),
            Err(e) => return refused(&viewer, id, &format!("duration: {e}")),
        },
    };
    decide(&state, &viewer, id, &f.csrf, Decision::Approve { duration })
}

/// `POST /requests/{id}/deny`.
pub async fn deny(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(f): Form<DenyForm>,
) -> Response {
    super::off_runtime(move || deny_blocking(state, viewer, id, f)).await
}

fn deny_blocking(state: AppState, viewer: Viewer, id: i64, f: DenyForm) -> Response {
    let reason: String = f
        .reason
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    decide(&state, &viewer, id, &f.csrf, Decision::Deny { reason })
}

fn decide(state: &AppState, viewer: &Viewer, id: i64, csrf: &str, decision: Decision) -> Response {
    let what = format!("decide request {id}");
    if !viewer.csrf_ok(csrf) {
        return viewer.deny(state, &what, "bad CSRF token", StatusCode::FORBIDDEN);
    }
    if let Err(r) = one(state, viewer, id, &what) {
        return r;
    }
    match state.backend.decide(id, &viewer.user, decision) {
        Ok(_) => Redirect::to("/requests").into_response(),
        Err(e) => refused(viewer, id, &e),
    }
}

/// The server said no: the reason, on a page that leads back.
fn refused(viewer: &Viewer, id: i64, why: &str) -> Response {
    let body = html! {
        p.refused { (why) }
        p { a href="/requests" { "Back to the requests" } }
    };
    (
        StatusCode::CONFLICT,
        html::layout(
            viewer,
            Nav::Requests,
            &format!("Request {id} not decided"),
            false,
            body,
        ),
    )
        .into_response()
}
