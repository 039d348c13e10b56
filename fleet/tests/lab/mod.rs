//! The fleet test lab: real sshd targets, a key, a known_hosts file and a scratch directory,
//! with helpers to run `fleet` and read its output. Each test binary uses a part of it.
#![allow(dead_code)]

use std::fs;
use std::path::PathBuf;
use std::process::Command;

pub const FLEET: &str = env!("CARGO_BIN_EXE_fleet");

/// Targets, a key, a known_hosts file (through HOME) and a scratch directory.
pub struct Lab {
    pub dir: tempfile::TempDir,
    pub targets: Vec<e2e::TargetSshd>,
    pub key: e2e::KeyPair,
    /// Unique prefix of host names, so labs running in parallel never share paths.
    pub prefix: String,
}

impl Lab {
    pub fn new(n: usize) -> Lab {
        let dir = tempfile::tempdir().unwrap();
        let key = e2e::KeyPair::generate(dir.path(), "id_ed25519");
        let targets: Vec<_> = (0..n)
            .map(|_| e2e::TargetSshd::start(std::slice::from_ref(&key.public_line)))
            .collect();
        let ssh = dir.path().join("home/.ssh");
        fs::create_dir_all(&ssh).unwrap();
        let known: String = targets
            .iter()
            .map(|t| t.known_hosts_line() + "\n")
            .collect();
        fs::write(ssh.join("known_hosts"), known).unwrap();
        let prefix = format!("b{}", &hex_id()[..6]);
        let lab = Lab {
            dir,
            targets,
            key,
            prefix,
        };
        lab.write_inventory("");
        lab
    }

    pub fn host(&self, i: usize) -> String {
        format!("{}-h{}", self.prefix, i + 1)
    }

    /// Inventory with every target in group `targets`, plus `extra` YAML under `all.hosts`.
    pub fn write_inventory(&self, extra_hosts: &str) {
        let mut text = String::from("all:\n  hosts:\n");
        text.push_str(extra_hosts);
        text.push_str("  children:\n    targets:\n      hosts:\n");
        for (i, t) in self.targets.iter().enumerate() {
            text.push_str(&format!(
                "        {}: {{ansible_host: '{}', ansible_port: {}}}\n",
                self.host(i),
                t.addr(),
                t.port()
            ));
        }
        text.push_str(&format!(
            "  vars:\n    ansible_user: root\n    ansible_ssh_private_key_file: {}\n    out: {}\n",
            self.key.private.display(),
            self.out().display()
        ));
        fs::write(self.path("inventory.yml"), text).unwrap();
        fs::create_dir_all(self.out()).unwrap();
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Where playbooks write, per host: `{{ out }}/{{ inventory_hostname }}`.
    pub fn out(&self) -> PathBuf {
        self.path("out")
    }

    pub fn file(&self, host: usize, name: &str) -> Option<String> {
        fs::read_to_string(self.out().join(self.host(host)).join(name)).ok()
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, text).unwrap();
        p
    }

    pub fn fleet(&self, args: &[&str]) -> Run {
        // fleet alone: modules it lacks fail late whatever this machine has installed (the
        // fallback through Ansible's code has its own tests, tests/fleet/fallback.rs)
        self.fleet_with_python(args, std::path::Path::new("/nonexistent/python3"))
    }

    /// `fleet` with `python` as the controller's Python for Ansible's module code.
    pub fn fleet_with_python(&self, args: &[&str], python: &std::path::Path) -> Run {
        let out = Command::new(FLEET)
            .args(args)
            .env("HOME", self.path("home"))
            .env("FLEET_ANSIBLE_PYTHON", python)
            .env_remove("ANSIBLE_HOST_KEY_CHECKING")
            .current_dir(self.dir.path())
            .output()
            .unwrap();
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn play(&self, playbook: &str, extra: &[&str]) -> Run {
        let pb = self.write("site.yml", playbook);
        let mut args = vec!["run", pb.to_str().unwrap(), "-i", "inventory.yml"];
        args.extend(extra);
        self.fleet(&args)
    }
}

pub fn hex_id() -> String {
    let mut bytes = [0u8; 8];
    let f = fs::File::open("/dev/urandom").unwrap();
    std::io::Read::read_exact(&mut &f, &mut bytes).unwrap();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Run {
    /// The recap counts of `host`: [ok, changed, unreachable, failed, skipped, rescued, ignored].
    pub fn recap(&self, host: &str) -> [u32; 7] {
        let line = self
            .stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(host) && l.contains(" : ok="))
            .unwrap_or_else(|| panic!("no recap line for {host}:\n{self}"));
        let nums: Vec<u32> = line
            .split_whitespace()
            .filter_map(|w| w.split_once('=').and_then(|(_, n)| n.parse().ok()))
            .collect();
        nums.try_into().unwrap()
    }

    /// Result lines (`ok: [h]`, `changed: [h] => (item=x)`, ...) of the task named `task`.
    pub fn task_lines(&self, task: &str) -> Vec<String> {
        let banner = format!("TASK [{task}]");
        let handler = format!("RUNNING HANDLER [{task}]");
        let mut lines = Vec::new();
        let mut inside = false;
        for l in self.stdout.lines() {
            if l.starts_with("TASK [")
                || l.starts_with("RUNNING HANDLER [")
                || l.starts_with("PLAY")
            {
                inside = l.starts_with(&banner) || l.starts_with(&handler);
                continue;
            }
            if inside && !l.trim().is_empty() {
                lines.push(l.to_string());
            }
        }
        lines.sort();
        lines
    }
}
