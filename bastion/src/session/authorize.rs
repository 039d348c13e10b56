//! Turns a requested target into an allowed (host, login, limits) or a denial, audited either way.

use chrono::Local;
use policies::{AccessRequest, ChannelKind, SessionLimits};
use store::AuditEvent;

use super::run::Kind;
use crate::state::{ConnInfo, Shared};
use crate::target::TargetSpec;

/// An allowed target, resolved against the inventory.
pub struct Granted {
    pub host: String,
    pub address: String,
    pub port: u16,
    pub pinned_key: Option<String>,
    pub login: String,
    pub limits: SessionLimits,
}

/// Decides; on denial returns the one-line reason to show the user.
pub fn authorize(
    shared: &Shared,
    conn: &ConnInfo,
    target: &TargetSpec,
    kind: Kind,
) -> Result<Granted, String> {
    let access = shared.access();
    let channel = match kind {
        Kind::Shell => ChannelKind::Shell,
        Kind::Exec | Kind::Scp | Kind::Rsync => ChannelKind::Exec,
        Kind::Sftp => ChannelKind::Sftp,
    };
    let deny = |reason: String| {
        shared.audit(
            Some(&conn.user),
            Some(&conn.source),
            AuditEvent::PolicyDeny {
                host: target.host.clone(),
                login: target.login.clone(),
                channel: channel.to_string(),
                reason: reason.clone(),
            },
        );
        Err(format!("access denied: {reason}"))
    };
    let Some(host) = access.inventory.host(&target.host) else {
        return deny(format!("unknown host {}", target.host));
    };
    let groups: Vec<String> = host.groups().to_vec();
    let decision = access.policies.decide(&AccessRequest {
        user: &conn.user,
        host: &host.name,
        groups: &groups,
        login: target.login.as_deref(),
        channel,
        at: Local::now(),
    });
    let login = match (&decision.login, decision.allowed) {
        (Some(l), true) => l.clone(),
        _ => return deny(decision.reason.clone()),
    };
    let ok = shared.audit(
        Some(&conn.user),
        Some(&conn.source),
        AuditEvent::PolicyAllow {
            host: host.name.clone(),
            login: login.clone(),
            channel: channel.to_string(),
            reason: decision.reason.clone(),
            roles: decision.role.iter().cloned().collect(),
        },
    );
    if !ok {
        return Err("access denied: the audit log cannot be written".into());
    }
    Ok(Granted {
        host: host.name.clone(),
        address: host.address().to_string(),
        port: host.port(),
        pinned_key: host.ssh_host_key().map(str::to_string),
        login,
        limits: decision.limits,
    })
}
