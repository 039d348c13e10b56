//! Chat and webhook notifications (`[notify]`), driven by the audit log.
//!
//! What is announced — new requests, their decisions, held command lines, blocked commands,
//! login lockouts — is exactly what the audit log records, and it is recorded by several
//! processes: this server, but also `bastion approve` run on the box. So rather than calling
//! the notifier from each place, one task follows the audit log (as `bastion audit --follow`
//! does, from the newest record at start) and turns each record into a
//! [`notify::Notification`]. Sending never waits on the network (the `notify` crate queues per
//! webhook); a notification that cannot be delivered after its retries is audited as
//! `notify_failed`, which is itself never announced.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use notify::{DeliveryFailure, Notification, Notifier};
use store::{AuditEvent, AuditRecord, Store};

use crate::state::Shared;

/// How often the audit log is read for new records.
const FOLLOW: Duration = Duration::from_secs(1);

/// Starts the notifier and the follower when `[notify]` lists a webhook.
pub fn spawn(shared: Arc<Shared>) -> anyhow::Result<()> {
    let mut settings = shared.dir.settings.notify.clone();
    if settings.webhooks.is_empty() {
        return Ok(());
    }
    if settings.console_url.is_none() {
        settings.console_url = shared.console_url.clone();
    }
    let (failed_tx, mut failed_rx) = tokio::sync::mpsc::unbounded_channel::<DeliveryFailure>();
    let notifier = Notifier::start(
        settings,
        Box::new(move |f| {
            let _ = failed_tx.send(f);
        }),
    )
    .map_err(|e| anyhow::anyhow!("[notify]: {e}"))?;
    let auditor = shared.clone();
    tokio::spawn(async move {
        while let Some(f) = failed_rx.recv().await {
            auditor.audit(
                None,
                None,
                AuditEvent::NotifyFailed {
                    webhook: f.webhook.clone(),
                    error: f.to_string(),
                },
            );
        }
    });
    let mut after = newest_id(&shared.store);
    tokio::spawn(async move {
        let mut follower = Follower {
            lockouts: HashMap::new(),
            lockout: shared.dir.settings.lockout,
        };
        loop {
            tokio::time::sleep(FOLLOW).await;
            let records = match shared.store.audit_records_after(after, 500) {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!("notifications: cannot read the audit log: {e}");
                    continue;
                }
            };
            for rec in &records {
                after = after.max(rec.id);
                if let Some(n) = follower.notification(&shared.store, rec) {
                    notifier.send(n);
                }
            }
        }
    });
    Ok(())
}

fn newest_id(store: &Store) -> i64 {
    store.newest_audit_id().unwrap_or(0)
}

/// Turns audit records into notifications, remembering lockouts already announced.
struct Follower {
    lockouts: HashMap<String, f64>,
    lockout: Duration,
}

impl Follower {
    fn notification(&mut self, store: &Store, rec: &AuditRecord) -> Option<Notification> {
        let user = rec.user.clone().unwrap_or_default();
        match rec.parsed().ok()? {
            AuditEvent::RequestCreated {
                request,
                kind,
                host,
                login,
                text,
                seconds,
                ..
            } => Some(match kind.as_str() {
                "access" => Notification::RequestCreated {
                    id: request.to_string(),
                    user,
                    hosts: vec![host],
                    login,
                    duration: Duration::from_secs(seconds.unwrap_or(0).max(0) as u64),
                    reason: (!text.is_empty()).then_some(text),
                },
                _ => Notification::CommandReview {
                    id: request.to_string(),
                    user,
                    host,
                    login,
                    command: text,
                },
            }),
            AuditEvent::RequestApproved { request, by, .. } => {
                decided(store, request, Some(by), true, None)
            }
            AuditEvent::RequestDenied {
                request,
                by,
                reason,
                ..
            } => decided(store, request, Some(by), false, Some(reason)),
            AuditEvent::RequestExpired { request, kind, .. } if kind == "command" => {
                decided(store, request, None, false, None)
            }
            AuditEvent::CommandBlocked {
                session,
                host,
                login,
                command,
                rule,
                ..
            } => Some(Notification::CommandBlocked {
                session: session.to_string(),
                user,
                host,
                login,
                command,
                rule,
            }),
            AuditEvent::LoginLockout { failures, .. } => {
                // A user and their address lock together: announce the user once per window.
                let last = self.lockouts.get(&user).copied().unwrap_or(f64::MIN);
                if rec.ts - last < self.lockout.as_secs_f64() {
                    return None;
                }
                self.lockouts.insert(user.clone(), rec.ts);
                Some(Notification::LoginLockout {
                    user,
                    source: rec.source.clone().unwrap_or_default(),
                    failures,
                })
            }
            _ => None,
        }
    }
}

/// A decision on request `id`, worded from the request itself.
fn decided(
    store: &Store,
    id: i64,
    approver: Option<String>,
    approved: bool,
    reason: Option<String>,
) -> Option<Notification> {
    let r = store.request(id).ok()??;
    Some(match r.kind.as_str() {
        "access" => Notification::RequestDecided {
            id: id.to_string(),
            user: r.user,
            approver: approver.unwrap_or_default(),
            approved,
            duration: match (r.granted_until, r.decided_at) {
                (Some(until), Some(at)) => Duration::from_secs_f64((until - at).max(0.0)),
                _ => Duration::ZERO,
            },
            reason,
        },
        _ => Notification::ReviewDecided {
            id: id.to_string(),
            user: r.user,
            host: r.host,
            command: r.text,
            approver,
            approved,
        },
    })
}
