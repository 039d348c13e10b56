//! Opening an authenticated russh connection: TCP with a timeout, host key checked against
//! known_hosts, then public key authentication with the given key, the ssh-agent and the
//! default key files. Failures read like OpenSSH's, since that is what Ansible users know.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client::{self, Handle};
use russh::keys::agent::client::AgentClient;
use russh::keys::agent::AgentIdentity;
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate};
use russh::MethodKind;

use super::known_hosts::{self, KnownHosts, Verdict};
use fleet_modules::remote::{RemoteError, StopSignal};

/// Everything needed to reach one host.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Host name or IP address to connect to (`ansible_host`).
    pub address: String,
    /// TCP port (`ansible_port`, default 22).
    pub port: u16,
    /// Login name (`ansible_user`).
    pub user: String,
    /// Key file to offer; `None` offers the default `~/.ssh/id_*` files.
    pub private_key: Option<PathBuf>,
    /// How long TCP connect, handshake and authentication may take together.
    pub connect_timeout: Duration,
    /// How long one command may run; `None` for no limit.
    pub command_timeout: Option<Duration>,
    /// Refuse hosts whose key is not in `known_hosts` (Ansible's `host_key_checking`).
    pub host_key_checking: bool,
    /// known_hosts files to consult, in order.
    pub known_hosts: Vec<PathBuf>,
    /// Ends a running command early when the operator stops the run.
    pub stop: Option<StopSignal>,
}

impl ConnectOptions {
    /// Options with OpenSSH's defaults: port 22, 10 s connect timeout, strict host key checking
    /// against the user's and the system's known_hosts, default key files.
    pub fn new(address: impl Into<String>, user: impl Into<String>) -> ConnectOptions {
        ConnectOptions {
            address: address.into(),
            port: 22,
            user: user.into(),
            private_key: None,
            connect_timeout: Duration::from_secs(10),
            command_timeout: None,
            host_key_checking: true,
            known_hosts: known_hosts::default_files(),
            stop: None,
        }
    }

    /// The `ssh: connect to host X port Y: ...` prefix OpenSSH uses for network failures.
    fn network_failure(&self, what: &str) -> RemoteError {
        unreachable(&format!(
            "ssh: connect to host {} port {}: {what}",
            self.address, self.port
        ))
    }
}

/// An UNREACHABLE error with Ansible's `Failed to connect to the host via ssh:` prefix.
pub fn unreachable(detail: &str) -> RemoteError {
    RemoteError::Unreachable(format!("Failed to connect to the host via ssh: {detail}"))
}

/// Why the host key callback refused the server (kept to explain the refusal afterwards).
#[derive(Debug, Clone)]
struct Refusal(String);

/// russh handler that checks the server's host key against known_hosts.
pub struct HostKeyCheck {
    known: Option<Arc<KnownHosts>>,
    host: String,
    port: u16,
    refusal: Arc<Mutex<Option<Refusal>>>,
}

impl client::Handler for HostKeyCheck {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let Some(known) = &self.known else {
            return Ok(true); // host_key_checking = false
        };
        let key: &PublicKey = match key {
            PublicKeyOrCertificate::PublicKey { key, .. } => key,
            PublicKeyOrCertificate::Certificate(_) => {
                self.refuse("host certificates are not supported".into());
                return Ok(false);
            }
        };
        let verdict = known.check(&self.host, self.port, key);
        let name = known_hosts::lookup_name(&self.host, self.port);
        let kind = known_hosts::key_type_label(key);
        let fp = known_hosts::fingerprint(key);
        let message = match verdict {
            Verdict::Known => return Ok(true),
            Verdict::Unknown => format!(
                "No {kind} host key is known for {name} and you have requested strict checking.\n\
                 Host key verification failed."
            ),
            Verdict::Changed { file, line } => format!(
                "WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! The {kind} key sent by {name} \
                 has fingerprint {fp}, which does not match the key in {}:{line}.\n\
                 Host key verification failed.",
                file.display()
            ),
            Verdict::Revoked { file, line } => format!(
                "WARNING: REVOKED HOST KEY DETECTED! The {kind} key {fp} sent by {name} is \
                 marked as revoked in {}:{line}.\nHost key verification failed.",
                file.display()
            ),
        };
        self.refuse(message);
        Ok(false)
    }
}

impl HostKeyCheck {
    fn refuse(&self, message: String) {
        *self.refusal.lock().unwrap_or_else(|p| p.into_inner()) = Some(Refusal(message));
    }
}

