//! A session's recording: made when the session starts (a terminal session, or a shell
//! without a terminal at 80x24) and sealed when it ends. A recording that cannot be made is
//! audited, and with `recording_required` the session is refused rather than run unseen.

use std::sync::{Arc, Mutex};

use recordings::{Header, Recorder};
use store::{AuditEvent, SessionEnd};

use super::authorize::Granted;
use super::run::Kind;
use super::PtyInfo;
use crate::state::{ConnInfo, ScreenSource, Shared};

/// Starts the recording of session `session_id` at `size` (columns, rows, `$TERM`). A
/// recording that cannot be made is audited (`recording_unavailable`); the session then goes on
/// unrecorded, or, with `recording_required`, is refused: `Err`, `end.reason` says why.
pub(super) fn start_recording(
    shared: &Shared,
    conn: &ConnInfo,
    g: &Granted,
    session_id: i64,
    (width, height, term): (u32, u32, Option<String>),
    end: &mut SessionEnd,
) -> Result<Option<Arc<Mutex<Recorder>>>, ()> {
    let path = shared
        .dir
        .recordings_dir()
        .join(format!("{session_id}-{}-{}.cast", conn.user, g.host));
    let header = Header {
        width,
        height,
        timestamp: chrono::Utc::now().timestamp(),
        title: format!("{} -> {}@{}", conn.user, g.login, g.host),
        term,
    };
    let e = match Recorder::create(&path, &header) {
        Ok(r) => {
            let recording = path.to_string_lossy().into_owned();
            // The seal (session_end's signed record) names the file even if this row update
            // fails; the row is only where `sessions` and the console look first.
            if let Err(e) = shared.store.set_session_recording(session_id, &recording) {
                tracing::error!("session {session_id}: cannot store its recording's path: {e}");
            }
            end.seal.recording = Some(recording);
            return Ok(Some(Arc::new(Mutex::new(r))));
        }
        Err(e) => e,
    };
    tracing::error!("session {session_id}: cannot record: {e}");
    let required = shared.dir.settings.recording_required;
    let action = if required {
        "session refused"
    } else {
        "session continues unrecorded"
    };
    shared.audit(
        Some(&conn.user),
        Some(&conn.source),
        AuditEvent::RecordingUnavailable {
            session: session_id,
            host: g.host.clone(),
            error: e.to_string(),
            action: action.into(),
        },
    );
    if required {
        end.reason = format!("recording unavailable: {e}");
        return Err(());
    }
    Ok(None)
}

/// Seals the recording at the session's end: its SHA-256 and size go into `end`'s seal.
pub(super) fn finish_recording(recorder: Option<Arc<Mutex<Recorder>>>, end: &mut SessionEnd) {
    let Some(rec) = recorder else { return };
    // The live registry let go of its share when the session's LiveGuard was dropped.
    let Ok(rec) = Arc::try_unwrap(rec) else {
        tracing::error!("recording still shared at session end; it is left unsealed");
        return;
    };
    let rec = rec.into_inner().unwrap_or_else(|p| p.into_inner());
    match rec.finish() {
        Ok(seal) => {
            end.seal.recording_sha256 = Some(seal.sha256_hex());
            end.seal.recording_size = Some(seal.size);
        }
        Err(e) => tracing::error!("cannot seal recording: {e}"),
    }
}

/// The screen a session is recorded at: the user's terminal, or 80x24 for a shell without
/// one (the player needs a size). Exec, scp, rsync and SFTP sessions are not recorded as
/// screens; their commands and file operations are logged instead.
pub(super) fn screen_size(pty: Option<&PtyInfo>, kind: Kind) -> Option<(u32, u32, Option<String>)> {
    match (pty, kind) {
        (Some(p), _) => Some((p.cols, p.rows, Some(p.term.clone()))),
        (None, Kind::Shell) => Some((80, 24, None)),
        (None, _) => None,
    }
}

/// Where a watcher joining mid-session gets the screen from.
pub(super) fn screen_source(
    recorder: Option<&Arc<Mutex<Recorder>>>,
    pty: Option<&PtyInfo>,
) -> ScreenSource {
    match (recorder, pty) {
        (Some(r), _) => ScreenSource::Recording(r.clone()),
        (None, Some(p)) => ScreenSource::Terminal {
            cols: p.cols,
            rows: p.rows,
        },
        (None, None) => ScreenSource::None,
    }
}
