//! `bastion policy check|explain`: validate a policy file; say who may go where and why.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use access::Grant;
use anyhow::{Context, Result};
use chrono::Local;
use clap::Subcommand;
use policies::{format_duration, ChannelKind, PolicySet};

use crate::datadir::DataDir;
use crate::state::load_access;

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Validate a policy file (default: the data directory's); exit 1 with file:line:column.
    Check { file: Option<PathBuf> },
    /// Say whether USER may reach HOST, and which rule decided.
    Explain {
        user: String,
        host: String,
        #[arg(long)]
        login: Option<String>,
        /// Channel to check: shell, exec, sftp, port_forward.
        #[arg(long, default_value = "shell")]
        channel: String,
    },
}

pub fn run(dir: &Path, cmd: PolicyCommand) -> Result<ExitCode> {
    match cmd {
        PolicyCommand::Check { file } => {
            let path = match file {
                Some(f) => f,
                None => DataDir::open_existing(dir)?.policies_path(),
            };
            match PolicySet::load(&path) {
                Ok(p) => {
                    println!("{}: ok ({} roles)", path.display(), p.roles().len());
                    Ok::<_, anyhow::Error>(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("{e}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        PolicyCommand::Explain {
            user,
            host,
            login,
            channel,
        } => {
            let data = DataDir::open_existing(dir)?;
            let access = load_access(&data)?;
            let channel: ChannelKind = channel
                .parse()
                .map_err(|e| anyhow::anyhow!("--channel: {e}"))?;
            let g = access.grant(&user, &host, login.as_deref(), channel, Local::now());
            if g.endpoint.is_none() {
                println!(
                    "denied: unknown host {host} (not in {})",
                    data.inventory_path().display()
                );
                return Ok(ExitCode::SUCCESS);
            }
            println!("{}", explain(&g));
            Ok(ExitCode::SUCCESS)
        }
    }
    .context("policy")
}

/// The verdict, and when allowed: the login, every contributing role, and the merged limits.
fn explain(g: &Grant) -> String {
    if !g.allowed {
        return format!("denied: {}", g.reason);
    }
    let l = &g.limits;
    let dur = |d: Option<std::time::Duration>| d.map(format_duration).unwrap_or("none".into());
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let mut out = format!("allowed: {}", g.reason);
    if let Some(login) = &g.login {
        out.push_str(&format!("\nlogin: {login}"));
    }
    out.push_str(&format!("\nroles: {}", g.roles.join(", ")));
    out.push_str(&format!(
        "\nlimits: deny_commands {}, record_input {}, require_totp {}, max_session {}, idle_timeout {}, hours {}",
        l.deny_commands.len(),
        yes_no(l.record_input),
        yes_no(l.require_totp),
        dur(l.max_session),
        dur(l.idle_timeout),
        if l.hours.is_empty() { "any".to_string() } else { l.hours_text() },
    ));
    for (rule, roles) in l.deny_commands.iter().zip(&l.deny_roles) {
        out.push_str(&format!(
            "\ndeny_command {:?} (role {})",
            rule.as_str(),
            roles.join(", ")
        ));
    }
    out
}
