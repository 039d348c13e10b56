//! Sessions that did not end normally: at start-up, those a crash left `active`; while running,
//! one whose task panicked. Each is marked `interrupted` with the reason and its recording cut
//! back to the last complete event and sealed.

use anyhow::Result;

use super::Shared;
use store::{Seal, SessionRow};

/// Seals every session a previous run of this node left open (other nodes' sessions on a
/// shared database are theirs; a node that died is sealed by `server/nodes.rs`).
pub fn seal_interrupted(shared: &Shared) -> Result<()> {
    let me = shared.dir.settings.node.as_str();
    for s in shared.store.active_sessions()? {
        if s.node.as_deref().is_none_or(|n| n == me) {
            seal_session(shared, &s, "bastion stopped unexpectedly")?;
        }
    }
    Ok(())
}

/// Seals one session that ended without its normal end: repairs and seals its recording, marks
/// it interrupted with `reason`, and audits `session_interrupted`.
pub fn seal_session(shared: &Shared, s: &SessionRow, reason: &str) -> Result<()> {
    let mut sealed = Seal {
        recording: s.recording.clone(),
        ..Seal::default()
    };
    let mut dropped = 0;
    if let Some(path) = &s.recording {
        match recordings::repair_and_seal(std::path::Path::new(path)) {
            Ok((file, cut)) => {
                sealed.recording_sha256 = Some(file.sha256_hex());
                sealed.recording_size = Some(file.size);
                dropped = cut;
            }
            Err(e) => tracing::warn!("session {}: recording {path}: {e}", s.id),
        }
    }
    // Only a row still active changes, with its record in the same transaction: sealed once.
    // A session another node sealed first (this node was taken for dead) is not sealed again,
    // in the database or in shared storage.
    if !shared
        .store
        .interrupt_session(s, &sealed, reason, dropped)?
    {
        crate::state::fence::fenced_at_end(shared, s.id, &s.user);
        return Ok(());
    }
    super::shared_recordings::ship_seal(shared, &sealed);
    Ok(())
}
