//! What a session writes about its commands and files: the command-log row of an exec
//! request (or its refusal, audited as `command_blocked`), and one `file_transfer` event per
//! file an SFTP or legacy scp session touched. Kept apart from the session's lifecycle
//! (`run.rs`), which decides when each is written.

use super::authorize::Granted;
use crate::state::{ConnInfo, Shared};
use store::{AuditEvent, NewCommand, Transfer};

/// The `deny_commands` rule an exec request's command line matches, if any.
pub(super) fn deny_rule(g: &Granted, cmd: &str) -> Option<String> {
    g.limits
        .deny_commands
        .iter()
        .find(|r| r.is_match(cmd))
        .map(|r| r.as_str().to_string())
}

/// Logs an exec request's command line, refused (`Err(rule)`, audited as `command_blocked`)
/// when `rule` is set: a `deny_commands` match, or the review rule of a line a reviewer
/// refused. `Ok(id)` is the command-log row, if stored. With a client's `label` (fleet's
/// task) the row shows the label; the script is in the session row and `session_start`, and
/// is what the rules were checked against.
pub(super) fn log_exec(
    shared: &Shared,
    conn: &ConnInfo,
    (g, session_id): (&Granted, i64),
    cmd: &str,
    label: Option<&str>,
    rule: Option<String>,
) -> Result<Option<i64>, String> {
    let new = NewCommand {
        session_id,
        user: &conn.user,
        host: &g.host,
        login: &g.login,
        offset: 0.0,
        command: label.unwrap_or(cmd),
        exit_status: None,
        blocked: rule.is_some(),
        origin: if label.is_some() { "fleet" } else { "exec" },
    };
    let row = shared.store.log_command(&new);
    match &row {
        Ok(_) => crate::metrics::global().command_logged(&new),
        Err(e) => tracing::error!("session {session_id}: cannot log command: {e}"),
    }
    match rule {
        Some(rule) => {
            shared.audit(
                Some(&conn.user),
                Some(&conn.source),
                command_blocked(session_id, g, cmd, &rule, "exec"),
            );
            Err(rule)
        }
        None => Ok(row.ok()),
    }
}

pub(super) fn command_blocked(
    session: i64,
    g: &Granted,
    command: &str,
    rule: &str,
    origin: &str,
) -> AuditEvent {
    AuditEvent::CommandBlocked {
        session,
        host: g.host.clone(),
        login: g.login.clone(),
        command: command.to_string(),
        role: g.limits.rule_roles(rule),
        rule: rule.to_string(),
        origin: origin.to_string(),
    }
}

/// A `file_transfer` event of session `session_id` on `g`'s host.
pub(super) fn audit_transfer(
    shared: &Shared,
    conn: &ConnInfo,
    g: &Granted,
    session_id: i64,
    kind: &str,
    login: Option<String>,
    transfer: Transfer,
) {
    shared.audit(
        Some(&conn.user),
        Some(&conn.source),
        AuditEvent::FileTransfer {
            session: session_id,
            host: g.host.clone(),
            login,
            kind: kind.into(),
            transfer,
        },
    );
}

/// One `file_transfer` event per file an SFTP or legacy scp session touched, then one
/// counting those past the per-session list.
pub(super) fn audit_files(
    shared: &Shared,
    conn: &ConnInfo,
    g: &Granted,
    session_id: i64,
    kind: &str,
    files: impl Iterator<Item = (&'static str, String, Option<String>, u64)>,
    dropped: u64,
) {
    let event = |login: Option<String>, transfer: Transfer| {
        audit_transfer(shared, conn, g, session_id, kind, login, transfer);
    };
    for (op, path, to, bytes) in files {
        let op = Transfer::FileOp {
            op: op.into(),
            path,
            to,
            bytes,
        };
        event(Some(g.login.clone()), op);
    }
    if dropped > 0 {
        let more = Transfer::SftpMore {
            op: "more".into(),
            count: dropped,
        };
        event(None, more);
    }
}
