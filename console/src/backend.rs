//! What the console needs from the running bastion, as a trait the server implements: the
//! store, the current access snapshot, the audit log, the audit key for verification, and
//! the sessions in progress (to watch and to kill).
//! The console crate cannot depend on the `bastion` binary; the server hands it this instead.

use std::sync::Arc;

use access::Access;
use store::{AuditEvent, Store};

pub trait Backend: Send + Sync + 'static {
    fn store(&self) -> &Store;
    /// The inventory and policies in force now (reloaded live by the server).
    fn access(&self) -> Arc<Access>;
    /// Appends an audit event; false when it could not be written (deny what it was about).
    fn audit(&self, user: Option<&str>, source: Option<&str>, event: AuditEvent) -> bool;
    /// The key the audit log is signed with, to verify it.
    fn audit_key(&self) -> ed25519_dalek::VerifyingKey;
    /// Where a recording (as its sessions row names it) can be read on this node: another
    /// node's recording is fetched from shared storage. `None`: the path as recorded.
    /// Blocking.
    fn locate_recording(&self, recorded: &str) -> Option<std::path::PathBuf> {
        let _ = recorded;
        None
    }
    /// Sessions in progress.
    fn live(&self) -> Vec<LiveInfo>;
    /// Starts watching session `id` for `by` (audited as `session_watched`); `None` when it is
    /// no longer live. Blocking: the first screen may be replayed from the recording.
    fn watch(&self, id: i64, by: &str) -> Option<LiveWatch>;
    /// Ends session `id`, telling its user `message` (audited as `session_killed` by `by`);
    /// false when it is no longer live.
    fn kill(&self, id: i64, by: &str, message: &str) -> bool;
    /// Decides request `id` as the bastion user `approver`, under the one rule the server
    /// applies everywhere (a listed approver, never the requester; an approval may shorten,
    /// never lengthen). `Err` is the message to show.
    fn decide(
        &self,
        id: i64,
        approver: &str,
        decision: Decision,
    ) -> Result<store::RequestRow, String>;
}

/// A decision taken in the console.
#[derive(Debug, Clone)]
pub enum Decision {
    /// Yes; for access, optionally for less time than asked.
    Approve {
        duration: Option<std::time::Duration>,
    },
    Deny {
        reason: String,
    },
}

/// A session in progress.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LiveInfo {
    pub id: i64,
    pub user: String,
    pub login: String,
    pub host: String,
    /// The bastion node that serves it.
    pub node: String,
}

/// A watcher's start: the screen so far (bytes that draw it on a `cols` x `rows` terminal),
/// then every later output chunk until the session ends.
pub struct LiveWatch {
    pub cols: u32,
    pub rows: u32,
    pub screen: Vec<u8>,
    pub stream: tokio::sync::broadcast::Receiver<Vec<u8>>,
}
