//! One session: who, where, when, how it ended, bytes; the recording in asciinema-player with
//! the session's commands beside it (a click seeks the player there); its file transfers and
//! every audit record about it; the `.cast` to download.
//!
//! A session outside the viewer's scope answers exactly like one that does not exist (404),
//! so guessing ids tells nothing; the attempt is audited. Every time a recording is sent to a
//! browser (played or downloaded) it is audited as `recording_viewed`.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use policies::ConsoleRight;
use serde::{Deserialize, Serialize};
use store::{AuditEvent, AuditQuery, AuditRecord, CommandQuery, CommandRow, SessionRow};

use crate::auth::Viewer;
use crate::html::{self, Nav};
use crate::{scope, AppState};

/// Everything the page shows, also the JSON answer.
#[derive(Serialize)]
pub struct SessionView {
    pub session: SessionRow,
    pub commands: Vec<CommandRow>,
    pub events: Vec<AuditRecord>,
}

/// The session if the viewer may see it; else the response to give (404, audited).
fn visible(state: &AppState, viewer: &Viewer, id: i64, what: &str) -> Result<SessionRow, Response> {
    viewer.require(state, ConsoleRight::Audit, what)?;
    let session = state
        .backend
        .store()
        .session(id)
        .map_err(|e| html::internal(&e))?;
    match session {
        Some(mut s) if scope::sees(state, viewer, ConsoleRight::Audit, &s.host) => {
            // Another node's recording is read from the copy fetched from shared storage.
            if let Some(found) = s
                .recording
                .as_deref()
                .and_then(|r| state.backend.locate_recording(r))
            {
                s.recording = Some(found.to_string_lossy().into_owned());
            }
            Ok(s)
        }
        Some(s) => Err(viewer.deny(
            state,
            what,
            &format!("session {id} is on {}, outside the viewer's hosts", s.host),
            StatusCode::NOT_FOUND,
        )),
        None => Err((
            StatusCode::NOT_FOUND,
            html::message_page("Not found", "No such session."),
        )
            .into_response()),
    }
}

fn fetch(state: &AppState, viewer: &Viewer, id: i64) -> Result<SessionView, Response> {
    let session = visible(state, viewer, id, &format!("session {id}"))?;
    let store = state.backend.store();
    let commands = store
        .browse_commands(&CommandQuery {
            session: Some(id),
            limit: 500,
            ..Default::default()
        })
        .map_err(|e| html::internal(&e))?
        .items;
    let events = store
        .browse_audit(&AuditQuery {
            session: Some(id),
            limit: 500,
            ..Default::default()
        })
        .map_err(|e| html::internal(&e))?
        .items;
    Ok(SessionView {
        session,
        commands,
        events,
    })
}

/// `GET /api/v1/sessions/{id}`.
pub async fn json(State(state): State<AppState>, viewer: Viewer, Path(id): Path<i64>) -> Response {
    super::off_runtime(move || json_blocking(state, viewer, id)).await
}

fn json_blocking(state: AppState, viewer: Viewer, id: i64) -> Response {
    super::json_of(fetch(&state, &viewer, id))
}

/// `GET /sessions/{id}`.
pub async fn page(State(state): State<AppState>, viewer: Viewer, Path(id): Path<i64>) -> Response {
    super::off_runtime(move || page_blocking(state, viewer, id)).await
}

fn page_blocking(state: AppState, viewer: Viewer, id: i64) -> Response {
    let v = match fetch(&state, &viewer, id) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let s = &v.session;
    let title = format!("Session {} — {} as {} on {}", s.id, s.user, s.login, s.host);
    let body = html! {
        (facts(s))
        div.split {
            div {
                @if s.recording.is_some() {
                    div #player data-cast=(format!("/sessions/{}/cast", s.id))
                        data-parts=(part_starts(s.recording.as_deref())) {}
                    p { a href=(format!("/sessions/{}/cast?download=1", s.id)) { "Download the recording (.cast)" } }
                } @else {
                    p.muted { "No recording: exec, scp, rsync and SFTP sessions are in the command log and the audit log." }
                }
            }
            div {
                h2 { "Commands (" (v.commands.len()) ")" }
                ol.commands #commands {
                    @for c in &v.commands {
                        li {
                            a href=(format!("#t={:.3}", c.offset)) data-seek=(format!("{:.3}", c.offset)) {
                                span.muted { (html::duration(c.offset)) " " }
                                span.cmd.blocked[c.blocked] { (c.command) }
                                @if c.blocked { " " span.blocked { "blocked" } }
                                @if let Some(code) = c.exit_status { span.muted { " → " (code) } }
                            }
                        }
                    }
                }
            }
        }
        (transfers(&v.events))
        h2 { "Audit records" }
        (events_table(&v.events))
    };
    html::layout(&viewer, Nav::Sessions, &title, s.recording.is_some(), body).into_response()
}

