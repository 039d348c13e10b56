//! Fencing: what a node does when it finds out the others took it for dead.
//!
//! Several nodes share one database; a node that has not beaten for `node_timeout` is taken for
//! dead and a survivor seals its sessions as `interrupted`, from what shared storage holds of
//! their recordings (`server/nodes.rs`). A node that was only *out of contact* (its process
//! stopped, its network partitioned, its database connection stalled) is not dead, though: it
//! comes back still serving those sessions. If it went on, it would write past a recording's
//! seal and seal the session a second time, and `audit verify` would rightly call the
//! recording tampered with. A bastion must not fail open, so the node fences itself:
//!
//! - **A lease.** Shared storage is written, and users' input passed to targets, only while
//!   the node's last accepted heartbeat is younger than half of `node_timeout`
//!   ([`Fence::lease_holds`]): a node out of contact stops shipping recording chunks and holds
//!   its users' keystrokes before anyone can take it for dead, and goes on only once a
//!   heartbeat has told it where it stands.
//! - **The heartbeat tells.** A survivor claims a silent node (one row update, so it comes
//!   either before or after the node's own heartbeat, never both) before sealing its sessions,
//!   and forgets it after, so a node whose heartbeat finds its row claimed or gone was taken for
//!   dead ([`store::Beat::Registered`]). Every session it serves is (or is about to be) sealed
//!   by a survivor: it ends them all, telling the users why, and audits one `node_fenced`
//!   record naming them ([`fence_sessions`]), all before its lease is renewed.
//! - **The end is a compare-and-set.** A session's own end seals it only if it is still
//!   `active` (`Store::end_session`); when a survivor got there first the node writes no
//!   `session_end`, ships no seal and moves its own copy of the recording aside
//!   ([`fenced_at_end`]), so the sealed recording stays exactly what the survivor sealed, and
//!   what the node recorded past it is kept, outside every seal, as evidence.
//!
//! New sessions need nothing special: the node is registered again by the same heartbeat.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Result;
use store::{AuditEvent, SessionRow, Store};

use super::Shared;
use crate::locks::lock;

/// This node's standing in the cluster: its heartbeat lease and the sessions it fenced.
pub struct Fence {
    started: Instant,
    /// Milliseconds after `started` of the last heartbeat the database accepted (0: the start,
    /// so a node starting up may ship before its first beat).
    last_beat_ms: AtomicU64,
    /// How long after its last accepted beat the node still writes to shared storage.
    lease: Duration,
    /// Set once the heartbeat runs (`bastion serve`) on a store several nodes share
    /// (PostgreSQL): before that, in tools that never start it, and on SQLite (one node,
    /// which nobody else can take for dead) there is no lease to lapse.
    armed: AtomicBool,
    /// Sessions ended by [`fence_sessions`] that have not reached their end yet.
    fenced: Mutex<HashSet<i64>>,
    /// False while `fenced` is empty (nearly always): the check on every keystroke then costs
    /// one atomic load, not a lock every session shares.
    any_fenced: AtomicBool,
}

impl Fence {
    /// A fence whose lease is half of `node_timeout`: it lapses before any survivor may take
    /// this node for dead.
    pub fn new(node_timeout: Duration) -> Fence {
        Fence {
            started: Instant::now(),
            last_beat_ms: AtomicU64::new(0),
            lease: node_timeout / 2,
            armed: AtomicBool::new(false),
            fenced: Mutex::new(HashSet::new()),
            any_fenced: AtomicBool::new(false),
        }
    }

