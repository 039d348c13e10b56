//! `bastion commands`: search the command log.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use serde_json::json;

use super::{open, parse_since, table};
use store::{format_ts, rfc3339, CommandFilter};

#[derive(Args)]
pub struct CommandsArgs {
    #[arg(long)]
    user: Option<String>,
    #[arg(long)]
    host: Option<String>,
    /// Only commands of one session.
    #[arg(long)]
    session: Option<i64>,
    /// A date, date-time, or duration ago (2h, 7d).
    #[arg(long)]
    since: Option<String>,
    /// Case-insensitive substring of the command line.
    #[arg(long)]
    grep: Option<String>,
    /// At most this many (oldest first).
    #[arg(long)]
    limit: Option<u64>,
    #[arg(long)]
    json: bool,
}

pub fn run(dir: &Path, a: CommandsArgs) -> Result<ExitCode> {
    let (_data, store) = open(dir)?;
    let since = a.since.as_deref().map(parse_since).transpose()?;
    let rows = store.commands(&CommandFilter {
        user: a.user,
        host: a.host,
        session: a.session,
        since,
        grep: a.grep,
        limit: a.limit,
    })?;
    if a.json {
        let mut out = std::io::stdout().lock();
        for c in &rows {
            let line = json!({
                "id": c.id, "session": c.session_id, "user": c.user, "host": c.host, "login": c.login,
                "time": rfc3339(c.ts), "offset": c.offset, "command": c.command,
                "exit_status": c.exit_status, "blocked": c.blocked, "origin": c.origin,
            });
            writeln!(out, "{line}")?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let table_rows: Vec<Vec<String>> = rows
        .iter()
        .map(|c| {
            vec![
                format_ts(c.ts),
                c.session_id.to_string(),
                c.user.clone(),
                format!("{}@{}", c.login, c.host),
                c.exit_status
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| "-".into()),
                if c.blocked {
                    "BLOCKED".into()
                } else {
                    String::new()
                },
                c.command.clone(),
            ]
        })
        .collect();
    table::print(
        &["TIME", "SESSION", "USER", "TARGET", "EXIT", "", "COMMAND"],
        &table_rows,
    );
    Ok(ExitCode::SUCCESS)
}
