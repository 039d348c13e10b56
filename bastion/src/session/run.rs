//! One proxied session: authorize, connect, start the remote side, record, pump, close.

use std::sync::{Arc, Mutex};

use super::authorize::{authorize, Granted};
use super::command_guard::{Blocked, CommandGuard};
use super::line_shell::LineShell;
use super::proxy::{pump, Input, PumpOutcome, CLEAN_END};
use super::recording::{finish_recording, screen_size, screen_source, start_recording};
use super::review::Reviewer;
use super::scp_log::{Direction as ScpDirection, ScpLog};
use super::session_audit::{audit_files, audit_transfer, command_blocked, deny_rule, log_exec};
use super::sftp_log::SftpLog;
use super::shell_log::ShellLog;
use super::supervise::SealOnUnwind;
use super::taps::Taps;
use super::upstream_pool::{self, ChannelRequest, OpenError, Requested};
use super::{PtyInfo, UserChannel};
use crate::state::{ConnInfo, Shared, Via};
use crate::target::TargetSpec;
use store::{AuditEvent, NewSession, SessionEnd, Transfer};

/// What kind of session a channel carries (stored in `sessions.kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Shell,
    Exec,
    Scp,
    Rsync,
    Sftp,
}

impl Kind {
    /// Classifies an exec command so transfers show up as such.
    pub fn for_command(cmd: &str) -> Kind {
        let first = cmd.split_whitespace().next().unwrap_or("");
        match first.rsplit('/').next().unwrap_or("") {
            "scp" => Kind::Scp,
            "rsync" => Kind::Rsync,
            _ => Kind::Exec,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Shell => "shell",
            Kind::Exec => "exec",
            Kind::Scp => "scp",
            Kind::Rsync => "rsync",
            Kind::Sftp => "sftp",
        }
    }
}

/// The exit status of an exec whose command a `deny_commands` rule refused (with the line
/// `bastion: command blocked by policy (role R, rule X)` on stderr): 126, the shell's "cannot
/// execute", not 255 (ssh's own failure) nor 1, which any command may return.
pub const BLOCKED_STATUS: u32 = 126;

/// Runs a session to `target`; returns the exit status to report (None: the target gave none).
/// Not `standalone` (a host picked from the menu), the user's channel stays open afterwards
/// for the menu to come back.
pub async fn run_target(
    shared: &Arc<Shared>,
    conn: &ConnInfo,
    user: &mut UserChannel,
    target: &TargetSpec,
    kind: Kind,
    command: Option<&str>,
    standalone: bool,
) -> Option<u32> {
    let granted = match authorize(shared, conn, target, kind) {
        Ok(g) => g,
        Err(msg) => {
            user.say(&msg).await;
            return Some(1);
        }
    };
    let session_id = match begin_session(shared, conn, &granted, kind, command) {
        Ok(id) => id,
        Err(refusal) => {
            user.say(refusal).await;
            return Some(1);
        }
    };
    let unwinding = SealOnUnwind::new(shared, session_id);
    let mut end = SessionEnd::default();
    let reviewer = Reviewer {
        shared,
        conn,
        session: session_id,
        host: &granted.host,
        login: &granted.login,
        limits: &granted.limits,
    };
    let screened = match command {
        Some(cmd) => Some(screen_exec(&reviewer, user, cmd, (&granted, session_id)).await),
        None => None,
    };
    let status = match &screened {
        Some(Err(reason)) => {
            // One line on stderr and a status of its own, so a client (fleet) can tell a
            // refused command from a target it cannot reach.
            end.reason = reason.clone();
            user.say(reason).await;
            Some(BLOCKED_STATUS)
        }
        _ => {
            run_started(
                shared, conn, user, &granted, kind, command, session_id, standalone, &mut end,
            )
            .await
        }
    };
    if let Some(Ok(Some(id))) = screened {
        if let Err(e) = shared.store.set_command_exit(id, status.map(i64::from)) {
            tracing::error!("command {id}: cannot store its exit status: {e}");
        }
    }
    end.exit_status = status;
    let transfer = matches!(kind, Kind::Scp | Kind::Rsync).then(|| Transfer::Stream {
        command: command.map(str::to_string),
        bytes_up: end.bytes_in,
        bytes_down: end.bytes_out,
        exit_status: status,
    });
    seal_end(shared, conn, &granted, kind, session_id, end);
    unwinding.disarm();
    // scp and rsync: one `file_transfer` event (command, bytes each way, exit status), after
    // the session's end, which it follows in the chain.
    if let Some(transfer) = transfer {
        let login = Some(granted.login.clone());
        audit_transfer(
            shared,
            conn,
            &granted,
            session_id,
            kind.as_str(),
            login,
            transfer,
        );
    }
    status
}

