//! The two-way pump between the user's channel and the target's, with recording and limits.
//!
//! Each direction runs as its own future so a blocked write in one (waiting for the peer's SSH
//! window) never stops the other from draining: backpressure travels end to end through SSH flow
//! control and memory stays bounded by the channel buffers.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use policies::{format_duration, SessionLimits};
use russh::{client, server, Channel, ChannelMsg, ChannelReadHalf, ChannelWriteHalf, Sig};

use super::command_guard::{Blocked, CommandGuard};
use super::judged_input::{guarded_input, line_input, say_error, LineSink};
use super::line_shell::{LineShell, LineTooLong, MAX_LINE};
use super::review::Reviewer;
use super::taps::Taps;
use super::UserChannel;

/// How the pump ended.
pub struct PumpOutcome {
    pub exit_status: Option<u32>,
    pub exit_signal: Option<Sig>,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub reason: String,
    /// The target's EOF was passed on to the user.
    pub eof_forwarded: bool,
    /// The target's exit status was passed on to the user (as soon as it came).
    pub exit_forwarded: bool,
    /// The connection to the target broke (the host died, the network went away) before the
    /// target closed the channel.
    pub target_lost: bool,
}

/// How the user's input reaches the target.
pub enum Input<'r, 'g> {
    /// As it comes (exec, file transfers, sessions without rules to check).
    Open,
    /// A terminal shell with `deny_commands`: each Enter held until its line is checked.
    Keys(&'r CommandGuard<'g>),
    /// A shell without a terminal: line by line, each judged and logged before it is sent;
    /// the function audits a blocked line.
    Lines(&'r LineShell<'g>, &'r (dyn Fn(&Blocked) + Sync + 'g)),
}

struct TargetEnd {
    exit_status: Option<u32>,
    exit_signal: Option<Sig>,
    lost: bool,
}

/// The reason of a session the target ended by itself (its command or shell finished).
pub const CLEAN_END: &str = "target closed the session";

/// What both directions of a pump count and tell each other.
struct Counters {
    started: Instant,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    /// Session time (ms) of the user's last input, for the idle limit.
    last_input_ms: AtomicU64,
    eof_forwarded: AtomicBool,
    exit_forwarded: AtomicBool,
}

/// Pumps until the target closes, the user goes away, or a limit ends the session.
/// With `standalone` false (the host menu), the target's EOF is not passed on, so the user's
/// channel stays usable for the menu.
pub async fn pump(
    user: &mut UserChannel,
    target: Channel<client::Msg>,
    taps: &Taps<'_>,
    limits: &SessionLimits,
    input: Input<'_, '_>,
    reviewer: &Reviewer<'_>,
    standalone: bool,
) -> PumpOutcome {
    let (trx, ttx) = target.split();
    let counters = Counters::new();
    let has_pty = user.pty.is_some();
    let UserChannel {
        rx: urx,
        tx: utx,
        pty,
        replay,
        ..
    } = user;
    let utx = &*utx;
    let c = &counters;
    let target_to_user = target_to_user(trx, utx, taps, c, standalone);
    let user_to_target = async {
        let mut from_user = FromUser {
            urx,
            replay,
            pty,
            ttx: &ttx,
            utx,
        };
        from_user.run(taps, c, input, reviewer).await
    };

    let deadline = session_deadline(limits);
    tokio::pin!(target_to_user, user_to_target);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut user_gone = false;
    let mut gone_at = Duration::ZERO;
    let mut reason = String::from(CLEAN_END);
    let end = loop {
        // Why the bastion itself ends the session (a kill or a limit), if it does now.
        let stop: Option<String> = tokio::select! {
            end = &mut target_to_user => break Some(end),
            _ = &mut user_to_target, if !user_gone => {
                user_gone = true;
                gone_at = c.started.elapsed();
                // A client that has the exit status may close first (fleet does, so the
                // bastion's bookkeeping overlaps its next task): the target still ended it.
                if !c.exit_forwarded.load(Ordering::Relaxed) {
                    reason = "user closed the session".into();
                }
                let _ = ttx.close().await;
                None
            }
            why = killed(taps) => Some(why),
            _ = tick.tick() => {
                taps.tick();
                let now = c.started.elapsed();
                let limit_msg = limit_reached(taps, limits, deadline.as_ref(), c, now);
                if limit_msg.is_none() && user_gone && now.saturating_sub(gone_at) > Duration::from_secs(5) {
                    // The user left and the target does not close its side: stop waiting.
                    break None;
                }
                limit_msg
            }
        };
        if let Some(why) = stop {
            reason = format!("session ended: {why}");
            say_ended(utx, has_pty, &reason).await;
            let _ = ttx.close().await;
            break None;
        }
    };
    c.outcome(end, reason, user_gone)
}

