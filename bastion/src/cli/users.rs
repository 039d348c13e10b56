//! `bastion user ...`: create, list, show, disable/enable, remove users; manage keys and TOTP.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Subcommand;
use serde_json::json;

use super::{open, table};
use crate::auth::totp;
use crate::keys;
use store::{format_ts, AdminChange, AuditEvent, Store, UserKey};

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user; prints the TOTP enrolment URI and QR code.
    #[command(after_help = "Example:\n  bastion user add alice --key ~/.ssh/id_ed25519.pub")]
    Add {
        name: String,
        /// Public key file (authorized_keys format; may hold several keys). Repeatable.
        #[arg(long = "key", required = true)]
        keys: Vec<PathBuf>,
        /// No TOTP secret: only roles with `require_totp: false` will let this user in.
        #[arg(long)]
        no_totp: bool,
    },
    /// List users.
    #[command(after_help = "Example:\n  bastion user list --json")]
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one user with keys and roles.
    #[command(after_help = "Example:\n  bastion user show alice")]
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Refuse logins for a user (open sessions continue until they end).
    #[command(after_help = "Example:\n  bastion user disable alice")]
    Disable { name: String },
    /// Allow logins again.
    #[command(after_help = "Example:\n  bastion user enable alice")]
    Enable { name: String },
    /// Delete a user and their keys.
    #[command(after_help = "Example:\n  bastion user rm alice")]
    Rm { name: String },
    /// Add a public key.
    #[command(after_help = "Example:\n  bastion user key-add alice ~/new_key.pub")]
    KeyAdd { name: String, file: PathBuf },
    /// Remove a key by fingerprint (SHA256:..., as `ssh-keygen -l` prints).
    #[command(after_help = "Example:\n  bastion user key-rm alice SHA256:Xb3...")]
    KeyRm { name: String, fingerprint: String },
    /// Issue a new TOTP secret (the old one stops working).
    #[command(after_help = "Example:\n  bastion user totp-reset alice")]
    TotpReset { name: String },
}

fn read_keys(path: &Path) -> Result<Vec<UserKey>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let key = keys::parse_public_line(line)
            .with_context(|| format!("{}:{}: not an OpenSSH public key", path.display(), n + 1))?;
        out.push(UserKey {
            fingerprint: keys::fingerprint(&key),
            public_key: keys::public_line(&key),
            comment: key.comment().to_string(),
        });
    }
    if out.is_empty() {
        anyhow::bail!("{}: no public key found", path.display());
    }
    Ok(out)
}

/// Appends an `admin` audit event for a CLI change (who ran it, what changed).
pub(crate) fn admin(store: &Store, user: &str, change: AdminChange) -> Result<()> {
    let event = AuditEvent::Admin {
        target_user: user.to_string(),
        by: super::operator(),
        change,
    };
    store
        .audit(Some(user), Some("cli"), &event)
        .context("writing the audit record")?;
    Ok(())
}

fn print_enrolment(name: &str, secret: &str) {
    let uri = totp::otpauth_uri(secret, name);
    println!(
        "TOTP enrolment for {name}: scan the QR code or enter the URI in an authenticator app."
    );
    println!("{uri}");
    println!("{}", totp::qr_text(&uri));
}

