//! `bench`: the Rust-side benchmarks of issue 5, run by `bench/run.sh`.
//!
//! Each subcommand sets up its own world (real `sshd` targets, a bastion on a temporary data
//! directory), measures the bastion and a same-run reference interleaved, prints progress on
//! stderr and one JSON object `{"rows": [...]}` on stdout (see [`report`]). Nothing here is a
//! pass/fail threshold: the goals are printed next to the figures.

mod appends;
mod client;
mod commands;
mod commands_gen;
mod console;
mod console_load;
mod engine;
mod fleet_via;
mod latency;
mod logins;
mod replay;
mod report;
mod sessions;
mod stats;
mod world;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "bastion benchmarks (issue 5); see bench/run.sh")]
struct Cli {
    /// The bastion binary (default: `bastion` next to this executable).
    #[arg(long, global = true)]
    bastion: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Keystroke round trip through a PTY (`ssh -tt`), direct vs through the bastion.
    Latency(latency::Args),
    /// N concurrent interactive sessions through one bastion: RSS per session, echo latency.
    Sessions(sessions::Args),
    /// Logins per second (key + TOTP) vs plain sshd logins, and where the time goes (perf).
    Logins(logins::Args),
    /// `bastion commands --grep` over a generated command log.
    Commands(commands::Args),
    /// Command-log appends per second, PostgreSQL vs SQLite (issue 19).
    Appends(appends::Args),
    /// The web console's server time with 1M sessions and commands.
    Console(console::Args),
    /// Keystroke latency with 200 sessions open, with and without 100 console users browsing.
    ConsoleLoad(console_load::Args),
    /// Time until a 50 MiB recording starts playing in the console (headless Chromium).
    Replay(replay::Args),
    /// `fleet run --via` through the bastion vs a direct `fleet run` (issue 18 item 6).
    FleetVia(fleet_via::Args),
    /// Copies stdin to HOST:PORT and back (the `ProxyCommand` of `bench latency`'s relay
    /// path: what an extra client-side process costs a keystroke, without any SSH).
    #[command(hide = true)]
    Relay { host: String, port: u16 },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    if let Cmd::Relay { host, port } = &cli.cmd {
        return latency::relay(host, *port);
    }
    let bastion = match cli.bastion {
        Some(p) => p,
        None => std::env::current_exe()?.with_file_name("bastion"),
    };
    anyhow::ensure!(
        bastion.exists(),
        "no bastion binary at {} (cargo build --release -p bastion, or --bastion PATH)",
        bastion.display()
    );
    let bastion = bastion.to_string_lossy().into_owned();
    let rows = match cli.cmd {
        Cmd::Latency(a) => latency::run(&bastion, &a)?,
        Cmd::Sessions(a) => sessions::run(&bastion, &a)?,
        Cmd::Logins(a) => logins::run(&bastion, &a)?,
        Cmd::Commands(a) => commands::run(&bastion, &a)?,
        Cmd::Appends(a) => appends::run(&bastion, &a)?,
        Cmd::Console(a) => console::run(&bastion, &a)?,
        Cmd::Replay(a) => replay::run(&bastion, &a)?,
        Cmd::ConsoleLoad(a) => console_load::run(&bastion, &a)?,
        Cmd::FleetVia(a) => fleet_via::run(&bastion, &a)?,
        Cmd::Relay { .. } => unreachable!("handled above"),
    };
    report::print(&rows);
    Ok(())
}
