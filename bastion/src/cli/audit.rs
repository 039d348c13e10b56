//! `bastion audit [--since] [--after ID] [--json]`, `bastion audit --follow --json`, and
//! `bastion audit verify [--key FILE | --fingerprint SHA256:...]` (in `audit_verify.rs`).

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};
use serde_json::{json, Value};

use super::{audit_follow, audit_verify, open, parse_since, table};
use store::{format_ts, rfc3339, AuditRecord};

#[derive(Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: Option<AuditCommand>,
    #[arg(long)]
    since: Option<String>,
    /// Only records with an id above ID (with --follow: resume after the last id seen).
    #[arg(long, value_name = "ID")]
    after: Option<i64>,
    #[arg(long)]
    json: bool,
    /// Keep running and print each new record as it is committed (JSON lines; needs --json).
    #[arg(long, requires = "json", conflicts_with = "since")]
    follow: bool,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check every hash link and signature, every logged command against its audited hash,
    /// every checkpoint, and every sealed recording against its file; exit 1 naming each
    /// problem. With --key or --fingerprint, also check that the data directory's signing key
    /// is the one you kept elsewhere.
    #[command(after_help = "Example:\n  bastion audit verify --fingerprint SHA256:...")]
    Verify(audit_verify::VerifyArgs),
}

/// One record as `bastion audit --json` and `--follow` print it.
pub(super) fn json_line(r: &AuditRecord) -> Value {
    json!({"id": r.id, "ts": rfc3339(r.ts), "event": r.event, "user": r.user, "source": r.source, "detail": r.detail, "prev_hash": r.prev_hash, "hash": r.hash, "signature": r.signature})
}

pub fn run(dir: &Path, a: AuditArgs) -> Result<ExitCode> {
    let (data, store) = open(dir)?;
    if let Some(AuditCommand::Verify(v)) = a.command {
        return audit_verify::run(&data, &store, &v);
    }
    if a.follow {
        return audit_follow::follow(&store, a.after.unwrap_or(0));
    }
    let since = a.since.as_deref().map(parse_since).transpose()?;
    let mut records = store.audit_records(since)?;
    if let Some(after) = a.after {
        records.retain(|r| r.id > after);
    }
    if a.json {
        let mut out = std::io::stdout().lock();
        for r in records {
            writeln!(out, "{}", json_line(&r))?;
        }
    } else {
        let rows: Vec<Vec<String>> = records
            .into_iter()
            .map(|r| {
                // The typed event's own words; a record this version cannot read shows as stored.
                let what = match r.parsed() {
                    Ok(event) => event.to_string(),
                    Err(e) => format!("{} (unreadable: {e})", r.detail),
                };
                vec![
                    r.id.to_string(),
                    format_ts(r.ts),
                    r.event,
                    r.user.unwrap_or_default(),
                    r.source.unwrap_or_default(),
                    what,
                ]
            })
            .collect();
        table::print(&["ID", "TIME", "EVENT", "USER", "SOURCE", "WHAT"], &rows);
    }
    Ok(ExitCode::SUCCESS)
}
