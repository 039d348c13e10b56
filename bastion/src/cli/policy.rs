//! `bastion policy check|explain`: validate a policy file; say who may go where and why.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono::Local;
use clap::Subcommand;
use policies::{AccessRequest, ChannelKind, PolicySet};

use crate::datadir::DataDir;

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
        /// Channel to check: shell, exec, sftp, port_forward, agent_forward.
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
            let access = crate::state::Access::load(&data)?;
            let channel: ChannelKind = channel
                .parse()
                .map_err(|e| anyhow::anyhow!("--channel: {e}"))?;
            let Some(h) = access.inventory.host(&host) else {
                println!(
                    "denied: unknown host {host} (not in {})",
                    data.inventory_path().display()
                );
                return Ok(ExitCode::SUCCESS);
            };
            let groups = h.groups().to_vec();
            let d = access.policies.decide(&AccessRequest {
                user: &user,
                host: &h.name,
                groups: &groups,
                login: login.as_deref(),
                channel,
                at: Local::now(),
            });
            let verdict = if d.allowed { "allowed" } else { "denied" };
            let mut line = format!("{verdict}: {}", d.reason);
            if d.allowed {
                if let Some(l) = &d.login {
                    line.push_str(&format!("\nlogin: {l}"));
                }
            }
            println!("{line}");
            Ok(ExitCode::SUCCESS)
        }
    }
    .context("policy")
}
