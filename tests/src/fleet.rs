//! A lab for the `fleet` binary: real sshd targets, an Ansible inventory naming them, and the
//! reference `ansible-playbook` (from PyPI, in a virtualenv under the workspace's `target/`).
//!
//! Every target is this machine, so playbooks write under `/tmp/fleet-samples/<host>/`. Each
//! lab gives its hosts unique names (`f1a2b3-h1`, ...) so parallel labs never share a path;
//! [`FleetLab::normalize`] maps them back to `lab-h1`, ... so two labs' results compare.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

use tempfile::TempDir;

use crate::proc::{run, Outcome};
use crate::sshd::{KeyPair, TargetSshd};

/// The ansible-core release the comparisons are made against (a pip requirement).
pub const ANSIBLE_PIN: &str = "ansible-core==2.19.*";

/// Where the sample playbooks write: `/tmp/fleet-samples/<inventory_hostname>/`.
pub const SAMPLES_ROOT: &str = "/tmp/fleet-samples";

/// How long one playbook run may take before the test fails.
const RUN_TIMEOUT: Duration = Duration::from_secs(300);

/// How many playbook runs the tests of one binary make at once (the machine is small, and
/// ansible-playbook with a few forks keeps a core busy).
const RUN_SLOTS: usize = 2;

static NEXT_LAB: AtomicU32 = AtomicU32::new(0);

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The shared sample playbooks (`../shared/fleet-samples` beside the workspace); panics with
/// a clear message if they are absent.
pub fn samples_dir() -> PathBuf {
    let dir = workspace_root().join("../shared/fleet-samples");
    assert!(
        dir.join("basic.yml").is_file(),
        "sample playbooks not found at {} (expected ../shared/fleet-samples beside the workspace)",
        dir.display()
    );
    dir.canonicalize().expect("canonicalize samples dir")
}

/// Our own playbooks for the comparisons (`tests/fixtures/fleet`).
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fleet")
}

/// N real sshd targets with an inventory, a known_hosts file and a client key for them.
pub struct FleetLab {
    dir: TempDir,
    prefix: String,
    hosts: Vec<(String, TargetSshd)>,
    key: KeyPair,
    fleet_bin: PathBuf,
    /// Environment both tools run with (after the inherited `ANSIBLE_*` are removed).
    env: Vec<(String, String)>,
}

/// sshd_config lines for fleet lab targets. Bash sources root's `~/.bashrc` for ssh commands
/// unless SHLVL > 1; on a developer machine that file may print (pyenv's rehash races between
/// hosts and says so), which `raw` and `command` results of both tools would then carry. The
/// comparison is of the tools, not of this machine's dotfiles.
const TARGET_CONFIG: &str = "SetEnv SHLVL=5\n";

