//! One line of plain words per audit event, for people: `bastion audit`'s table today, the web
//! console's timeline later. Built from the typed [`AuditEvent`], so a renamed field is a
//! compile error here rather than a blank column. The text is data, never markup: whoever
//! shows it in HTML escapes it like any other value.

use std::fmt;

use crate::events::{AdminChange, AuditEvent, Transfer};

impl fmt::Display for AuditEvent {
    /// One arm per event, on purpose in one exhaustive match: a new event that is not described
    /// here does not compile. Arms longer than a line or two call the helpers below.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditEvent::LoginOk { key, method } => write!(f, "logged in ({method}, key {key})"),
            AuditEvent::LoginFailed { reason, key, login_name } => {
                write!(f, "login as {login_name} refused: {reason} (key {key})")
            }
            AuditEvent::TotpFailed { reason, .. } => write!(f, "TOTP code refused: {reason}"),
            AuditEvent::JumpLogin { host, login, key } => {
                write!(f, "logged in to {host} as {login} through the bastion (ProxyJump, key {key})")
            }
            AuditEvent::PolicyAllow { host, login, channel, reason, .. } => {
                write!(f, "{channel} as {login} on {host} allowed: {reason}")
            }
            AuditEvent::PolicyDeny { host, login, channel, reason } => {
                let login = login.as_deref().unwrap_or("(default login)");
                write!(f, "{channel} as {login} on {host} denied: {reason}")
            }
            AuditEvent::SessionStart { session, host, login, kind, command, via, grant, .. } => {
                write!(f, "session {session} started: {kind} as {login} on {host}")?;
                write_opt(f, " (via ", via.as_deref(), ")")?;
                write_opt(f, " (under approved request ", grant.as_ref(), ")")?;
                write_opt(f, ": ", command.as_deref(), "")
            }
            AuditEvent::SessionEnd { session, exit_status, exit_signal, reason, seal, .. } => {
                write!(f, "session {session} ended")?;
                match (exit_status, exit_signal) {
                    (_, Some(sig)) => write!(f, " by signal {sig}")?,
                    (Some(s), None) => write!(f, " with status {s}")?,
                    (None, None) => {}
                }
                if !reason.is_empty() {
                    write!(f, " ({reason})")?;
                }
                write_seal(f, seal.recording_size)
            }
            AuditEvent::SessionInterrupted { session, reason, seal, bytes_dropped, .. } => {
                write!(f, "session {session} interrupted: {reason}")?;
                write_seal(f, seal.recording_size)?;
                match bytes_dropped {
                    0 => Ok(()),
                    n => write!(f, ", {n} torn bytes cut"),
                }
            }
            AuditEvent::NodeFenced { node, sessions, reason, .. } => {
                write!(f, "node {node} fenced itself ({reason})")?;
                write_fenced_sessions(f, sessions)
            }
            AuditEvent::SessionFailed { channel, error } => {
                write!(f, "session task on channel {channel} failed: {error}")
            }
            AuditEvent::SessionKilled { session, target, by } => {
                write!(f, "session {session} on {target} killed by {by}")
            }
            AuditEvent::SessionWatched { session, target, by } => {
                write!(f, "session {session} on {target} watched by {by}")
            }
            AuditEvent::FileTransfer { session, host, kind, transfer, .. } => {
                write!(f, "{kind} in session {session} on {host}: ")?;
                write_transfer(f, transfer)
            }
            AuditEvent::CommandBlocked { session, host, command, role, rule, .. } => write!(
                f,
                "command blocked in session {session} on {host}: {command:?} (role {role}, rule {rule})"
            ),
            AuditEvent::RecordingUnavailable { session, error, action, .. } => {
                write!(f, "session {session} not recorded: {error}; {action}")
            }
            AuditEvent::HostKeyPinned { host, endpoint, key } => {
                write!(f, "host key of {host} ({endpoint}) pinned: {key}")
            }
            AuditEvent::HostKeyMismatch { host, endpoint, pinned, offered } => write!(
                f,
                "host key of {host} ({endpoint}) CHANGED: pinned {pinned}, offered {offered}; refused"
            ),
            AuditEvent::TargetConnectFailed { host, endpoint, login, error } => {
                write!(f, "cannot reach {login}@{host} ({endpoint}): {error}")
            }
            AuditEvent::PortForward { host, port, error: Some(e), .. } => {
                write!(f, "forward to {host}:{port} failed: {e}")
            }
            AuditEvent::PortForward { host, port, bytes_up, bytes_down, seconds, .. } => write!(
                f,
                "forward to {host}:{port}: {bytes_up} bytes up, {bytes_down} bytes down in {seconds:.1} s"
            ),
            AuditEvent::RequestRefused { request, detail, reason } => {
                write!(f, "{request} request refused ({detail}): {reason}")
            }
            AuditEvent::PolicyReloaded { roles, hosts } => {
                write!(f, "policies reloaded: {roles} roles, {hosts} hosts")
            }
            AuditEvent::PolicyReloadFailed { error } => {
                write!(f, "policy reload refused, previous policy stays: {error}")
            }
            AuditEvent::StoreMigrated { from, records, by } => {
                write!(f, "store migrated from {from} with its {records} audit records (by {by})")
            }
            AuditEvent::Admin { target_user, by, change } => {
                write_change(f, change, target_user)?;
                write!(f, " (by {by})")
            }
            AuditEvent::CommandLogged { session, command_id, .. } => {
                write!(f, "command {command_id} of session {session} logged (content hashed)")
            }
            AuditEvent::ConsoleLinkIssued { valid_seconds } => {
                write!(f, "console login link issued (valid {valid_seconds} s, single use)")
            }
            AuditEvent::ConsoleLogin { rights, roles } => write!(
                f,
                "console login ({} from roles {})",
                rights.join(", "),
                roles.join(", ")
            ),
            AuditEvent::ConsoleLoginFailed { reason } => write!(f, "console login refused: {reason}"),
            AuditEvent::ConsoleLogout {} => write!(f, "console logout"),
            AuditEvent::ConsoleDenied { request, reason } => {
                write!(f, "console request {request} refused: {reason}")
            }
            AuditEvent::RecordingViewed { session, host, download } => write!(
                f,
                "recording of session {session} on {host} {}",
                if *download { "downloaded" } else { "viewed" }
            ),
            AuditEvent::RequestCreated { request, kind, host, login, text, approvers, seconds, .. } => {
                let who = approvers.join(", ");
                match kind.as_str() {
                    "command" => write!(f, "request {request}: command held for review on {host} as {login}, approvers {who}: {text}"),
                    _ => {
                        write!(f, "request {request}: access to {host} as {login}")?;
                        let lasting = seconds.map(crate::seconds_text);
                        write_opt(f, " for ", lasting.as_deref(), "")?;
                        write!(f, ", approvers {who}; reason: {text}")
                    }
                }
            }
            AuditEvent::RequestApproved { request, by, until, .. } => {
                write!(f, "request {request} approved by {by}")?;
                write_opt(f, " until ", until.as_deref(), "")
            }
            AuditEvent::RequestDenied { request, by, reason, .. } => {
                write!(f, "request {request} denied by {by}: {reason}")
            }
            AuditEvent::RequestExpired { request, reason, .. } => {
                write!(f, "request {request} expired: {reason}")
            }
            AuditEvent::RequestRevoked { request, by } => {
                write!(f, "request {request} revoked by {by}")
            }
            AuditEvent::LoginLockout { locked, failures, seconds } => write!(
                f,
                "locked out after {failures} failed logins for {seconds}s: {}",
                locked.join(", ")
            ),
            AuditEvent::NotifyFailed { webhook, error } => {
                write!(f, "notification to webhook {webhook} failed: {error}")
            }
            AuditEvent::Checkpoint { records, commands, .. } => {
                write!(f, "checkpoint: {records} records, {commands} command rows")
            }
        }
    }
}

