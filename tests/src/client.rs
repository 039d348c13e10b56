//! The user side: real OpenSSH `ssh`, `scp`, `sftp` and `rsync` aimed at a bastion under test.
//!
//! TOTP codes reach `ssh` through `SSH_ASKPASS` with `SSH_ASKPASS_REQUIRE=force`: the askpass
//! script prints whatever the test last put in its code file.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tempfile::TempDir;

use crate::bastion::{BastionHome, TestUser};
use crate::proc::{run, Outcome};

/// One user's OpenSSH client set-up: identity, private known_hosts, askpass for TOTP.
pub struct Client {
    dir: TempDir,
    key: PathBuf,
    port: u16,
}

impl Client {
    /// The one-time web console link `ssh USER@bastion console` prints for `user` (this
    /// client's user), failing the test when there is none.
    pub fn console_link(&self, user: &str) -> String {
        let out = self.run_ssh(user, &["console"]);
        out.assert_success();
        out.stdout
            .lines()
            .find(|l| l.starts_with("https://"))
            .unwrap_or_else(|| panic!("no link in {out}"))
            .trim()
            .to_string()
    }

    /// A client logging in with `user`'s key to `bastion`.
    pub fn new(bastion: &BastionHome, user: &TestUser) -> Client {
        Client::with_key(bastion, &user.key.private)
    }

    /// A client presenting an arbitrary private key (e.g. the wrong one).
    pub fn with_key(bastion: &BastionHome, key: &Path) -> Client {
        let dir = tempfile::Builder::new()
            .prefix("e2e-client-")
            .tempdir()
            .expect("tempdir");
        let askpass = dir.path().join("askpass.sh");
        fs::write(
            &askpass,
            format!("#!/bin/sh\ncat '{}'\n", dir.path().join("code").display()),
        )
        .expect("askpass");
        fs::set_permissions(&askpass, fs::Permissions::from_mode(0o755)).expect("chmod askpass");
        fs::write(dir.path().join("code"), "").expect("code file");
        Client {
            dir,
            key: key.to_path_buf(),
            port: bastion.port(),
        }
    }

    /// The same client connecting to another port (a load balancer in front of the bastions).
    pub fn at_port(mut self, port: u16) -> Client {
        self.port = port;
        self
    }

    /// The answer the askpass script gives to the `Verification code:` prompt.
    pub fn set_code(&self, code: &str) {
        fs::write(self.dir.path().join("code"), format!("{code}\n")).expect("write code");
    }

    /// A scratch directory owned by this client.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Options shared by ssh, scp, sftp: no user config, private known_hosts, this key only,
    /// one keyboard-interactive try, askpass for the code.
    pub fn options(&self) -> Vec<String> {
        let kh = self.dir.path().join("known_hosts");
        vec![
            "-F".into(),
            "/dev/null".into(),
            "-o".into(),
            format!("UserKnownHostsFile={}", kh.display()),
            "-o".into(),
            "StrictHostKeyChecking=accept-new".into(),
            "-o".into(),
            "IdentitiesOnly=yes".into(),
            "-o".into(),
            "IdentityAgent=none".into(),
            "-i".into(),
            self.key.display().to_string(),
            "-o".into(),
            "PreferredAuthentications=publickey,keyboard-interactive".into(),
            "-o".into(),
            "NumberOfPasswordPrompts=1".into(),
            "-o".into(),
            "ConnectTimeout=10".into(),
            "-o".into(),
            "ServerAliveInterval=5".into(),
            "-o".into(),
            "LogLevel=ERROR".into(),
        ]
    }

    fn askpass_env(&self, c: &mut Command) {
        c.env("SSH_ASKPASS", self.dir.path().join("askpass.sh"))
            .env("SSH_ASKPASS_REQUIRE", "force")
            .env("DISPLAY", ":0")
            .env_remove("SSH_AUTH_SOCK");
    }

    /// `ssh -p PORT [opts] LOGIN@127.0.0.1 ARGS...` (not yet run).
    pub fn ssh(&self, login: &str, args: &[&str]) -> Command {
        let mut c = Command::new("ssh");
        c.args(self.options())
            .arg("-p")
            .arg(self.port.to_string())
            .arg(format!("{login}@127.0.0.1"))
            .args(args);
        self.askpass_env(&mut c);
        c
    }

    /// Runs an `ssh` command to completion (60 s limit), stdin closed.
    pub fn run_ssh(&self, login: &str, args: &[&str]) -> Outcome {
        run(
            self.ssh(login, args).stdin(std::process::Stdio::null()),
            Duration::from_secs(60),
        )
    }

    /// `scp -P PORT [opts] ARGS...` (remote paths written as `LOGIN@127.0.0.1:PATH`).
    pub fn scp(&self, args: &[&str]) -> Outcome {
        let mut c = Command::new("scp");
        c.args(self.options())
            .arg("-P")
            .arg(self.port.to_string())
            .args(args);
        self.askpass_env(&mut c);
        run(
            c.stdin(std::process::Stdio::null()),
            Duration::from_secs(60),
        )
    }

