//! Start-up recovery: sessions left `active` by a crash are marked `interrupted` and their
//! recordings cut back to the last complete event and sealed.

use anyhow::Result;

use super::state::Shared;

/// Seals every session a previous run left open.
pub fn seal_interrupted(shared: &Shared) -> Result<()> {
    for s in shared.store.active_sessions()? {
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
        shared.store.mark_interrupted(s.id, sha.as_deref(), size)?;
        shared.audit(
            "session_interrupted",
            Some(&s.user),
            Some(&s.source),
            serde_json::json!({
                "session": s.id, "host": s.host, "login": s.login,
                "recording": s.recording, "sha256": sha, "size": size, "bytes_dropped": dropped,
            }),
        );
    }
    Ok(())
}
