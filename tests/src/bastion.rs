//! A bastion under test: the real binary on a temporary data directory, served on a free
//! loopback port, administered through its own CLI.

use std::fs;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use crate::net::{free_port, wait_for_port};
use crate::proc::{run, Outcome};
use crate::sshd::KeyPair;

/// A bastion user made through `bastion user add`: its key pair and TOTP secret.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub name: String,
    pub key: KeyPair,
    /// Base32 secret from the printed `otpauth://` URI; `None` for `--no-totp` users.
    pub totp_secret: Option<String>,
}

/// The bastion binary with its own data directory; the server (once started) is killed on drop.
pub struct BastionHome {
    bin: PathBuf,
    dir: TempDir,
    port: u16,
    /// The web console's port (HTTPS on 127.0.0.1).
    web_port: u16,
    server: Option<Child>,
    /// Environment every command and the server get (e.g. object storage credentials).
    env: Vec<(String, String)>,
}

impl BastionHome {
    /// Runs `bastion init` on a fresh temp dir. `bin` is `env!("CARGO_BIN_EXE_bastion")`.
    pub fn init(bin: &str) -> BastionHome {
        let dir = tempfile::Builder::new()
            .prefix("e2e-bastion-")
            .tempdir()
            .expect("tempdir");
        let port = free_port(Ipv4Addr::LOCALHOST);
        let home = BastionHome {
            bin: PathBuf::from(bin),
            dir,
            port,
            web_port: free_port(Ipv4Addr::LOCALHOST),
            server: None,
            env: Vec::new(),
        };
        home.cli(&["init"]).assert_success();
        home
    }

    /// A fresh, empty data directory that nothing has initialised yet (the first `serve` does).
    pub fn empty(bin: &str) -> BastionHome {
        let dir = tempfile::Builder::new()
            .prefix("e2e-bastion-")
            .tempdir()
            .expect("tempdir");
        BastionHome {
            bin: PathBuf::from(bin),
            dir,
            port: free_port(Ipv4Addr::LOCALHOST),
            web_port: free_port(Ipv4Addr::LOCALHOST),
            server: None,
            env: Vec::new(),
        }
    }