/// Tells the user why the bastion ended the session: on the terminal, or on stderr when there
/// is none (stdout carries the command's own output).
async fn say_ended(utx: &ChannelWriteHalf<server::Msg>, has_pty: bool, reason: &str) {
    let line = format!("\r\nbastion: {reason}\r\n").into_bytes();
    let _ = if has_pty {
        utx.data_bytes(line).await
    } else {
        utx.extended_data_bytes(1, line).await
    };
}

impl Counters {
    fn new() -> Counters {
        Counters {
            started: Instant::now(),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            last_input_ms: AtomicU64::new(0),
            eof_forwarded: AtomicBool::new(false),
            exit_forwarded: AtomicBool::new(false),
        }
    }

    /// How the pump ended: `end` is the target's side when it closed (`None` when the bastion
    /// or the user ended the session first).
    fn outcome(&self, end: Option<TargetEnd>, mut reason: String, user_gone: bool) -> PumpOutcome {
        let end = end.unwrap_or(TargetEnd {
            exit_status: None,
            exit_signal: None,
            lost: false,
        });
        let target_lost = end.lost && !user_gone;
        if target_lost {
            reason = "connection to the target was lost".into();
        }
        PumpOutcome {
            exit_status: end.exit_status,
            exit_signal: end.exit_signal,
            bytes_in: self.bytes_in.load(Ordering::Relaxed),
            bytes_out: self.bytes_out.load(Ordering::Relaxed),
            reason,
            eof_forwarded: self.eof_forwarded.load(Ordering::Relaxed),
            exit_forwarded: self.exit_forwarded.load(Ordering::Relaxed),
            target_lost,
        }
    }
}

/// Why the bastion ends the session at session time `now`, if a limit says so: a recording
/// that can no longer be written, the session's deadline, or the idle limit.
fn limit_reached(
    taps: &Taps<'_>,
    limits: &SessionLimits,
    deadline: Option<&(Duration, String)>,
    c: &Counters,
    now: Duration,
) -> Option<String> {
    if let Some(why) = taps.recording_broken() {
        Some(why.to_string())
    } else if let Some((_, why)) = deadline.filter(|(d, _)| now >= *d) {
        Some(why.clone())
    } else if let Some(idle) = limits.idle_timeout {
        let last = Duration::from_millis(c.last_input_ms.load(Ordering::Relaxed));
        (now.saturating_sub(last) >= idle).then(|| format!("idle for {}", format_duration(idle)))
    } else {
        None
    }
}

/// The target's side: its output to the user (through the taps), its EOF and exit status.
async fn target_to_user(
    mut trx: ChannelReadHalf,
    utx: &ChannelWriteHalf<server::Msg>,
    taps: &Taps<'_>,
    c: &Counters,
    standalone: bool,
) -> TargetEnd {
    let mut end = TargetEnd {
        exit_status: None,
        exit_signal: None,
        lost: true,
    };
    let mut eof_pending = false;
    while let Some(msg) = trx.wait().await {
        match msg {
            ChannelMsg::Data { data } => {
                c.bytes_out.fetch_add(data.len() as u64, Ordering::Relaxed);
                crate::metrics::global().target_to_user(data.len());
                taps.target_stdout(&data);
                if utx.data_bytes(data).await.is_err() {
                    end.lost = false;
                    break;
                }
            }
            ChannelMsg::ExtendedData { data, ext } => {
                c.bytes_out.fetch_add(data.len() as u64, Ordering::Relaxed);
                crate::metrics::global().target_to_user(data.len());
                taps.target_stderr(&data);
                if utx.extended_data_bytes(ext, data).await.is_err() {
                    end.lost = false;
                    break;
                }
            }
            // The target's EOF waits for its exit status, which is passed on at once: an
            // OpenSSH client whose input is closed ends the channel on EOF, and a status
            // sent after that is lost (the client then exits 255).
            ChannelMsg::Eof if standalone && end.exit_status.is_none() => eof_pending = true,
            ChannelMsg::Eof if standalone => {
                c.eof_forwarded.store(true, Ordering::Relaxed);
                let _ = utx.eof().await;
            }
            ChannelMsg::ExitStatus { exit_status } => {
                end.exit_status = Some(exit_status);
                if standalone && utx.exit_status(exit_status).await.is_ok() {
                    c.exit_forwarded.store(true, Ordering::Relaxed);
                }
                if std::mem::take(&mut eof_pending) {
                    c.eof_forwarded.store(true, Ordering::Relaxed);
                    let _ = utx.eof().await;
                }
            }
            ChannelMsg::ExitSignal { signal_name, .. } => end.exit_signal = Some(signal_name),
            ChannelMsg::Close => {
                end.lost = false;
                break;
            }
            _ => {}
        }
    }
    // A target that reported how its command ended did not vanish mid-session.
    end.lost &= end.exit_status.is_none() && end.exit_signal.is_none();
    end
}

