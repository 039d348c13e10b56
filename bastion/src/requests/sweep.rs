//! Grants end on time, and so do the sessions running under them.
//!
//! Once a second: every approved grant past its end is marked `expired` (audited once: the
//! store changes only an `approved` row), and every live session whose grant is no longer in
//! force — expired, or revoked by `bastion revoke` from another process — is ended with a
//! message naming the grant. A session is never left running on a grant the store does not
//! show in force (an unreadable store ends it too: fail closed).

use std::sync::Arc;
use std::time::Duration;

use crate::state::Shared;

/// Starts the sweep in the background.
pub fn spawn(shared: Arc<Shared>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            sweep(&shared);
        }
    });
}

/// One pass.
pub fn sweep(shared: &Shared) {
    let now = store::now_ts();
    match shared.store.grants_ended(now) {
        Ok(ended) => {
            for g in ended {
                if let Err(e) = shared
                    .store
                    .expire_request(g.id, "the grant reached its end")
                {
                    tracing::error!("cannot expire request {}: {e}", g.id);
                }
            }
        }
        Err(e) => tracing::error!("cannot read ended grants: {e}"),
    }
    for live in shared.live.all() {
        let Some(grant) = live.grant else { continue };
        let why = match shared.store.request(grant) {
            Ok(Some(r)) if r.grant_active(now) => continue,
            Ok(Some(r)) if r.status == "revoked" => format!(
                "your access grant (request {grant}) was {}",
                r.note.unwrap_or_else(|| "revoked".into())
            ),
            Ok(Some(_)) => format!("your access grant (request {grant}) has ended"),
            Ok(None) | Err(_) => format!("your access grant (request {grant}) cannot be checked"),
        };
        live.kill(why);
    }
}