/// Stores the session's row and audits `session_start` (naming the key, how the user came in
/// and the grant it runs under). Fails closed: a session that cannot be stored, or whose start
/// cannot be audited (the audit log became unwritable since the login, which was audited), never
/// reaches the host; its row is closed with the reason. `Err` is what the user is told.
fn begin_session(
    shared: &Shared,
    conn: &ConnInfo,
    granted: &Granted,
    kind: Kind,
    command: Option<&str>,
) -> Result<i64, &'static str> {
    let stored = shared.store.start_session(&NewSession {
        user: &conn.user,
        source: &conn.source,
        host: &granted.host,
        login: &granted.login,
        kind: kind.as_str(),
        command,
        recording: None,
    });
    let session_id = stored.map_err(|e| {
        tracing::error!("cannot store session: {e}");
        "session refused: the session log cannot be written"
    })?;
    let audited = shared.audit(
        Some(&conn.user),
        Some(&conn.source),
        AuditEvent::SessionStart {
            session: session_id,
            host: granted.host.clone(),
            login: granted.login.clone(),
            kind: kind.as_str().into(),
            command: command.map(str::to_string),
            key: conn.fingerprint.clone(),
            via: (conn.via == Via::ProxyJump).then(|| "proxyjump".to_string()),
            grant: granted.grant,
        },
    );
    if !audited {
        let end = SessionEnd {
            reason: "refused: its start could not be written to the audit log".into(),
            ..SessionEnd::default()
        };
        if let Err(e) = shared.store.end_session(session_id, &end) {
            tracing::error!("session {session_id}: cannot store end: {e}");
        }
        return Err("session refused: the audit log cannot be written");
    }
    Ok(session_id)
}

/// An exec request's command, before it runs: held for review if a rule asks for it, then
/// logged. `Ok(row)` runs it (its command-log row, if stored); `Err(reason)` when a reviewer
/// or a `deny_commands` rule refused it (logged as blocked, audited `command_blocked`).
async fn screen_exec(
    reviewer: &Reviewer<'_>,
    user: &mut UserChannel,
    cmd: &str,
    (granted, session_id): (&Granted, i64),
) -> Result<Option<i64>, String> {
    let refused = reviewer.exec(cmd, user).await.err();
    let rule = match &refused {
        Some((rule, _)) => Some(rule.clone()),
        None => deny_rule(granted, cmd),
    };
    let (shared, conn) = (reviewer.shared, reviewer.conn);
    let label = user.task_label.as_deref();
    log_exec(shared, conn, (granted, session_id), cmd, label, rule).map_err(|rule| match refused {
        Some((_, why)) => format!("command refused on review: {why}"),
        None => format!(
            "command blocked by policy (role {}, rule {rule})",
            granted.limits.rule_roles(&rule)
        ),
    })
}

/// Seals the session at its end if it is still active: a compare-and-set, so a session that
/// another node sealed as interrupted (this node was taken for dead while out of contact) gets
/// no second seal, in the database, the audit log or shared storage. Then ships the seal and
/// audits `session_end`.
fn seal_end(
    shared: &Shared,
    conn: &ConnInfo,
    g: &Granted,
    kind: Kind,
    session_id: i64,
    end: SessionEnd,
) {
    let sealed_here = match shared.store.end_session(session_id, &end) {
        Ok(sealed) => sealed,
        Err(e) => {
            tracing::error!("session {session_id}: cannot store end: {e}");
            true
        }
    };
    if !sealed_here {
        crate::state::fence::fenced_at_end(shared, session_id, &conn.user);
        return;
    }
    shared.fence.sealed_at_end(session_id);
    crate::state::shared_recordings::ship_seal(shared, &end.seal);
    shared.audit(
        Some(&conn.user),
        Some(&conn.source),
        AuditEvent::SessionEnd {
            session: session_id,
            host: g.host.clone(),
            login: g.login.clone(),
            kind: kind.as_str().into(),
            exit_status: end.exit_status,
            exit_signal: end.exit_signal,
            bytes_in: end.bytes_in,
            bytes_out: end.bytes_out,
            reason: end.reason,
            seal: end.seal,
        },
    );
}

