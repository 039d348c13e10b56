//! `ssh -L LOCAL:HOST:PORT alice@bastion`: one forwarded TCP connection to a port of an
//! inventory host, under policy (`channels: [port_forward]` and the port in `forward_ports`).
//!
//! Like every session it goes through the bastion's own SSH connection to the host: the bastion
//! logs in with its client key (host key checked and pinned as for shells) and asks the host's
//! sshd for a `direct-tcpip` channel to its own `localhost:PORT`, so the user reaches what
//! `ssh -L LOCAL:localhost:PORT root@HOST` would reach, including services bound to loopback.
//! The user's channel is accepted only once that works, so a refused or failed forward shows in
//! the client as a failed connection. Each forwarded connection is audited when it ends
//! (`port_forward`: host, port, bytes each way, duration, or why it failed), also when a clean
//! shutdown ends it; the policy decision is audited as for any session. The bytes are not recorded: they are another protocol's.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use russh::server::{ChannelOpenHandle, Msg};
use russh::{Channel, ChannelMsg, ChannelOpenFailure};
use store::AuditEvent;

use super::authorize::authorize_forward;
use super::upstream;
use crate::state::{ConnInfo, Shared};

/// What the user asked to reach.
pub struct ForwardRequest {
    pub host: String,
    pub port: u32,
    /// The client-side address that connected to the user's listener (for the audit record).
    pub originator: String,
}

/// Serves one forwarded connection from decision to close.
pub async fn forward(
    shared: Arc<Shared>,
    conn: ConnInfo,
    user: Channel<Msg>,
    reply: ChannelOpenHandle,
    req: ForwardRequest,
) {
    let Ok(port) = u16::try_from(req.port) else {
        reply.reject(ChannelOpenFailure::ConnectFailed).await;
        return;
    };
    let granted = match authorize_forward(&shared, &conn, &req.host, port) {
        Ok(g) => g,
        Err(_) => {
            reply
                .reject(ChannelOpenFailure::AdministrativelyProhibited)
                .await;
            return;
        }
    };
    let started = Instant::now();
    let audit = |bytes_up: u64, bytes_down: u64, error: Option<String>| {
        shared.audit(
            Some(&conn.user),
            Some(&conn.source),
            AuditEvent::PortForward {
                host: granted.host.clone(),
                port,
                login: granted.login.clone(),
                originator: req.originator.clone(),
                bytes_up,
                bytes_down,
                seconds: started.elapsed().as_secs_f64(),
                error,
            },
        );
    };
    let handle = match upstream::connect(&shared, &conn, &granted).await {
        Ok(h) => h,
        Err(e) => {
            reply.reject(ChannelOpenFailure::ConnectFailed).await;
            audit(0, 0, Some(e.to_string()));
            return;
        }
    };
    let target = match handle
        .channel_open_direct_tcpip("localhost", u32::from(port), "127.0.0.1", 0)
        .await
    {
        Ok(c) => c,
        Err(e) => {
            reply.reject(ChannelOpenFailure::ConnectFailed).await;
            audit(
                0,
                0,
                Some(format!("{}: localhost:{port}: {e}", granted.host)),
            );
            return;
        }
    };
    reply.accept().await;
    let bytes = Bytes::default();
    let _running = shared.running.enter();
    let error = tokio::select! {
        _ = relay(user, target, &bytes) => None,
        _ = shared.running.stopping() => Some("ended: the bastion is shutting down".to_string()),
    };
    let _ = handle
        .disconnect(russh::Disconnect::ByApplication, "", "en")
        .await;
    audit(
        bytes.up.load(Ordering::Relaxed),
        bytes.down.load(Ordering::Relaxed),
        error,
    );
}

/// Bytes relayed each way so far (read when the relay ends, however it ends).
#[derive(Default)]
struct Bytes {
    up: AtomicU64,
    down: AtomicU64,
}

/// How long one side may still drain after the other closed: the SSH layer does not always
/// report the peer's answering close, so waiting for it could hold the relay open forever.
const DRAIN: std::time::Duration = std::time::Duration::from_secs(2);

/// Copies bytes both ways until one side closes (then the other gets [`DRAIN`] to finish),
/// counting them in `bytes`.
async fn relay(user: Channel<Msg>, target: Channel<russh::client::Msg>, bytes: &Bytes) {
    let (mut urx, utx) = user.split();
    let (mut trx, ttx) = target.split();
    let (up, down) = (&bytes.up, &bytes.down);
    let upward = async {
        while let Some(msg) = urx.wait().await {
            match msg {
                ChannelMsg::Data { data } => {
                    up.fetch_add(data.len() as u64, Ordering::Relaxed);
                    if ttx.data_bytes(data).await.is_err() {
                        break;
                    }
                }
                ChannelMsg::Eof => {
                    let _ = ttx.eof().await;
                }
                ChannelMsg::Close => break,
                _ => {}
            }
        }
        let _ = ttx.close().await;
    };
    let downward = async {
        while let Some(msg) = trx.wait().await {
            match msg {
                ChannelMsg::Data { data } => {
                    down.fetch_add(data.len() as u64, Ordering::Relaxed);
                    if utx.data_bytes(data).await.is_err() {
                        break;
                    }
                }
                ChannelMsg::Eof => {
                    let _ = utx.eof().await;
                }
                ChannelMsg::Close => break,
                _ => {}
            }
        }
        let _ = utx.close().await;
    };
    tokio::pin!(upward, downward);
    tokio::select! {
        _ = &mut upward => { let _ = tokio::time::timeout(DRAIN, downward).await; }
        _ = &mut downward => { let _ = tokio::time::timeout(DRAIN, upward).await; }
    }
}
