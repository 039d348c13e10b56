//! Sessions that did not end normally: at start-up, those a crash left `active`; while running,
//! one whose task panicked. Each is marked `interrupted` with the reason and its recording cut
//! back to the last complete event and sealed.

use anyhow::Result;

use super::state::Shared;
use crate::store::SessionRow;

/// Seals every session a previous run left open.
pub fn seal_interrupted(shared: &Shared) -> Result<()> {
    for s in shared.store.active_sessions()? {
        seal_session(shared, &s, "bastion stopped unexpectedly")?;
    }
    Ok(())
}

/// Seals one session that ended without its normal end: repairs and seals its recording, marks
/// it interrupted with `reason`, and audits `session_interrupted`.
pub fn seal_session(shared: &Shared, s: &SessionRow, reason: &str) -> Result<()> {
    let mut seal = None;
    if let Some(path) = &s.recording {
        match recordings::repair_and_seal(std::path::Path::new(path)) {
            Ok((sealed, dropped)) => seal = Some((sealed, dropped)),
            Err(e) => tracing::warn!("session {}: recording {path}: {e}", s.id),
        }
    }
    let (sha, size, dropped) = match &seal {
        Some((sealed, dropped)) => (Some(sealed.sha256_hex()), Some(sealed.size), *dropped),
        None => (None, None, 0),
    };
    shared
        .store
        .mark_interrupted(s.id, sha.as_deref(), size, reason)?;
    shared.audit(
        "session_interrupted",
        Some(&s.user),
        Some(&s.source),
        serde_json::json!({
            "session": s.id, "host": s.host, "login": s.login, "reason": reason,
            "recording": s.recording, "sha256": sha, "size": size, "bytes_dropped": dropped,
        }),
    );
    Ok(())
}
