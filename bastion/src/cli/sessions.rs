//! `bastion sessions` and `bastion export ID`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use serde_json::json;

use super::{open, parse_since, table};
use crate::datadir::DataDir;
use store::{format_ts, rfc3339, SessionFilter, SessionRow, Store};

#[derive(Args)]
pub struct SessionsArgs {
    /// Only sessions still open.
    #[arg(long)]
    active: bool,
    #[arg(long)]
    user: Option<String>,
    #[arg(long)]
    host: Option<String>,
    /// A date, date-time, or duration ago (2h, 7d).
    #[arg(long)]
    since: Option<String>,
    #[arg(long)]
    json: bool,
}

fn to_json(s: &SessionRow) -> serde_json::Value {
    json!({
        "id": s.id, "user": s.user, "source": s.source, "host": s.host, "login": s.login,
        "kind": s.kind, "command": s.command, "started_at": rfc3339(s.started_at),
        "ended_at": s.ended_at.map(rfc3339), "status": s.status, "exit_status": s.exit_status,
        "exit_signal": s.exit_signal, "recording": s.recording, "recording_sha256": s.rec_sha256,
        "bytes_in": s.bytes_in, "bytes_out": s.bytes_out, "end_reason": s.end_reason, "node": s.node,
    })
}

pub fn run(dir: &Path, a: SessionsArgs) -> Result<ExitCode> {
    let (_data, store) = open(dir)?;
    let since = a.since.as_deref().map(parse_since).transpose()?;
    let rows = store.sessions(&SessionFilter {
        active_only: a.active,
        user: a.user,
        host: a.host,
        since,
    })?;
    if a.json {
        let mut out = std::io::stdout().lock();
        for s in &rows {
            writeln!(out, "{}", to_json(s))?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    // Several nodes on one database: which node serves (served) each session.
    let nodes = store.is_postgres();
    let table_rows: Vec<Vec<String>> = rows
        .iter()
        .map(|s| {
            let duration = s
                .ended_at
                .map(|e| format!("{:.0}s", e - s.started_at))
                .unwrap_or_else(|| "-".into());
            let mut row = vec![
                s.id.to_string(),
                s.user.clone(),
                format!("{}@{}", s.login, s.host),
                s.kind.clone(),
                format_ts(s.started_at),
                duration,
                s.status.clone(),
                s.exit_status
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| "-".into()),
            ];
            if nodes {
                row.push(s.node.clone().unwrap_or_else(|| "-".into()));
            }
            row.push(s.command.clone().unwrap_or_default());
            row
        })
        .collect();
    let mut header = vec![
        "ID", "USER", "TARGET", "KIND", "STARTED", "DURATION", "STATUS", "EXIT",
    ];
    if nodes {
        header.push("NODE");
    }
    header.push("COMMAND");
    table::print(&header, &table_rows);
    Ok(ExitCode::SUCCESS)
}

/// The recording file of session `id` (fetched from shared storage when another node wrote
/// it), or an error saying why there is none.
pub fn recording_path(data: &DataDir, store: &Store, id: i64) -> Result<PathBuf> {
    let s = store
        .session(id)?
        .with_context(|| format!("no session {id}"))?;
    let recorded = s.recording.with_context(|| {
        format!(
            "session {id} ({}) has no recording: terminal sessions and shells are recorded; exec, scp, rsync and SFTP sessions are in the command log and the audit log",
            s.kind
        )
    })?;
    let found = crate::state::shared_recordings::locate(
        data.settings.shared_recordings.as_ref(),
        &data.recordings_dir(),
        &recorded,
    )
    .with_context(|| format!("fetching the recording of session {id} from shared storage"))?;
    Ok(found.unwrap_or_else(|| PathBuf::from(recorded)))
}

pub fn export(dir: &Path, id: i64, output: Option<&Path>) -> Result<ExitCode> {
    let (data, store) = open(dir)?;
    let path = recording_path(&data, &store, id)?;
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    match output {
        Some(o) => std::fs::write(o, &bytes).with_context(|| format!("writing {}", o.display()))?,
        None => std::io::stdout().lock().write_all(&bytes)?,
    }
    Ok(ExitCode::SUCCESS)
}
