//! Issue 18 item 6: `fleet run --via` against a direct `fleet run`, the same playbook on the same
//! targets in the same run. The playbook is small on purpose (4 tasks on 3 hosts): the figure
//! is what the route through the bastion adds per task — one exec channel, the bastion's
//! access decision, audit and command log — not what the tasks cost. Runs alternate between
//! the two routes so machine noise hits both alike; the medians are compared.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::report::Row;
use crate::stats::median;
use crate::world::World;

/// Options of `bench fleet-via`.
#[derive(clap::Args)]
pub struct Args {
    /// The fleet binary (default: `fleet` next to this executable).
    #[arg(long)]
    fleet: Option<PathBuf>,
    /// Runs per route.
    #[arg(long, default_value_t = 7)]
    runs: usize,
    /// Target hosts.
    #[arg(long, default_value_t = 3)]
    hosts: usize,
}

/// The four tasks: a command, a file, a copy and a shell pipeline, as a deploy would run.
const PLAYBOOK: &str = "- hosts: all\n  gather_facts: false\n  tasks:\n    \
    - name: who\n      command: id -un\n    \
    - name: work dir\n      file: path=/tmp/fleet-via-bench state=directory\n    \
    - name: marker\n      copy:\n        content: \"{{ inventory_hostname }}\\n\"\n        dest: /tmp/fleet-via-bench/{{ inventory_hostname }}.txt\n    \
    - name: count\n      shell: ls /tmp/fleet-via-bench | wc -l\n";

/// Runs the comparison and returns its rows.
pub fn run(bastion: &str, args: &Args) -> Result<Vec<Row>> {
    let fleet = match &args.fleet {
        Some(p) => p.clone(),
        None => std::env::current_exe()?.with_file_name("fleet"),
    };
    anyhow::ensure!(
        fleet.exists(),
        "no fleet binary at {} (cargo build --release -p fleet, or --fleet PATH)",
        fleet.display()
    );
    let mut world = World::new(bastion, args.hosts, "")?;
    world.serve();
    let scratch = tempfile::Builder::new().prefix("bench-via-").tempdir()?;
    let home = scratch.path();
    write_home(&world, home)?;
    let via = format!("bench@127.0.0.1:{}", world.home.port());
    let mut direct = Vec::new();
    let mut through = Vec::new();
    for round in 0..args.runs {
        // Alternate which route goes first, so neither always runs on a warmer machine.
        let order = if round % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        for use_via in order {
            let took = fleet_run(&fleet, home, &world.key.private, use_via.then_some(&via))?;
            eprintln!(
                "fleet-via: round {round} {} {:.0} ms",
                if use_via { "via" } else { "direct" },
                took.as_secs_f64() * 1000.0
            );
            if use_via { &mut through } else { &mut direct }.push(took.as_secs_f64() * 1000.0);
        }
    }
    let (d, v) = (median(&direct), median(&through));
    let what = format!("fleet run, 4 tasks on {} hosts", args.hosts);
    Ok(vec![
        Row::new("18.6 via", format!("{what}, direct"), d, "ms"),
        Row::new("18.6 via", format!("{what}, --via bastion"), v, "ms")
            .vs("direct", d)
            .goal("<= 1.3x direct"),
    ])
}

/// `HOME` for fleet: known_hosts naming the targets and the bastion, and the inventory and
/// playbook. The inventory names hosts as the bastion does (`t0`...), with their addresses for
/// the direct route (through the bastion, fleet sends the name and the bastion picks the address).
fn write_home(world: &World, home: &Path) -> Result<()> {
    let ssh = home.join(".ssh");
    std::fs::create_dir_all(&ssh)?;
    let host_key = Command::new("ssh-keygen")
        .arg("-y")
        .arg("-f")
        .arg(world.home.data_dir().join("host_key"))
        .output()
        .context("ssh-keygen -y")?;
    let mut known = format!(
        "[127.0.0.1]:{} {}",
        world.home.port(),
        String::from_utf8_lossy(&host_key.stdout)
    );
    let mut inventory = String::from("[all]\n");
    for (i, t) in world.targets.iter().enumerate() {
        let _ = writeln!(known, "{}", t.known_hosts_line());
        let _ = writeln!(
            inventory,
            "t{i} ansible_host={} ansible_port={} ansible_user=root",
            t.addr(),
            t.port()
        );
    }
    std::fs::write(ssh.join("known_hosts"), known)?;
    std::fs::write(home.join("inventory.ini"), inventory)?;
    std::fs::write(home.join("site.yml"), PLAYBOOK)?;
    Ok(())
}

/// One `fleet run`, timed; fails unless every host is ok.
fn fleet_run(fleet: &Path, home: &Path, key: &Path, via: Option<&String>) -> Result<Duration> {
    let mut cmd = Command::new(fleet);
    cmd.arg("run")
        .arg(home.join("site.yml"))
        .arg("-i")
        .arg(home.join("inventory.ini"))
        .arg("--private-key")
        .arg(key)
        .env("HOME", home)
        .env_remove("SSH_AUTH_SOCK");
    if let Some(via) = via {
        cmd.args(["--via", via]);
    }
    let started = Instant::now();
    let out = cmd.output().context("run fleet")?;
    let took = started.elapsed();
    if !out.status.success() {
        bail!(
            "fleet run{} failed: {}\n{}",
            if via.is_some() { " --via" } else { "" },
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(took)
}
