//! Running `fleet` and the reference `ansible-playbook` against a [`FleetLab`], the same way.
//!
//! Both tools get the same isolation (HOME = the lab dir, no ssh-agent, no inherited
//! `ANSIBLE_*`) so a comparison measures the tools, not the caller's environment; and runs take
//! one of a few slots, because the machine is small and parallel tests would otherwise starve
//! each other into timeouts.

use std::path::Path;
use std::process::Command;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use super::venv::ansible_venv;
use super::FleetLab;
use crate::proc::{run, Outcome};

/// How long one playbook run may take before the test fails.
const RUN_TIMEOUT: Duration = Duration::from_secs(300);

/// How many playbook runs the tests of one binary make at once (the machine is small, and
/// ansible-playbook with a few forks keeps a core busy).
const RUN_SLOTS: usize = 2;

impl FleetLab {
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
