//! Access requests, grants and command reviews (`request:` roles, `action: review` rules).
//!
//! The policy says *what* needs a second person (`policies::RequestRule`, `ReviewRule`); the
//! store keeps each request and its one decision, audited in the same transaction
//! (`store::Store::create_request` and friends). This module is the bastion's side between
//! them:
//! - [`ask`]: a user asks (exec word `request`, the host menu, a held command line); checked
//!   against the policy (the host needs a request, the duration fits, a reason is given).
//! - [`decide`]: an approver or an administrator says yes or no (console, `ssh bastion
//!   approve`, `bastion approve`), with the one rule about who may: a listed approver who is not
//!   the requester.
//! - [`wait`]: the asking session waits for the decision, woken at once by a decision made in
//!   this process and by polling the store for one made elsewhere (the CLI, another node).
//! - [`sweep`]: grants end on time; sessions running under a grant that ended or was revoked
//!   are ended with a message.

pub mod ask;
pub mod decide;
pub mod sweep;
pub mod wait;
mod words;

pub use words::{parse_word, Word};

use policies::HeldGrant;
use store::Store;

/// The access grants `user` holds now, as the policy takes them. A store that cannot be read
/// yields none: a request role then grants nothing (deny by default).
pub fn held(store: &Store, user: &str) -> Vec<HeldGrant> {
    match store.held_grants(user, store::now_ts()) {
        Ok(rows) => rows
            .into_iter()
            .map(|r| HeldGrant {
                id: r.id,
                host: r.host,
                login: r.login,
                until: r.granted_until.unwrap_or(0.0) as i64,
            })
            .collect(),
        Err(e) => {
            tracing::error!("cannot read the grants of {user}: {e}");
            Vec::new()
        }
    }
}
