//! Turns a requested target into an allowed (host, login, limits) or a denial, audited either way.
//! The decision itself is `access::Access::grant` (shared with the menu and the CLI); this file
//! adds what only a live connection knows (whether TOTP was verified) and the audit records.

use chrono::Local;
use policies::{ChannelKind, SessionLimits};
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
    /// The merged limits of every granting role.
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
    let grant = access
        .grant(
            &conn.user,
            &target.host,
            target.login.as_deref(),
            channel,
            Local::now(),
        )
        .for_connection(conn.totp_verified);
    let (login, endpoint) = match (grant.allowed, grant.login, grant.endpoint) {
        (true, Some(l), Some(e)) => (l, e),
        _ => return deny(grant.reason),
    };
    let ok = shared.audit(
        Some(&conn.user),
        Some(&conn.source),
        AuditEvent::PolicyAllow {
            host: grant.host.clone(),
            login: login.clone(),
            channel: channel.to_string(),
            reason: grant.reason.clone(),
            roles: grant.roles.clone(),
        },
    );
    if !ok {
        return Err("access denied: the audit log cannot be written".into());
    }
    Ok(Granted {
        host: grant.host,
        address: endpoint.address,
        port: endpoint.port,
        pinned_key: endpoint.pinned_key,
        login,
        limits: grant.limits,
    })
}
