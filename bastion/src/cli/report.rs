//! `bastion report [--since DATE] [--json]`: totals per user and per host.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use serde_json::json;

use super::{open, parse_since, table};
use store::Totals;

#[derive(Args)]
pub struct ReportArgs {
    /// A date, date-time, or duration ago (2h, 7d); default: everything.
    #[arg(long)]
    since: Option<String>,
    #[arg(long)]
    json: bool,
}

pub fn run(dir: &Path, a: ReportArgs) -> Result<ExitCode> {
    let (_data, store) = open(dir)?;
    let since = a
        .since
        .as_deref()
        .map(parse_since)
        .transpose()?
        .unwrap_or(0.0);
    let report = store.report(since)?;
    if a.json {
        for (kind, map) in [("user", &report.users), ("host", &report.hosts)] {
            for (name, t) in map {
                let mut v = serde_json::to_value(t)?;
                v[kind] = json!(name);
                println!("{v}");
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let rows =
        |map: &std::collections::BTreeMap<String, Totals>, logins: bool| -> Vec<Vec<String>> {
            map.iter()
                .map(|(name, t)| {
                    let mut row = vec![
                        name.clone(),
                        t.sessions.to_string(),
                        policies::format_duration(std::time::Duration::from_secs_f64(
                            t.seconds.max(0.0),
                        )),
                        t.commands.to_string(),
                        t.blocked_commands.to_string(),
                        t.denials.to_string(),
                    ];
                    if logins {
                        row.push(t.failed_logins.to_string());
                    }
                    row
                })
                .collect()
        };
    table::print(
        &[
            "USER",
            "SESSIONS",
            "TIME",
            "COMMANDS",
            "BLOCKED",
            "DENIALS",
            "FAILED LOGINS",
        ],
        &rows(&report.users, true),
    );
    println!();
    table::print(
        &["HOST", "SESSIONS", "TIME", "COMMANDS", "BLOCKED", "DENIALS"],
        &rows(&report.hosts, false),
    );
    Ok(ExitCode::SUCCESS)
}
