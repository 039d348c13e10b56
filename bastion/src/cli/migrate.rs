//! `bastion migrate --to postgres://…`: moves the embedded store (`bastion.db`) into an empty
//! PostgreSQL database, so several bastion nodes can share it.
//!
//! The copy keeps every id, hash and signature (`store::Store::copy_to`), so the audit chain
//! is the same chain: this command verifies it on the copy, with this data directory's key,
//! before saying it is done, and `bastion audit verify` on any node goes on checking it. The
//! copy is all or nothing, and refused into a database that already holds a store; the copied
//! chain's next record is a signed `store_migrated` (from where, how many records, by whom). What it
//! does not do: change `bastion.toml` (the operator sets `[store] url`, on every node) or
//! stop a running bastion (stop it first; records it writes after the copy stay behind).

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};

use crate::datadir::DataDir;
use crate::keys;
use store::AuditEvent;

pub fn run(dir: &Path, to: &str) -> Result<ExitCode> {
    if !store::is_postgres_url(to) {
        bail!("--to: {:?} is not a postgres:// URL", store::redact(to));
    }
    let data = DataDir::open_existing(dir)?;
    let db = data.db_path();
    if !db.exists() {
        bail!("{}: no embedded store to copy", db.display());
    }
    let signer = keys::load_signing_key(&data.signing_key_path())?;
    let key = signer.verifying_key();
    let source = store::Store::open(&db, Some(signer.clone()))
        .with_context(|| format!("opening {}", db.display()))?;
    let target = store::redact(to);
    let dest = store::Store::connect(to, Some(signer))
        .with_context(|| format!("opening {target}"))?
        .with_audit_head(db.with_extension("audit-head"));
    let report = source
        .copy_to(&dest)
        .with_context(|| format!("copying {} into {target}", db.display()))?;
    let counts: Vec<String> = report
        .tables
        .iter()
        .map(|(table, n)| format!("{table} {n}"))
        .collect();
    println!(
        "copied {} into {target}: {}",
        db.display(),
        counts.join(", ")
    );
    let check = dest.verify_all(&key)?;
    let problems = check.problems("audit log on the copy does NOT verify");
    if !problems.is_empty() {
        for p in problems {
            println!("{p}");
        }
        return Ok(ExitCode::from(1));
    }
    println!(
        "audit chain verified on the copy: {} records, ending at record {}",
        check.records, report.audit_head
    );
    // The copied chain's next record says where it came from and who moved it.
    let event = AuditEvent::StoreMigrated {
        from: db.display().to_string(),
        records: check.records as u64,
        by: super::operator(),
    };
    let id = dest
        .audit(None, None, &event)
        .with_context(|| format!("recording the migration in {target}"))?;
    println!("recorded as audit record {id} (store_migrated)");
    println!(
        "now set, in {} on every node:\n[store]\nurl = \"{target}\"",
        dir.join("bastion.toml").display()
    );
    Ok(ExitCode::SUCCESS)
}
