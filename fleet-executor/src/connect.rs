//! Opening a host's connection the way its inventory variables say: directly over SSH, through
//! the bastion (`--via`), or locally (`ansible_connection: local`, `delegate_to: localhost`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::Semaphore;

use crate::connection::{self, BastionLink, ConnectOptions};
use fleet_modules::remote::{LocalRemoteIn, Remote, RemoteError, StopSignal};

/// Run-wide connection settings (command-line options and environment).
#[derive(Clone)]
pub struct Connector {
    /// `-u`: login for hosts without `ansible_user`.
    pub default_user: Option<String>,
    /// `--private-key`: key for hosts without `ansible_ssh_private_key_file`.
    pub private_key: Option<PathBuf>,
    /// Check host keys against known_hosts.
    pub host_key_checking: bool,
    /// known_hosts files.
    pub known_hosts: Vec<PathBuf>,
    /// TCP connect + handshake + authentication limit.
    pub connect_timeout: Duration,
    /// Limit for one command on a host.
    pub command_timeout: Option<Duration>,
    /// Ends running commands when the operator stops the run.
    pub stop: Option<StopSignal>,
    /// `--via`: every connection goes through this bastion.
    pub via: Option<BastionLink>,
    /// Direct SSH handshakes in flight at once (`--connect-limit`). A host waits for a turn
    /// before its connect timeout starts, so a thousand hosts on a few cores queue instead of
    /// all handshaking at once, where every handshake slows and some time out.
    pub handshakes: Arc<Semaphore>,
    /// Where a host with `ansible_connection: local` runs its commands: the playbook's
    /// directory, as Ansible's local connection runs in the task's base directory (empty: this
    /// process's, for `fleet exec`).
    pub local_dir: PathBuf,
}

fn text(vars: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match vars.get(*k)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// Whether the host's variables ask for a local connection.
pub fn is_local(vars: &Map<String, Value>) -> bool {
    text(vars, &["ansible_connection"]).as_deref() == Some("local")
}

impl Connector {
    /// Opens a connection for a host whose (templated) variables are `vars`.
    pub async fn open(
        &self,
        inventory_name: &str,
        vars: &Map<String, Value>,
    ) -> Result<Box<dyn Remote>, RemoteError> {
        if is_local(vars) {
            return Ok(Box::new(LocalRemoteIn(self.local_dir.clone())));
        }
        let address = text(vars, &["ansible_host", "ansible_ssh_host"])
            .unwrap_or_else(|| inventory_name.to_string());
        let user =
            text(vars, &["ansible_user", "ansible_ssh_user"]).or_else(|| self.default_user.clone());
        if let Some(link) = &self.via {
            // The bastion knows its targets by inventory name and picks the address itself.
            return Ok(Box::new(link.open(user.as_deref(), inventory_name)));
        }
        let user = user.unwrap_or_else(current_user);
        let mut opts = ConnectOptions::new(address, user);
        if let Some(port) = text(vars, &["ansible_port", "ansible_ssh_port"]) {
            opts.port = port
                .parse()
                .map_err(|_| RemoteError::Unreachable(format!("bad ansible_port {port:?}")))?;
        }
        opts.private_key = text(
            vars,
            &["ansible_ssh_private_key_file", "ansible_private_key_file"],
        )
        .map(|p| expand_home(&p))
        .or_else(|| self.private_key.clone());
        opts.host_key_checking = match vars.get("ansible_host_key_checking") {
            Some(Value::Bool(b)) => *b,
            _ => self.host_key_checking,
        };
        opts.known_hosts = self.known_hosts.clone();
        opts.connect_timeout = self.connect_timeout;
        opts.command_timeout = self.command_timeout;
        opts.stop = self.stop.clone();
        // the turn is held through login and the serving shell's start, then given back
        let _turn = self.handshakes.acquire().await.ok();
        Ok(Box::new(connection::connect(&opts).await?))
    }
}

/// The local user name, OpenSSH's default login.
pub fn current_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "root".into())
}

/// `~/x` → `$HOME/x`.
pub fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}