impl FleetLab {
    /// Starts `n` targets (group `targets`, login `root` with a fresh key) and writes
    /// `inventory.yml`, `.ssh/known_hosts` and `ansible.cfg` into a temp dir. The fleet
    /// binary defaults to `$FLEET_BIN`, else the workspace's `target/debug/fleet`.
    pub fn new(n: usize) -> FleetLab {
        let dir = tempfile::Builder::new()
            .prefix("fleetlab-")
            .tempdir()
            .expect("tempdir");
        let key = KeyPair::generate(dir.path(), "id_ed25519");
        let prefix = format!(
            "f{:x}{}-",
            std::process::id() & 0xfffff,
            NEXT_LAB.fetch_add(1, Ordering::Relaxed)
        );
        let hosts: Vec<(String, TargetSshd)> = (1..=n)
            .map(|i| {
                let name = format!("{prefix}h{i}");
                let target =
                    TargetSshd::start_with(std::slice::from_ref(&key.public_line), TARGET_CONFIG);
                (name, target)
            })
            .collect();
        let fleet_bin = std::env::var_os("FLEET_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace_root().join("target/debug/fleet"));
        let lab = FleetLab {
            dir,
            prefix,
            hosts,
            key,
            fleet_bin,
            env: Vec::new(),
        };
        lab.clean_targets();
        lab.write_files();
        lab
    }

    /// Runs both tools with `key=value` in their environment (`ANSIBLE_COLLECTIONS_PATH`...).
    pub fn with_env(mut self, key: &str, value: impl Into<String>) -> FleetLab {
        self.env.push((key.to_string(), value.into()));
        self
    }

    /// Uses `bin` as the fleet binary (tests pass `env!("CARGO_BIN_EXE_fleet")`).
    pub fn with_fleet_bin(mut self, bin: impl Into<PathBuf>) -> FleetLab {
        self.fleet_bin = bin.into();
        self
    }

    fn write_files(&self) {
        let ssh = self.dir.path().join(".ssh");
        fs::create_dir_all(&ssh).expect("mkdir .ssh");
        fs::set_permissions(&ssh, fs::Permissions::from_mode(0o700)).expect("chmod .ssh");
        let known: String = self
            .hosts
            .iter()
            .map(|(_, t)| t.known_hosts_line() + "\n")
            .collect();
        fs::write(self.known_hosts(), known).expect("write known_hosts");
        fs::write(self.inventory(), self.inventory_yaml()).expect("write inventory");
        fs::write(self.ansible_cfg(), self.ansible_cfg_text()).expect("write ansible.cfg");
    }

    /// Inventory YAML: every host in group `targets`, with address, port, user and key.
    pub fn inventory_yaml(&self) -> String {
        let mut out = String::from("all:\n  children:\n    targets:\n      hosts:\n");
        for (name, t) in &self.hosts {
            out.push_str(&format!(
                "        {name}:\n          ansible_host: {}\n          ansible_port: {}\n          \
                 ansible_user: root\n          ansible_ssh_private_key_file: {}\n",
                t.addr(),
                t.port(),
                self.key.private.display()
            ));
        }
        out
    }

    fn ansible_cfg_text(&self) -> String {
        let d = self.dir.path().display();
        format!(
            "[defaults]\n\
             forks = {forks}\n\
             host_key_checking = True\n\
             retry_files_enabled = False\n\
             interpreter_python = {python}\n\
             nocolor = True\n\
             deprecation_warnings = False\n\
             local_tmp = {d}/ansible-local\n\
             [ssh_connection]\n\
             pipelining = True\n\
             control_path_dir = {d}/cp\n\
             ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile={kh} \
             -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes\n",
            forks = self.hosts.len().max(1),
            python = target_python(),
            kh = self.known_hosts().display(),
        )
    }

    /// The lab's temp dir (also the HOME fleet runs with).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The inventory file.
    pub fn inventory(&self) -> PathBuf {
        self.dir.path().join("inventory.yml")
    }

    /// The known_hosts file listing every target (`<dir>/.ssh/known_hosts`).
    pub fn known_hosts(&self) -> PathBuf {
        self.dir.path().join(".ssh/known_hosts")
    }

    /// The ansible.cfg the reference runs use (pipelining, forks = hosts, the lab's known_hosts).
    pub fn ansible_cfg(&self) -> PathBuf {
        self.dir.path().join("ansible.cfg")
    }

    /// The client key every target trusts for root.
    pub fn key(&self) -> &KeyPair {
        &self.key
    }

    /// The inventory host names, in order.
    pub fn host_names(&self) -> Vec<&str> {
        self.hosts.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// The target behind inventory host `name`.
    pub fn target(&self, name: &str) -> &TargetSshd {
        &self
            .hosts
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no host {name}"))
            .1
    }

    /// Replaces this lab's host-name prefix with `lab-`, so `f1a2b3-h1` reads `lab-h1`.
    pub fn normalize(&self, text: &str) -> String {
        text.replace(&self.prefix, "lab-")
    }

    /// Removes what playbooks wrote for this lab's hosts.
    pub fn clean_targets(&self) {
        for (name, _) in &self.hosts {
            let _ = fs::remove_dir_all(Path::new(SAMPLES_ROOT).join(name));
        }
    }

    /// Runs the fleet binary with `args`, in the lab dir, with HOME = the lab dir (so its
    /// `~/.ssh/known_hosts` is the lab's), no ssh-agent and no ANSIBLE_* settings inherited.
    pub fn run_fleet(&self, args: &[&str]) -> Outcome {
        self.run_fleet_for(args, RUN_TIMEOUT)
    }

    /// [`FleetLab::run_fleet`] allowed `limit` instead of the usual five minutes.
    pub fn run_fleet_for(&self, args: &[&str], limit: Duration) -> Outcome {
        assert!(
            self.fleet_bin.is_file(),
            "fleet binary not found at {} (build it, or set FLEET_BIN)",
            self.fleet_bin.display()
        );
        let mut cmd = Command::new(&self.fleet_bin);
        cmd.args(args);
        self.isolate(&mut cmd);
        let _slot = RunSlot::take();
        run(&mut cmd, limit)
    }

    /// `fleet run PLAYBOOK -i INVENTORY -f HOSTS EXTRA...`.
    pub fn play_fleet(&self, playbook: &Path, extra: &[&str]) -> Outcome {
        let pb = playbook.to_string_lossy();
        let inv = self.inventory().to_string_lossy().into_owned();
        let forks = self.hosts.len().to_string();
        let mut args = vec!["run", &pb, "-i", &inv, "-f", &forks];
        args.extend_from_slice(extra);
        self.run_fleet(&args)
    }

    /// Runs `ansible-playbook` (from the venv, see [`ansible_venv`]) with `args`, using the
    /// lab's ansible.cfg. Panics with a clear message if the venv cannot be made.
    pub fn run_ansible(&self, args: &[&str]) -> Outcome {
        self.run_ansible_for(args, RUN_TIMEOUT)
    }

    /// [`FleetLab::run_ansible`] allowed `limit` instead of the usual five minutes.
    pub fn run_ansible_for(&self, args: &[&str], limit: Duration) -> Outcome {
        let venv = ansible_venv();
        let mut cmd = Command::new(venv.join("bin/ansible-playbook"));
        cmd.args(args);
        self.isolate(&mut cmd);
        cmd.env("ANSIBLE_CONFIG", self.ansible_cfg())
            .env("ANSIBLE_HOME", self.dir.path().join("ansible-home"))
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_FORCE_COLOR", "0");
        let _slot = RunSlot::take();
        run(&mut cmd, limit)
    }

    /// `ansible-playbook -i INVENTORY PLAYBOOK EXTRA...`.
    pub fn play_ansible(&self, playbook: &Path, extra: &[&str]) -> Outcome {
        let pb = playbook.to_string_lossy();
        let inv = self.inventory().to_string_lossy().into_owned();
        let mut args = vec!["-i", &inv, &pb];
        args.extend_from_slice(extra);
        self.run_ansible(&args)
    }

    fn isolate(&self, cmd: &mut Command) {
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("ANSIBLE_") {
                cmd.env_remove(&k);
            }
        }
        cmd.env_remove("SSH_AUTH_SOCK")
            .env("HOME", self.dir.path())
            .current_dir(self.dir.path());
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
    }

    /// The PLAY RECAP counts of `stdout`, keyed by normalized host name (`lab-h1`, ...).
    pub fn recap(&self, stdout: &str) -> BTreeMap<String, Recap> {
        parse_recap(stdout)
            .into_iter()
            .map(|(h, r)| (self.normalize(&h), r))
            .collect()
    }

    /// Every file, directory and symlink under `root` for each host, where `root` names the
    /// host as `{host}` (e.g. `/tmp/fleet-samples/{host}`). Keys are `lab-hN/relative/path`;
    /// contents are normalized like host names.
    pub fn snapshot(&self, root: &str) -> Snapshot {
        let mut snap = Snapshot::new();
        for (name, _) in &self.hosts {
            let base = PathBuf::from(root.replace("{host}", name));
            let label = self.normalize(name);
            walk(&base, &base, &mut |rel, entry| {
                let key = if rel.is_empty() {
                    label.clone()
                } else {
                    format!("{label}/{rel}")
                };
                let entry = match entry {
                    Entry::File { mode, content } => Entry::File {
                        mode,
                        content: self.normalize(&content),
                    },
                    Entry::Symlink { target } => Entry::Symlink {
                        target: self.normalize(&target),
                    },
                    dir => dir,
                };
                snap.insert(self.normalize(&key), entry);
            });
        }
        snap
    }

    /// [`FleetLab::snapshot`] of `/tmp/fleet-samples/{host}`, where the playbooks write.
    pub fn samples_snapshot(&self) -> Snapshot {
        self.snapshot(&format!("{SAMPLES_ROOT}/{{host}}"))
    }
}

impl Drop for FleetLab {
    fn drop(&mut self) {
        self.clean_targets();
    }
}

/// One host's PLAY RECAP line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recap {
    pub ok: u32,
    pub changed: u32,
    pub unreachable: u32,
    pub failed: u32,
    pub skipped: u32,
    pub rescued: u32,
    pub ignored: u32,
}

