//! `bastion`: an audited SSH jump server. This file is the binary edge: argument parsing and
//! dispatch; each command lives in `cli/`, the server in `server/` and `session/`.

mod auth;
mod cli;
mod datadir;
mod faults;
mod host_cert;
mod keys;
mod locks;
mod metrics;
mod requests;
mod server;
mod session;
mod settings;
mod state;

use bastion::target;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use requests::decide::Answer;

/// Audited SSH bastion: key + TOTP logins, role policies, recorded sessions.
#[derive(Parser)]
#[command(
    name = "bastion",
    version = concat!(env!("CARGO_PKG_VERSION"), " (git ", env!("GIT_COMMIT"), ")"),
    about
)]
struct Cli {
    /// Data directory (settings, keys, database, inventory, policies, recordings).
    #[arg(
        long,
        global = true,
        env = "BASTION_DATA",
        default_value = "./bastion-data"
    )]
    data_dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the SSH server (initialises the data directory on first start).
    #[command(
        after_help = "Example:\n  bastion serve --listen 0.0.0.0:2222 --web-listen 127.0.0.1:8443"
    )]
    Serve {
        /// Listen address, overriding bastion.toml (e.g. 0.0.0.0:2222).
        #[arg(long)]
        listen: Option<String>,
        /// The web console's listen address, overriding `[web] listen` (e.g. 127.0.0.1:8443).
        #[arg(long)]
        web_listen: Option<String>,
    },
    /// Initialise the data directory without serving.
    #[command(after_help = "Example:\n  bastion init --data-dir /var/lib/bastion")]
    Init,
    /// Print the public key the bastion uses to log in to targets (authorized_keys format).
    #[command(
        after_help = "Example:\n  bastion key >> /root/.ssh/authorized_keys   # on each target"
    )]
    Key,
    /// Manage users.
    #[command(subcommand)]
    User(cli::users::UserCommand),
    /// List inventory hosts, or those a user may reach.
    #[command(after_help = "Example:\n  bastion hosts --user alice --json")]
    Hosts {
        #[arg(long)]
        user: Option<String>,
        /// Forget HOST's pinned target host key (after an intended re-key); the next
        /// connection pins the key it is offered.
        #[arg(long, value_name = "HOST", conflicts_with = "user")]
        forget_key: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Check or explain policies.
    #[command(subcommand)]
    Policy(cli::policy::PolicyCommand),
    /// List sessions.
    #[command(after_help = "Example:\n  bastion sessions --active --user alice --since 2h")]
    Sessions(cli::sessions::SessionsArgs),
    /// Search the command log.
    #[command(
        after_help = "Example:\n  bastion commands --grep \"rm -rf\" --host web1 --since 7d"
    )]
    Commands(cli::commands::CommandsArgs),
    /// Play a session's recording in the terminal (space pauses, +/- speed, q quits).
    #[command(after_help = "Example:\n  bastion replay 42 --speed 2 --at-command 3")]
    Replay(cli::replay::ReplayArgs),
    /// Write a session's asciicast v2 recording.
    #[command(
        after_help = "Example:\n  bastion export 42 -o session-42.cast && asciinema play session-42.cast"
    )]
    Export {
        id: i64,
        /// Output file (default: standard output).
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
    },
    /// Totals per user and host: sessions, time, commands, blocked commands, denials, failed logins.
    #[command(after_help = "Example:\n  bastion report --since 30d --json")]
    Report(cli::report::ReportArgs),
    /// Follow a live session read-only (through the running server).
    #[command(after_help = "Example:\n  bastion watch 42")]
    Watch { id: i64 },
    /// Terminate a live session, with a message to its user (audited).
    #[command(after_help = "Example:\n  bastion kill 42")]
    Kill { id: i64 },
    /// Show or verify the audit log.
    #[command(
        after_help = "Example:\n  bastion audit --since 1d --json   (bastion audit verify, bastion audit --follow --json)"
    )]
    Audit(cli::audit::AuditArgs),
    /// List access requests and held command lines (`--pending`: those waiting).
    #[command(after_help = "Example:\n  bastion requests --pending --json")]
    Requests(cli::requests::RequestsArgs),
    /// Approve a request (as an administrator), e.g. `bastion approve 12 --for 1h`.
    #[command(after_help = "Example:\n  bastion approve 12 --for 1h")]
    Approve {
        id: i64,
        /// Grant less time than asked for (e.g. 30m).
        #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration_arg)]
        duration: Option<std::time::Duration>,
    },
    /// Deny a request, e.g. `bastion deny 12 --reason "not during the freeze"`.
    #[command(after_help = "Example:\n  bastion deny 12 --reason \"not during the freeze\"")]
    Deny {
        id: i64,
        #[arg(long)]
        reason: String,
    },
    /// End an approved grant now; sessions under it end with a message, e.g. `bastion revoke 12`.
    #[command(after_help = "Example:\n  bastion revoke 12")]
    Revoke { id: i64 },
    /// Print the known_hosts lines users need: the bastion's host key, and the host CA for
    /// inventory hosts reached through it with `ssh -J`.
    #[command(
        after_help = "Example:\n  bastion known-hosts --name bastion.example.com --port 2222 >> ~/.ssh/known_hosts"
    )]
    KnownHosts(cli::known_hosts::KnownHostsArgs),
    /// Copy the embedded store (bastion.db) into an empty PostgreSQL database, audit chain
    /// intact and verified on the copy; then set `[store] url` in bastion.toml. Stop the
    /// bastion first.
    #[command(
        after_help = "Example:\n  bastion migrate --to postgres://bastion:PASSWORD@db.example.com/bastion"
    )]
    Migrate {
        /// The destination database's URL.
        #[arg(long, value_name = "URL")]
        to: String,
    },
}

