//! Several bastion nodes on one PostgreSQL database with shared recordings, as the README's
//! "Running several nodes" sets them up, and HAProxy (Debian's package) in front of them.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::net::{free_port, wait_for_port};
use crate::{BastionHome, Lab, TestUser};

/// Three nodes on one fresh PostgreSQL database with one shared recordings directory: node-a
/// is the lab's bastion, node-b and node-c serve beside it; `user` may log in under `policy`.
pub struct Cluster {
    pub lab: Lab,
    pub user: TestUser,
    pub b: BastionHome,
    pub c: BastionHome,
    pub shared: tempfile::TempDir,
}

impl Cluster {
    pub fn start(lab: Lab, policy: &str, user: &str) -> Cluster {
        Cluster::start_with(lab, policy, user, "")
    }

    /// [`Cluster::start`] with `extra` top-level bastion.toml settings on every node.
    pub fn start_with(lab: Lab, policy: &str, user: &str, extra: &str) -> Cluster {
        Cluster::start_with_env(lab, policy, user, extra, &[])
    }

    /// [`Cluster::start_with`], node-a (the lab's bastion) served with `env_a` in its
    /// environment (fault points, `bastion/src/faults.rs`).
    pub fn start_with_env(
        mut lab: Lab,
        policy: &str,
        user: &str,
        extra: &str,
        env_a: &[(&str, &str)],
    ) -> Cluster {
        let url = pgtest::database();
        let shared = tempfile::tempdir().expect("tempdir");
        let node = |name: &str| format!("{extra}\n{}", settings(name, &url, shared.path()));
        lab.bastion.write_policies(policy);
        lab.bastion.set(&node("node-a"));
        let user = lab.bastion.add_user(user, false);
        lab.bastion.serve_with_env(env_a);
        let b = another_node(&lab.bastion, &lab, policy, &node("node-b"));
        let c = another_node(&lab.bastion, &lab, policy, &node("node-c"));
        Cluster {
            lab,
            user,
            b,
            c,
            shared,
        }
    }
}

/// What every node's bastion.toml says, with its own name. `node_timeout` is 10 s: a node
/// busy with 200 handshakes on a debug build on 2 cores has missed 3 s of heartbeats, and a
/// node taken for dead too early has its live sessions sealed under it.
pub fn settings(node: &str, url: &str, shared: &Path) -> String {
    format!(
        "node = \"{node}\"\nnode_timeout = \"10s\"\n[store]\nurl = \"{url}\"\n\
         [shared_recordings]\nurl = \"file://{}\"\ninterval = \"1s\"",
        shared.display()
    )
}

/// Another node serving: its own data directory with the first node's keys (one audit
/// signing key for the one chain; one host key and client key behind one name), the lab's
/// inventory and `policy`, and `settings`.
pub fn another_node(first: &BastionHome, lab: &Lab, policy: &str, settings: &str) -> BastionHome {
    let mut node = BastionHome::init(first.bin());
    for key in ["host_key", "client_key", "signing_key", "host_ca"] {
        for file in [key.to_string(), format!("{key}.pub")] {
            let from = first.data_dir().join(&file);
            if from.exists() {
                std::fs::copy(&from, node.data_dir().join(&file)).expect("copy a key");
            }
        }
    }
    node.write_inventory(&lab.inventory_yaml(""));
    node.write_policies(policy);
    node.set(settings);
    node.serve();
    node
}

/// HAProxy in TCP mode before `ports` (the nodes' SSH ports), round robin, each server checked
/// for the SSH banner every second (down after three misses: a node busy with 200 handshakes on
/// a debug build may be slow to greet, and is not dead); killed when dropped.
pub struct Haproxy {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Haproxy {
    /// `None` (after `skip`, which fails under CI) when Debian's haproxy is not installed.
    pub fn start(ports: &[u16]) -> Option<Haproxy> {
        let bin = "/usr/sbin/haproxy";
        if !Path::new(bin).exists() {
            crate::skip("HAProxy", "Debian's haproxy package is not installed");
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("haproxy-")
            .tempdir()
            .expect("tempdir");
        let ip = Ipv4Addr::LOCALHOST;
        let port = free_port(ip);
        let servers: String = ports
            .iter()
            .enumerate()
            .map(|(i, p)| format!("  server n{i} 127.0.0.1:{p} check inter 1s fall 3 rise 2\n"))
            .collect();
        let config = dir.path().join("haproxy.cfg");
        std::fs::write(
            &config,
            format!(
                "global\n  maxconn 4000\ndefaults\n  mode tcp\n  timeout connect 2s\n  \
                 timeout check 5s\n  timeout client 10m\n  timeout server 10m\n  retries 3\n  \
                 option redispatch\n\
                 listen ssh\n  bind 127.0.0.1:{port}\n  balance roundrobin\n  option tcp-check\n  \
                 tcp-check expect rstring ^SSH-2.0-\n{servers}"
            ),
        )
        .expect("write haproxy.cfg");
        let log = std::fs::File::create(dir.path().join("haproxy.log")).expect("log");
        let child = Command::new(bin)
            .arg("-db")
            .arg("-f")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start haproxy");
        let h = Haproxy {
            child,
            port,
            _dir: dir,
        };
        assert!(
            wait_for_port(SocketAddr::from((ip, port)), Duration::from_secs(20)),
            "haproxy did not listen: {}",
            h.log()
        );
        Some(h)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("haproxy.log")).unwrap_or_default()
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How many `session_interrupted` records `node`'s audit log holds for `session` (a dead
/// node's session is sealed exactly once, whichever survivor does it).
pub fn interrupted_records(node: &BastionHome, session: i64) -> usize {
    node.audit_of("session_interrupted")
        .iter()
        .filter(|e| e["detail"]["session"] == session)
        .count()
}
