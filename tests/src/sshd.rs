//! Real OpenSSH `sshd` targets, one per test, each on its own loopback address and port,
//! plus ed25519 key pairs made with `ssh-keygen`.

use std::fs;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use crate::net::{free_port, loopback_ip, wait_for_port};
use crate::proc::run;

/// An ed25519 key pair on disk, made by `ssh-keygen`.
#[derive(Debug, Clone)]
pub struct KeyPair {
    /// Private key file (mode 0600).
    pub private: PathBuf,
    /// Public key file (`<private>.pub`).
    pub public: PathBuf,
    /// The public key line, authorized_keys format.
    pub public_line: String,
}

impl KeyPair {
    /// Generates `dir/name` and `dir/name.pub` (no passphrase; comment = `name`).
    pub fn generate(dir: &Path, name: &str) -> KeyPair {
        let private = dir.join(name);
        let _ = fs::remove_file(&private);
        let public = dir.join(format!("{name}.pub"));
        let _ = fs::remove_file(&public);
        run(
            Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
                .arg(&private),
            Duration::from_secs(10),
        )
        .assert_success();
        let public_line = fs::read_to_string(&public)
            .expect("read .pub")
            .trim()
            .to_string();
        KeyPair {
            private,
            public,
            public_line,
        }
    }

    /// The key's `SHA256:...` fingerprint, as `ssh-keygen -lf` prints it.
    pub fn fingerprint(&self) -> String {
        let out = run(
            Command::new("ssh-keygen").arg("-lf").arg(&self.public),
            Duration::from_secs(10),
        );
        out.assert_success();
        out.stdout
            .split_whitespace()
            .nth(1)
            .expect("fingerprint field")
            .to_string()
    }
}

/// A running OpenSSH server that accepts `root` with the given authorized keys.
pub struct TargetSshd {
    dir: TempDir,
    ip: Ipv4Addr,
    port: u16,
    child: Option<Child>,
    /// sshd_config lines appended after the defaults (e.g. raised `MaxStartups`).
    extra_config: String,
}

impl TargetSshd {
    /// Starts `sshd` on a fresh 127.0.1.N address and free port, trusting `authorized_keys`
    /// (lines in authorized_keys format) for `root`. Panics (with its log) if it does not
    /// accept TCP connections within 10 s.
    pub fn start(authorized_keys: &[String]) -> TargetSshd {
        TargetSshd::start_with(authorized_keys, "")
    }

    /// Like [`TargetSshd::start`], with `extra_config` (sshd_config lines) appended, e.g.
    /// `MaxStartups 500` for a target that many sessions reach at once; `{dir}` in it stands
    /// for this server's own temp dir.
    pub fn start_with(authorized_keys: &[String], extra_config: &str) -> TargetSshd {
        let dir = tempfile::Builder::new()
            .prefix("e2e-sshd-")
            .tempdir()
            .expect("tempdir");
        let mut keys = authorized_keys.join("\n");
        keys.push('\n');
        fs::write(dir.path().join("authorized_keys"), keys).expect("write authorized_keys");
        KeyPair::generate(dir.path(), "host_ed25519");
        fs::create_dir_all("/run/sshd").expect("create privsep dir /run/sshd");
        let ip = loopback_ip();
        let mut sshd = TargetSshd {
            dir,
            ip,
            port: 0,
            child: None,
            extra_config: extra_config.to_string(),
        };
        sshd.launch();
        sshd
    }