impl std::fmt::Display for Recap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ok={} changed={} unreachable={} failed={} skipped={} rescued={} ignored={}",
            self.ok,
            self.changed,
            self.unreachable,
            self.failed,
            self.skipped,
            self.rescued,
            self.ignored
        )
    }
}

/// Parses the `host : ok=N changed=N ...` lines after `PLAY RECAP` (empty if there are none).
pub fn parse_recap(stdout: &str) -> BTreeMap<String, Recap> {
    let mut out = BTreeMap::new();
    let Some(start) = stdout.rfind("PLAY RECAP") else {
        return out;
    };
    for line in stdout[start..].lines().skip(1) {
        let Some((host, counts)) = line.split_once(" : ") else {
            continue;
        };
        let mut r = Recap::default();
        let mut seen = false;
        for field in counts.split_whitespace() {
            let Some((k, v)) = field.split_once('=') else {
                continue;
            };
            let Ok(v) = v.parse::<u32>() else { continue };
            seen = true;
            match k {
                "ok" => r.ok = v,
                "changed" => r.changed = v,
                "unreachable" => r.unreachable = v,
                "failed" => r.failed = v,
                "skipped" => r.skipped = v,
                "rescued" => r.rescued = v,
                "ignored" => r.ignored = v,
                _ => {}
            }
        }
        if seen {
            out.insert(host.trim().to_string(), r);
        }
    }
    out
}