/// Connects and checks the host key, without authenticating yet.
pub async fn handshake(opts: &ConnectOptions) -> Result<Handle<HostKeyCheck>, RemoteError> {
    let refusal = Arc::new(Mutex::new(None));
    let handler = HostKeyCheck {
        known: opts
            .host_key_checking
            .then(|| KnownHosts::load_shared(&opts.known_hosts)),
        host: opts.address.clone(),
        port: opts.port,
        refusal: refusal.clone(),
    };
    let config = Arc::new(client::Config {
        inactivity_timeout: None,
        keepalive_interval: Some(Duration::from_secs(30)),
        keepalive_max: 4,
        nodelay: true,
        window_size: 8 * 1024 * 1024,
        maximum_packet_size: 65535,
        channel_buffer_size: 256,
        preferred: preferred_algorithms(),
        ..Default::default()
    });
    let tcp = tokio::net::TcpStream::connect((opts.address.as_str(), opts.port));
    let tcp = match tokio::time::timeout(opts.connect_timeout, tcp).await {
        Err(_) => return Err(opts.network_failure("Connection timed out")),
        Ok(Err(e)) => return Err(opts.network_failure(&io_reason(&e))),
        Ok(Ok(s)) => s,
    };
    let _ = tcp.set_nodelay(true);
    let session = client::connect_stream(config, tcp, handler);
    match tokio::time::timeout(opts.connect_timeout, session).await {
        Err(_) => Err(opts.network_failure("Connection timed out during banner exchange")),
        Ok(Ok(handle)) => Ok(handle),
        Ok(Err(e)) => {
            if let Some(Refusal(msg)) = refusal.lock().unwrap_or_else(|p| p.into_inner()).take() {
                return Err(unreachable(&msg));
            }
            Err(match e {
                russh::Error::IO(io) => opts.network_failure(&io_reason(&io)),
                other => unreachable(&format!(
                    "kex_exchange_identification with {} port {}: {other}",
                    opts.address, opts.port
                )),
            })
        }
    }
}

/// Key exchanges in the order fleet offers them: russh's own list (the post-quantum hybrid
/// first, where the server has it), except that NIST P-256 ECDH comes before curve25519.
///
/// Why: a run's cost is mostly on the targets, and among classical exchanges the target's
/// choice of implementation decides it. OpenSSH (before its hybrids) computes curve25519 with
/// its own portable reference code but P-256 through OpenSSL's assembly: measured on this
/// project's bench against OpenSSH 9.2, 17.8 instead of 20.4 ms of `sshd` CPU per connection
/// (kex alone), about 6% of a 200-host `basic.yml` run. Both give 128-bit security and both
/// are in OpenSSH's own default list; a server that offers only one still gets it.
pub fn preferred_algorithms() -> russh::Preferred {
    use russh::kex;
    let mut order: Vec<kex::Name> = russh::Preferred::DEFAULT.kex.to_vec();
    order.retain(|k| *k != kex::ECDH_SHA2_NISTP256);
    let at = order
        .iter()
        .position(|k| *k == kex::CURVE25519)
        .unwrap_or(order.len());
    order.insert(at, kex::ECDH_SHA2_NISTP256);
    russh::Preferred {
        kex: order.into(),
        ..russh::Preferred::DEFAULT
    }
}

/// OpenSSH's wording for common socket errors ("Connection refused", "No route to host").
fn io_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused => "Connection refused".into(),
        TimedOut => "Connection timed out".into(),
        ConnectionReset => "Connection reset by peer".into(),
        _ => {
            let text = e.to_string();
            // "No route to host (os error 113)" -> "No route to host"
            match text.find(" (os error") {
                Some(i) => text[..i].to_string(),
                None => text,
            }
        }
    }
}

/// How public key authentication ended.
pub enum KeyAuth {
    /// Fully logged in.
    Success,
    /// A key was accepted but the server wants more (e.g. keyboard-interactive after it).
    Partial { remaining: Vec<MethodKind> },
    /// No key was accepted.
    Denied { remaining: Vec<MethodKind> },
}

