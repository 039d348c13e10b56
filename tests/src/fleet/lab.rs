//! [`FleetLab`]: N real sshd targets, and the files both tools need to reach them — an
//! inventory, a known_hosts file, a client key and an `ansible.cfg` — in one temp dir.
//!
//! The lab owns only the targets and their layout; running the tools ([`super::run`]) and
//! reading results back ([`super::recap`], [`super::snapshot`]) are separate `impl FleetLab`
//! blocks beside it, which is why the fields are visible to the parent module.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use tempfile::TempDir;

use super::venv::target_python;
use super::{workspace_root, SAMPLES_ROOT};
use crate::sshd::{KeyPair, TargetSshd};

static NEXT_LAB: AtomicU32 = AtomicU32::new(0);

/// N real sshd targets with an inventory, a known_hosts file and a client key for them.
pub struct FleetLab {
    pub(super) dir: TempDir,
    pub(super) prefix: String,
    pub(super) hosts: Vec<(String, TargetSshd)>,
    pub(super) key: KeyPair,
    pub(super) fleet_bin: PathBuf,
    /// Environment both tools run with (after the inherited `ANSIBLE_*` are removed).
    pub(super) env: Vec<(String, String)>,
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
}

impl Drop for FleetLab {
    fn drop(&mut self) {
        self.clean_targets();
    }
}
