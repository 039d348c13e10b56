//! Reloads inventory and policies when their files change (polled each second) or on SIGHUP.
//! An invalid edit is refused and the previous rules stay in force; both outcomes are audited.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::state::{load_access, Shared};
use store::AuditEvent;

fn stamp(p: &Path) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(p).ok()?;
    Some((m.modified().ok()?, m.len()))
}

/// Starts the background reload task.
pub fn spawn(shared: Arc<Shared>) {
    tokio::spawn(async move {
        let files = [shared.dir.policies_path(), shared.dir.inventory_path()];
        let mut last: Vec<_> = files.iter().map(|f| stamp(f)).collect();
        let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            let forced = tokio::select! {
                _ = tick.tick() => false,
                Some(_) = async { match hup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => true,
            };
            let now: Vec<_> = files.iter().map(|f| stamp(f)).collect();
            if !forced && now == last {
                continue;
            }
            last = now;
            reload(&shared);
        }
    });
}

fn reload(shared: &Shared) {
    match load_access(&shared.dir) {
        Ok(access) => {
            let roles = access.policies.roles().len();
            let hosts = access.inventory.hosts().count();
            shared.set_access(access);
            tracing::info!("reloaded policies ({roles} roles) and inventory ({hosts} hosts)");
            shared.audit(None, None, AuditEvent::PolicyReloaded { roles, hosts });
        }
        Err(e) => {
            let msg = format!("{e:#}");
            tracing::warn!("reload refused, previous rules stay in force: {msg}");
            shared.audit(None, None, AuditEvent::PolicyReloadFailed { error: msg });
        }
    }
}
