//! The audit log, newest first, filtered by event, user and time; and its verification, run on
//! demand (`POST /audit/verify`, CSRF-checked) with the same checks and words as
//! `bastion audit verify`.
//!
//! A viewer scoped to some hosts sees only the records about those hosts; records that name no
//! host (logins, admin changes, reloads) need an audit role over every host.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use maud::{html, Markup};
use policies::ConsoleRight;
use serde::{Deserialize, Serialize};
use store::{AuditQuery, AuditRecord, Page};

use super::{query_without_offset, text};
use crate::auth::{CsrfForm, Viewer};
use crate::html::{self, Nav};
use crate::pages::session::events_table;
use crate::{scope, AppState};

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct Params {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

fn fetch(state: &AppState, viewer: &Viewer, p: &Params) -> Result<Page<AuditRecord>, Response> {
    let hosts = scope::audit_hosts(state, viewer, "audit log")?;
    let (offset, limit) = super::paging(p.offset, p.limit, 100)?;
    let q = AuditQuery {
        hosts,
        event: text(&p.event),
        user: text(&p.user),
        session: None,
        from: super::time("from", &p.from, false)?,
        to: super::time("to", &p.to, true)?,
        offset,
        limit,
    };
    state
        .backend
        .store()
        .browse_audit(&q)
        .map_err(|e| html::internal(&e))
}

/// `GET /api/v1/audit`.
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

/// `GET /audit`.
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(p): Query<Params>,
) -> Response {
    super::off_runtime(move || page_blocking(state, viewer, p)).await
}

fn page_blocking(state: AppState, viewer: Viewer, p: Params) -> Response {
    render(&state, &viewer, &p, None)
}

fn render(state: &AppState, viewer: &Viewer, p: &Params, verified: Option<Markup>) -> Response {
    let page = match fetch(state, viewer, p) {
        Ok(page) => page,
        Err(r) => return r,
    };
    let value = super::value;
    let body = html! {
        section.verify {
            @if let Some(result) = verified { (result) }
            form method="post" action="/audit/verify" {
                input type="hidden" name="csrf" value=(viewer.csrf);
                button #verify type="submit" { "Verify the chain now" }
            }
        }
        form.filters method="get" action="/audit" {
            label { "event" input name="event" value=(value(&p.event)) placeholder="e.g. policy_deny"; }
            label { "user" input name="user" value=(value(&p.user)); }
            label { "from" input type="date" name="from" value=(value(&p.from)); }
            label { "to" input type="date" name="to" value=(value(&p.to)); }
            button type="submit" { "Filter" }
        }
        (events_table(&page.items))
        (html::pager("/audit", &query_without_offset(p), &page, None))
    };
    html::layout(viewer, Nav::Audit, "Audit log", false, body).into_response()
}

/// What a verification found, for the page and the API.
#[derive(Serialize)]
pub struct VerifyResult {
    pub ok: bool,
    pub records: usize,
    pub problems: Vec<String>,
}

fn run_verify(state: &AppState, viewer: &Viewer) -> Result<VerifyResult, Response> {
    viewer.require(state, ConsoleRight::Audit, "audit verify")?;
    let v = state
        .backend
        .store()
        .verify_all_with(&state.backend.audit_key(), &|p| {
            state.backend.locate_recording(p)
        })
        .map_err(|e| html::internal(&e))?;
    Ok(VerifyResult {
        ok: v.is_ok(),
        records: v.records,
        problems: v.problems("audit log TAMPERED"),
    })
}

/// `POST /audit/verify` (form with the CSRF token).
pub async fn verify(
    State(state): State<AppState>,
    viewer: Viewer,
    Form(f): Form<CsrfForm>,
) -> Response {
    super::off_runtime(move || verify_blocking(state, viewer, f)).await
}

fn verify_blocking(state: AppState, viewer: Viewer, f: CsrfForm) -> Response {
    if !viewer.csrf_ok(&f.csrf) {
        return viewer.deny(
            &state,
            "audit verify",
            "bad CSRF token",
            StatusCode::FORBIDDEN,
        );
    }
    let r = match run_verify(&state, &viewer) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let result = html! {
        @if r.ok {
            p #verify-result .ok { "Verified: " (r.records) " records, hash chain, signatures, command hashes, checkpoints and recording seals all match." }
        } @else {
            div #verify-result .bad {
                p { "Verification FAILED:" }
                ul { @for problem in &r.problems { li { (problem) } } }
            }
        }
    };
    render(&state, &viewer, &Params::default(), Some(result))
}

/// `POST /api/v1/audit/verify` (header `X-CSRF-Token`).
pub async fn verify_json(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
) -> Response {
    super::off_runtime(move || verify_json_blocking(state, viewer, headers)).await
}

fn verify_json_blocking(state: AppState, viewer: Viewer, headers: HeaderMap) -> Response {
    let token = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !viewer.csrf_ok(token) {
        return viewer.deny(
            &state,
            "audit verify",
            "bad CSRF token",
            StatusCode::FORBIDDEN,
        );
    }
    match run_verify(&state, &viewer) {
        Ok(r) => Json(r).into_response(),
        Err(resp) => resp,
    }
}
