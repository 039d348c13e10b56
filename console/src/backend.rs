//! What the console needs from the running bastion, as a trait the server implements: the
//! store, the current access snapshot, the audit log, and the audit key for verification.
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
}