    /// `sftp -b BATCHFILE -P PORT [opts] LOGIN@127.0.0.1` with `commands` as the batch.
    pub fn sftp(&self, login: &str, commands: &str) -> Outcome {
        let batch = self.dir.path().join("sftp-batch");
        fs::write(&batch, commands).expect("write batch");
        let mut c = Command::new("sftp");
        c.args(self.options())
            .arg("-P")
            .arg(self.port.to_string())
            .arg("-b")
            .arg(&batch)
            .arg(format!("{login}@127.0.0.1"));
        self.askpass_env(&mut c);
        run(
            c.stdin(std::process::Stdio::null()),
            Duration::from_secs(60),
        )
    }

    /// The `-e` argument that makes rsync use this client's ssh settings.
    pub fn rsync_rsh(&self) -> String {
        let mut parts = vec!["ssh".to_string()];
        parts.extend(self.options());
        parts.push("-p".into());
        parts.push(self.port.to_string());
        parts.join(" ")
    }

    /// Environment a PTY-driven `ssh` needs (askpass for the code).
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            (
                "SSH_ASKPASS".into(),
                self.dir.path().join("askpass.sh").display().to_string(),
            ),
            ("SSH_ASKPASS_REQUIRE".into(), "force".into()),
            ("DISPLAY".into(), ":0".into()),
        ]
    }

    /// `ssh -tt LOGIN@bastion ARGS...` on a fresh `cols`x`rows` PTY (a shell, or the host menu
    /// when `args` is empty).
    pub fn terminal(
        &self,
        login: &str,
        args: &[&str],
        cols: u16,
        rows: u16,
    ) -> crate::pty::PtySession {
        let mut argv = self.ssh_argv(login, args);
        argv.insert(1, "-tt".into());
        crate::pty::PtySession::spawn(&argv, &self.env(), cols, rows)
    }

    /// Full `ssh` argv (program first) for running under a PTY.
    pub fn ssh_argv(&self, login: &str, args: &[&str]) -> Vec<String> {
        let mut v = vec!["ssh".to_string()];
        v.extend(self.options());
        v.push("-p".into());
        v.push(self.port.to_string());
        v.push(format!("{login}@127.0.0.1"));
        v.extend(args.iter().map(|s| s.to_string()));
        v
    }
}

/// ProxyJump (`ssh -J`) through the bastion. `-o` options are not passed on to the ssh that
/// ProxyJump starts for the jump host, but `-F` is: both hops read one config file, written by
/// [`Client::jump_config`], with `StrictHostKeyChecking yes` against this client's known_hosts
/// (which the test fills from `bastion known-hosts`).
impl Client {
    /// The client's known_hosts file.
    pub fn known_hosts(&self) -> PathBuf {
        self.dir.path().join("known_hosts")
    }

    /// Writes the ssh config both hops use and returns its path.
    pub fn jump_config(&self) -> PathBuf {
        let path = self.dir.path().join("jump_config");
        let text = format!(
            "Host *\n  UserKnownHostsFile {kh}\n  GlobalKnownHostsFile /dev/null\n  \
             StrictHostKeyChecking yes\n  IdentitiesOnly yes\n  IdentityAgent none\n  \
             IdentityFile {key}\n  PreferredAuthentications publickey,keyboard-interactive\n  \
             NumberOfPasswordPrompts 1\n  ConnectTimeout 10\n  ServerAliveInterval 5\n  \
             LogLevel ERROR\n",
            kh = self.known_hosts().display(),
            key = self.key.display(),
        );
        fs::write(&path, text).expect("write jump config");
        path
    }

    /// The `-J` argument: `LOGIN@127.0.0.1:PORT`.
    pub fn jump_host(&self, login: &str) -> String {
        format!("{login}@127.0.0.1:{}", self.port)
    }

    /// `ssh -F CONFIG -J LOGIN@bastion TARGET ARGS...` (not yet run).
    pub fn jump_ssh(&self, login: &str, target: &str, args: &[&str]) -> Command {
        let mut c = Command::new("ssh");
        c.arg("-F")
            .arg(self.jump_config())
            .arg("-J")
            .arg(self.jump_host(login))
            .arg(target)
            .args(args);
        self.askpass_env(&mut c);
        c
    }

    /// `scp -F CONFIG -J LOGIN@bastion ARGS...` to completion.
    pub fn jump_scp(&self, login: &str, args: &[&str]) -> Outcome {
        let mut c = Command::new("scp");
        c.arg("-F")
            .arg(self.jump_config())
            .arg("-J")
            .arg(self.jump_host(login))
            .args(args);
        self.askpass_env(&mut c);
        run(
            c.stdin(std::process::Stdio::null()),
            Duration::from_secs(60),
        )
    }

    /// `sftp -F CONFIG -J LOGIN@bastion -b BATCH TARGET` with `commands` as the batch.
    pub fn jump_sftp(&self, login: &str, target: &str, commands: &str) -> Outcome {
        let batch = self.dir.path().join("sftp-batch");
        fs::write(&batch, commands).expect("write batch");
        let mut c = Command::new("sftp");
        c.arg("-F")
            .arg(self.jump_config())
            .arg("-J")
            .arg(self.jump_host(login))
            .arg("-b")
            .arg(&batch)
            .arg(target);
        self.askpass_env(&mut c);
        run(
            c.stdin(std::process::Stdio::null()),
            Duration::from_secs(60),
        )
    }

    /// rsync's `-e` for ProxyJump: `ssh -F CONFIG -J LOGIN@bastion`.
    pub fn jump_rsh(&self, login: &str) -> String {
        format!(
            "ssh -F {} -J {}",
            self.jump_config().display(),
            self.jump_host(login)
        )
    }
}
