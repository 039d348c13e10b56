//! `bastion hosts [--user NAME]`: the inventory, or what one user may reach.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use chrono::Local;
use serde_json::json;

use super::table;
use crate::datadir::DataDir;
use crate::state::load_access;
use store::AdminChange;

/// One output row: a host with the logins the user may use there (all of them: none given).
struct Row {
    host: String,
    address: String,
    port: u16,
    groups: Vec<String>,
    logins: Vec<String>,
    /// The logins among `logins` that only a `request:` role grants, with no approved request
    /// held: the menu marks them `(request)`, and picking one asks.
    request_logins: Vec<String>,
    within_hours: bool,
}

pub fn run(dir: &Path, user: Option<&str>, as_json: bool) -> Result<ExitCode> {
    let data = DataDir::open_existing(dir)?;
    let access = load_access(&data)?;
    let hosts: Vec<Row> = match user {
        // What the user may reach, as the session and the menu decide it; one row per host.
        Some(u) => {
            let mut rows: Vec<Row> = Vec::new();
            let held = match super::open(dir) {
                Ok((_, store)) => crate::requests::held(&store, u),
                Err(_) => Vec::new(),
            };
            for r in access.reachable(u, Local::now(), &held) {
                let request_login = r.needs_request.then(|| r.login.clone());
                match rows.last_mut() {
                    Some(last) if last.host == r.host => {
                        last.logins.push(r.login);
                        last.request_logins.extend(request_login);
                        last.within_hours |= r.within_hours;
                    }
                    _ => rows.push(Row {
                        host: r.host,
                        address: r.address,
                        port: r.port,
                        groups: r.groups,
                        logins: vec![r.login],
                        request_logins: request_login.into_iter().collect(),
                        within_hours: r.within_hours,
                    }),
                }
            }
            rows
        }
        None => access
            .inventory
            .hosts()
            .map(|h| Row {
                host: h.name.clone(),
                address: h.address().to_string(),
                port: h.port(),
                groups: h.groups().to_vec(),
                logins: Vec::new(),
                request_logins: Vec::new(),
                within_hours: true,
            })
            .collect(),
    };
    let mut rows = Vec::new();
    for h in hosts {
        if as_json {
            println!(
                "{}",
                json!({"host": h.host, "address": h.address, "port": h.port, "groups": h.groups, "logins": h.logins, "request_logins": h.request_logins, "within_hours": h.within_hours})
            );
        } else {
            let mut row = vec![
                h.host.clone(),
                format!("{}:{}", h.address, h.port),
                h.groups.join(","),
            ];
            if user.is_some() {
                row.push(h.logins.join(","));
                row.push(note(&h));
            }
            rows.push(row);
        }
    }
    if !as_json {
        if user.is_some() {
            table::print(&["HOST", "ADDRESS", "GROUPS", "LOGINS", "NOTE"], &rows);
        } else {
            table::print(&["HOST", "ADDRESS", "GROUPS"], &rows);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The NOTE column: logins that need an approved request first, and hours that shut it now.
fn note(h: &Row) -> String {
    let mut notes = Vec::new();
    if !h.request_logins.is_empty() {
        notes.push(format!("request needed: {}", h.request_logins.join(",")));
    }
    if !h.within_hours {
        notes.push("outside hours".to_string());
    }
    notes.join("; ")
}

/// `bastion hosts --forget-key HOST`: drops the pinned key of HOST's endpoint, audited.
pub fn forget_key(dir: &Path, host: &str, as_json: bool) -> Result<ExitCode> {
    let (data, store) = super::open(dir)?;
    let access = load_access(&data)?;
    let Some(h) = access.inventory.host(host) else {
        anyhow::bail!(
            "unknown host {host} (not in {})",
            data.inventory_path().display()
        );
    };
    let endpoint = store::endpoint(h.address(), h.port());
    let forgotten = store.forget_host_key(&endpoint)?;
    let change = AdminChange::HostKeyForgotten {
        host: host.to_string(),
        endpoint: endpoint.clone(),
        had_pin: forgotten,
    };
    super::users::admin(&store, "-", change)?;
    if as_json {
        println!(
            "{}",
            json!({"host": host, "endpoint": endpoint, "forgotten": forgotten})
        );
    } else if forgotten {
        println!("forgot the pinned host key of {host} ({endpoint}); the next connection pins the key it is offered");
    } else {
        println!("{host} ({endpoint}) had no pinned host key");
    }
    Ok(ExitCode::SUCCESS)
}