    /// Milliseconds since this fence was made, on the monotonic clock its lease runs on.
    pub fn now(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// A heartbeat sent at `sent` ([`Fence::now`]) was accepted (and, if it said so, the node
    /// has fenced itself).
    pub fn beat_accepted(&self, sent: u64) {
        self.last_beat_ms.fetch_max(sent, Ordering::Relaxed);
        self.armed.store(true, Ordering::Relaxed);
    }

    /// True while the last accepted heartbeat is recent enough to write to shared storage.
    /// The clock is monotonic and runs on while the process is stopped, so a node resumed
    /// after a long stop finds its lease lapsed until its next heartbeat.
    pub fn lease_holds(&self) -> bool {
        if !self.armed.load(Ordering::Relaxed) {
            return true;
        }
        let since = self.now();
        let last = self.last_beat_ms.load(Ordering::Relaxed);
        Duration::from_millis(since.saturating_sub(last)) < self.lease
    }

    /// Waits while the lease is lapsed: a user's input to `session` is held, not passed to
    /// the target, until a heartbeat says whether this node still serves the session (then it
    /// flows on) or was taken for dead (then the session is fenced before the lease is renewed,
    /// this never returns, and the kill ends the session: the input never reaches the host).
    pub async fn hold_while_out_of_contact(&self, session: i64) {
        let mut told = false;
        while !self.lease_holds() {
            if !told {
                tracing::warn!("session {session}: heartbeat lease lapsed, input held");
                told = true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if self.is_fenced(session) {
            std::future::pending::<()>().await;
        }
    }

    /// True for a session this node is ending because it was taken for dead.
    pub fn is_fenced(&self, session: i64) -> bool {
        self.any_fenced.load(Ordering::Acquire) && lock(&self.fenced).contains(&session)
    }

    /// Marks `session` fenced; false if it already was.
    fn mark(&self, session: i64) -> bool {
        let mut fenced = lock(&self.fenced);
        self.any_fenced.store(true, Ordering::Release);
        fenced.insert(session)
    }

    /// Unmarks `session`; true if it was fenced.
    fn unmark(&self, session: i64) -> bool {
        let mut fenced = lock(&self.fenced);
        let was = fenced.remove(&session);
        if fenced.is_empty() {
            self.any_fenced.store(false, Ordering::Release);
        }
        was
    }

    /// A fenced session that its own end still sealed (no survivor had got to it yet): it
    /// is over, and fenced no more.
    pub fn sealed_at_end(&self, session: i64) {
        self.unmark(session);
    }
}

/// What the user of a fenced session is told (after `bastion: session ended: `).
fn message(node: &str) -> String {
    format!(
        "bastion node {node} lost contact with the cluster, which took it for dead and sealed \
         its sessions; reconnect to continue"
    )
}

/// Where a fenced session's own copy of its recording goes: beside it, out of every seal.
fn unsealed_path(recording: &str) -> String {
    format!("{recording}.unsealed")
}

/// The recording of `row` that this node must move aside: only when the survivor sealed it
/// with a hash (from shared storage) and this node holds a file there. Without shared storage
/// the survivor could seal nothing, and this node's file stays the only copy, in place.
fn to_set_aside(row: &SessionRow) -> Option<&str> {
    let path = row.recording.as_deref()?;
    (row.rec_sha256.is_some() && Path::new(path).exists()).then_some(path)
}

/// After a heartbeat found this node's row claimed or gone (the others took it for dead):
/// ends every live session, whose seal now belongs to a survivor, telling its user why, and
/// audits one `node_fenced` record naming them (and, for those already sealed, where this
/// node's copy of the recording goes). `store` is the heartbeat's own connection.
pub fn fence_sessions(shared: &Shared, store: &Store) -> Result<()> {
    let node = shared.dir.settings.node.as_str();
    let mut ended = Vec::new();
    let mut unsealed = Vec::new();
    for live in shared.live.all() {
        if !shared.fence.mark(live.id) {
            continue;
        }
        if let Some(row) = store.session(live.id)? {
            unsealed.extend(to_set_aside(&row).map(unsealed_path));
        }
        live.kill(message(node));
        ended.push(live.id);
    }
    ended.sort_unstable();
    tracing::warn!(
        "this node ({node}) was taken for dead while out of contact; ended its sessions {ended:?}"
    );
    shared.audit(
        None,
        None,
        AuditEvent::NodeFenced {
            node: node.to_string(),
            sessions: ended,
            reason: "its heartbeats stopped for longer than node_timeout, so another node took \
                     it for dead and seals its sessions as interrupted"
                .into(),
            unsealed,
        },
    );
    Ok(())
}

/// At the end of session `id`, whose seal was refused because another node had sealed it
/// first: moves this node's copy of the recording aside and, unless the heartbeat already
/// fenced the session, audits `node_fenced` for it.
pub fn fenced_at_end(shared: &Shared, id: i64, user: &str) {
    let node = shared.dir.settings.node.as_str();
    let audited = shared.fence.unmark(id);
    let row = match shared.store.session(id) {
        Ok(row) => row,
        Err(e) => {
            tracing::error!("session {id}: reading the seal another node made: {e}");
            None
        }
    };
    let mut unsealed = Vec::new();
    if let Some(path) = row.as_ref().and_then(to_set_aside) {
        let aside = unsealed_path(path);
        match std::fs::rename(path, &aside) {
            Ok(()) => unsealed.push(aside),
            Err(e) => tracing::error!("session {id}: moving {path} aside to {aside}: {e}"),
        }
    }
    tracing::warn!(
        "session {id} was sealed by another node: not sealed again here; this node's copy: {}",
        unsealed.first().map_or("none", String::as_str)
    );
    if audited {
        return;
    }
    shared.audit(
        Some(user),
        None,
        AuditEvent::NodeFenced {
            node: node.to_string(),
            sessions: vec![id],
            reason: format!(
                "session {id} was found sealed as interrupted by another node at its end, \
                 which took this node for dead while it was out of contact"
            ),
            unsealed,
        },
    );
}
