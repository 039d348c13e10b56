//! How the user's input is judged before it reaches the target, for the pump (`proxy.rs`):
//! on a terminal, each Enter is held until the echoed line has passed `deny_commands` and any
//! review rule (a blocked or refused line is wiped on the target); without a terminal, input
//! goes on a whole line at a time, each judged and logged before any byte of it is sent.

use russh::client;

use super::command_guard::{Blocked, CommandGuard, Piece, WIPE_LINE};
use super::line_shell::{command_text, LineShell};
use super::review::Reviewer;
use super::taps::Taps;

/// Passes the user's keys on, holding each Enter until the line is checked against the
/// session's `deny_commands`. Returns false once the target's channel is gone.
pub(super) async fn guarded_input(
    guard: &CommandGuard<'_>,
    reviewer: &Reviewer<'_>,
    data: &[u8],
    taps: &Taps<'_>,
    ttx: &russh::ChannelWriteHalf<client::Msg>,
    utx: &russh::ChannelWriteHalf<russh::server::Msg>,
) -> bool {
    for piece in guard.split(data) {
        let keys = match piece {
            Piece::Keys(keys) => keys,
            Piece::Submit(key) => match guard.check().await {
                None => match held_line(guard, reviewer, taps, utx).await {
                    None => key,
                    Some(refused) => {
                        if !block_line(guard, &refused, taps, ttx, utx).await {
                            return false;
                        }
                        continue;
                    }
                },
                Some(blocked) => {
                    if !block_line(guard, &blocked, taps, ttx, utx).await {
                        return false;
                    }
                    continue;
                }
            },
        };
        taps.user_input(keys);
        if ttx.data_bytes(keys.to_vec()).await.is_err() {
            return false;
        }
    }
    true
}

/// On a terminal, the line about to be submitted when a review rule holds it: the user is told
/// it waits, and the Enter stays held until the decision. `None` to submit it (no rule, or
/// approved); `Some` to refuse it like a blocked line.
async fn held_line(
    guard: &CommandGuard<'_>,
    reviewer: &Reviewer<'_>,
    taps: &Taps<'_>,
    utx: &russh::ChannelWriteHalf<russh::server::Msg>,
) -> Option<Blocked> {
    let line = guard.pending_text().await?;
    let rule = reviewer.rule_for(&line)?;
    let pattern = rule.pattern.as_str().to_string();
    let refuse = |why: String| Blocked {
        line: format!("{} ({why})", line.trim()),
        rule: pattern.clone(),
        typed_ahead: false,
    };
    let held = match reviewer.hold(&line, rule) {
        Ok(h) => h,
        Err(why) => return Some(refuse(why)),
    };
    let text = format!("\r\nbastion: {}\r\n", held.waiting_text());
    taps.bastion_message(&held.waiting_text(), text.as_bytes());
    let _ = utx.data_bytes(text.into_bytes()).await;
    match reviewer.decision(&held).await {
        Ok(approved) => {
            let text = format!("bastion: {approved}\r\n");
            taps.bastion_message(&approved, text.as_bytes());
            let _ = utx.data_bytes(text.into_bytes()).await;
            None
        }
        Err(why) => Some(refuse(why)),
    }
}

/// Where a shell without a terminal sends its lines: the command log with its rules, the
/// audit of a blocked line, and the reviewer of held ones.
pub(super) struct LineSink<'s, 'g> {
    pub(super) shell: &'s LineShell<'g>,
    pub(super) on_block: &'s (dyn Fn(&Blocked) + Sync + 'g),
    pub(super) reviewer: &'s Reviewer<'s>,
}