/// What a path on a target is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Dir { mode: u32 },
    File { mode: u32, content: String },
    Symlink { target: String },
}

impl std::fmt::Display for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Entry::Dir { mode } => write!(f, "dir {mode:04o}"),
            Entry::File { mode, content } => write!(f, "file {mode:04o} {content:?}"),
            Entry::Symlink { target } => write!(f, "symlink -> {target}"),
        }
    }
}

/// Target state: normalized path -> entry.
pub type Snapshot = BTreeMap<String, Entry>;

fn walk(base: &Path, path: &Path, visit: &mut dyn FnMut(String, Entry)) {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return;
    };
    let rel = path
        .strip_prefix(base)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mode = meta.permissions().mode() & 0o7777;
    if meta.file_type().is_symlink() {
        let target = fs::read_link(path).map(|t| t.to_string_lossy().into_owned());
        visit(
            rel,
            Entry::Symlink {
                target: target.unwrap_or_default(),
            },
        );
    } else if meta.is_dir() {
        visit(rel, Entry::Dir { mode });
        let mut children: Vec<PathBuf> = fs::read_dir(path)
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        children.sort();
        for child in children {
            walk(base, &child, visit);
        }
    } else {
        let content = fs::read(path).unwrap_or_default();
        visit(
            rel,
            Entry::File {
                mode,
                content: String::from_utf8_lossy(&content).into_owned(),
            },
        );
    }
}

/// Lines describing how `actual` differs from `expected` (empty if they are equal).
pub fn diff_snapshots(expected: &Snapshot, actual: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    for (path, want) in expected {
        match actual.get(path) {
            None => out.push(format!("{path}: missing (expected {want})")),
            Some(got) if got != want => out.push(format!("{path}: {got}, expected {want}")),
            Some(_) => {}
        }
    }
    for (path, got) in actual {
        if !expected.contains_key(path) {
            out.push(format!("{path}: unexpected {got}"));
        }
    }
    out
}