pub fn run(dir: &Path, cmd: UserCommand) -> Result<ExitCode> {
    let (_data, store) = open(dir)?;
    match cmd {
        UserCommand::Add {
            name,
            keys,
            no_totp,
        } => add(&store, name, keys, no_totp)?,
        UserCommand::List { json } => list(&store, json)?,
        UserCommand::Show { name, json } => show(dir, &store, name, json)?,
        UserCommand::Disable { name } => {
            store.set_disabled(&name, true)?;
            admin(&store, &name, AdminChange::UserDisable)?;
            println!("disabled {name}");
        }
        UserCommand::Enable { name } => {
            store.set_disabled(&name, false)?;
            admin(&store, &name, AdminChange::UserEnable)?;
            println!("enabled {name}");
        }
        UserCommand::Rm { name } => {
            store.remove_user(&name)?;
            admin(&store, &name, AdminChange::UserRm)?;
            println!("removed {name}");
        }
        UserCommand::KeyAdd { name, file } => {
            for k in read_keys(&file)? {
                store.add_key(&name, &k)?;
                let key = k.fingerprint.clone();
                admin(&store, &name, AdminChange::KeyAdd { key })?;
                println!("added {} to {name}", k.fingerprint);
            }
        }
        UserCommand::KeyRm { name, fingerprint } => {
            store.remove_key(&name, &fingerprint)?;
            let key = fingerprint.clone();
            admin(&store, &name, AdminChange::KeyRm { key })?;
            println!("removed {fingerprint} from {name}");
        }
        UserCommand::TotpReset { name } => {
            let secret = totp::new_secret();
            store.set_totp_secret(&name, Some(&secret))?;
            admin(&store, &name, AdminChange::TotpReset)?;
            print_enrolment(&name, &secret);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `user add`: the user, their keys, and (unless `--no-totp`) a TOTP secret to enrol.
fn add(store: &Store, name: String, keys: Vec<PathBuf>, no_totp: bool) -> Result<()> {
    if crate::target::parse_login_name(&name).is_none_or(|l| l.target.is_some()) {
        anyhow::bail!("invalid user name {name:?}: use letters, digits, '-', '_' and '.'");
    }
    let mut all = Vec::new();
    for k in &keys {
        all.extend(read_keys(k)?);
    }
    let secret = (!no_totp).then(totp::new_secret);
    store.add_user(&name, secret.as_deref(), &all)?;
    let keys = all.iter().map(|k| k.fingerprint.clone()).collect();
    let totp = !no_totp;
    admin(store, &name, AdminChange::UserAdd { keys, totp })?;
    println!("created user {name} with {} key(s)", all.len());
    if let Some(s) = secret {
        print_enrolment(&name, &s);
    }
    Ok(())
}

/// `user list`: a table, or one JSON object per line.
fn list(store: &Store, json: bool) -> Result<()> {
    let users = store.users()?;
    if json {
        for u in users {
            let keys = store.user_keys(&u.name)?.len();
            println!(
                "{}",
                json!({"name": u.name, "disabled": u.disabled, "totp": u.totp_secret.is_some(), "keys": keys, "created_at": store::rfc3339(u.created_at)})
            );
        }
    } else {
        let mut rows = Vec::new();
        for u in users {
            let keys = store.user_keys(&u.name)?.len();
            rows.push(vec![
                u.name,
                if u.disabled {
                    "disabled".into()
                } else {
                    "enabled".into()
                },
                if u.totp_secret.is_some() {
                    "yes".into()
                } else {
                    "no".into()
                },
                keys.to_string(),
                format_ts(u.created_at),
            ]);
        }
        table::print(&["USER", "STATE", "TOTP", "KEYS", "CREATED"], &rows);
    }
    Ok(())
}

/// `user show`: one user, their keys and the roles policies.yaml gives them.
fn show(dir: &Path, store: &Store, name: String, json: bool) -> Result<()> {
    let u = store
        .user(&name)?
        .with_context(|| format!("no such user: {name}"))?;
    let keys = store.user_keys(&name)?;
    let data = crate::datadir::DataDir::open_existing(dir)?;
    let roles: Vec<String> = policies::PolicySet::load(&data.policies_path())
        .map(|p| p.roles_of(&name).iter().map(|r| r.name.clone()).collect())
        .unwrap_or_default();
    if json {
        println!(
            "{}",
            json!({"name": u.name, "disabled": u.disabled, "totp": u.totp_secret.is_some(), "roles": roles,
            "keys": keys.iter().map(|k| json!({"fingerprint": k.fingerprint, "key": k.public_key, "comment": k.comment})).collect::<Vec<_>>()})
        );
    } else {
        println!("user:     {}", u.name);
        println!(
            "state:    {}",
            if u.disabled { "disabled" } else { "enabled" }
        );
        println!(
            "totp:     {}",
            if u.totp_secret.is_some() {
                "enrolled"
            } else {
                "none"
            }
        );
        println!(
            "roles:    {}",
            if roles.is_empty() {
                "(none)".into()
            } else {
                roles.join(", ")
            }
        );
        println!("created:  {}", format_ts(u.created_at));
        for k in keys {
            println!("key:      {} {}", k.fingerprint, k.comment);
        }
    }
    Ok(())
}
