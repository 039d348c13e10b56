//! One proxied session: authorize, connect, start the remote side, record, pump, close.

use std::sync::{Arc, Mutex};

use recordings::{Header, Recorder};

use super::authorize::{authorize, Granted};
use super::command_guard::{Blocked, CommandGuard};
use super::line_shell::LineShell;
use super::proxy::{pump, Input, PumpOutcome, CLEAN_END};
use super::review::Reviewer;
use super::scp_log::{Direction as ScpDirection, ScpLog};
use super::session_audit::{audit_files, command_blocked, deny_rule, log_exec};
use super::sftp_log::SftpLog;
use super::shell_log::ShellLog;
use super::supervise::SealOnUnwind;
use super::taps::Taps;
use super::upstream_pool::{self, ChannelRequest, OpenError, Requested};
use super::UserChannel;
use crate::state::{ConnInfo, ScreenSource, Shared, Via};
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
/// With `menu_mode`, the user's channel stays open afterwards (the menu comes back).
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
    let session_id = match shared.store.start_session(&NewSession {
        user: &conn.user,
        source: &conn.source,
        host: &granted.host,
        login: &granted.login,
        kind: kind.as_str(),
        command,
        recording: None,
    }) {
        Ok(id) => id,
        Err(e) => {
            tracing::error!("cannot store session: {e}");
            user.say("session refused: the session log cannot be written")
                .await;
            return Some(1);
        }
    };
    shared.audit(
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
    let refused = match command {
        Some(cmd) => reviewer.exec(cmd, user).await.err(),
        None => None,
    };
    let label = user.task_label.clone();
    let logged = command.map(|cmd| {
        let rule = match &refused {
            Some((rule, _)) => Some(rule.clone()),
            None => deny_rule(&granted, cmd),
        };
        log_exec(
            shared,
            conn,
            (&granted, session_id),
            cmd,
            label.as_deref(),
            rule,
        )
    });
    let status = match &logged {
        Some(Err(rule)) => {
            end.reason = match &refused {
                Some((_, why)) => format!("command refused on review: {why}"),
                None => format!(
                    "command blocked by policy (role {}, rule {rule})",
                    granted.limits.rule_roles(rule)
                ),
            };
            // One line on stderr and a status of its own, so a client (fleet) can tell a
            // refused command from a target it cannot reach.
            user.say(&end.reason).await;
            Some(BLOCKED_STATUS)
        }
        _ => {
            run_started(
                shared, conn, user, &granted, kind, command, session_id, standalone, &mut end,
            )
            .await
        }
    };
    if let Some(Ok(Some(id))) = logged {
        let _ = shared.store.set_command_exit(id, status.map(i64::from));
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
    if let Some(transfer) = transfer {
        shared.audit(
            Some(&conn.user),
            Some(&conn.source),
            AuditEvent::FileTransfer {
                session: session_id,
                host: granted.host.clone(),
                login: Some(granted.login.clone()),
                kind: kind.as_str().into(),
                transfer,
            },
        );
    }
    status
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

/// Starts the recording of session `session_id` at `size` (columns, rows, `$TERM`). A
/// recording that cannot be made is audited (`recording_unavailable`); the session then goes on
/// unrecorded, or, with `recording_required`, is refused: `Err`, `end.reason` says why.
fn start_recording(
    shared: &Shared,
    conn: &ConnInfo,
    g: &Granted,
    session_id: i64,
    (width, height, term): (u32, u32, Option<String>),
    end: &mut SessionEnd,
) -> Result<Option<Arc<Mutex<Recorder>>>, ()> {
    let path = shared
        .dir
        .recordings_dir()
        .join(format!("{session_id}-{}-{}.cast", conn.user, g.host));
    let header = Header {
        width,
        height,
        timestamp: chrono::Utc::now().timestamp(),
        title: format!("{} -> {}@{}", conn.user, g.login, g.host),
        term,
    };
    let e = match Recorder::create(&path, &header) {
        Ok(r) => {
            let recording = path.to_string_lossy().into_owned();
            let _ = shared.store.set_session_recording(session_id, &recording);
            end.seal.recording = Some(recording);
            return Ok(Some(Arc::new(Mutex::new(r))));
        }
        Err(e) => e,
    };
    tracing::error!("session {session_id}: cannot record: {e}");
    let required = shared.dir.settings.recording_required;
    let action = if required {
        "session refused"
    } else {
        "session continues unrecorded"
    };
    shared.audit(
        Some(&conn.user),
        Some(&conn.source),
        AuditEvent::RecordingUnavailable {
            session: session_id,
            host: g.host.clone(),
            error: e.to_string(),
            action: action.into(),
        },
    );
    if required {
        end.reason = format!("recording unavailable: {e}");
        return Err(());
    }
    Ok(None)
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
    // Terminal sessions and shells without a terminal are recorded (the latter at 80x24: the
    // player needs a size); exec, scp, rsync and SFTP sessions are logged by their commands
    // and file operations instead.
    let screen_size = match (&user.pty, kind) {
        (Some(p), _) => Some((p.cols, p.rows, Some(p.term.clone()))),
        (None, Kind::Shell) => Some((80, 24, None)),
        (None, _) => None,
    };
    let recorder = match screen_size {
        Some(size) => match start_recording(shared, conn, g, session_id, size, end) {
            Ok(r) => r,
            Err(()) => {
                user.say("session refused: recording is unavailable on the bastion")
                    .await;
                return Some(1);
            }
        },
        None => None,
    };
    // Non-terminal exec sessions (fleet's tasks) reuse this client connection's target
    // connections; shells and SFTP get their own, as before.
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
    let (lease, channel) = match upstream_pool::open(pool.as_ref(), shared, conn, g, &req).await {
        Ok(opened) => opened,
        Err(e) => {
            end.reason = e.to_string();
            match e {
                OpenError::Connect(_) => user.say(&end.reason).await,
                OpenError::Channel(_) => user.say(&format!("{}: {}", g.host, end.reason)).await,
            }
            finish_recording(recorder, end);
            return Some(255);
        }
    };
    let sftp = (kind == Kind::Sftp).then(|| Mutex::new(SftpLog::default()));
    let scp = command
        .filter(|_| kind == Kind::Scp)
        .and_then(ScpDirection::of_command)
        .map(|d| Mutex::new(ScpLog::new(d)));
    let target_name = format!("{}@{}", g.login, g.host);
    let screen = match (&recorder, &user.pty) {
        (Some(r), _) => ScreenSource::Recording(r.clone()),
        (None, Some(p)) => ScreenSource::Terminal {
            cols: p.cols,
            rows: p.rows,
        },
        (None, None) => ScreenSource::None,
    };
    let live = shared
        .live
        .register(session_id, &conn.user, &target_name, screen, g.grant);
    // A terminal session is a shell to log and guard whether it was asked for as a shell or as
    // a command (`ssh -t bastion web1 bash`, `sudo -i`): typed lines go to the command log
    // and through `deny_commands` the same way.
    let shell = (matches!(kind, Kind::Shell | Kind::Exec) && user.pty.is_some())
        .then(|| ShellLog::new(&shared.store, session_id, &conn.user, &g.host, &g.login));
    if let (Some(shell), Some(p)) = (&shell, &user.pty) {
        shell.set_width(p.cols);
    }
    let taps = Taps {
        recorder: recorder.as_deref(),
        record_input: g.limits.record_input,
        sftp: sftp.as_ref(),
        scp: scp.as_ref(),
        live: Some(&live.session),
        shell: shell.as_ref(),
        recording_required: shared.dir.settings.recording_required,
        ..Taps::default()
    };
    let audit_block = |b: &Blocked| {
        shared.audit(
            Some(&conn.user),
            Some(&conn.source),
            command_blocked(session_id, g, &b.line, &b.rule, "shell"),
        );
    };
    let guard = CommandGuard::new(
        &g.limits.deny_commands,
        !g.limits.review_commands.is_empty(),
        shell.as_ref(),
        audit_block,
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
    let PumpOutcome {
        exit_status,
        exit_signal,
        bytes_in,
        bytes_out,
        reason,
        eof_forwarded,
        exit_forwarded,
        target_lost,
    } = pump(user, channel, &taps, &g.limits, input, reviewer, standalone).await;
    if target_lost {
        // Say why the session ended (in the recording too), rather than just dropping it.
        let msg = format!("connection to {} lost", g.host);
        taps.bastion_message(&msg, format!("\r\nbastion: {msg}\r\n").as_bytes());
        user.say_on_new_line(&msg).await;
    }
    drop(live);
    if let Some(shell) = &shell {
        shell.finish();
    }
    if let Some(log) = sftp {
        let (files, dropped) = log.into_inner().unwrap_or_else(|p| p.into_inner()).finish();
        let files = files
            .iter()
            .map(|f| (f.op, f.path.clone(), f.to.clone(), f.bytes));
        audit_files(shared, conn, g, session_id, "sftp", files, dropped);
    }
    if let Some(log) = scp {
        let (files, dropped) = log.into_inner().unwrap_or_else(|p| p.into_inner()).finish();
        let files = files.into_iter().map(|f| (f.op, f.path, None, f.bytes));
        audit_files(shared, conn, g, session_id, "scp", files, dropped);
    }
    user.eof_sent |= eof_forwarded;
    user.exit_sent |= exit_forwarded;
    let clean = exit_status.is_some() && !target_lost && reason == CLEAN_END;
    lease.end(clean).await;
    end.bytes_in = bytes_in;
    end.bytes_out = bytes_out;
    end.reason = reason;
    end.exit_signal = exit_signal.as_ref().map(|s| format!("{s:?}"));
    if let (Some(sig), true) = (exit_signal, standalone) {
        let _ = user
            .handle
            .exit_signal_request(user.tx.id(), sig, false, String::new(), String::new())
            .await;
    }
    finish_recording(recorder, end);
    exit_status
}

fn finish_recording(recorder: Option<Arc<Mutex<Recorder>>>, end: &mut SessionEnd) {
    let Some(rec) = recorder else { return };
    // The live registry let go of its share when the session's LiveGuard was dropped.
    let Ok(rec) = Arc::try_unwrap(rec) else {
        tracing::error!("recording still shared at session end; it is left unsealed");
        return;
    };
    let rec = rec.into_inner().unwrap_or_else(|p| p.into_inner());
    match rec.finish() {
        Ok(seal) => {
            end.seal.recording_sha256 = Some(seal.sha256_hex());
            end.seal.recording_size = Some(seal.size);
        }
        Err(e) => tracing::error!("cannot seal recording: {e}"),
    }
}
