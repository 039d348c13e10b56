//! State shared by all connections: store, keys, and the live access rules (swapped on reload).

use std::sync::{Arc, RwLock};

use anyhow::{Context, Result};
use russh::keys::PrivateKey;

use super::RateLimiter;
use crate::datadir::DataDir;
use crate::keys;
use store::{AuditEvent, Store};

/// Inventory and policies as one snapshot, so a decision never mixes old and new files; the
/// one access decision (`grant`, `reachable`) lives in the `access` crate.
use access::Access;

/// Loads the data directory's inventory and policies; errors name file:line:column.
pub fn load_access(dir: &DataDir) -> Result<Access> {
    Ok(Access::load(&dir.inventory_path(), &dir.policies_path())?)
}

/// Everything a connection needs, behind one `Arc`.
pub struct Shared {
    pub dir: DataDir,
    pub store: Store,
    /// The web console's own connection to the store (when the console is on): an auditor's
    /// search over a million commands or a verification of the whole chain holds it for a
    /// second or more, and on `store` that would hold every login, session start and typed
    /// command of this node waiting behind it. The console appends audit records through
    /// [`Shared::audit`] (on `store`), never through this one.
    pub console_store: Option<Store>,
    access: RwLock<Arc<Access>>,
    pub limiter: RateLimiter,
    pub client_key: Arc<PrivateKey>,
    /// The bastion's SSH host key, presented on its own port and, certified by `host_ca`, to
    /// ProxyJump clients for the inventory host they named.
    pub host_key: Arc<PrivateKey>,
    pub host_ca: Arc<PrivateKey>,
    /// Sessions in progress, for `bastion watch` and `bastion kill`.
    pub live: super::LiveSessions,
    /// Session tasks running, for a clean shutdown.
    pub running: super::Running,
    /// The public half of the audit signing key (the console's verify button).
    pub audit_key: ed25519_dalek::VerifyingKey,
    /// The web console's address for printed links; `None` when the console is off.
    pub console_url: Option<String>,
    /// Wakes whoever waits for a request's decision (`requests::wait`).
    pub requests: tokio::sync::Notify,
    /// Shared storage the recordings are shipped to (`[shared_recordings]`), if any.
    pub shared_recordings: Option<Arc<super::shared_recordings::SharedRecordings>>,
    /// The watch feeds this node fills for watchers on other nodes (`watch_relay`).
    pub feeding: super::watch_relay::Feeding,
    /// This node's heartbeat lease and the sessions it fenced (`fence`).
    pub fence: super::fence::Fence,
}

/// Who is on the other end of an authenticated connection.
#[derive(Clone, Debug)]
pub struct ConnInfo {
    pub user: String,
    pub source: String,
    pub fingerprint: String,
    pub target: Option<crate::target::TargetSpec>,
    /// True when the login included a valid TOTP code; a grant from a role requiring TOTP is
    /// refused without one (the policy may have changed since the login).
    pub totp_verified: bool,
    /// How the connection came in.
    pub via: Via,
}

/// How a user reached the session: logged in to the bastion itself, or through it with
/// `ssh -J` (an inner SSH connection the bastion terminates, see `session::jump`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    Direct,
    ProxyJump,
}

impl Shared {
    /// Opens store and keys and loads the access rules; fails (refusing to start) on any error.
    pub fn load(dir: DataDir, console_url: Option<String>) -> Result<Shared> {
        let signer = keys::load_signing_key(&dir.signing_key_path())?;
        let audit_key = signer.verifying_key();
        let store = dir.open_store(Some(signer))?;
        store.set_node(&dir.settings.node);
        let access = load_access(&dir)?;
        let client_key = Arc::new(keys::load_private(&dir.client_key_path())?);
        let host_key = Arc::new(keys::load_private(&dir.host_key_path())?);
        let host_ca = Arc::new(keys::load_private(&dir.host_ca_path())?);
        let (max, window) = (dir.settings.max_auth_failures, dir.settings.lockout);
        let limiter = if store.is_postgres() {
            RateLimiter::shared(max, window, dir.open_store(None)?)
        } else {
            RateLimiter::new(max, window)
        };
        let console_store = match console_url {
            Some(_) => Some(
                dir.open_store(None)
                    .context("the console's store connection")?,
            ),
            None => None,
        };
        let shared_recordings = super::shared_recordings::SharedRecordings::open(
            dir.settings.shared_recordings.as_ref(),
        )
        .context("[shared_recordings]")?;
        Ok(Shared {
            fence: super::fence::Fence::new(dir.settings.node_timeout),
            shared_recordings,
            dir,
            store,
            console_store,
            access: RwLock::new(Arc::new(access)),
            limiter,
            client_key,
            host_key,
            host_ca,
            live: Default::default(),
            running: Default::default(),
            console_url,
            audit_key,
            requests: tokio::sync::Notify::new(),
            feeding: Default::default(),
        })
    }

    /// The current access snapshot.
    pub fn access(&self) -> Arc<Access> {
        self.access
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Replaces the access snapshot (policy or inventory reload).
    pub fn set_access(&self, access: Access) {
        *self.access.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(access);
    }

    /// Tells waiters that a request was made or decided in this process.
    pub fn requests_changed(&self) {
        self.requests.notify_waiters();
    }

    /// Appends an audit event; returns false (and logs) when the store refused it, so callers
    /// can deny whatever the event was about.
    pub fn audit(&self, user: Option<&str>, source: Option<&str>, event: AuditEvent) -> bool {
        match self.store.audit(user, source, &event) {
            Ok(_) => {
                crate::metrics::global().observe(&event);
                true
            }
            Err(e) => {
                tracing::error!("audit append failed ({}): {e}", event.kind());
                crate::metrics::global().audit_append_failed();
                false
            }
        }
    }
}
