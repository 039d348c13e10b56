//! Admin commands. Each opens the data directory and store it needs, prints tables to a
//! terminal and JSON lines with `--json`.

pub mod audit;
mod audit_follow;
mod audit_verify;
pub mod commands;
pub mod hosts;
pub mod known_hosts;
pub mod live;
pub mod migrate;
pub mod policy;
pub mod replay;
pub mod report;
pub mod requests;
pub mod sessions;
mod table;
pub mod users;

use std::path::Path;

use anyhow::Result;

use crate::datadir::DataDir;
use crate::keys;
use store::Store;

/// Opens an initialised data directory and its store with the signing key (admin changes are
/// audited).
pub fn open(dir: &Path) -> Result<(DataDir, Store)> {
    let data = DataDir::open_existing(dir)?;
    let signer = keys::load_signing_key(&data.signing_key_path())?;
    let store = data.open_store(Some(signer))?;
    Ok((data, store))
}

/// Who runs an admin command, for audit records: the sudo caller, else the account the
/// command runs as (from the system's user database: `USER` is not set under every service
/// manager or test harness), else the uid itself.
pub fn operator() -> String {
    if let Ok(name) = std::env::var("SUDO_USER") {
        return name;
    }
    let uid = nix::unistd::geteuid();
    match nix::unistd::User::from_uid(uid) {
        Ok(Some(user)) => user.name,
        _ => std::env::var("USER").unwrap_or_else(|_| format!("uid {uid}")),
    }
}

/// Parses `--since`: a date (`2026-11-25`), a date-time (`2026-11-25T10:00[:00]`, RFC 3339),
/// or a duration ago (`2h`, `7d`). Returns Unix seconds.
pub fn parse_since(s: &str) -> Result<f64> {
    use chrono::{Local, NaiveDate, NaiveDateTime, TimeZone};
    if let Ok(d) = policies::parse_duration(s) {
        return Ok(store::now_ts() - d.as_secs_f64());
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp() as f64);
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            if let Some(t) = Local.from_local_datetime(&t).earliest() {
                return Ok(t.timestamp() as f64);
            }
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        if let Some(t) = d
            .and_hms_opt(0, 0, 0)
            .and_then(|t| Local.from_local_datetime(&t).earliest())
        {
            return Ok(t.timestamp() as f64);
        }
    }
    anyhow::bail!("--since: cannot read {s:?} (use 2026-11-25, 2026-11-25T10:00, or 2h / 7d)")
}
