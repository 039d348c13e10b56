//! `bastion audit verify [--key FILE | --fingerprint SHA256:...]`.
//!
//! Without an option, the chain is checked against the data directory's own signing key: that
//! proves the records were not edited by someone without the key, but someone who holds the
//! box holds the key too, and could have replaced it and re-signed a rewritten chain. With the
//! public key (or its fingerprint, which `bastion init` prints) kept somewhere else, verify
//! also proves the chain is signed by *that* key: a replaced key fails, naming both
//! fingerprints, even when the chain verifies with the local key.
//!
//! Besides the chain, verify checks each command row against the hash its `command_logged`
//! event signed, each checkpoint against the log, and each sealed recording against its file.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use russh::keys::PublicKey;
use store::{Store, CHECKPOINT_EVERY};

use crate::datadir::DataDir;
use crate::keys;

#[derive(Args)]
pub struct VerifyArgs {
    /// The audit signing key's public half kept elsewhere (an OpenSSH `ssh-ed25519 AAAA...`
    /// line, e.g. a copy of signing_key.pub): verify against it, and fail if the data
    /// directory signs with another key.
    #[arg(long, value_name = "FILE", conflicts_with = "fingerprint")]
    key: Option<PathBuf>,
    /// The audit signing key's fingerprint as `bastion init` printed it (`SHA256:...`): fail if
    /// the data directory signs with another key.
    #[arg(long, value_name = "SHA256:...")]
    fingerprint: Option<String>,
}

/// The ed25519 verifying key inside an OpenSSH public key.
fn verifying_key(key: &PublicKey) -> Result<ed25519_dalek::VerifyingKey> {
    let ed = key
        .key_data()
        .ed25519()
        .context("the audit key must be an ed25519 key")?;
    ed25519_dalek::VerifyingKey::from_bytes(&ed.0).context("not a valid ed25519 public key")
}

/// The first key line of a public key file.
fn read_public_key(path: &Path) -> Result<PublicKey> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .with_context(|| format!("{} holds no public key", path.display()))?;
    keys::parse_public_line(line).with_context(|| format!("reading {}", path.display()))
}

/// The key to verify against: the one given from outside (`--key`, or the data directory's
/// when it matches `--fingerprint`), or the data directory's own; and whether the given one
/// differs from the data directory's (said on stdout).
fn trusted_key(local: &PublicKey, v: &VerifyArgs) -> Result<(PublicKey, bool)> {
    let local_fp = keys::fingerprint(local);
    let mismatch = |given: &str, what: &str| {
        println!(
            "audit key MISMATCH: {what} is {given}, but this data directory signs with {local_fp}: \
             the signing key was replaced (the log may have been rewritten and re-signed), \
             or this is not the bastion that key belongs to"
        );
    };
    Ok(match (&v.key, &v.fingerprint) {
        (Some(file), _) => {
            let given = read_public_key(file)?;
            let differs = given.key_data() != local.key_data();
            if differs {
                let what = format!("the key in {}", file.display());
                mismatch(&keys::fingerprint(&given), &what);
            }
            (given, differs)
        }
        (None, Some(fp)) => {
            let differs = fp.trim() != local_fp;
            if differs {
                mismatch(fp.trim(), "the given fingerprint");
            }
            (local.clone(), differs)
        }
        (None, None) => (local.clone(), false),
    })
}

pub fn run(data: &DataDir, store: &Store, v: &VerifyArgs) -> Result<ExitCode> {
    // The key that really signs is the private one; signing_key.pub is only a copy.
    let local = keys::load_private(&data.signing_key_path())?
        .public_key()
        .clone();
    let (trusted, mut failed) = trusted_key(&local, v)?;
    let vk = verifying_key(&trusted)?;

    // A recording another node wrote is read from shared storage (fetched once, then kept).
    let locate = |recorded: &str| match crate::state::shared_recordings::locate(
        data.settings.shared_recordings.as_ref(),
        &data.recordings_dir(),
        recorded,
    ) {
        Ok(found) => found,
        Err(e) => {
            eprintln!("bastion: fetching {recorded} from shared storage: {e:#}");
            None
        }
    };
    let report = store.verify_all_with(&vk, &locate)?;
    // A chain that fails against a key already known to differ is expected: say so rather
    // than cry tampering.
    let chain_reason = if failed {
        "audit log not signed by the given key"
    } else {
        "audit log TAMPERED"
    };
    for problem in report.problems(chain_reason) {
        println!("{problem}");
        failed = true;
    }
    if failed {
        return Ok(ExitCode::from(1));
    }
    print_verified(&report, &trusted, v);
    Ok(ExitCode::SUCCESS)
}

/// What a clean verification covered: records, seals, the key, command rows, checkpoints.
fn print_verified(report: &store::Verification, trusted: &PublicKey, v: &VerifyArgs) {
    let (n, seals, commands, checkpoints) = (
        report.records,
        &report.seals,
        &report.commands,
        &report.checkpoints,
    );
    println!(
        "audit log ok: {n} records, hash chain and signatures verified; {} sealed recordings match",
        seals.len()
    );
    let whose = match (&v.key, &v.fingerprint) {
        (Some(file), _) => format!("the key in {}", file.display()),
        (None, Some(_)) => "the given fingerprint".to_string(),
        (None, None) => "the data directory's own key (pass --key or --fingerprint to check it against a copy kept elsewhere)".to_string(),
    };
    println!("signed by {}: {whose}", keys::fingerprint(trusted));
    print!(
        "commands: {} rows match their audited hashes",
        commands.hashed
    );
    if commands.predating > 0 {
        print!(
            "; {} command rows predate command hashing (covered by checkpoints only)",
            commands.predating
        );
    }
    println!();
    let head = checkpoints
        .head
        .map_or("no head file yet".to_string(), |h| {
            format!("consistent with the head file (record {h})")
        });
    match checkpoints.last {
        Some((id, records)) => println!(
            "last checkpoint: record {id} (covers records 1..={records}); {} records after it, {head}",
            checkpoints.after
        ),
        None => println!(
            "no checkpoint yet (one every {CHECKPOINT_EVERY} records); {} records, {head}",
            checkpoints.after
        ),
    }
}