#[allow(clippy::too_many_arguments)]
async fn run_started(
    shared: &Arc<Shared>,
    conn: &ConnInfo,
    user: &mut UserChannel,
    g: &Granted,
    kind: Kind,
    command: Option<&str>,
    session_id: i64,
    standalone: bool,
    end: &mut SessionEnd,
) -> Option<u32> {
    let recorder = match screen_size(user.pty.as_ref(), kind)
        .map(|size| start_recording(shared, conn, g, session_id, size, end))
    {
        None => None,
        Some(Ok(r)) => r,
        Some(Err(())) => {
            user.say("session refused: recording is unavailable on the bastion")
                .await;
            return Some(1);
        }
    };
    let Some((lease, channel)) = open_target(shared, conn, user, g, kind, command, end).await
    else {
        finish_recording(recorder, end);
        return Some(255);
    };
    let transfers = TransferLogs::for_session(kind, command);
    let target_name = format!("{}@{}", g.login, g.host);
    let screen = screen_source(recorder.as_ref(), user.pty.as_ref());
    let live = (shared.live).register(session_id, &conn.user, &target_name, screen, g.grant);
    let shell = shell_log(shared, conn, g, kind, user.pty.as_ref(), session_id);
    let taps = Taps {
        recorder: recorder.as_deref(),
        record_input: g.limits.record_input,
        sftp: transfers.sftp.as_ref(),
        scp: transfers.scp.as_ref(),
        live: Some(&live.session),
        shell: shell.as_ref(),
        recording_required: shared.dir.settings.recording_required,
        ..Taps::default()
    };
    let audit_block = block_auditor(shared, conn, g, session_id);
    let guard = CommandGuard::new(
        &g.limits.deny_commands,
        !g.limits.review_commands.is_empty(),
        shell.as_ref(),
        block_auditor(shared, conn, g, session_id),
    );
    let reviewer = &Reviewer {
        shared,
        conn,
        session: session_id,
        host: &g.host,
        login: &g.login,
        limits: &g.limits,
    };
    let lines = (kind == Kind::Shell && user.pty.is_none()).then(|| {
        let who = (conn.user.as_str(), g.host.as_str(), g.login.as_str());
        LineShell::new(&g.limits, &shared.store, session_id, who)
    });
    let input = match (&guard, &lines) {
        (Some(guard), _) => Input::Keys(guard),
        (None, Some(lines)) => Input::Lines(lines, &audit_block),
        (None, None) => Input::Open,
    };
    let outcome = pump(user, channel, &taps, &g.limits, input, reviewer, standalone).await;
    if outcome.target_lost {
        say_target_lost(user, &taps, &g.host).await;
    }
    drop(live);
    if let Some(shell) = &shell {
        shell.finish();
    }
    transfers.audit(shared, conn, g, session_id);
    let exit_status = settle(user, outcome, lease, end, standalone).await;
    finish_recording(recorder, end);
    exit_status
}

/// The command log of a terminal session. A terminal session is a shell to log and guard
/// whether it was asked for as a shell or as a command (`ssh -t bastion web1 bash`, `sudo -i`):
/// typed lines go to the command log and through `deny_commands` the same way.
fn shell_log<'a>(
    shared: &'a Shared,
    conn: &'a ConnInfo,
    g: &'a Granted,
    kind: Kind,
    pty: Option<&PtyInfo>,
    session_id: i64,
) -> Option<ShellLog<'a>> {
    let pty = pty.filter(|_| matches!(kind, Kind::Shell | Kind::Exec))?;
    let shell = ShellLog::new(&shared.store, session_id, &conn.user, &g.host, &g.login);
    shell.set_width(pty.cols);
    Some(shell)
}

/// Audits a shell line a `deny_commands` rule (or a refused review) stopped.
fn block_auditor<'a>(
    shared: &'a Shared,
    conn: &'a ConnInfo,
    g: &'a Granted,
    session_id: i64,
) -> impl Fn(&Blocked) + Send + Sync + 'a {
    move |b: &Blocked| {
        shared.audit(
            Some(&conn.user),
            Some(&conn.source),
            command_blocked(session_id, g, &b.line, &b.rule, "shell"),
        );
    }
}