fn parse_duration_arg(s: &str) -> Result<std::time::Duration, String> {
    policies::parse_duration(s)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve { .. }) {
        restore_sigpipe();
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("bastion: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Admin commands end quietly when what reads their output goes away (`bastion audit | head`),
/// as Unix tools do, instead of panicking on a broken pipe: the default action of SIGPIPE,
/// which Rust's runtime sets to ignored. Not for `serve`, whose sockets must see the error.
/// Written against libc because std has no stable way to choose (`-Zon-broken-pipe` is
/// unstable).
fn restore_sigpipe() {
    // SAFETY: installing the default disposition for one signal, before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let dir = &cli.data_dir;
    match cli.command {
        Command::Serve { listen, web_listen } => {
            let first_start = !dir.join("signing_key").exists();
            let data = datadir::DataDir::open_or_init(dir)?;
            if first_start {
                tracing::info!(
                    "audit signing key fingerprint: {} (keep it elsewhere: `bastion audit verify --fingerprint` checks against it)",
                    keys::audit_fingerprint(&data.signing_key_path())?
                );
            }
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(server::serve(data, listen, web_listen))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Init => {
            let data = datadir::DataDir::open_or_init(dir)?;
            data.open_store(None)?;
            println!("initialised {}", data.root.display());
            println!(
                "audit signing key fingerprint: {}",
                keys::audit_fingerprint(&data.signing_key_path())?
            );
            println!("keep it (or a copy of signing_key.pub) off this machine: `bastion audit verify --fingerprint` (or `--key FILE`) checks the log against it");
            Ok(ExitCode::SUCCESS)
        }
        Command::Key => {
            let data = datadir::DataDir::open_existing(dir)?;
            let key = keys::load_private(&data.client_key_path())?;
            println!("{}", key.public_key().to_openssh()?);
            Ok(ExitCode::SUCCESS)
        }
        Command::User(c) => cli::users::run(dir, c),
        Command::Hosts {
            json,
            forget_key: Some(host),
            ..
        } => cli::hosts::forget_key(dir, &host, json),
        Command::Hosts {
            user,
            json,
            forget_key: None,
        } => cli::hosts::run(dir, user.as_deref(), json),
        Command::Policy(c) => cli::policy::run(dir, c),
        Command::Sessions(a) => cli::sessions::run(dir, a),
        Command::Commands(a) => cli::commands::run(dir, a),
        Command::Replay(a) => cli::replay::run(dir, a),
        Command::Report(a) => cli::report::run(dir, a),
        Command::Watch { id } => cli::live::watch(dir, id),
        Command::Kill { id } => cli::live::kill(dir, id),
        Command::Export { id, output } => cli::sessions::export(dir, id, output.as_deref()),
        Command::Audit(a) => cli::audit::run(dir, a),
        Command::KnownHosts(a) => cli::known_hosts::run(dir, a),
        Command::Requests(a) => cli::requests::list(dir, a),
        Command::Approve { id, duration } => {
            cli::requests::decide_as_operator(dir, id, Answer::Approve { duration })
        }
        Command::Deny { id, reason } => {
            cli::requests::decide_as_operator(dir, id, Answer::Deny { reason })
        }
        Command::Revoke { id } => cli::requests::revoke(dir, id),
        Command::Migrate { to } => cli::migrate::run(dir, &to),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every command a user can run shows one example in its `--help`, starting with its own
    /// words (`bastion user add ...`), and `--version` names the commit.
    #[test]
    fn every_command_has_an_example_and_the_version_its_commit() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                let here = format!("{path} {}", sub.get_name());
                if sub.has_subcommands() && sub.get_after_help().is_none() {
                    walk(sub, &here, missing);
                    continue;
                }
                let help = sub
                    .get_after_help()
                    .map(|h| h.to_string())
                    .unwrap_or_default();
                if !help.contains(&format!("Example:\n  {here}")) {
                    missing.push(here);
                }
            }
        }
        let mut missing = Vec::new();
        walk(&super::Cli::command(), "bastion", &mut missing);
        assert!(missing.is_empty(), "no example in --help of: {missing:?}");
        let version = super::Cli::command().render_version();
        assert!(version.contains("(git "), "{version}");
    }
}
