//! `bastion requests [--pending] [--json]`, `bastion approve ID [--for D]`,
//! `bastion deny ID --reason TEXT`, `bastion revoke ID`: deciding requests on the bastion's
//! own machine. The decision itself is `requests::decide` (the same rule as the console and
//! `ssh bastion approve`), made as an administrator; a running server sees it within a second
//! (its waiters and its grant sweep read the store).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::table;
use crate::requests::decide::{decide, Answer, Decider};
use crate::state::load_access;

#[derive(Args)]
pub struct RequestsArgs {
    /// Only requests waiting for a decision.
    #[arg(long)]
    pub pending: bool,
    /// At most this many, newest first.
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    /// One JSON object per line.
    #[arg(long)]
    pub json: bool,
}

/// Lists requests.
pub fn list(dir: &Path, args: RequestsArgs) -> Result<ExitCode> {
    let (_, store) = super::open(dir)?;
    let rows = store.requests(args.pending, args.limit)?;
    if args.json {
        for r in &rows {
            println!("{}", serde_json::to_string(r)?);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                store::format_ts(r.created_at),
                r.user.clone(),
                format!("{}@{}", r.login, r.host),
                match r.kind.as_str() {
                    "access" => format!("access {}", store::seconds_text(r.seconds.unwrap_or(0))),
                    _ => format!("command (session {})", r.session_id.unwrap_or(0)),
                },
                r.text.clone(),
                status(r),
                policies::approvers_text(&r.approvers),
            ]
        })
        .collect();
    table::print(
        &[
            "ID",
            "ASKED",
            "USER",
            "TARGET",
            "KIND",
            "REASON / COMMAND",
            "STATUS",
            "APPROVERS",
        ],
        &cells,
    );
    Ok(ExitCode::SUCCESS)
}

fn status(r: &store::RequestRow) -> String {
    match (r.status.as_str(), &r.decided_by, r.granted_until) {
        ("approved", Some(by), Some(u)) => {
            format!("approved by {by} until {}", store::format_ts(u))
        }
        // A grant ended by `revoke` or by time: its approver is not who ended it; the note
        // says how ("revoked by root (administrator)", "the grant reached its end").
        (s @ ("revoked" | "expired"), by, _) => {
            let how = match r.note.as_deref() {
                Some(n) if s == "revoked" && n.starts_with("revoked") => n.to_string(),
                Some(n) if !n.is_empty() => format!("{s}: {n}"),
                _ => s.to_string(),
            };
            match by {
                Some(by) => format!("{how}; approved by {by}"),
                None => how,
            }
        }
        (s, Some(by), _) => format!("{s} by {by}"),
        (s, None, _) => s.to_string(),
    }
}

/// Approves or denies request `id` as the operator.
pub fn decide_as_operator(dir: &Path, id: i64, answer: Answer) -> Result<ExitCode> {
    let (data, store) = super::open(dir)?;
    let access = load_access(&data)?;
    let who = Decider::Administrator(super::operator());
    match decide(&store, &access, &who, id, &answer) {
        Ok(r) => {
            println!("request {id}: {}", status(&r));
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("bastion: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

/// Ends a grant now; sessions under it end within a second.
pub fn revoke(dir: &Path, id: i64) -> Result<ExitCode> {
    let (_, store) = super::open(dir)?;
    match store.revoke_request(id, &format!("{} (administrator)", super::operator())) {
        Ok(_) => {
            println!("request {id}: revoked; its sessions are being ended");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("bastion: {e}");
            Ok(ExitCode::from(1))
        }
    }
}