/// `before`, the value, `after` — or nothing when there is no value.
fn write_opt(
    f: &mut fmt::Formatter<'_>,
    before: &str,
    value: Option<impl fmt::Display>,
    after: &str,
) -> fmt::Result {
    match value {
        Some(v) => write!(f, "{before}{v}{after}"),
        None => Ok(()),
    }
}

fn write_fenced_sessions(f: &mut fmt::Formatter<'_>, sessions: &[i64]) -> fmt::Result {
    match sessions {
        [] => write!(f, "; no session of its was sealed"),
        ids => {
            let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
            write!(f, "; ended session(s) {}", ids.join(", "))
        }
    }
}

fn write_transfer(f: &mut fmt::Formatter<'_>, transfer: &Transfer) -> fmt::Result {
    match transfer {
        Transfer::Stream {
            bytes_up,
            bytes_down,
            ..
        } => {
            write!(f, "{bytes_up} bytes up, {bytes_down} bytes down")
        }
        Transfer::FileOp {
            op,
            path,
            to: Some(to),
            ..
        } => write!(f, "{op} {path} -> {to}"),
        Transfer::FileOp {
            op, path, bytes, ..
        } => write!(f, "{op} {path} ({bytes} bytes)"),
        Transfer::SftpMore { count, .. } => write!(f, "{count} more operations"),
    }
}

fn write_seal(f: &mut fmt::Formatter<'_>, size: Option<u64>) -> fmt::Result {
    match size {
        Some(size) => write!(f, "; recording sealed, {size} bytes"),
        None => Ok(()),
    }
}

fn write_change(f: &mut fmt::Formatter<'_>, change: &AdminChange, user: &str) -> fmt::Result {
    match change {
        AdminChange::UserAdd { keys, totp } => write!(
            f,
            "user {user} added with {} key(s){}",
            keys.len(),
            if *totp { " and TOTP" } else { "" }
        ),
        AdminChange::UserDisable => write!(f, "user {user} disabled"),
        AdminChange::UserEnable => write!(f, "user {user} enabled"),
        AdminChange::UserRm => write!(f, "user {user} removed"),
        AdminChange::KeyAdd { key } => write!(f, "key {key} added to {user}"),
        AdminChange::KeyRm { key } => write!(f, "key {key} removed from {user}"),
        AdminChange::TotpReset => write!(f, "TOTP secret of {user} reset"),
        AdminChange::HostKeyForgotten {
            host,
            endpoint,
            had_pin,
        } => write!(
            f,
            "pinned host key of {host} ({endpoint}) forgotten{}",
            if *had_pin { "" } else { " (there was none)" }
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Seal;

    #[test]
    fn a_line_names_what_happened_with_its_typed_fields() {
        let end = AuditEvent::SessionEnd {
            session: 7,
            host: "web1".into(),
            login: "root".into(),
            kind: "shell".into(),
            exit_status: Some(0),
            exit_signal: None,
            bytes_in: 1,
            bytes_out: 2,
            reason: String::new(),
            seal: Seal {
                recording: Some("/r/7.cast".into()),
                recording_sha256: Some("ab".into()),
                recording_size: Some(300),
            },
        };
        assert_eq!(
            end.to_string(),
            "session 7 ended with status 0; recording sealed, 300 bytes"
        );
        let deny = AuditEvent::PolicyDeny {
            host: "db9".into(),
            login: None,
            channel: "exec".into(),
            reason: "no role of alice covers host db9".into(),
        };
        assert_eq!(
            deny.to_string(),
            "exec as (default login) on db9 denied: no role of alice covers host db9"
        );
    }
}
