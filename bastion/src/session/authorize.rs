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
    /// The approved request the session runs under, if a `request:` role granted it.
    pub grant: Option<i64>,
}

/// Decides; on denial returns the one-line reason to show the user.
pub fn authorize(
    shared: &Shared,
    conn: &ConnInfo,
    target: &TargetSpec,
    kind: Kind,
) -> Result<Granted, String> {
    let access = shared.access();
    let held = crate::requests::held(&shared.store, &conn.user);
    let channel = match kind {
        Kind::Shell => ChannelKind::Shell,
        Kind::Exec | Kind::Scp | Kind::Rsync => ChannelKind::Exec,
        Kind::Sftp => ChannelKind::Sftp,
    };
    let grant = access
        .grant(
            &conn.user,
            &target.host,
            target.login.as_deref(),
            channel,
            Local::now(),
            &held,
        )
        .for_connection(conn.totp_verified);
    audited(
        shared,
        conn,
        (&target.host, target.login.as_deref()),
        channel,
        grant,
    )
}

/// Decides a TCP forward to `port` of `host` (an inventory name or address), audited either
/// way like a session.
pub fn authorize_forward(
    shared: &Shared,
    conn: &ConnInfo,
    host: &str,
    port: u16,
) -> Result<Granted, String> {
    let grant = shared
        .access()
        .grant_forward(
            &conn.user,
            host,
            port,
            Local::now(),
            &crate::requests::held(&shared.store, &conn.user),
        )
        .for_connection(conn.totp_verified);
    audited(shared, conn, (host, None), ChannelKind::PortForward, grant)
}

/// Decides whether `host` (an inventory name) may be entered by ProxyJump at all: when no role
/// grants the user any login there, the jump is refused (and audited, channel `proxyjump`)
/// before an inner connection is served. Each channel inside it is then decided like a
/// direct session's, by [`authorize`].
pub fn authorize_jump(shared: &Shared, conn: &ConnInfo, host: &str) -> Result<(), String> {
    if shared.access().reaches(&conn.user, host, Local::now()) {
        return Ok(());
    }
    let reason = format!("no role grants {} any login on {host}", conn.user);
    shared.audit(
        Some(&conn.user),
        Some(&conn.source),
        AuditEvent::PolicyDeny {
            host: host.to_string(),
            login: None,
            channel: "proxyjump".into(),
            reason: reason.clone(),
        },
    );
    Err(format!("access denied: {reason}"))
}

/// Audits a decision (`policy_allow` or `policy_deny`) and turns it into a [`Granted`] or the
/// user's message. An allow that cannot be audited is a denial.
fn audited(
    shared: &Shared,
    conn: &ConnInfo,
    (host, login): (&str, Option<&str>),
    channel: ChannelKind,
    grant: access::Grant,
) -> Result<Granted, String> {
    let (login, endpoint) = match (grant.allowed, grant.login, grant.endpoint) {
        (true, Some(l), Some(e)) => (l, e),
        _ => {
            shared.audit(
                Some(&conn.user),
                Some(&conn.source),
                AuditEvent::PolicyDeny {
                    host: host.to_string(),
                    login: login.map(str::to_string),
                    channel: channel.to_string(),
                    reason: grant.reason.clone(),
                },
            );
            return Err(format!("access denied: {}", grant.reason));
        }
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
        grant: grant.grant.map(|g| g.id),
    })
}
