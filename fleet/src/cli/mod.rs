//! Command-line parsing and the four commands (`run`, `exec`, `inventory`, `check`).

mod ansible_cfg;
mod configured;
mod extra_vars;
mod prompt;
mod setup;
mod vault_args;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

use ansible_cfg::AnsibleConfig;
use fleet_playbook::{check_playbook, parse_playbook, ParseOptions};

/// Agentless parallel executor for Ansible-syntax playbooks.
#[derive(Parser)]
#[command(
    name = "fleet",
    version = concat!(env!("CARGO_PKG_VERSION"), " (git ", env!("GIT_COMMIT"), ")"),
    about
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a playbook.
    #[command(
        after_help = "Example:\n  fleet run site.yml -i inventory.yml -l web -e env=prod --via alice@bastion:2222"
    )]
    Run {
        /// The playbook file.
        playbook: PathBuf,
        /// Start at the first task whose name matches (a glob; `role : name` too), as after a
        /// run that stopped half-way; earlier tasks and plays are skipped.
        #[arg(long = "start-at-task", value_name = "NAME")]
        start_at_task: Option<String>,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        vault: vault_args::VaultArgs,
    },
    /// Run one module on the hosts matching PATTERN (default module: command).
    #[command(after_help = "Example:\n  fleet exec web -i inventory.yml -m shell -a \"uptime\"")]
    Exec {
        /// Host pattern (`all`, `web*`, `a:&b`, ...).
        pattern: String,
        /// Module name.
        #[arg(short = 'm', long = "module-name", default_value = "command")]
        module: String,
        /// Module arguments (`k=v ...` or the free-form command).
        #[arg(short = 'a', long = "args", default_value = "")]
        args: String,
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        vault: vault_args::VaultArgs,
    },
    /// Show the inventory's hosts, groups and variables.
    #[command(
        after_help = "Examples:\n  fleet inventory -i inventory.yml\n  fleet inventory -i inventory.yml --json\n  fleet inventory -i inventory.yml --graph"
    )]
    Inventory {
        /// Inventory file or directory (else `inventory` of ansible.cfg or ANSIBLE_INVENTORY,
        /// else /etc/ansible/hosts).
        #[arg(short = 'i', long = "inventory")]
        inventory: Option<PathBuf>,
        /// Tree of groups and hosts, like `ansible-inventory --graph`.
        #[arg(long, conflicts_with = "json")]
        graph: bool,
        /// Groups, hosts and variables as JSON, like `ansible-inventory --list`.
        #[arg(long, alias = "list")]
        json: bool,
        /// Variables of one host, as JSON.
        #[arg(long)]
        host: Option<String>,
        #[command(flatten)]
        vault: vault_args::VaultArgs,
    },
    /// Check a playbook's syntax and module arguments without connecting.
    #[command(after_help = "Example:\n  fleet check site.yml")]
    Check {
        /// The playbook file.
        playbook: PathBuf,
        #[command(flatten)]
        vault: vault_args::VaultArgs,
    },
}

