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
    #[command(after_help = "Example:\n  bastion policy check /etc/bastion/policies.yaml")]
    Check { file: Option<PathBuf> },
    /// Say whether USER may reach HOST, and which rule decided.
    #[command(
        after_help = "Example:\n  bastion policy explain alice db1 --login postgres --channel exec"
    )]
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
            let checked = PolicySet::load(&path).and_then(|p| {
                approvers_known(dir, &path)?;
                Ok(p)
            });
            match checked {
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
            let (data, store) = super::open(dir)?;
            let access = load_access(&data)?;
            let channel: ChannelKind = channel
                .parse()
                .map_err(|e| anyhow::anyhow!("--channel: {e}"))?;
            let held = crate::requests::held(&store, &user);
            let g = access.grant(&user, &host, login.as_deref(), channel, Local::now(), &held);
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

/// With a data directory at hand, every approver named as a plain user must be one of its
/// users (a policy file checked elsewhere, without one, is checked for its grammar only).
fn approvers_known(dir: &Path, path: &Path) -> Result<(), policies::PolicyError> {
    let Ok((_, store)) = super::open(dir) else {
        return Ok(());
    };
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let is_user = |name: &str| matches!(store.user(name), Ok(Some(_)));
    policies::check_approver_users(&text, &path.display().to_string(), &is_user)
}

/// The verdict, and when allowed: the login, every contributing role, and the merged limits.
fn explain(g: &Grant) -> String {
    if !g.allowed {
        let mut out = format!("denied: {}", g.reason);
        if let Some(need) = &g.needs_request {
            out.push_str(&format!(
                "\nask with: ssh bastion request {}@{} --for DURATION{} (at most {}; approvers: {})",
                need.login,
                g.host,
                if need.reason_required { " --reason TEXT" } else { "" },
                format_duration(need.max_duration),
                need.approvers_text()
            ));
        }
        return out;
    }
    let l = &g.limits;
    let dur = |d: Option<std::time::Duration>| d.map(format_duration).unwrap_or("none".into());
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let mut out = format!("allowed: {}", g.reason);
    if let Some(login) = &g.login {
        out.push_str(&format!("\nlogin: {login}"));
    }
    out.push_str(&format!("\nroles: {}", g.roles.join(", ")));
    if let Some(grant) = &g.grant {
        out.push_str(&format!(
            "\nthrough approved request {} until {}",
            grant.id,
            store::format_ts(grant.until as f64)
        ));
    }
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
    for rule in &l.review_commands {
        let approvers: Vec<String> = rule.approvers.iter().map(|a| a.text()).collect();
        out.push_str(&format!(
            "\nreview_command {:?} (approvers {}, timeout {})",
            rule.pattern.as_str(),
            policies::approvers_text(&approvers),
            format_duration(rule.timeout)
        ));
    }
    out
}