/// Says why the session ended (in the recording too), rather than just dropping it.
async fn say_target_lost(user: &mut UserChannel, taps: &Taps<'_>, host: &str) {
    let msg = format!("connection to {host} lost");
    taps.bastion_message(&msg, format!("\r\nbastion: {msg}\r\n").as_bytes());
    user.say_on_new_line(&msg).await;
}

/// Opens the target side of the session: a channel on this client connection's kept target
/// connection (non-terminal exec, scp and rsync: fleet's tasks) or on a connection of its own
/// (shells, terminals, SFTP). `None` when that fails; the user is told why, and so is `end`.
async fn open_target(
    shared: &Arc<Shared>,
    conn: &ConnInfo,
    user: &mut UserChannel,
    g: &Granted,
    kind: Kind,
    command: Option<&str>,
    end: &mut SessionEnd,
) -> Option<(upstream_pool::Lease, russh::Channel<russh::client::Msg>)> {
    let reusable = user.pty.is_none() && matches!(kind, Kind::Exec | Kind::Scp | Kind::Rsync);
    let pool = reusable.then(|| user.upstreams.clone());
    let req = ChannelRequest {
        pty: user.pty.as_ref(),
        start: match (kind, command) {
            (Kind::Sftp, _) => Requested::Sftp,
            (_, Some(cmd)) => Requested::Exec(cmd),
            (_, None) => Requested::Shell,
        },
    };
    match upstream_pool::open(pool.as_ref(), shared, conn, g, &req).await {
        Ok(opened) => Some(opened),
        Err(e) => {
            end.reason = e.to_string();
            match e {
                OpenError::Connect(_) => user.say(&end.reason).await,
                OpenError::Channel(_) => user.say(&format!("{}: {}", g.host, end.reason)).await,
            }
            None
        }
    }
}

/// After the pump: what was passed on to the user, the target connection kept or closed
/// (only a clean end leaves it for reuse), the session's end filled in from the outcome, and
/// a signal the target died of passed on to a standalone client.
async fn settle(
    user: &mut UserChannel,
    outcome: PumpOutcome,
    lease: upstream_pool::Lease,
    end: &mut SessionEnd,
    standalone: bool,
) -> Option<u32> {
    user.eof_sent |= outcome.eof_forwarded;
    user.exit_sent |= outcome.exit_forwarded;
    let clean =
        outcome.exit_status.is_some() && !outcome.target_lost && outcome.reason == CLEAN_END;
    lease.end(clean).await;
    end.bytes_in = outcome.bytes_in;
    end.bytes_out = outcome.bytes_out;
    end.reason = outcome.reason;
    end.exit_signal = outcome.exit_signal.as_ref().map(|s| format!("{s:?}"));
    if let (Some(sig), true) = (outcome.exit_signal, standalone) {
        let _ = user
            .handle
            .exit_signal_request(user.tx.id(), sig, false, String::new(), String::new())
            .await;
    }
    outcome.exit_status
}

/// The file-by-file logs of an SFTP session and of a legacy scp transfer, filled by the taps
/// while the session runs and audited (`file_transfer`) when it ends.
struct TransferLogs {
    sftp: Option<Mutex<SftpLog>>,
    scp: Option<Mutex<ScpLog>>,
}

impl TransferLogs {
    fn for_session(kind: Kind, command: Option<&str>) -> TransferLogs {
        TransferLogs {
            sftp: (kind == Kind::Sftp).then(|| Mutex::new(SftpLog::default())),
            scp: command
                .filter(|_| kind == Kind::Scp)
                .and_then(ScpDirection::of_command)
                .map(|d| Mutex::new(ScpLog::new(d))),
        }
    }

    fn audit(self, shared: &Shared, conn: &ConnInfo, g: &Granted, session_id: i64) {
        if let Some(log) = self.sftp {
            let (files, dropped) = log.into_inner().unwrap_or_else(|p| p.into_inner()).finish();
            let files = files
                .iter()
                .map(|f| (f.op, f.path.clone(), f.to.clone(), f.bytes));
            audit_files(shared, conn, g, session_id, "sftp", files, dropped);
        }
        if let Some(log) = self.scp {
            let (files, dropped) = log.into_inner().unwrap_or_else(|p| p.into_inner()).finish();
            let files = files.into_iter().map(|f| (f.op, f.path, None, f.bytes));
            audit_files(shared, conn, g, session_id, "scp", files, dropped);
        }
    }
}
