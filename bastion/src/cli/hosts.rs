//! `bastion hosts [--user NAME]`: the inventory, or what one user may reach.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use chrono::Local;
use serde_json::json;

use super::table;
use crate::datadir::DataDir;
use crate::state::Access;
use store::AdminChange;

pub fn run(dir: &Path, user: Option<&str>, as_json: bool) -> Result<ExitCode> {
    let data = DataDir::open_existing(dir)?;
    let access = Access::load(&data)?;
    let now = Local::now();
    let mut rows = Vec::new();
    for h in access.inventory.hosts() {
        let groups = h.groups().to_vec();
        let (logins, within) = match user {
            Some(u) => {
                let r = access.policies.reachable(u, &h.name, &groups, now);
                if r.logins.is_empty() {
                    continue;
                }
                (r.logins, r.within_hours)
            }
            None => (Vec::new(), true),
        };
        if as_json {
            println!(
                "{}",
                json!({"host": h.name, "address": h.address(), "port": h.port(), "groups": groups, "logins": logins, "within_hours": within})
            );
        } else {
            let mut row = vec![
                h.name.clone(),
                format!("{}:{}", h.address(), h.port()),
                groups.join(","),
            ];
            if user.is_some() {
                row.push(logins.join(","));
                row.push(if within {
                    String::new()
                } else {
                    "outside hours".into()
                });
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

/// `bastion hosts --forget-key HOST`: drops the pinned key of HOST's endpoint, audited.
pub fn forget_key(dir: &Path, host: &str, as_json: bool) -> Result<ExitCode> {
    let (data, store) = super::open(dir)?;
    let access = Access::load(&data)?;
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