    /// Writes sshd_config and spawns sshd, retrying on a fresh port if the bind loses a race.
    fn launch(&mut self) {
        let keep_port = self.port != 0;
        for _attempt in 0..3 {
            if !keep_port {
                self.port = free_port(self.ip);
            }
            self.write_config();
            let log = fs::File::create(self.log_path()).expect("create sshd.log");
            let child = Command::new("/usr/sbin/sshd")
                .args(["-D", "-e", "-f"])
                .arg(self.dir.path().join("sshd_config"))
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("clone log"))
                .stderr(log)
                .spawn()
                .expect("spawn /usr/sbin/sshd");
            self.child = Some(child);
            if self.wait_ready(Duration::from_secs(10)) {
                return;
            }
            self.kill();
        }
        panic!(
            "sshd on {}:{} did not come up; log:\n{}",
            self.ip,
            self.port,
            self.log()
        );
    }

    /// Waits until the port accepts TCP, or the process exits, or `timeout` passes.
    fn wait_ready(&mut self, timeout: Duration) -> bool {
        let addr = SocketAddr::from((self.ip, self.port));
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(_)) = c.try_wait() {
                    return false;
                }
            }
            if wait_for_port(addr, Duration::from_millis(200)) {
                // Something accepts: make sure it is this sshd, not another test's listener
                // that got the same address and port (sshd then exits: "Address in use").
                std::thread::sleep(Duration::from_millis(100));
                return matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)));
            }
        }
        false
    }

    fn write_config(&self) {
        let d = self.dir.path().display();
        let cfg = format!(
            "ListenAddress {ip}:{port}\n\
             HostKey {d}/host_ed25519\n\
             AuthorizedKeysFile {d}/authorized_keys\n\
             PidFile none\n\
             UsePAM no\n\
             StrictModes no\n\
             PermitRootLogin prohibit-password\n\
             PubkeyAuthentication yes\n\
             PasswordAuthentication no\n\
             KbdInteractiveAuthentication no\n\
             PrintMotd no\n\
             PrintLastLog no\n\
             Subsystem sftp internal-sftp\n\
             {log_level}\
             {extra}",
            ip = self.ip,
            port = self.port,
            // sshd keeps the first value of a keyword: an extra `LogLevel` (e.g. INFO, to count
            // logins in the log) replaces the default instead of following it.
            log_level = if self
                .extra_config
                .lines()
                .any(|l| l.starts_with("LogLevel "))
            {
                ""
            } else {
                "LogLevel ERROR\n"
            },
            extra = self.extra_config.replace("{dir}", &d.to_string()),
        );
        fs::write(self.dir.path().join("sshd_config"), cfg).expect("write sshd_config");
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("sshd.log")
    }

    /// The listen address (127.0.1.N) as text.
    pub fn addr(&self) -> String {
        self.ip.to_string()
    }

    /// The listen port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The host public key line (`ssh-ed25519 AAAA... comment`).
    pub fn host_pubkey(&self) -> String {
        fs::read_to_string(self.dir.path().join("host_ed25519.pub"))
            .expect("read host key")
            .trim()
            .to_string()
    }

    /// A known_hosts line for this server: `[ip]:port type key`.
    pub fn known_hosts_line(&self) -> String {
        let key = self.host_pubkey();
        let mut f = key.split_whitespace();
        let (kind, blob) = (f.next().unwrap_or(""), f.next().unwrap_or(""));
        format!("[{}]:{} {kind} {blob}", self.ip, self.port)
    }

    /// The temp dir this server lives in (for scratch files of the test).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// What sshd wrote to stderr so far.
    /// Public-key logins this sshd accepted so far (each one SSH connection); needs
    /// `LogLevel INFO` in the extra config, or the log does not say.
    pub fn accepted_logins(&self) -> usize {
        self.log()
            .lines()
            .filter(|l| l.contains("Accepted publickey"))
            .count()
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Stops it, replaces its host key with a new one, and starts it again on the same
    /// address and port (a "reinstalled" or impersonated host).
    pub fn restart_with_new_host_key(&mut self) {
        let old = self.host_pubkey();
        self.kill();
        KeyPair::generate(self.dir.path(), "host_ed25519");
        assert_ne!(old, self.host_pubkey(), "new host key equals the old one");
        self.launch();
    }

    /// Starts it again after [`TargetSshd::stop`] or [`TargetSshd::crash`]: same address,
    /// port and host key (a rebooted host); its log starts afresh.
    pub fn restart(&mut self) {
        self.kill();
        self.launch();
    }

    /// Stops the server (connections to its port are then refused).
    pub fn stop(&mut self) {
        self.kill();
    }

    /// The host dies: `kill -9` of the listener and of every per-connection sshd and shell
    /// under it, so open sessions lose their TCP connection mid-stream.
    pub fn crash(&mut self) {
        if let Some(c) = self.child.as_ref() {
            crate::proc::kill_tree(c.id());
        }
        self.kill();
    }

    /// How many processes run under this sshd (one per open connection, plus their shells).
    pub fn session_processes(&self) -> usize {
        self.child
            .as_ref()
            .map_or(0, |c| crate::proc::descendants(c.id()).len())
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for TargetSshd {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = self.log();
            if !log.trim().is_empty() {
                eprintln!("--- sshd {}:{} log ---\n{log}", self.ip, self.port);
            }
        }
        self.kill();
    }
}
