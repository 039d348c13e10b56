//! The interactive host menu shown when a user logs in with a terminal and no target.
//! The menu itself (keys, filtering, drawing) lives in the `hostmenu` crate; this loop feeds it
//! the channel's bytes and runs the picked session, then shows the menu again.

use std::sync::Arc;
use std::time::Duration;

use chrono::Local;
use hostmenu::{Menu, MenuAction, MenuItem};
use russh::ChannelMsg;

use super::run::{run_target, Kind};
use super::UserChannel;
use super::{prompt, request_words};
use crate::requests::ask::{self, AccessAsk, Asked};
use crate::state::{ConnInfo, Shared};
use crate::target::TargetSpec;

/// The (host, login) pairs the user may reach now, in inventory order (`Access::reachable`).
pub fn menu_items(shared: &Shared, user: &str) -> Vec<MenuItem> {
    shared
        .access()
        .reachable(
            user,
            Local::now(),
            &crate::requests::held(&shared.store, user),
        )
        .into_iter()
        .map(|r| MenuItem {
            host: r.host,
            login: r.login,
            address: r.address,
            groups: r.groups,
            within_hours: r.within_hours,
            needs_request: r.needs_request,
        })
        .collect()
}

/// Runs the menu until the user quits or disconnects.
pub async fn run(shared: &Arc<Shared>, conn: &ConnInfo, user: &mut UserChannel) {
    let (cols, rows) = user
        .pty
        .as_ref()
        .map(|p| (p.cols as u16, p.rows as u16))
        .unwrap_or((80, 24));
    let mut menu = Menu::new(&conn.user, menu_items(shared, &conn.user), cols, rows);
    let mut message: Option<String> = None;
    loop {
        if let Some(m) = message.take() {
            menu.set_message(&m);
        }
        if user.tx.data_bytes(menu.render()).await.is_err() {
            return;
        }
        let action = tokio::select! {
            msg = user.rx.wait() => match msg {
                Some(ChannelMsg::Data { data }) => menu.feed(&data),
                Some(ChannelMsg::WindowChange { col_width, row_height, .. }) => {
                    if let Some(p) = user.pty.as_mut() {
                        p.cols = col_width;
                        p.rows = row_height;
                    }
                    menu.resize(col_width as u16, row_height as u16);
                    MenuAction::None
                }
                Some(ChannelMsg::Eof) | Some(ChannelMsg::Close) | None => return,
                _ => MenuAction::None,
            },
            _ = tokio::time::sleep(Duration::from_millis(60)), if menu_has_pending_escape(&menu) => menu.flush_pending_escape(),
        };
        match action {
            MenuAction::None => {}
            MenuAction::Quit => {
                let _ = user.tx.data_bytes(menu.leave()).await;
                user.finish(0).await;
                return;
            }
            MenuAction::Connect(i) => {
                let Some(item) = menu.items().get(i).cloned() else {
                    continue;
                };
                let _ = user.tx.data_bytes(menu.leave()).await;
                if item.needs_request {
                    if let Err(msg) = ask_then_wait(shared, conn, user, &item).await {
                        message = Some(msg);
                        menu = rebuilt(shared, conn, user);
                        continue;
                    }
                }
                let target = TargetSpec {
                    host: item.host.clone(),
                    login: Some(item.login.clone()),
                };
                let status =
                    run_target(shared, conn, user, &target, Kind::Shell, None, false).await;
                let said = user.last_said.take();
                message = Some(match status {
                    Some(s) if s != 0 && said.is_some() => said.unwrap_or_default(),
                    Some(0) => format!("session on {}@{} ended", item.login, item.host),
                    Some(s) => format!(
                        "session on {}@{} ended with status {s}",
                        item.login, item.host
                    ),
                    None => format!("session on {}@{} ended", item.login, item.host),
                });
                // Rebuild: policies or inventory may have changed while the session ran.
                menu = rebuilt(shared, conn, user);
            }
        }
    }
}

/// The menu anew, at the terminal's current size.
fn rebuilt(shared: &Shared, conn: &ConnInfo, user: &UserChannel) -> Menu {
    let (cols, rows) = user
        .pty
        .as_ref()
        .map(|p| (p.cols as u16, p.rows as u16))
        .unwrap_or((80, 24));
    Menu::new(&conn.user, menu_items(shared, &conn.user), cols, rows)
}

/// A host that needs a request: asks for the reason and the duration, makes the request and
/// shows the waiting line until it is decided. `Ok` when the user may go on to the host;
/// `Err` with what the menu should say (denied, left, or a refused ask).
async fn ask_then_wait(
    shared: &Arc<Shared>,
    conn: &ConnInfo,
    user: &mut UserChannel,
    item: &MenuItem,
) -> Result<(), String> {
    let target = format!("{}@{}", item.login, item.host);
    let _ = user
        .tx
        .data_bytes(format!("{target} needs an approved request.").into_bytes())
        .await;
    let cancelled = || "request not made".to_string();
    let reason = prompt::line(user, "Reason: ").await.ok_or_else(cancelled)?;
    let duration = prompt::line(user, "For how long (e.g. 1h; empty: the default): ")
        .await
        .ok_or_else(cancelled)?;
    let duration = match duration.as_str() {
        "" => None,
        d => Some(policies::parse_duration(d).map_err(|e| format!("duration: {e}"))?),
    };
    let ask = AccessAsk {
        host: item.host.clone(),
        login: Some(item.login.clone()),
        duration,
        reason,
    };
    let row = match ask::access(shared, conn, &ask)? {
        Asked::AlreadyAllowed { .. } => return Ok(()),
        Asked::Pending(row) => row,
    };
    let waiting = format!(
        "request {} for {target}: waiting for {}",
        row.id,
        policies::approvers_text(&row.approvers)
    );
    match request_words::wait_for(shared, user, &row, &waiting).await {
        Some(r) if r.status == "approved" => {
            user.say_on_new_line(&format!("request {} {}", r.id, request_words::outcome(&r)))
                .await;
            Ok(())
        }
        Some(r) => Err(format!("request {} {}", r.id, request_words::outcome(&r))),
        None => Err(format!("left; request {} stays open", row.id)),
    }
}

fn menu_has_pending_escape(menu: &Menu) -> bool {
    menu.has_pending_escape()
}
