//! The bastion's own SSH connection to a target: connect timeout, host key pinning, client key.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client;
use russh::keys::{HashAlg, PrivateKeyWithHashAlg, PublicKey};

use super::authorize::Granted;
use super::quick_ack::QuickAck;

/// Ciphers offered to targets, best first. AES-GCM first: on CPUs with AES-NI and CLMUL (the
/// `aes` and `polyval` crates detect them at run time) it costs the bastion less per byte than
/// ChaCha20-Poly1305, and the bastion pays for every byte twice. Both are AEADs OpenSSH offers.
const UPSTREAM_CIPHERS: &[russh::cipher::Name] = &[
    russh::cipher::AES_256_GCM,
    russh::cipher::CHACHA20_POLY1305,
    russh::cipher::AES_256_CTR,
    russh::cipher::AES_192_CTR,
    russh::cipher::AES_128_CTR,
];
use crate::keys::public_line;
use crate::state::{ConnInfo, Shared};
use store::{AuditEvent, PinCheck};

/// Why a target could not be reached, as one line for the user.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("connection to {host} ({endpoint}) timed out after {secs}s")]
    Timeout {
        host: String,
        endpoint: String,
        secs: u64,
    },
    #[error("cannot connect to {host} ({endpoint}): {reason}")]
    Network {
        host: String,
        endpoint: String,
        reason: String,
    },
    #[error("host key of {host} ({endpoint}) has changed: pinned {pinned}, offered {offered}; refusing to connect")]
    HostKeyMismatch {
        host: String,
        endpoint: String,
        pinned: String,
        offered: String,
    },
    #[error("{host} refused the bastion's key for login {login}")]
    AuthRejected { host: String, login: String },
}

/// Key verdict recorded by the check callback so the caller can explain a refusal.
#[derive(Clone, Debug)]
struct Mismatch {
    pinned: String,
    offered: String,
}

/// russh client handler: checks the target's host key against the pin.
pub struct TargetKeyCheck {
    shared: Arc<Shared>,
    conn: ConnInfo,
    host: String,
    endpoint: String,
    preset: Option<String>,
    mismatch: Arc<Mutex<Option<Mismatch>>>,
}

impl client::Handler for TargetKeyCheck {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let russh::keys::PublicKeyOrCertificate::PublicKey { key, .. } = key else {
            return Ok(false);
        };
        let offered_fp = key.fingerprint(HashAlg::Sha256).to_string();
        let line = public_line(key);
        let verdict = match &self.preset {
            Some(preset) => match PublicKey::from_openssh(preset.trim()) {
                Ok(p) if public_line(&p) == line => PinCheck::Match,
                Ok(p) => PinCheck::Mismatch {
                    pinned_fingerprint: p.fingerprint(HashAlg::Sha256).to_string(),
                },
                Err(_) => PinCheck::Mismatch {
                    pinned_fingerprint: "invalid ssh_host_key in inventory".into(),
                },
            },
            None => match self.shared.store.check_or_pin_host_key(
                &self.endpoint,
                &self.host,
                &line,
                &offered_fp,
            ) {
                Ok(v) => v,
                Err(e) => PinCheck::Mismatch {
                    pinned_fingerprint: format!("(store error: {e})"),
                },
            },
        };
        let audit = |event| {
            self.shared
                .audit(Some(&self.conn.user), Some(&self.conn.source), event)
        };
        match verdict {
            PinCheck::Match => Ok(true),
            PinCheck::PinnedNow => Ok(audit(AuditEvent::HostKeyPinned {
                host: self.host.clone(),
                endpoint: self.endpoint.clone(),
                key: offered_fp,
            })),
            PinCheck::Mismatch { pinned_fingerprint } => {
                audit(AuditEvent::HostKeyMismatch {
                    host: self.host.clone(),
                    endpoint: self.endpoint.clone(),
                    pinned: pinned_fingerprint.clone(),
                    offered: offered_fp.clone(),
                });
                *self.mismatch.lock().unwrap_or_else(|p| p.into_inner()) = Some(Mismatch {
                    pinned: pinned_fingerprint,
                    offered: offered_fp,
                });
                Ok(false)
            }
        }
    }
}

/// The upstream connections' settings, made once: every target connection shares them.
fn client_config() -> Arc<client::Config> {
    static CONFIG: std::sync::OnceLock<Arc<client::Config>> = std::sync::OnceLock::new();
    CONFIG
        .get_or_init(|| {
            Arc::new(client::Config {
                inactivity_timeout: None,
                keepalive_interval: Some(Duration::from_secs(30)),
                keepalive_max: 4,
                nodelay: true,
                window_size: 8 * 1024 * 1024,
                channel_buffer_size: 64,
                preferred: russh::Preferred {
                    cipher: std::borrow::Cow::Borrowed(UPSTREAM_CIPHERS),
                    ..Default::default()
                },
                ..Default::default()
            })
        })
        .clone()
}

/// Connects and authenticates to a granted target.
pub async fn connect(
    shared: &Arc<Shared>,
    conn: &ConnInfo,
    g: &Granted,
) -> Result<client::Handle<TargetKeyCheck>, ConnectError> {
    let endpoint = store::endpoint(&g.address, g.port);
    let mismatch = Arc::new(Mutex::new(None));
    let handler = TargetKeyCheck {
        shared: shared.clone(),
        conn: conn.clone(),
        host: g.host.clone(),
        endpoint: endpoint.clone(),
        preset: g.pinned_key.clone(),
        mismatch: mismatch.clone(),
    };
    let config = client_config();
    let timeout = shared.dir.settings.connect_timeout;
    let began = std::time::Instant::now();
    let attempt = async {
        let stream = tokio::net::TcpStream::connect((g.address.as_str(), g.port)).await?;
        stream.set_nodelay(true)?;
        let mut handle = client::connect_stream(config, QuickAck(stream), handler).await?;
        let key = PrivateKeyWithHashAlg::new(shared.client_key.clone(), None);
        let auth = handle.authenticate_publickey(g.login.clone(), key).await?;
        Ok::<_, russh::Error>((handle, auth.success()))
    };
    let error = match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok((handle, true))) => {
            crate::metrics::global().upstream_connected(began.elapsed());
            return Ok(handle);
        }
        Err(_) => ConnectError::Timeout {
            host: g.host.clone(),
            endpoint: endpoint.clone(),
            secs: timeout.as_secs(),
        },
        Ok(Ok((_, false))) => ConnectError::AuthRejected {
            host: g.host.clone(),
            login: g.login.clone(),
        },
        Ok(Err(e)) => {
            // A changed host key was audited by the check itself (`host_key_mismatch`).
            if let Some(m) = mismatch.lock().unwrap_or_else(|p| p.into_inner()).take() {
                return Err(ConnectError::HostKeyMismatch {
                    host: g.host.clone(),
                    endpoint,
                    pinned: m.pinned,
                    offered: m.offered,
                });
            }
            let reason = match e {
                russh::Error::IO(io) => io.to_string(),
                other => other.to_string(),
            };
            ConnectError::Network {
                host: g.host.clone(),
                endpoint: endpoint.clone(),
                reason,
            }
        }
    };
    shared.audit(
        Some(&conn.user),
        Some(&conn.source),
        AuditEvent::TargetConnectFailed {
            host: g.host.clone(),
            endpoint,
            login: g.login.clone(),
            error: error.to_string(),
        },
    );
    Err(error)
}