/// The user's side of a pump: input, EOF, window changes and signals, to the target.
struct FromUser<'a> {
    urx: &'a mut ChannelReadHalf,
    /// Input that arrived before the session started, passed on first.
    replay: &'a mut std::collections::VecDeque<ChannelMsg>,
    /// Kept at the window's size, so the host menu comes back at it.
    pty: &'a mut Option<super::PtyInfo>,
    ttx: &'a ChannelWriteHalf<client::Msg>,
    utx: &'a ChannelWriteHalf<server::Msg>,
}

impl FromUser<'_> {
    /// Runs until the user's side ends or input may not go on (a blocked line, a write
    /// that failed).
    async fn run(
        &mut self,
        taps: &Taps<'_>,
        c: &Counters,
        input: Input<'_, '_>,
        reviewer: &Reviewer<'_>,
    ) {
        loop {
            let msg = match self.replay.pop_front() {
                Some(m) => m,
                None => match self.urx.wait().await {
                    Some(m) => m,
                    None => break,
                },
            };
            // A node that may have been taken for dead passes nothing on until it knows.
            reviewer
                .shared
                .fence
                .hold_while_out_of_contact(reviewer.session)
                .await;
            if !self.forward(msg, taps, c, &input, reviewer).await {
                break;
            }
        }
    }

    /// Passes one message of the user's on; false when the pump must stop reading input.
    async fn forward(
        &mut self,
        msg: ChannelMsg,
        taps: &Taps<'_>,
        c: &Counters,
        input: &Input<'_, '_>,
        reviewer: &Reviewer<'_>,
    ) -> bool {
        let (ttx, utx) = (self.ttx, self.utx);
        match msg {
            ChannelMsg::Data { data } => {
                c.bytes_in.fetch_add(data.len() as u64, Ordering::Relaxed);
                crate::metrics::global().user_to_target(data.len());
                c.last_input_ms
                    .store(c.started.elapsed().as_millis() as u64, Ordering::Relaxed);
                match input {
                    Input::Open => {
                        taps.user_input(&data);
                        ttx.data_bytes(data).await.is_ok()
                    }
                    Input::Keys(guard) => {
                        guarded_input(guard, reviewer, &data, taps, ttx, utx).await
                    }
                    Input::Lines(shell, on_block) => match shell.take_lines(&data) {
                        Ok(lines) => {
                            let sink = LineSink {
                                shell,
                                on_block: *on_block,
                                reviewer,
                            };
                            line_input(&sink, lines, taps, ttx, utx).await
                        }
                        Err(LineTooLong) => {
                            let why = format!("a line longer than {MAX_LINE} bytes without a newline cannot be checked");
                            say_error(utx, taps, &why).await;
                            false
                        }
                    },
                }
            }
            ChannelMsg::Eof => {
                if let Input::Lines(shell, on_block) = input {
                    let last: Vec<Vec<u8>> = shell.take_rest().into_iter().collect();
                    let sink = LineSink {
                        shell,
                        on_block: *on_block,
                        reviewer,
                    };
                    if !line_input(&sink, last, taps, ttx, utx).await {
                        return false;
                    }
                }
                let _ = ttx.eof().await;
                true
            }
            ChannelMsg::WindowChange {
                col_width,
                row_height,
                pix_width,
                pix_height,
            } => {
                taps.resize(col_width, row_height);
                if let Some(p) = self.pty.as_mut() {
                    p.cols = col_width;
                    p.rows = row_height;
                }
                let _ = ttx
                    .window_change(col_width, row_height, pix_width, pix_height)
                    .await;
                true
            }
            ChannelMsg::Signal { signal } => {
                let _ = ttx.signal(signal).await;
                true
            }
            ChannelMsg::Close => false,
            _ => true,
        }
    }
}

/// Resolves when an administrator kills the session; never for sessions not registered live.
async fn killed(taps: &Taps<'_>) -> String {
    match taps.live {
        Some(live) => live.killed().await,
        None => std::future::pending().await,
    }
}

/// The earliest of max_session (the shortest of the granting roles) and the end of the
/// access hours (the last granting role's window to close), with the reason text.
fn session_deadline(limits: &SessionLimits) -> Option<(Duration, String)> {
    let mut best: Option<(Duration, String)> = None;
    if let Some(max) = limits.max_session {
        best = Some((
            max,
            format!("maximum session length {} reached", format_duration(max)),
        ));
    }
    // Hours: the session goes on while any granting role is within its hours.
    let now = chrono::Local::now();
    if let Some(end) = limits.hours_end(now) {
        let left = (end - now).to_std().unwrap_or_default();
        if best.as_ref().is_none_or(|(d, _)| left < *d) {
            best = Some((
                left,
                format!("access hours {} are over", limits.hours_text()),
            ));
        }
    }
    best
}