/// Lines describing how the `actual` recap differs from `expected` (empty if equal).
pub fn diff_recaps(
    expected: &BTreeMap<String, Recap>,
    actual: &BTreeMap<String, Recap>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (host, want) in expected {
        match actual.get(host) {
            None => out.push(format!("{host}: no recap line (expected {want})")),
            Some(got) if got != want => out.push(format!(
                "{host}: {got}\n{:>w$}  expected {want}",
                "",
                w = host.len()
            )),
            Some(_) => {}
        }
    }
    for host in actual.keys().filter(|h| !expected.contains_key(*h)) {
        out.push(format!("{host}: unexpected recap line"));
    }
    out
}

/// The Python ansible-playbook runs modules with on the targets: the system's
/// `/usr/bin/python3` (discovery could pick a version manager's shim on PATH instead).
fn target_python() -> &'static str {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "auto_silent"
    }
}

/// The virtualenv holding `ansible-playbook` ([`ANSIBLE_PIN`]), made once per machine under
/// the workspace's `target/ansible-venv` (under a file lock, so parallel test binaries do not
/// race). Panics with a clear message if it cannot be made (no python3 venv, no PyPI).
pub fn ansible_venv() -> PathBuf {
    static VENV: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match VENV.get_or_init(make_venv) {
        Ok(p) => p.clone(),
        Err(e) => panic!("{e}"),
    }
}

fn make_venv() -> Result<PathBuf, String> {
    crate::pyvenv::make("ansible-venv", ANSIBLE_PIN, "ansible-playbook")
}

/// A slot among [`RUN_SLOTS`] concurrent playbook runs, released on drop.
struct RunSlot;

static SLOTS: (Mutex<usize>, Condvar) = (Mutex::new(0), Condvar::new());

impl RunSlot {
    fn take() -> RunSlot {
        let (lock, cv) = &SLOTS;
        let mut busy = lock.lock().unwrap_or_else(|e| e.into_inner());
        while *busy >= RUN_SLOTS {
            busy = cv.wait(busy).unwrap_or_else(|e| e.into_inner());
        }
        *busy += 1;
        RunSlot
    }
}

impl Drop for RunSlot {
    fn drop(&mut self) {
        let (lock, cv) = &SLOTS;
        let mut busy = lock.lock().unwrap_or_else(|e| e.into_inner());
        *busy -= 1;
        cv.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recap_lines_are_parsed_per_host() {
        let out = "TASK [x] ***\nok: [a]\n\nPLAY RECAP *********\n\
                   a-h1                  : ok=4    changed=3    unreachable=0    failed=0    skipped=1    rescued=0    ignored=0   \n\
                   a-h2 : ok=1 changed=0 unreachable=1 failed=2 skipped=0 rescued=1 ignored=5\n\n";
        let r = parse_recap(out);
        assert_eq!(r.len(), 2);
        assert_eq!(
            r["a-h1"],
            Recap {
                ok: 4,
                changed: 3,
                skipped: 1,
                ..Recap::default()
            }
        );
        assert_eq!(r["a-h2"].failed, 2);
        assert_eq!(r["a-h2"].ignored, 5);
        assert_eq!(r["a-h2"].unreachable, 1);
        assert!(parse_recap("no recap here").is_empty());
    }

    #[test]
    fn snapshots_record_modes_and_contents_and_diff() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir(d.path().join("sub")).unwrap();
        fs::write(d.path().join("sub/f"), "x\n").unwrap();
        fs::set_permissions(d.path().join("sub/f"), fs::Permissions::from_mode(0o640)).unwrap();
        let mut got = Snapshot::new();
        walk(d.path(), d.path(), &mut |rel, e| {
            got.insert(rel, e);
        });
        assert_eq!(
            got["sub/f"],
            Entry::File {
                mode: 0o640,
                content: "x\n".into()
            }
        );
        assert!(matches!(got["sub"], Entry::Dir { .. }));
        let mut other = got.clone();
        other.insert(
            "sub/f".into(),
            Entry::File {
                mode: 0o644,
                content: "x\n".into(),
            },
        );
        let diff = diff_snapshots(&got, &other);
        assert_eq!(diff.len(), 1, "{diff:?}");
        assert!(diff[0].contains("0644") && diff[0].contains("0640"));
        assert!(diff_snapshots(&got, &got).is_empty());
    }
}
