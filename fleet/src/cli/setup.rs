//! Turning command-line options into a run: inventory, connector (direct or `--via`), reporter,
//! Ctrl-C handling, and the exit status.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::Value;
use tokio::sync::Semaphore;

use fleet_executor::connection::{known_hosts, BastionLink, CodeSource, ConnectOptions};
use fleet_executor::output::{
    AdhocOptions, AdhocReporter, JsonReporter, Reporter, TextOptions, TextReporter,
};
use fleet_executor::{run_playbook as execute, Connector, Run, RunOptions};
use fleet_modules::remote::StopSignal;
use fleet_templates::Templar;

use super::{extra_vars, Common};

fn host_key_checking(common: &Common) -> Result<bool> {
    match common.host_key_checking.as_deref() {
        None => Ok(true),
        Some(text) => match fleet_templates::boolean::parse_str(text) {
            Some(b) => Ok(b),
            None => bail!(
                "--host-key-checking: expected true or false, got {:?}",
                text.to_lowercase()
            ),
        },
    }
}

/// `USER@HOST[:PORT]`.
fn parse_via(text: &str) -> Result<(String, String, u16)> {
    let Some((user, rest)) = text.split_once('@') else {
        bail!("--via {text:?}: expected USER@BASTION[:PORT]");
    };
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => (
            h,
            p.parse()
                .with_context(|| format!("--via {text:?}: bad port"))?,
        ),
        None => (rest, 22),
    };
    if user.is_empty() || host.is_empty() {
        bail!("--via {text:?}: expected USER@BASTION[:PORT]");
    }
    Ok((user.to_string(), host.to_string(), port))
}

/// The connector of a run; `local_dir` is the playbook's directory (see
/// [`Connector::local_dir`]).
async fn connector(common: &Common, stop: StopSignal, local_dir: PathBuf) -> Result<Connector> {
    let checking = host_key_checking(common)?;
    let via = match &common.via {
        None => None,
        Some(text) => {
            let (user, host, port) = parse_via(text)?;
            let mut opts = ConnectOptions::new(host, user);
            opts.port = port;
            opts.private_key = common.private_key.clone();
            opts.host_key_checking = checking;
            opts.connect_timeout = Duration::from_secs(common.timeout());
            opts.stop = Some(stop.clone());
            let link = BastionLink::connect(&opts, CodeSource::Prompt)
                .await
                .map_err(|e| anyhow::anyhow!("bastion {text}: {e}"))?;
            Some(link)
        }
    };
    Ok(Connector {
        default_user: common.user.clone(),
        private_key: common.private_key.clone(),
        host_key_checking: checking,
        known_hosts: known_hosts::default_files(),
        connect_timeout: Duration::from_secs(common.timeout()),
        command_timeout: (common.command_timeout > 0)
            .then(|| Duration::from_secs(common.command_timeout)),
        stop: Some(stop),
        via,
        handshakes: Arc::new(Semaphore::new(connect_limit(common.connect_limit))),
        local_dir,
    })
}

/// `--connect-limit`, or 8 handshakes per CPU (at least 16) when it is 0: enough to keep every
/// core busy while others wait on the network, few enough that each handshake ends quickly.
fn connect_limit(asked: usize) -> usize {
    if asked > 0 {
        return asked;
    }
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
    (8 * cpus).max(16)
}

/// How results are shown: ansible-playbook's layout (or `ansible`'s for `exec`), JSON lines
/// with `--json`; colours and the progress line only on a terminal.
fn reporter(common: &Common, adhoc: bool) -> Box<dyn Reporter> {
    use std::io::IsTerminal;
    let stdout = std::io::stdout();
    if common.json {
        return Box::new(JsonReporter::new(stdout));
    }
    let tty = stdout.is_terminal();
    let color = tty && std::env::var_os("NO_COLOR").is_none();
    if adhoc {
        return Box::new(AdhocReporter::new(
            stdout,
            AdhocOptions {
                color,
                verbose: common.verbose,
                diff: common.diff,
            },
        ));
    }
    let width = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|_| tty)
        .unwrap_or(80);
    let text = TextReporter::new(
        stdout,
        TextOptions {
            color,
            verbose: common.verbose,
            diff: common.diff,
            progress: tty,
            width,
        },
    )
    .warnings_to(Box::new(std::io::stderr()));
    Box::new(text)
}

/// `-K`: the sudo password, read once from the terminal without echo.
fn become_password(common: &Common) -> Result<Option<String>> {
    if !common.ask_become_pass {
        return Ok(None);
    }
    super::prompt::ask("BECOME password: ", false)
        .context("-K needs a terminal to ask on")
        .map(Some)
}

fn options(common: &Common) -> Result<RunOptions> {
    Ok(RunOptions {
        forks: common.forks(),
        check: common.check,
        diff: common.diff,
        tags: common.tags.clone(),
        skip_tags: common.skip_tags.clone(),
        verbosity: common.verbose,
        become_password: become_password(common)?,
    })
}

