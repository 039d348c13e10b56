//! Watching a session wherever it runs. A session this node serves is watched from its live
//! registry entry; one that another node serves (several nodes on one database) is followed
//! through a *feed* in the database (`store::watch_relay` explains the table and why the
//! database carries it rather than a node-to-node connection).
//!
//! Both halves live here. The watching node ([`follow_blocking`]) opens the feed, waits for
//! the serving node to put the screen in it, then forwards its chunks into a broadcast
//! channel, so the control socket and the console see the same [`Watch`] either way. The
//! serving node ([`feed_wanted`], called every second by the heartbeat task) starts one
//! feeder per wanted feed: the session's own watch, batched into the database until the
//! session ends or the watcher stops renewing. A watch of another node's session starts within
//! about a second (the heartbeat) and then lags its output by about [`POLL`] plus [`BATCH`].

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};

use super::{LiveSession, Shared, Watch};
use crate::locks::lock;

/// How often the watching node reads its feed.
const POLL: Duration = Duration::from_millis(100);
/// How long the serving node gathers output into one chunk after the first bytes arrive.
const BATCH: Duration = Duration::from_millis(30);
/// The most output in one chunk.
const CHUNK_MAX: usize = 64 * 1024;
/// A feed lapses this long after its watcher's last renewal; renewed three times as often.
const WANTED_FOR: f64 = 10.0;
const RENEW: Duration = Duration::from_secs(3);
/// How long a watcher waits for the serving node to start the feed (its heartbeat runs every
/// second; a node that does not start it in this time is not serving).
const START_TIMEOUT: Duration = Duration::from_secs(5);

/// Where a session someone wants to watch is.
pub enum Located {
    /// Served by this node.
    Here(Arc<LiveSession>),
    /// Active, served by `node`: `user`'s session on `target` (`login@host`).
    Elsewhere {
        user: String,
        target: String,
        node: String,
    },
    /// Not a session in progress.
    NotLive,
}

/// Finds live session `id`, here or on another node.
pub fn locate(shared: &Shared, id: i64) -> Result<Located> {
    if let Some(live) = shared.live.get(id) {
        return Ok(Located::Here(live));
    }
    let me = shared.dir.settings.node.as_str();
    Ok(match shared.store.session(id)? {
        Some(row) if row.status == "active" => match row.node.clone() {
            Some(node) if node != me => Located::Elsewhere {
                target: format!("{}@{}", row.login, row.host),
                user: row.user,
                node,
            },
            _ => Located::NotLive,
        },
        _ => Located::NotLive,
    })
}

/// Starts `by`'s watch of session `id`, wherever it runs: audits `session_watched` first (a
/// watch the audit log refuses is not started), then joins the session here or follows it
/// from the node that serves it. Blocks (reading the recording so far, or waiting for the
/// other node), so callers on the runtime run it with `spawn_blocking`.
pub fn start_watch_blocking(
    shared: &Arc<Shared>,
    runtime: &tokio::runtime::Handle,
    id: i64,
    by: &str,
) -> Result<Watch> {
    let located = locate(shared, id)?;
    let (user, target) = match &located {
        Located::Here(live) => (live.user.clone(), live.target.clone()),
        Located::Elsewhere { user, target, .. } => (user.clone(), target.clone()),
        Located::NotLive => bail!("no live session {id}"),
    };
    let event = store::AuditEvent::SessionWatched {
        session: id,
        target,
        by: by.to_string(),
    };
    if !shared.audit(Some(&user), None, event) {
        bail!("the audit log refused the watch, so it is not started");
    }
    match located {
        Located::Here(live) => Ok(live.watch_blocking()),
        Located::Elsewhere { node, .. } => follow_blocking(shared, runtime, id, &node),
        Located::NotLive => unreachable!("handled above"),
    }
}