    /// A copy of a data directory kept under `tests/fixtures/` (one written by older code), in
    /// a fresh temp dir; secret files get mode 0600 again (git keeps no modes).
    pub fn from_fixture(bin: &str, fixture: &Path) -> BastionHome {
        let dir = tempfile::Builder::new()
            .prefix("e2e-bastion-")
            .tempdir()
            .expect("tempdir");
        let status = Command::new("cp")
            .arg("-a")
            .arg(format!("{}/.", fixture.display()))
            .arg(dir.path())
            .status()
            .expect("cp");
        assert!(status.success(), "copying {}", fixture.display());
        for secret in ["host_key", "client_key", "signing_key", "bastion.db"] {
            use std::os::unix::fs::PermissionsExt;
            let path = dir.path().join(secret);
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod");
        }
        BastionHome {
            bin: PathBuf::from(bin),
            dir,
            port: free_port(Ipv4Addr::LOCALHOST),
            web_port: free_port(Ipv4Addr::LOCALHOST),
            server: None,
            env: Vec::new(),
        }
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The port the server listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The web console's base URL (`https://127.0.0.1:PORT`).
    pub fn console_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.web_port)
    }

    /// A `bastion --data-dir DIR ...` command, not yet run.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.arg("--data-dir").arg(self.dir.path()).args(args);
        c.env_remove("BASTION_DATA");
        c.envs(self.env.iter().map(|(k, v)| (k, v)));
        c
    }

    /// Sets `key=value` in the environment of every later command and of the server.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.push((key.to_string(), value.to_string()));
    }

    /// Runs an admin command to completion (30 s limit).
    pub fn cli(&self, args: &[&str]) -> Outcome {
        run(&mut self.command(args), Duration::from_secs(30))
    }

    /// The public key targets must trust (`bastion key`).
    pub fn client_pubkey(&self) -> String {
        let out = self.cli(&["key"]);
        out.assert_success();
        out.stdout.trim().to_string()
    }

    /// Replaces `inventory.yaml`.
    pub fn write_inventory(&self, text: &str) {
        fs::write(self.dir.path().join("inventory.yaml"), text).expect("write inventory");
    }

    /// Replaces `policies.yaml`.
    pub fn write_policies(&self, text: &str) {
        fs::write(self.dir.path().join("policies.yaml"), text).expect("write policies");
    }

    /// Appends `key = value` lines to `bastion.toml` (before the server starts).
    /// Top-level keys go before the first `[table]` (a key after it would belong to it).
    pub fn set(&self, lines: &str) {
        let path = self.dir.path().join("bastion.toml");
        let text = fs::read_to_string(&path).expect("read bastion.toml");
        let at = text
            .match_indices('\n')
            .map(|(i, _)| i + 1)
            .find(|&i| text[i..].starts_with('['))
            .unwrap_or(text.len());
        let text = format!("{}\n{lines}\n{}", &text[..at], &text[at..]);
        fs::write(path, text).expect("write bastion.toml");
    }

    /// `bastion user add NAME --key K [--no-totp]`, returning the key and the TOTP secret.
    pub fn add_user(&self, name: &str, totp: bool) -> TestUser {
        let key = KeyPair::generate(self.dir.path(), &format!("user_{name}"));
        let pubkey = key.public.to_string_lossy().into_owned();
        let mut args = vec!["user", "add", name, "--key", pubkey.as_str()];
        if !totp {
            args.push("--no-totp");
        }
        let out = self.cli(&args);
        out.assert_success();
        let totp_secret = if totp {
            let uri = out
                .stdout
                .lines()
                .find(|l| l.starts_with("otpauth://"))
                .unwrap_or_else(|| panic!("no otpauth URI printed:\n{out}"));
            let secret = uri
                .split(['?', '&'])
                .find_map(|p| p.strip_prefix("secret="))
                .expect("secret= in URI");
            Some(secret.to_string())
        } else {
            None
        };
        TestUser {
            name: name.to_string(),
            key,
            totp_secret,
        }
    }

    /// Starts `bastion serve` and waits until it accepts TCP connections.
    pub fn serve(&mut self) {
        self.serve_with_env(&[]);
    }

    /// [`Bastion::serve`] with extra environment variables (e.g. `BASTION_FAILPOINTS`).
    pub fn serve_with_env(&mut self, env: &[(&str, &str)]) {
        assert!(self.server.is_none(), "already serving");
        let log = fs::File::create(self.log_path()).expect("create serve log");
        let listen = format!("127.0.0.1:{}", self.port);
        let web_listen = format!("127.0.0.1:{}", self.web_port);
        let child = self
            .command(&["serve", "--listen", &listen, "--web-listen", &web_listen])
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log"))
            .stderr(log)
            .spawn()
            .expect("spawn bastion serve");
        self.server = Some(child);
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        if !wait_for_port(addr, Duration::from_secs(20)) {
            panic!(
                "bastion did not start listening on {addr}; log:\n{}",
                self.log()
            );
        }
    }

    /// The bastion binary this home runs.
    pub fn bin(&self) -> &str {
        self.bin.to_str().expect("a UTF-8 binary path")
    }

    /// The server's process id, once started.
    pub fn pid(&self) -> Option<u32> {
        self.server.as_ref().map(Child::id)
    }

    /// Sends a signal to the server (`"HUP"`, `"KILL"`, ...).
    pub fn signal(&self, sig: &str) {
        let pid = self.server.as_ref().expect("serving").id().to_string();
        run(
            Command::new("kill").args([&format!("-{sig}"), &pid]),
            Duration::from_secs(5),
        )
        .assert_success();
    }

    /// Sends `sig` and waits (up to `timeout`) for the server to exit; its exit code, or `None`
    /// when it did not exit in time (it is then killed) or died from a signal.
    pub fn stop(&mut self, sig: &str, timeout: Duration) -> Option<i32> {
        self.signal(sig);
        let mut child = self.server.take()?;
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    }

    /// Kills the server hard (`kill -9`) and reaps it.
    pub fn crash(&mut self) {
        if let Some(mut c) = self.server.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The command log of session `id` as (command, blocked) pairs, in order.
    pub fn command_log(&self, id: &serde_json::Value) -> Vec<(String, bool)> {
        self.json_lines(&["commands", "--session", &id.to_string(), "--json"])
            .iter()
            .map(|c| {
                (
                    c["command"].as_str().unwrap_or_default().to_string(),
                    c["blocked"].as_bool().unwrap_or(false),
                )
            })
            .collect()
    }

    /// The pending access requests and held command lines, as `bastion requests --pending
    /// --json` lists them.
    pub fn pending_requests(&self) -> Vec<serde_json::Value> {
        self.json_lines(&["requests", "--pending", "--json"])
    }

    /// Runs an admin command with `--json` output and parses its lines.
    pub fn json_lines(&self, args: &[&str]) -> Vec<serde_json::Value> {
        let out = self.cli(args);
        out.assert_success();
        out.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
            .collect()
    }

    /// `bastion audit --json`, parsed: one JSON object per event.
    pub fn audit_events(&self) -> Vec<serde_json::Value> {
        self.json_lines(&["audit", "--json"])
    }

    /// Audit events of one kind (the `event` field).
    pub fn audit_of(&self, kind: &str) -> Vec<serde_json::Value> {
        self.audit_events()
            .into_iter()
            .filter(|e| e["event"] == kind)
            .collect()
    }

    /// `bastion sessions --json`, parsed.
    pub fn sessions(&self) -> Vec<serde_json::Value> {
        self.json_lines(&["sessions", "--json"])
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("serve.log")
    }
}

impl Drop for BastionHome {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- bastion log ---\n{}", self.log());
        }
        self.crash();
    }
}