fn facts(s: &SessionRow) -> Markup {
    let ended = s
        .ended_at
        .map(html::when)
        .unwrap_or_else(|| "still running".into());
    html! {
        dl.facts {
            dt { "user" } dd { (s.user) " from " (s.source) }
            dt { "target" } dd { (s.login) "@" (s.host) }
            dt { "kind" } dd { (s.kind) @if let Some(c) = &s.command { " — " code { (c) } } }
            dt { "started" } dd { (html::when(s.started_at)) }
            dt { "ended" } dd { (ended) " (" (s.status) ")" }
            dt { "duration" } dd { (html::duration(s.ended_at.unwrap_or_else(store::now_ts) - s.started_at)) }
            dt { "how it ended" } dd {
                @if let Some(code) = s.exit_status { "exit status " (code) " " }
                @if let Some(sig) = &s.exit_signal { "signal " (sig) " " }
                (s.end_reason.as_deref().unwrap_or(""))
            }
            dt { "bytes" } dd { (html::bytes(s.bytes_in)) " in, " (html::bytes(s.bytes_out)) " out" }
            @if let Some(node) = &s.node { dt { "node" } dd { (node) } }
        }
    }
}

fn transfers(events: &[AuditRecord]) -> Markup {
    let files: Vec<&AuditRecord> = events
        .iter()
        .filter(|e| e.event == "file_transfer")
        .collect();
    html! {
        @if !files.is_empty() {
            h2 { "File transfers" }
            table { tbody {
                @for e in files {
                    tr { td { (html::when(e.ts)) } td.cmd { (describe(e)) } }
                }
            } }
        }
    }
}

/// A record in words (the store's own description), or its raw detail if it does not parse.
pub fn describe(e: &AuditRecord) -> String {
    match e.parsed() {
        Ok(ev) => ev.to_string(),
        Err(_) => format!("{} {}", e.event, e.detail),
    }
}

/// Audit records as a table (also the audit log page's).
pub fn events_table(events: &[AuditRecord]) -> Markup {
    html! {
        table.events {
            thead { tr { th { "#" } th { "time" } th { "event" } th { "user" } th { "from" } th { "what" } } }
            tbody {
                @for e in events {
                    tr {
                        td.num { (e.id) }
                        td { (html::when(e.ts)) }
                        td { (e.event) }
                        td { (e.user.as_deref().unwrap_or("")) }
                        td { (e.source.as_deref().unwrap_or("")) }
                        td.cmd { (describe(e)) }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct CastParams {
    download: Option<String>,
    /// One part of a long recording (`recordings::parts`), for a replay that starts at once.
    part: Option<String>,
}

/// The parts of a recording file, or none when it cannot be read.
fn recording_parts(path: &str) -> Vec<recordings::Part> {
    std::fs::File::open(path)
        .and_then(|mut f| recordings::parts(&mut f, recordings::PART_BYTES))
        .unwrap_or_default()
}

/// The start time of each part, as a JSON array for the player script (`[0]` for a short
/// recording, played whole).
fn part_starts(path: Option<&str>) -> String {
    let starts: Vec<f64> = path
        .map(recording_parts)
        .unwrap_or_default()
        .iter()
        .map(|p| p.start_time)
        .collect();
    serde_json::to_string(&starts).unwrap_or_else(|_| "[]".into())
}

/// Part `index` of the recording at `path` as a whole asciicast file.
async fn part_body(path: String, index: usize) -> Result<Vec<u8>, Response> {
    let made = tokio::task::spawn_blocking(move || {
        let parts = recording_parts(&path);
        let Some(part) = parts.get(index) else {
            return Ok(None);
        };
        let mut file = std::fs::File::open(&path)?;
        let mut out = Vec::new();
        recordings::write_part(&mut file, part, &mut out)?;
        Ok::<_, std::io::Error>(Some(out))
    })
    .await;
    match made {
        Ok(Ok(Some(bytes))) => Ok(bytes),
        Ok(Ok(None)) => Err((StatusCode::NOT_FOUND, "no such part").into_response()),
        Ok(Err(e)) => Err(html::internal(&format!("reading the recording: {e}"))),
        Err(e) => Err(html::internal(&e.to_string())),
    }
}

/// `GET /sessions/{id}/cast`: the recording, streamed from disk.
pub async fn cast(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Query(p): Query<CastParams>,
) -> Response {
    let s = match visible(&state, &viewer, id, &format!("recording of session {id}")) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Some(path) = &s.recording else {
        return (StatusCode::NOT_FOUND, "no recording").into_response();
    };
    let part = match super::text(&p.part).map(|t| t.parse::<usize>()) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => return super::bad_param("part", "expected a part number"),
    };
    let file = match tokio::fs::File::open(path).await {
        Ok(f) => f,
        Err(e) => return html::internal(&format!("opening {path}: {e}")),
    };
    let download = super::flag(&p.download);
    let audited = state.backend.audit(
        Some(&viewer.user),
        Some(&viewer.source),
        AuditEvent::RecordingViewed {
            session: id,
            host: s.host.clone(),
            download,
        },
    );
    if !audited {
        return html::internal(&"the audit log cannot be written");
    }
    let body = match part {
        Some(n) => match part_body(path.clone(), n).await {
            Ok(bytes) => Body::from(bytes),
            Err(r) => return r,
        },
        None => Body::from_stream(tokio_util::io::ReaderStream::new(file)),
    };
    let mut res = ([(CONTENT_TYPE, "application/x-asciicast")], body).into_response();
    if download {
        let name = format!("attachment; filename=\"session-{id}.cast\"");
        if let Ok(v) = name.parse() {
            res.headers_mut().insert(CONTENT_DISPOSITION, v);
        }
    }
    res
}