/// Options shared by `run` and `exec`.
#[derive(Args, Clone)]
pub struct Common {
    /// Inventory file or directory (else `inventory` of ansible.cfg or ANSIBLE_INVENTORY,
    /// else /etc/ansible/hosts).
    #[arg(short = 'i', long = "inventory")]
    pub inventory: Option<PathBuf>,
    /// Hosts in flight at once (default: `forks` of ansible.cfg or ANSIBLE_FORKS, else 50).
    #[arg(short = 'f', long = "forks")]
    pub forks: Option<usize>,
    /// Further limit the hosts (a host pattern).
    #[arg(short = 'l', long = "limit")]
    pub limit: Option<String>,
    /// Only run tasks with these tags (comma-separated, repeatable).
    #[arg(short = 't', long = "tags", value_delimiter = ',')]
    pub tags: Vec<String>,
    /// Skip tasks with these tags.
    #[arg(long = "skip-tags", value_delimiter = ',')]
    pub skip_tags: Vec<String>,
    /// Report what would change, change nothing.
    #[arg(short = 'C', long = "check")]
    pub check: bool,
    /// Show differences in changed files.
    #[arg(short = 'D', long = "diff")]
    pub diff: bool,
    /// Extra variables: KEY=VALUE pairs, JSON/YAML, or @FILE (repeatable; they win over all).
    #[arg(short = 'e', long = "extra-vars")]
    pub extra_vars: Vec<String>,
    /// Login for hosts without ansible_user (default: `remote_user` of ansible.cfg or
    /// ANSIBLE_REMOTE_USER).
    #[arg(short = 'u', long = "user")]
    pub user: Option<String>,
    /// Private key for hosts without ansible_ssh_private_key_file (default: `private_key_file`
    /// of ansible.cfg or ANSIBLE_PRIVATE_KEY_FILE).
    #[arg(long = "private-key", visible_alias = "key-file")]
    pub private_key: Option<PathBuf>,
    /// Route every connection through the bastion USER@HOST[:PORT] (authorized and audited there).
    #[arg(long = "via")]
    pub via: Option<String>,
    /// Check host keys against known_hosts (default: `host_key_checking` of ansible.cfg or
    /// ANSIBLE_HOST_KEY_CHECKING, else true).
    #[arg(long = "host-key-checking", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub host_key_checking: Option<String>,
    /// Where roles are looked for after `roles/` beside the playbook: Ansible's `roles_path`,
    /// from the configuration (`Common::with_config`).
    #[arg(skip)]
    pub roles_path: Vec<PathBuf>,
    /// Seconds allowed to connect to a host (default: `timeout` of ansible.cfg or
    /// ANSIBLE_TIMEOUT, else 10).
    #[arg(long = "timeout")]
    pub timeout: Option<u64>,
    /// SSH handshakes in flight at once (0: 8 per CPU, at least 16). Hosts past it wait their
    /// turn before their connect timeout starts: a thousand handshakes at once on a few cores
    /// make every one of them slow, and some time out.
    #[arg(long = "connect-limit", default_value_t = 0)]
    pub connect_limit: usize,
    /// Seconds one command may run on a host (0: no limit).
    #[arg(long = "command-timeout", default_value_t = 0)]
    pub command_timeout: u64,
    /// One JSON object per task result, then the recap.
    #[arg(long)]
    pub json: bool,
    /// Ask for the sudo password once, for tasks with `become` (also `ansible_become_password`).
    #[arg(short = 'K', long = "ask-become-pass")]
    pub ask_become_pass: bool,
    /// Show module results (-v); repeat for more.
    #[arg(short = 'v', action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// Runs the command; the value is the process exit status.
pub fn dispatch(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Run {
            playbook,
            start_at_task,
            common,
            vault,
        } => {
            let config = AnsibleConfig::load()?;
            vault.with_config(&config).install()?;
            let common = common.with_config(&config)?;
            setup::run_playbook(&playbook, &common, start_at_task.as_deref())
        }
        Command::Exec {
            pattern,
            module,
            args,
            common,
            vault,
        } => {
            let config = AnsibleConfig::load()?;
            vault.with_config(&config).install()?;
            setup::run_adhoc(&pattern, &module, &args, &common.with_config(&config)?)
        }
        Command::Inventory {
            inventory,
            graph,
            json,
            host,
            vault,
        } => {
            let config = AnsibleConfig::load()?;
            vault.with_config(&config).install()?;
            let inventory = configured::inventory(inventory, &config)?;
            let inv = inventory::Inventory::load(&inventory)
                .with_context(|| format!("loading inventory {}", inventory.display()))?;
            if let Some(h) = host {
                let host = inv
                    .host(&h)
                    .with_context(|| format!("host {h} is not in the inventory"))?;
                println!("{}", serde_json::to_string_pretty(host.vars())?);
            } else if graph {
                print!("{}", inv.graph());
            } else if json {
                println!("{}", serde_json::to_string_pretty(&inv.list_json())?);
            } else {
                print!("{}", inv.list_text());
            }
            Ok(0)
        }
        Command::Check { playbook, vault } => {
            let config = AnsibleConfig::load()?;
            vault.with_config(&config).install()?;
            let options = ParseOptions {
                roles_path: config.roles_path(),
                ..ParseOptions::default()
            };
            let report = check_playbook(&playbook, &options);
            if report.is_ok() {
                println!("{report}");
                Ok(0)
            } else {
                eprint!("{report}");
                Ok(1)
            }
        }
    }
}

/// What `fleet run` parses with: syntax errors stop the run, what Ansible only finds when a
/// task runs (arguments, modules fleet lacks, `become_method`) fails that task when it runs;
/// roles are also looked for in Ansible's `roles_path` (from `common`'s configuration).
pub fn run_parse_options(common: &Common) -> ParseOptions {
    ParseOptions {
        defer_runtime_checks: true,
        roles_path: common.roles_path.clone(),
        ..ParseOptions::default()
    }
}

/// Parses the playbook for a run, with every syntax error (file:line:column) in the message;
/// the extra variables (`-e`) render templated `import_playbook` paths.
pub fn load_playbook(path: &std::path::Path, common: &Common) -> Result<fleet_playbook::Playbook> {
    let options = ParseOptions {
        extra_vars: extra_vars::parse_all(&common.extra_vars)?,
        ..run_parse_options(common)
    };
    parse_playbook(path, &options).map_err(|e| anyhow::anyhow!("{e}"))
}

#[cfg(test)]
mod help_tests {
    use super::Cli;
    use clap::CommandFactory;

    /// Every command shows one example in its `--help`, and `--version` names the commit.
    #[test]
    fn every_command_has_an_example_and_the_version_its_commit() {
        let cli = Cli::command();
        for sub in cli.get_subcommands().filter(|s| s.get_name() != "help") {
            let help = sub
                .get_after_help()
                .map(|h| h.to_string())
                .unwrap_or_default();
            let example = format!(":\n  fleet {}", sub.get_name());
            assert!(
                help.starts_with("Example") && help.contains(&example),
                "no example in `fleet {} --help`",
                sub.get_name()
            );
        }
        assert!(cli.render_version().contains("(git "));
    }
}