/// Offers keys in OpenSSH's order: the explicit key, the agent's keys, then (with no explicit
/// key) the default files `~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa`. Passphrase-protected
/// files are skipped.
pub async fn authenticate_with_keys(
    handle: &mut Handle<HostKeyCheck>,
    opts: &ConnectOptions,
) -> Result<KeyAuth, RemoteError> {
    let lost = |e: russh::Error| unreachable(&format!("authentication failed: {e}"));
    let rsa_hash = handle
        .best_supported_rsa_hash()
        .await
        .map_err(lost)?
        .flatten();
    let mut remaining = vec![MethodKind::PublicKey];
    if let Some(path) = &opts.private_key {
        let key = load_key(path)?;
        let key = PrivateKeyWithHashAlg::new(Arc::new(key), rsa_hash);
        let result = handle
            .authenticate_publickey(opts.user.clone(), key)
            .await
            .map_err(lost)?;
        if let Some(done) = judge(result, &mut remaining) {
            return Ok(done);
        }
    }
    if let Some(done) = try_agent(handle, opts, rsa_hash, &mut remaining).await? {
        return Ok(done);
    }
    if opts.private_key.is_none() {
        for path in default_key_files() {
            let Ok(key) = russh::keys::load_secret_key(&path, None) else {
                continue;
            };
            let key = PrivateKeyWithHashAlg::new(Arc::new(key), rsa_hash);
            let result = handle
                .authenticate_publickey(opts.user.clone(), key)
                .await
                .map_err(lost)?;
            if let Some(done) = judge(result, &mut remaining) {
                return Ok(done);
            }
        }
    }
    Ok(KeyAuth::Denied { remaining })
}

/// Keys held by the ssh-agent at `SSH_AUTH_SOCK`, if there is one.
async fn try_agent(
    handle: &mut Handle<HostKeyCheck>,
    opts: &ConnectOptions,
    rsa_hash: Option<russh::keys::HashAlg>,
    remaining: &mut Vec<MethodKind>,
) -> Result<Option<KeyAuth>, RemoteError> {
    if std::env::var_os("SSH_AUTH_SOCK").is_none() {
        return Ok(None);
    }
    let Ok(mut agent) = AgentClient::connect_env().await else {
        return Ok(None);
    };
    let Ok(identities) = agent.request_identities().await else {
        return Ok(None);
    };
    for identity in identities {
        let AgentIdentity::PublicKey { key, .. } = identity else {
            continue;
        };
        let hash = if key.algorithm().is_rsa() {
            rsa_hash
        } else {
            None
        };
        match handle
            .authenticate_publickey_with(opts.user.clone(), key, hash, &mut agent)
            .await
        {
            Ok(result) => {
                if let Some(done) = judge(result, remaining) {
                    return Ok(Some(done));
                }
            }
            Err(_) => continue, // the agent could not sign with this key
        }
    }
    Ok(None)
}

/// `Some` when the attempt ends authentication (success or partial success).
fn judge(result: russh::client::AuthResult, remaining: &mut Vec<MethodKind>) -> Option<KeyAuth> {
    match result {
        russh::client::AuthResult::Success => Some(KeyAuth::Success),
        russh::client::AuthResult::Failure {
            remaining_methods,
            partial_success,
        } => {
            *remaining = remaining_methods.to_vec();
            partial_success.then(|| KeyAuth::Partial {
                remaining: remaining_methods.to_vec(),
            })
        }
    }
}

fn load_key(path: &Path) -> Result<PrivateKey, RemoteError> {
    russh::keys::load_secret_key(path, None).map_err(|e| {
        unreachable(&format!(
            "Load key \"{}\": {}",
            path.display(),
            match e {
                russh::keys::Error::KeyIsEncrypted =>
                    "key is encrypted (passphrase keys are not supported; use ssh-agent)"
                        .to_string(),
                russh::keys::Error::IO(io) => io_reason(&io),
                other => other.to_string(),
            }
        ))
    })
}

fn default_key_files() -> Vec<PathBuf> {
    let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) else {
        return Vec::new();
    };
    let ssh = Path::new(&home).join(".ssh");
    ["id_ed25519", "id_ecdsa", "id_rsa"]
        .iter()
        .map(|name| ssh.join(name))
        .filter(|p| p.exists())
        .collect()
}

/// `user@host: Permission denied (publickey,keyboard-interactive).`
pub fn permission_denied(opts: &ConnectOptions, remaining: &[MethodKind]) -> RemoteError {
    let methods: Vec<&str> = remaining.iter().map(<&str>::from).collect();
    let methods = if methods.is_empty() {
        "publickey".to_string()
    } else {
        methods.join(",")
    };
    unreachable(&format!(
        "{}@{}: Permission denied ({methods}).",
        opts.user, opts.address
    ))
}

/// Connects, checks the host key and logs in with public keys; one call per host per run.
pub async fn connect_and_login(opts: &ConnectOptions) -> Result<Handle<HostKeyCheck>, RemoteError> {
    let mut handle = handshake(opts).await?;
    let auth = tokio::time::timeout(
        opts.connect_timeout,
        authenticate_with_keys(&mut handle, opts),
    )
    .await
    .map_err(|_| opts.network_failure("Connection timed out during authentication"))??;
    match auth {
        KeyAuth::Success => Ok(handle),
        KeyAuth::Partial { remaining } | KeyAuth::Denied { remaining } => {
            Err(permission_denied(opts, &remaining))
        }
    }
}
