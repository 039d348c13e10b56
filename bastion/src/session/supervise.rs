//! What a bug in a session task costs: no more than that session. A panic ends the session's
//! task; the supervisor then tells the user and closes their channel (instead of leaving their
//! client hanging), the session is sealed as interrupted, and the audit log says what happened.
//! Every other session carries on.

use std::sync::Arc;

use russh::server::{Handle, Msg};
use russh::Channel;

use crate::state::{seal_session, ConnInfo, Shared};
use store::AuditEvent;

/// The exit status a user's client gets when the bastion failed, like ssh's own errors.
const FAILED: u32 = 255;

/// Runs the channel's session task and answers for it if it panics.
pub async fn supervise(
    shared: Arc<Shared>,
    conn: ConnInfo,
    channel: Channel<Msg>,
    handle: Handle,
    upstreams: super::UpstreamPool,
) {
    let _running = shared.running.enter();
    let id = channel.id();
    let task = tokio::spawn(super::run_channel(
        shared.clone(),
        conn.clone(),
        channel,
        handle.clone(),
        upstreams,
    ));
    let Err(e) = task.await else { return };
    let error = if e.is_panic() {
        panic_text(e.into_panic())
    } else {
        "session task cancelled".to_string()
    };
    tracing::error!("user {}: session task failed: {error}", conn.user);
    shared.audit(
        Some(&conn.user),
        Some(&conn.source),
        AuditEvent::SessionFailed {
            channel: u32::from(id),
            error: error.to_string(),
        },
    );
    let msg = "\r\nbastion: internal error: this session was ended and logged\r\n";
    let _ = handle.extended_data(id, 1, msg.as_bytes().to_vec()).await;
    let _ = handle.exit_status_request(id, FAILED).await;
    let _ = handle.eof(id).await;
    let _ = handle.close(id).await;
}

fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(p) => p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .unwrap_or_else(|| "panic".to_string()),
    }
}

/// Held by a running session: if the task unwinds before the session's normal end, seals the
/// session as interrupted (its recording flushed by then, as the session's other state is
/// dropped first).
pub struct SealOnUnwind<'a> {
    shared: &'a Shared,
    session_id: i64,
    armed: bool,
}

impl<'a> SealOnUnwind<'a> {
    /// Armed from the session's start.
    pub fn new(shared: &'a Shared, session_id: i64) -> Self {
        SealOnUnwind {
            shared,
            session_id,
            armed: true,
        }
    }

    /// The session ended normally.
    pub fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for SealOnUnwind<'_> {
    fn drop(&mut self) {
        if !self.armed || !std::thread::panicking() {
            return;
        }
        let sealed = match self.shared.store.session(self.session_id) {
            Ok(Some(row)) => seal_session(self.shared, &row, "internal error in the bastion"),
            Ok(None) => return,
            Err(e) => Err(e.into()),
        };
        if let Err(e) = sealed {
            tracing::error!(
                "session {}: cannot seal after a failure: {e:#}",
                self.session_id
            );
        }
    }
}