/// `fleet run`; `start_at` is `--start-at-task`.
pub fn run_playbook(path: &Path, common: &Common, start_at: Option<&str>) -> Result<i32> {
    let mut playbook = super::load_playbook(path, common)?;
    let extra = super::extra_vars::parse_all(&common.extra_vars)?;
    super::prompt::answer_vars_prompts(&mut playbook, &extra)?;
    run_parsed(playbook, Some(path), common, false, start_at)
}

/// Ansible reads `group_vars/` and `host_vars/` next to the playbook as well as next to the
/// inventory, the playbook's winning; the same directory is read once.
fn playbook_vars_dirs(
    inv: &mut inventory::Inventory,
    playbook: &Path,
    inventory: &Path,
) -> Result<()> {
    let dir_of = |p: &Path| -> std::path::PathBuf {
        let dir = if p.is_dir() {
            p.to_path_buf()
        } else {
            p.parent()
                .filter(|d| !d.as_os_str().is_empty())
                .map_or_else(|| Path::new(".").to_path_buf(), Path::to_path_buf)
        };
        dir.canonicalize().unwrap_or(dir)
    };
    let playbook_dir = dir_of(playbook);
    if playbook_dir != dir_of(inventory) {
        inv.load_vars_dirs(&playbook_dir)
            .with_context(|| format!("loading variables next to {}", playbook.display()))?;
    }
    Ok(())
}

/// Runs `playbook` over the inventory, with the variable directories next to `playbook_file`
/// when there is one (an ad-hoc run has none).
fn run_parsed(
    playbook: fleet_playbook::Playbook,
    playbook_file: Option<&Path>,
    common: &Common,
    adhoc: bool,
    start_at: Option<&str>,
) -> Result<i32> {
    let start_at = fleet_executor::StartAt::new(start_at)
        .context("--start-at-task is not a pattern Python's fnmatch accepts")?;
    let inventory_path = common.inventory_path();
    let mut inv =
        if super::configured::is_default_inventory(inventory_path) && !inventory_path.exists() {
            // no inventory named anywhere and none at the default path: Ansible goes on with its
            // implicit localhost alone (one that was named but is missing stays an error)
            eprintln!("[WARNING]: No inventory was parsed, only implicit localhost is available");
            inventory::Inventory::new()
        } else {
            inventory::Inventory::load(inventory_path)
                .with_context(|| format!("loading inventory {}", inventory_path.display()))?
        };
    if let Some(path) = playbook_file {
        playbook_vars_dirs(&mut inv, path, inventory_path)?;
    }
    // Ansible's implicit localhost (a play or a delegate may name it unlisted), with the
    // controller's Python as Ansible gives it its own
    let python = fleet_templates::controller_python::from_env();
    let mut implicit = inventory::Vars::new();
    implicit.insert(
        "ansible_python_interpreter".into(),
        python.to_string_lossy().into_owned().into(),
    );
    inv.add_implicit_localhost(implicit);
    let extra = extra_vars::parse_all(&common.extra_vars)?;
    let local_dir = playbook_file
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let (stop_all, stop) = tokio::sync::watch::channel(false);
        let run = Arc::new(Run {
            templar: Templar::new(),
            connector: connector(common, stop, local_dir).await?,
            options: options(common)?,
            reporter: Mutex::new(reporter(common, adhoc)),
            parse_options: super::run_parse_options(common),
            stop: stop_all,
            ansible: Default::default(),
            dynamic: Default::default(),
            start_at,
        });
        let watcher = run.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                // Running commands end on their hosts; the run stops after them with a recap.
                watcher.interrupt();
                eprintln!("\n[ERROR]: User interrupted execution");
            }
        });
        let summary = execute(
            &run,
            &playbook,
            &inv,
            inventory_path,
            common.limit.as_deref(),
            extra,
        )
        .await?;
        if run.interrupted() {
            return Ok(99);
        }
        if let Some(name) = run.start_at.never_found() {
            eprintln!(
                "[ERROR]: No matching task \"{name}\" found. Note: --start-at-task can only \
                 follow static includes."
            );
        }
        Ok(summary.exit_code)
    })
}

/// `fleet exec`: one task on the matching hosts, written as a one-play playbook.
pub fn run_adhoc(pattern: &str, module: &str, args: &str, common: &Common) -> Result<i32> {
    let mut task = serde_json::Map::new();
    task.insert("name".into(), Value::String(module.to_string()));
    task.insert(module.to_string(), Value::String(args.to_string()));
    let play = serde_json::json!([{"hosts": pattern, "gather_facts": false, "tasks": [task]}]);
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("adhoc.yml");
    std::fs::write(&file, serde_json::to_string_pretty(&play)?)?;
    let mut playbook = super::load_playbook(&file, common)?;
    let cwd = std::env::current_dir()?;
    for p in &mut playbook.plays {
        p.base_dir = cwd.clone();
    }
    run_parsed(playbook, None, common, true, None)
}