/// Follows session `id`, served by `node`, from this node: blocks until the serving node has
/// sent the screen (or [`START_TIMEOUT`]), then streams the rest from a task on `runtime`.
pub fn follow_blocking(
    shared: &Arc<Shared>,
    runtime: &tokio::runtime::Handle,
    id: i64,
    node: &str,
) -> Result<Watch> {
    let store = &shared.store;
    let feed = store.open_watch_feed(id, node, WANTED_FOR)?;
    let started = Instant::now();
    let first = loop {
        let got = store.take_watch_chunks(feed, -1)?;
        if let Some((cols, rows)) = got.size.filter(|_| !got.chunks.is_empty()) {
            break (cols, rows, got);
        }
        if got.ended || started.elapsed() > START_TIMEOUT {
            store.close_watch_feed(feed)?;
            bail!("node {node}, which serves session {id}, did not answer (is it running?)");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (cols, rows, got) = first;
    let (tx, stream) = broadcast::channel(1024);
    let mut screen = Vec::new();
    let mut last = -1;
    for (seq, data) in got.chunks {
        screen.extend_from_slice(&data);
        last = seq;
    }
    let shared = shared.clone();
    runtime.spawn(async move {
        if !got.ended {
            forward(&shared, id, feed, last, tx).await;
        }
        if let Err(e) = shared.store.close_watch_feed(feed) {
            tracing::warn!("closing the watch feed of session {id}: {e}");
        }
    });
    Ok(Watch {
        cols,
        rows,
        screen,
        stream,
    })
}

/// The watching node's loop: the feed's chunks into `tx`, renewing the feed, until the session
/// ends (or its node died and a survivor sealed it), the feed is gone, or nobody listens.
async fn forward(
    shared: &Shared,
    id: i64,
    feed: i64,
    mut last: i64,
    tx: broadcast::Sender<Vec<u8>>,
) {
    let mut renewed = Instant::now();
    loop {
        tokio::time::sleep(POLL).await;
        if tx.receiver_count() == 0 {
            return;
        }
        if renewed.elapsed() >= RENEW {
            renewed = Instant::now();
            match shared.store.renew_watch_feed(feed, WANTED_FOR) {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => tracing::warn!("renewing watch feed {feed}: {e}"),
            }
            match shared.store.session(id) {
                Ok(Some(s)) if s.status != "active" => return,
                Ok(_) => {}
                Err(e) => tracing::warn!("session {id}: {e}"),
            }
        }
        let got = match shared.store.take_watch_chunks(feed, last) {
            Ok(got) => got,
            Err(e) => {
                tracing::warn!("reading watch feed {feed}: {e}");
                continue;
            }
        };
        for (seq, data) in got.chunks {
            last = seq;
            if !data.is_empty() {
                let _ = tx.send(data);
            }
        }
        if got.ended {
            return;
        }
    }
}

/// The feeds this node is filling, so the heartbeat starts each once.
#[derive(Default)]
pub struct Feeding(Mutex<HashSet<i64>>);

/// The serving node's side, every heartbeat: starts a feeder for each feed another node wants
/// from this one, and drops feeds whose watcher went away without closing them.
pub fn feed_wanted(shared: &Arc<Shared>) -> Result<()> {
    for want in shared.store.wanted_watch_feeds()? {
        if !lock(&shared.feeding.0).insert(want.id) {
            continue;
        }
        let shared = shared.clone();
        tokio::spawn(async move {
            let (feed, id) = (want.id, want.session);
            match shared.live.get(id) {
                Some(live) => {
                    tracing::info!("session {id}: another node watches it (feed {feed})");
                    if let Err(e) = fill(&shared, feed, live).await {
                        tracing::warn!("watch feed {feed} of session {id}: {e:#}");
                    }
                }
                // Ended here in the meantime, or never ran here: the watcher stops.
                None => {
                    let _ = shared.store.close_watch_feed(feed);
                }
            }
            lock(&shared.feeding.0).remove(&feed);
        });
    }
    shared.store.drop_stale_watch_feeds(60.0)?;
    Ok(())
}

/// Copies one session's screen, then its output, into feed `feed`.
async fn fill(shared: &Shared, feed: i64, live: Arc<LiveSession>) -> Result<()> {
    let watch = tokio::task::spawn_blocking(move || live.watch_blocking()).await?;
    // `live` went into the task and is dropped: the stream closes when the session ends.
    let store = &shared.store;
    store.start_watch_feed(feed, watch.cols, watch.rows, &watch.screen)?;
    let mut rx = watch.stream;
    let mut check = tokio::time::interval(Duration::from_secs(2));
    check.tick().await;
    let mut seq = 1;
    loop {
        tokio::select! {
            first = rx.recv() => match first {
                Ok(mut chunk) => {
                    tokio::time::sleep(BATCH).await;
                    let ended = gather(&mut rx, &mut chunk);
                    store.push_watch_chunk(feed, seq, &chunk, ended)?;
                    seq += 1;
                    if ended {
                        return Ok(());
                    }
                }
                Err(RecvError::Lagged(n)) => tracing::debug!("watch feed {feed} skipped {n} chunks"),
                Err(RecvError::Closed) => {
                    store.push_watch_chunk(feed, seq, b"", true)?;
                    return Ok(());
                }
            },
            _ = check.tick() => {
                if !store.watch_feed_wanted(feed)? {
                    store.close_watch_feed(feed)?;
                    return Ok(());
                }
            }
        }
    }
}

/// Appends what else is waiting in `rx` to `chunk`, up to [`CHUNK_MAX`]; true when the
/// session ended.
fn gather(rx: &mut broadcast::Receiver<Vec<u8>>, chunk: &mut Vec<u8>) -> bool {
    while chunk.len() < CHUNK_MAX {
        match rx.try_recv() {
            Ok(more) => chunk.extend_from_slice(&more),
            Err(TryRecvError::Lagged(_)) => continue,
            Err(TryRecvError::Empty) => return false,
            Err(TryRecvError::Closed) => return true,
        }
    }
    false
}
