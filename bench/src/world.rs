//! The set-up every benchmark shares: `sshd` targets trusting both the bastion's key and the
//! bench user's key (so the same key goes direct or through the bastion), and a bastion whose
//! inventory names them `t0`, `t1`, ...

use std::fmt::Write as _;

use anyhow::{Context, Result};
use e2e::{BastionHome, KeyPair, TargetSshd};
use tempfile::TempDir;

use crate::engine::Engine;

/// sshd settings for many simultaneous logins and sessions.
pub const BUSY_SSHD: &str = "MaxStartups 2000\nMaxSessions 2000\n";

/// Keeps bash from sourcing root's `~/.bashrc` for ssh commands (bash skips it when SHLVL > 1):
/// on the dev machine that file runs `pyenv init`, ~1 s per command, which no real target pays.
pub const NO_BASHRC: &str = "SetEnv SHLVL=5\n";

/// A bastion, its targets and the `bench` user (no TOTP).
pub struct World {
    pub home: BastionHome,
    pub targets: Vec<TargetSshd>,
    /// The bench user's key, trusted by the targets too (the direct path).
    pub key: KeyPair,
    /// Users with TOTP: (name, base32 secret, key).
    pub totp_users: Vec<(String, String, KeyPair)>,
    _scratch: TempDir,
}

impl World {
    /// Initialises a bastion and starts `targets` sshd with `sshd_extra` config lines.
    pub fn new(bastion_bin: &str, targets: usize, sshd_extra: &str) -> Result<World> {
        World::on(bastion_bin, targets, sshd_extra, Engine::Sqlite)
    }

    /// [`World::new`] with the bastion's store on `engine`.
    pub fn on(
        bastion_bin: &str,
        targets: usize,
        sshd_extra: &str,
        engine: Engine,
    ) -> Result<World> {
        raise_fd_limit();
        let scratch = tempfile::Builder::new().prefix("bench-").tempdir()?;
        let key = KeyPair::generate(scratch.path(), "bench_user");
        let home = BastionHome::init(bastion_bin);
        engine.attach(&home);
        let trusted = [home.client_pubkey(), key.public_line.clone()];
        let targets: Vec<TargetSshd> = (0..targets)
            .map(|_| TargetSshd::start_with(&trusted, &format!("{NO_BASHRC}{sshd_extra}")))
            .collect();
        let mut inv = String::from("all:\n  hosts:\n");
        for (i, t) in targets.iter().enumerate() {
            let _ = writeln!(
                inv,
                "    t{i}: {{ansible_host: {}, ansible_port: {}}}",
                t.addr(),
                t.port()
            );
        }
        home.write_inventory(&inv);
        let pubkey = key.public.to_string_lossy().into_owned();
        home.cli(&["user", "add", "bench", "--key", &pubkey, "--no-totp"])
            .assert_success();
        let world = World {
            home,
            targets,
            key,
            totp_users: Vec::new(),
            _scratch: scratch,
        };
        world.write_policies();
        Ok(world)
    }

    /// Adds `n` users `l0..` with TOTP (each its own key, as `bastion user add` makes them).
    pub fn add_totp_users(&mut self, n: usize) {
        for i in 0..n {
            let u = self
                .home
                .add_user(&format!("l{}", self.totp_users.len() + i), true);
            let secret = u.totp_secret.expect("TOTP secret");
            self.totp_users.push((u.name, secret, u.key));
        }
        self.write_policies();
    }

    fn write_policies(&self) {
        let mut pol = String::from(
            "roles:\n  - name: bench\n    members: [bench]\n    hosts: [\"*\"]\n    logins: [root]\n    require_totp: false\n",
        );
        if !self.totp_users.is_empty() {
            let names: Vec<&str> = self.totp_users.iter().map(|u| u.0.as_str()).collect();
            let _ = write!(
                pol,
                "  - name: totp\n    members: [{}]\n    hosts: [\"*\"]\n    logins: [root]\n    require_totp: true\n",
                names.join(", ")
            );
        }
        self.home.write_policies(&pol);
    }

    /// Starts `bastion serve`.
    pub fn serve(&mut self) {
        self.home.serve();
    }

    /// The bastion's address.
    pub fn bastion_addr(&self) -> (String, u16) {
        ("127.0.0.1".into(), self.home.port())
    }

    /// The bastion server's resident set size, KiB.
    pub fn bastion_rss_kib(&self) -> Result<u64> {
        let pid = self.home.pid().context("bastion not serving")?;
        rss_kib(pid)
    }

    /// `ssh -F CONFIG` arguments for ProxyJump paths: `-o` options do not reach the ssh that
    /// `-J` starts for the jump host, `-F` does, so both hops read the same settings as
    /// [`World::ssh_base`] from a file.
    pub fn ssh_jump_base(&self) -> Result<Vec<String>> {
        let path = self._scratch.path().join("jump_config");
        std::fs::write(
            &path,
            format!(
                "Host *\n  IdentityFile {}\n  IdentitiesOnly yes\n  StrictHostKeyChecking no\n  \
                 UserKnownHostsFile /dev/null\n  LogLevel ERROR\n  BatchMode yes\n",
                self.key.private.display()
            ),
        )?;
        Ok(vec![
            "ssh".into(),
            "-F".into(),
            path.to_string_lossy().into_owned(),
        ])
    }

    /// `ssh` arguments common to every OpenSSH client run here.
    pub fn ssh_base(&self) -> Vec<String> {
        [
            "ssh",
            "-F",
            "/dev/null",
            "-i",
            &self.key.private.to_string_lossy(),
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
            "-o",
            "BatchMode=yes",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }
}

/// VmRSS of a process, KiB.
pub fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS")
}

/// Raises the open-file limit to its hard maximum (hundreds of sessions need thousands of fds);
/// child processes (the bastion, sshd) inherit it.
pub fn raise_fd_limit() {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    if let Ok((_, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
    }
}
