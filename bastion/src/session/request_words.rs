//! The request exec words on a channel: `ssh bastion request db1 --for 2h --reason …` asks and
//! waits, then goes straight to the host; `ssh bastion approve ID` and `deny ID --reason …`
//! decide from anywhere an approver can ssh.

use std::sync::Arc;
use std::time::Instant;

use russh::ChannelMsg;
use store::RequestRow;

use super::run::{run_target, Kind};
use super::UserChannel;
use crate::requests::ask::{self, AccessAsk, Asked};
use crate::requests::decide::{decide, Decider};
use crate::requests::{wait, Word};
use crate::state::{ConnInfo, Shared};
use crate::target::TargetSpec;

/// Runs a request word; returns the exit status.
pub async fn run(
    shared: &Arc<Shared>,
    conn: &ConnInfo,
    user: &mut UserChannel,
    word: Result<Word, String>,
) -> u32 {
    match word {
        Err(usage) => {
            user.say(&usage).await;
            2
        }
        Ok(Word::Decide { id, answer }) => {
            let who = Decider::User(conn.user.clone());
            match decide(&shared.store, &shared.access(), &who, id, &answer) {
                Ok(r) => {
                    shared.requests_changed();
                    user.say(&format!("request {id} {}", outcome(&r))).await;
                    0
                }
                Err(e) => {
                    user.say(&e).await;
                    1
                }
            }
        }
        Ok(Word::Request { ask, wait }) => request(shared, conn, user, &ask, wait).await,
    }
}

/// `approved by bob until 14:05`, `denied by bob: reason`.
pub fn outcome(r: &RequestRow) -> String {
    let by = r.decided_by.as_deref().unwrap_or("?");
    match r.status.as_str() {
        "approved" => match r.granted_until {
            Some(u) => format!("approved by {by} until {}", store::format_ts(u)),
            None => format!("approved by {by}"),
        },
        "denied" => format!(
            "denied by {by}: {}",
            r.note.as_deref().unwrap_or("no reason given")
        ),
        other => format!("{other}: {}", r.note.as_deref().unwrap_or("")),
    }
}

async fn request(
    shared: &Arc<Shared>,
    conn: &ConnInfo,
    user: &mut UserChannel,
    ask: &AccessAsk,
    wait: bool,
) -> u32 {
    let row = match ask::access(shared, conn, ask) {
        Err(e) => {
            user.say(&e).await;
            return 1;
        }
        Ok(Asked::AlreadyAllowed { login, reason }) => {
            user.say(&format!("no request needed: {reason}")).await;
            if !wait {
                return 0;
            }
            return go(shared, conn, user, &ask.host, &login).await;
        }
        Ok(Asked::Pending(row)) => row,
    };
    let waiting = format!(
        "request {} for {}@{} ({}): waiting for {}",
        row.id,
        row.login,
        row.host,
        store::seconds_text(row.seconds.unwrap_or(0)),
        policies::approvers_text(&row.approvers)
    );
    if !wait {
        user.say(&format!("{waiting}; not waiting (--no-wait)"))
            .await;
        return 0;
    }
    match wait_for(shared, user, &row, &waiting).await {
        Some(r) if r.status == "approved" => {
            user.say_on_new_line(&format!("request {} {}", r.id, outcome(&r)))
                .await;
            go(shared, conn, user, &r.host, &r.login).await
        }
        Some(r) => {
            user.say_on_new_line(&format!("request {} {}", r.id, outcome(&r)))
                .await;
            1
        }
        None => {
            user.say_on_new_line(&format!(
                "left; request {} stays open (`ssh bastion request {}` again to wait)",
                row.id, row.host
            ))
            .await;
            130
        }
    }
}

/// Shows the waiting line (on a terminal, with the time waited, redrawn every second) until
/// the request is decided (`Some`) or the user leaves with Ctrl-C or by closing (`None`).
pub async fn wait_for(
    shared: &Shared,
    user: &mut UserChannel,
    row: &RequestRow,
    waiting: &str,
) -> Option<RequestRow> {
    let started = Instant::now();
    let tty = user.pty.is_some();
    if !tty {
        user.say(&format!(
            "{waiting} (Ctrl-C to leave; the request stays open; input is kept until then)"
        ))
        .await;
    }
    let decided = wait::decided(shared, row.id, None);
    tokio::pin!(decided);
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        tokio::select! {
            r = &mut decided => return r,
            msg = user.rx.wait() => match msg {
                // On a terminal, Ctrl-C leaves and other keys are dropped; without one, input
                // (a piped script, its end) is kept for the session that follows.
                Some(ChannelMsg::Data { data }) if tty && data.contains(&3) => return None,
                Some(m @ (ChannelMsg::Data { .. } | ChannelMsg::Eof)) if !tty => {
                    user.replay.push_back(m);
                }
                Some(ChannelMsg::Close) | None => return None,
                _ => {}
            },
            _ = tick.tick(), if tty => {
                let line = format!(
                    "\r\x1b[Kbastion: {waiting} — {}s — Ctrl-C to leave; the request stays open",
                    started.elapsed().as_secs()
                );
                let _ = user.tx.data_bytes(line.into_bytes()).await;
            }
        }
    }
}

/// Opens the session the request was for: a shell (with the user's terminal, if any).
async fn go(
    shared: &Arc<Shared>,
    conn: &ConnInfo,
    user: &mut UserChannel,
    host: &str,
    login: &str,
) -> u32 {
    let target = TargetSpec {
        host: host.to_string(),
        login: Some(login.to_string()),
    };
    run_target(shared, conn, user, &target, Kind::Shell, None, true)
        .await
        .unwrap_or(255)
}
