//! Target connections kept for reuse by the exec channels of ONE client connection.
//!
//! Why: `fleet run --via` keeps one connection to the bastion and opens one exec channel per
//! task (`LOGIN@HOST SCRIPT`). A fresh upstream SSH connection per channel costs a TCP connect,
//! a key exchange and a public-key login on the target for every task — most of a short task's
//! time. Here an exec session that ended cleanly hands its target connection back, and the next
//! exec channel of the same client connection to the same (host, login, endpoint, pinned key)
//! opens its channel on it: only the handshake is saved. Every exec still goes through
//! `authorize`, `session_start`/`session_end`, the command log and `deny_commands` as before.
//!
//! Why this and not ProxyJump (`server/jump.rs`): a jumped connection is itself a bastion
//! client connection whose exec channels would need this same reuse, and fleet would have to
//! run a second SSH stack per host inside the first; the pool is smaller and serves any client
//! that multiplexes channels (fleet, OpenSSH `ControlMaster`).
//!
//! A connection is *lent* to one session at a time, never shared by two running sessions, so a
//! session that is killed, times out or loses its target still tears down its own connection
//! (the target's processes end with it, as before) without touching a neighbour's. Only
//! non-terminal exec sessions that end with an exit status give their connection back. The pool
//! belongs to the client connection's handler: when the client goes away (and its channel tasks
//! end) the idle connections are dropped and disconnected; a connection that died while idle is
//! skipped and the next exec connects afresh. Host keys are checked at connect, exactly as
//! without the pool (`upstream::connect`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use russh::client::{self, Handle};
use russh::Channel;

use super::authorize::Granted;
use super::upstream::{self, ConnectError, TargetKeyCheck};
use super::PtyInfo;
use crate::state::{ConnInfo, Shared};

/// A connection to a target, as the bastion made it.
pub type Upstream = Handle<TargetKeyCheck>;

/// What must be equal for a connection to be reused: the target as the policy resolved it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    host: String,
    login: String,
    address: String,
    port: u16,
    pinned_key: Option<String>,
}

impl Key {
    pub fn of(g: &Granted) -> Key {
        Key {
            host: g.host.clone(),
            login: g.login.clone(),
            address: g.address.clone(),
            port: g.port,
            pinned_key: g.pinned_key.clone(),
        }
    }
}

/// Idle target connections of one client connection (cheap to clone: one shared map).
#[derive(Clone, Default)]
pub struct UpstreamPool {
    idle: Arc<Idle>,
}

#[derive(Default)]
struct Idle(Mutex<HashMap<Key, Vec<Upstream>>>);

impl UpstreamPool {
    /// An idle, still open connection for `key`, taken out of the pool (lent to the caller).
    pub fn take(&self, key: &Key) -> Option<Upstream> {
        let mut idle = self.idle.0.lock().unwrap_or_else(|p| p.into_inner());
        let list = idle.get_mut(key)?;
        while let Some(handle) = list.pop() {
            if !handle.is_closed() {
                return Some(handle);
            }
        }
        None
    }

    /// Hands a connection back after a session that ended cleanly.
    pub fn give_back(&self, key: Key, handle: Upstream) {
        if handle.is_closed() {
            return;
        }
        let mut idle = self.idle.0.lock().unwrap_or_else(|p| p.into_inner());
        idle.entry(key).or_default().push(handle);
    }
}

impl Drop for Idle {
    /// The client connection is gone: say goodbye to each target instead of just dropping TCP.
    fn drop(&mut self) {
        let idle = std::mem::take(self.0.get_mut().unwrap_or_else(|p| p.into_inner()));
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        for handle in idle.into_values().flatten() {
            runtime.spawn(async move {
                let _ = handle
                    .disconnect(russh::Disconnect::ByApplication, "", "en")
                    .await;
            });
        }
    }
}

/// Why no channel could be started on the target.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("target refused the session: {0}")]
    Channel(#[from] russh::Error),
}

/// A target connection lent to one session: handed back or disconnected by [`Lease::end`].
pub struct Lease {
    handle: Upstream,
    /// Where to hand it back; `None` for sessions that never give theirs back.
    back_to: Option<(UpstreamPool, Key)>,
}

impl Lease {
    /// Ends the session's use: a `clean` end of a reusable session returns the connection to
    /// the pool; anything else disconnects it (ending whatever still runs on the target).
    pub async fn end(self, clean: bool) {
        match self.back_to {
            Some((pool, key)) if clean => pool.give_back(key, self.handle),
            _ => {
                let _ = self
                    .handle
                    .disconnect(russh::Disconnect::ByApplication, "", "en")
                    .await;
            }
        }
    }
}

/// What the session asks of the target once its channel is open.
pub struct ChannelRequest<'a> {
    pub pty: Option<&'a PtyInfo>,
    pub start: Requested<'a>,
}

pub enum Requested<'a> {
    Shell,
    Exec(&'a str),
    Sftp,
}

async fn start(
    handle: &Upstream,
    req: &ChannelRequest<'_>,
) -> Result<Channel<client::Msg>, russh::Error> {
    let ch = handle.channel_open_session().await?;
    if let Some(p) = req.pty {
        ch.request_pty(false, &p.term, p.cols, p.rows, 0, 0, &p.modes)
            .await?;
    }
    match req.start {
        Requested::Sftp => ch.request_subsystem(true, "sftp").await?,
        Requested::Exec(cmd) => ch.exec(true, cmd).await?,
        Requested::Shell => ch.request_shell(true).await?,
    }
    Ok(ch)
}

/// Starts the session's channel (`req`) on a target connection: an idle one of `pool` when
/// there is one (`pool` given), else a fresh one. An idle connection that fails to start the
/// channel (the target dropped it meanwhile) or does not answer within the connect timeout is
/// discarded and a fresh one tried, so reuse never turns into an error the user would not have
/// seen without it.
pub async fn open(
    pool: Option<&UpstreamPool>,
    shared: &Arc<Shared>,
    conn: &ConnInfo,
    g: &Granted,
    req: &ChannelRequest<'_>,
) -> Result<(Lease, Channel<client::Msg>), OpenError> {
    let key = Key::of(g);
    let back_to = pool.map(|p| (p.clone(), key.clone()));
    if let Some(handle) = pool.and_then(|p| p.take(&key)) {
        // A connection cut without a reset (a network partition) would hang here: it gets as
        // long as a new connection would, then is given up for one.
        let limit = shared.dir.settings.connect_timeout;
        match tokio::time::timeout(limit, start(&handle, req)).await {
            Ok(Ok(channel)) => return Ok((Lease { handle, back_to }, channel)),
            failed => {
                let why = match failed {
                    Ok(Err(e)) => e.to_string(),
                    _ => format!("no answer in {}s", limit.as_secs()),
                };
                tracing::debug!(
                    "idle connection to {} unusable ({why}); reconnecting",
                    g.host
                );
                // Dropped, not disconnected: a connection that does not answer might not
                // take a goodbye either.
                drop(handle);
            }
        }
    }
    let handle = upstream::connect(shared, conn, g).await?;
    match start(&handle, req).await {
        Ok(channel) => Ok((Lease { handle, back_to }, channel)),
        Err(e) => {
            Lease {
                handle,
                back_to: None,
            }
            .end(false)
            .await;
            Err(OpenError::Channel(e))
        }
    }
}
