//! Node loss: several bastions on one database watch each other's heartbeats (and carry out
//! the kill orders other nodes leave for them, `state/kill.rs`, and fill the watch feeds their
//! watchers ask for, `state/watch_relay.rs`).
//!
//! Every second this node records that it is alive (`Store::heartbeat`) and looks for nodes
//! that have been silent longer than `node_timeout`. A silent node's sessions are still
//! `active` in the database although nobody serves them: a survivor claims the node (atomically
//! against its heartbeat: a node only out of contact learns from its next beat that it was
//! taken for dead, and fences itself, `state/fence.rs`), then seals each session as
//! `interrupted`, exactly once however many survivors try (`Store::interrupt_session`). Its
//! recording is what reached shared storage before the node died, whole lines only (at most one
//! shipping interval short of what the users saw); the survivor fetches it, seals it with that
//! content's size and SHA-256, and writes the `sealed` object, so `audit verify` on any node
//! checks it like any other. Without shared recordings the dead node's files are out of reach,
//! and the session is sealed without a recording seal, saying so.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use store::{Seal, SessionRow};

use crate::state::Shared;

/// Starts the heartbeat and the watch for silent nodes.
pub fn spawn(shared: Arc<Shared>) -> anyhow::Result<()> {
    spawn_heartbeat(&shared)?;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = crate::state::kill::carry_out_orders(&shared) {
                tracing::warn!("kill orders: {e:#}");
            }
            if let Err(e) = crate::state::watch_relay::feed_wanted(&shared) {
                tracing::warn!("watch feeds: {e:#}");
            }
            if let Err(e) = seal_silent_nodes(&shared).await {
                tracing::warn!("sealing the sessions of silent nodes: {e:#}");
            }
        }
    });
    Ok(())
}

/// Beats every second from a thread of its own and, on PostgreSQL, over a connection of its
/// own: a node busy with hundreds of sessions must not look dead because its heartbeat waited
/// behind its own audit appends on the shared connection or for a busy async runtime (the
/// others would seal its live sessions under it).
fn spawn_heartbeat(shared: &Arc<Shared>) -> anyhow::Result<()> {
    let own = if shared.store.is_postgres() {
        let store = shared.dir.open_store(None)?;
        store.set_node(&shared.dir.settings.node);
        Some(store)
    } else {
        None
    };
    let shared = shared.clone();
    std::thread::Builder::new()
        .name("heartbeat".into())
        .spawn(move || {
            let store = own.as_ref().unwrap_or(&shared.store);
            let mut beaten = false;
            let mut must_fence = false;
            let mut last = std::time::Instant::now();
            loop {
                if last.elapsed() > Duration::from_secs(3) {
                    // This thread was stopped or starved: the first beat after such a gap
                    // is the one a test slows down (to check what waits for it).
                    crate::faults::delay("heartbeat_after_gap");
                }
                beat(&shared, store, &mut beaten, &mut must_fence);
                last = std::time::Instant::now();
                std::thread::sleep(Duration::from_secs(1));
            }
        })?;
    Ok(())
}

/// One heartbeat. A node that had beaten before and finds its row claimed or gone was taken
/// for dead while out of contact: it fences itself (`state/fence.rs`) before its lease is
/// renewed, so nothing it ships or passes on in the meantime gets past a seal another node
/// made; a failed fencing is tried again at the next beat, the lease still lapsed.
fn beat(shared: &Shared, store: &store::Store, beaten: &mut bool, must_fence: &mut bool) {
    // The lease runs from when the beat was sent: a reply delayed by a stalled connection
    // must not stretch it past the moment the others may take this node for dead.
    let sent = shared.fence.now();
    match store.heartbeat() {
        Ok(store::Beat::Registered) if *beaten => *must_fence = true,
        Ok(_) => {}
        Err(e) => {
            tracing::warn!("node heartbeat: {e}");
            return;
        }
    }
    *beaten = true;
    if *must_fence {
        if let Err(e) = crate::state::fence::fence_sessions(shared, store) {
            tracing::error!("fencing this node after it was taken for dead: {e:#}");
            return;
        }
        *must_fence = false;
    }
    // Only several nodes can take one for dead: on SQLite (one node) no lease is armed, and
    // a late beat holds nobody's input.
    if store.is_postgres() {
        shared.fence.beat_accepted(sent);
    }
}

async fn seal_silent_nodes(shared: &Arc<Shared>) -> anyhow::Result<()> {
    let timeout = shared.dir.settings.node_timeout.as_secs_f64();
    let silent_nodes = shared.store.silent_nodes(timeout)?;
    if silent_nodes.is_empty() {
        return Ok(());
    }
    let active = shared.store.active_sessions()?;
    for (node, silent) in silent_nodes {
        // Claimed first, atomically against its own heartbeat: a node that beat in the
        // meantime is alive and keeps its sessions; one claimed fences itself when it beats.
        if !shared.store.claim_silent_node(&node, timeout)? {
            continue;
        }
        let orphans: Vec<&SessionRow> = active
            .iter()
            .filter(|s| s.node.as_deref() == Some(node.as_str()))
            .collect();
        let reason = format!("node {node} stopped answering (silent for {silent:.0} s)");
        for s in orphans {
            seal_orphan(shared, s, &reason).await?;
        }
        tracing::info!("node {node} silent for {silent:.0} s: its sessions are sealed");
        shared.store.forget_node(&node)?;
    }
    Ok(())
}

/// Seals one session of a dead node from what shared storage holds of its recording.
async fn seal_orphan(shared: &Arc<Shared>, s: &SessionRow, reason: &str) -> anyhow::Result<()> {
    let mut seal = Seal {
        recording: s.recording.clone(),
        ..Seal::default()
    };
    let mut why = reason.to_string();
    let mut fetched = None;
    match (&shared.shared_recordings, &s.recording) {
        (Some(to), Some(recorded)) => {
            let local = shared.dir.recordings_dir();
            match to.fetch_whole(recorded, &local).await? {
                Some(path) => {
                    let file = recordings::seal_file(&path)?;
                    seal.recording_sha256 = Some(file.sha256_hex());
                    seal.recording_size = Some(file.size);
                    fetched = Some((path, file));
                }
                None => why.push_str("; nothing of its recording reached shared storage"),
            }
        }
        (None, Some(_)) => why.push_str("; its recording stayed on that node"),
        _ => {}
    }
    if !shared.store.interrupt_session(s, &seal, &why, 0)? {
        // Another survivor (or the node itself, fenced, at the session's end) sealed it
        // first: this copy vouches for nothing and must not pass for the sealed recording.
        if let Some((path, _)) = fetched {
            let _ = std::fs::remove_file(path);
        }
        return Ok(());
    }
    if let (Some(to), Some((path, file))) = (&shared.shared_recordings, fetched) {
        seal_in_storage(to, &path, file.size, file.sha256_hex()).await;
    }
    Ok(())
}

async fn seal_in_storage(
    to: &crate::state::shared_recordings::SharedRecordings,
    path: &Path,
    size: u64,
    sha256: String,
) {
    let sealed = shipping::SealedObject { size, sha256 };
    if let Err(e) = to.shipper().seal(path, &sealed).await {
        tracing::error!("sealing {} in shared storage: {e}", path.display());
    }
}
