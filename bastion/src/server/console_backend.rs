//! The web console's view of the running server (`console::Backend`): the store, the access
//! snapshot and the audit log it shares with SSH sessions, and the live sessions it may watch
//! and kill, each audited here as the control socket's `watch` and `kill` are.

use std::sync::Arc;

use crate::state::kill::Ended;

use crate::state::Shared;

/// What the web console reads through: the server's own store, access snapshot and audit log.
pub struct ConsoleBackend(pub Arc<Shared>);

impl console::Backend for ConsoleBackend {
    fn store(&self) -> &store::Store {
        self.0.console_store.as_ref().unwrap_or(&self.0.store)
    }

    fn access(&self) -> Arc<access::Access> {
        self.0.access()
    }

    fn audit(&self, user: Option<&str>, source: Option<&str>, event: store::AuditEvent) -> bool {
        self.0.audit(user, source, event)
    }

    fn locate_recording(&self, recorded: &str) -> Option<std::path::PathBuf> {
        let dir = &self.0.dir;
        crate::state::shared_recordings::locate(
            dir.settings.shared_recordings.as_ref(),
            &dir.recordings_dir(),
            recorded,
        )
        .unwrap_or_else(|e| {
            tracing::warn!("fetching {recorded} from shared storage: {e:#}");
            None
        })
    }

    fn audit_key(&self) -> ed25519_dalek::VerifyingKey {
        self.0.audit_key
    }

    fn live(&self) -> Vec<console::LiveInfo> {
        let me = &self.0.dir.settings.node;
        let mut all: Vec<console::LiveInfo> = self
            .0
            .live
            .all()
            .iter()
            .map(|s| {
                let (login, host) = s.target.rsplit_once('@').unwrap_or(("", &s.target));
                console::LiveInfo {
                    id: s.id,
                    user: s.user.clone(),
                    login: login.to_string(),
                    host: host.to_string(),
                    node: me.clone(),
                }
            })
            .collect();
        // Sessions other nodes serve (several nodes on one database).
        match self.0.store.active_sessions() {
            Ok(rows) => all.extend(rows.into_iter().filter_map(|s| {
                let node = s.node.filter(|n| n != me)?;
                Some(console::LiveInfo {
                    id: s.id,
                    user: s.user,
                    login: s.login,
                    host: s.host,
                    node,
                })
            })),
            Err(e) => tracing::error!("listing other nodes' sessions: {e}"),
        }
        all.sort_by_key(|s| s.id);
        all
    }

    fn watch(&self, id: i64, by: &str) -> Option<console::LiveWatch> {
        let runtime = tokio::runtime::Handle::current();
        let w = crate::state::watch_relay::start_watch_blocking(&self.0, &runtime, id, by)
            .map_err(|e| tracing::debug!("watching session {id}: {e:#}"))
            .ok()?;
        Some(console::LiveWatch {
            cols: w.cols,
            rows: w.rows,
            screen: w.screen,
            stream: w.stream,
        })
    }

    fn kill(&self, id: i64, by: &str, message: &str) -> bool {
        let message = message.trim();
        let message = if message.is_empty() {
            format!("terminated by {by}")
        } else {
            format!("terminated by {by}: {message}")
        };
        match crate::state::kill::end_session(&self.0, id, by, &message) {
            Ok(Ended::Here | Ended::Ordered { .. }) => true,
            Ok(Ended::NotLive) => false,
            Err(e) => {
                tracing::error!("ending session {id}: {e:#}");
                false
            }
        }
    }

    fn decide(
        &self,
        id: i64,
        approver: &str,
        decision: console::Decision,
    ) -> Result<store::RequestRow, String> {
        use crate::requests::decide::{decide, Answer, Decider};
        let answer = match decision {
            console::Decision::Approve { duration } => Answer::Approve { duration },
            console::Decision::Deny { reason } => Answer::Deny { reason },
        };
        let who = Decider::User(approver.to_string());
        let decided = decide(&self.0.store, &self.0.access(), &who, id, &answer)?;
        self.0.requests_changed();
        Ok(decided)
    }
}