/// Sends whole lines to a shell without a terminal, each only after it is judged and logged; a
/// blocked line is replaced by a message on the user's stderr, a line a review rule holds
/// waits for its decision. False once the session must end (the target is gone, or a line
/// could not be logged: nothing reaches a host unseen).
pub(super) async fn line_input(
    sink: &LineSink<'_, '_>,
    lines: Vec<Vec<u8>>,
    taps: &Taps<'_>,
    ttx: &russh::ChannelWriteHalf<client::Msg>,
    utx: &russh::ChannelWriteHalf<russh::server::Msg>,
) -> bool {
    let (shell, on_block) = (sink.shell, sink.on_block);
    for line in lines {
        let judged = match sink.reviewer.rule_for(&command_text(&line)) {
            None => shell.judge(&line),
            Some(rule) => match review_line(sink.reviewer, &line, rule, taps, utx).await {
                Ok(()) => shell.judge(&line),
                Err(why) => {
                    say_error(utx, taps, &format!("command refused on review: {why}")).await;
                    match shell.refuse(&line, rule.pattern.as_str()) {
                        Ok(blocked) => blocked.iter().for_each(on_block),
                        Err(e) => tracing::error!("command log write failed: {e}"),
                    }
                    // Refused: never sent, whatever the log said.
                    continue;
                }
            },
        };
        match judged {
            Ok(None) => {
                taps.user_line(&line);
                if ttx.data_bytes(line).await.is_err() {
                    return false;
                }
            }
            Ok(Some(blocked)) => {
                let text = format!(
                    "bastion: command blocked by policy (rule {}): {}\n",
                    blocked.rule, blocked.line
                );
                taps.bastion_message(
                    &format!("command blocked: {}", blocked.line),
                    text.as_bytes(),
                );
                let _ = utx.extended_data_bytes(1, text.into_bytes()).await;
                on_block(&blocked);
            }
            Err(e) => {
                tracing::error!("command log write failed: {e}");
                say_error(
                    utx,
                    taps,
                    "the command log cannot be written, so nothing more is sent",
                )
                .await;
                return false;
            }
        }
    }
    true
}

/// Holds one line of a shell without a terminal for review: the user is told on stderr.
async fn review_line(
    reviewer: &Reviewer<'_>,
    line: &[u8],
    rule: &policies::ReviewRule,
    taps: &Taps<'_>,
    utx: &russh::ChannelWriteHalf<russh::server::Msg>,
) -> Result<(), String> {
    let held = reviewer.hold(&command_text(line), rule)?;
    say_error(utx, taps, &held.waiting_text()).await;
    let approved = reviewer.decision(&held).await?;
    say_error(utx, taps, &approved).await;
    Ok(())
}

/// Tells the user (on stderr) and the recording why their input stops here.
pub(super) async fn say_error(
    utx: &russh::ChannelWriteHalf<russh::server::Msg>,
    taps: &Taps<'_>,
    why: &str,
) {
    let text = format!("bastion: {why}\n");
    taps.bastion_message(why, text.as_bytes());
    let _ = utx.extended_data_bytes(1, text.into_bytes()).await;
}

/// Wipes a blocked line on the target instead of submitting it, tells the user why, and lets
/// the shell draw a fresh prompt (an empty line runs nothing). A line typed ahead gets no
/// Enter at all: what the wipe could not reach stays unsubmitted, and the shell shows it at
/// its next prompt, where the next Enter is checked again.
async fn block_line(
    guard: &CommandGuard<'_>,
    blocked: &Blocked,
    taps: &Taps<'_>,
    ttx: &russh::ChannelWriteHalf<client::Msg>,
    utx: &russh::ChannelWriteHalf<russh::server::Msg>,
) -> bool {
    guard.shell().input(WIPE_LINE);
    if ttx.data_bytes(WIPE_LINE.to_vec()).await.is_err() {
        return false;
    }
    guard.settle().await;
    let text = if blocked.typed_ahead {
        format!(
            "\r\nbastion: command blocked by policy (rule {}); clear what is left of it with Ctrl-U\r\n",
            blocked.rule
        )
    } else {
        format!(
            "\r\nbastion: command blocked by policy (rule {})",
            blocked.rule
        )
    };
    taps.bastion_message(
        &format!("command blocked: {}", blocked.line),
        text.as_bytes(),
    );
    let _ = utx.data_bytes(text.into_bytes()).await;
    guard.blocked(blocked);
    if blocked.typed_ahead {
        return true;
    }
    guard.shell().input(b"\r");
    ttx.data_bytes(b"\r".to_vec()).await.is_ok()
}
