//! Waiting for a decision. A decision made in this process (the console, `ssh bastion
//! approve`) wakes waiters at once through [`crate::state::Shared::requests_changed`]; one made
//! by the `bastion approve` command or another node is seen by reading the store, at least
//! once a second. The caller races this against the user leaving.

use std::time::{Duration, Instant};

use store::RequestRow;

use crate::state::Shared;

/// How often the store is read while waiting.
const POLL: Duration = Duration::from_secs(1);

/// Resolves when request `id` is no longer pending (its row as decided), or `None` at
/// `deadline` or when it cannot be read any more.
pub async fn decided(shared: &Shared, id: i64, deadline: Option<Instant>) -> Option<RequestRow> {
    loop {
        let woken = shared.requests.notified();
        match shared.store.request(id) {
            Ok(Some(r)) if r.status != "pending" => return Some(r),
            Ok(Some(_)) => {}
            Ok(None) => return None,
            Err(e) => {
                tracing::error!("cannot read request {id}: {e}");
                return None;
            }
        }
        let mut nap = POLL;
        if let Some(d) = deadline {
            let left = d.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            nap = nap.min(left);
        }
        tokio::select! {
            _ = woken => {}
            _ = tokio::time::sleep(nap) => {}
        }
    }
}
