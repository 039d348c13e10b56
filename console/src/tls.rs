//! HTTPS for the console: the certificate (self-signed at `init` unless the operator names
//! one) and the accept loop.
//!
//! The accept loop is written here on tokio-rustls and hyper-util rather than taken from
//! axum-server: axum-server's rustls feature pulls a second crypto provider (aws-lc) into a
//! build that already has ring (russh uses it), and the loop is short — each connection's TLS
//! handshake runs in its own task, so a slow or silent client never holds up the next accept.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// How long a client may take to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Writes a self-signed certificate for `names` (host names or IP addresses) and its key
/// (mode 0600) unless the certificate file exists. Returns whether it made one.
pub fn ensure_self_signed(cert: &Path, key: &Path, names: &[String]) -> Result<bool> {
    if cert.exists() {
        return Ok(false);
    }
    let made = rcgen::generate_simple_self_signed(names.to_vec())
        .context("making the console's self-signed certificate")?;
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(key)
        .with_context(|| format!("creating {}", key.display()))?;
    f.write_all(made.key_pair.serialize_pem().as_bytes())?;
    f.sync_all()?;
    fs::write(cert, made.cert.pem()).with_context(|| format!("writing {}", cert.display()))?;
    Ok(true)
}

/// The rustls server settings for a PEM certificate chain and key.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>> {
    let chain = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("reading console certificate {}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing console certificate {}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("reading console key {}", key.display()))?;
    // ring, as russh uses: one crypto library in the build. rustls marks its ring provider
    // deprecated only for lacking post-quantum key exchange, which browsers do not require.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("console certificate and key do not match")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Accepts connections forever, each served in its own task.
pub async fn serve(
    listener: tokio::net::TcpListener,
    tls: Arc<rustls::ServerConfig>,
    app: Router,
) -> Result<()> {
    let acceptor = TlsAcceptor::from(tls);
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // Out of file descriptors and the like: wait instead of spinning.
                tracing::warn!("console accept: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => return tracing::debug!("console TLS from {peer}: {e}"),
                Err(_) => return tracing::debug!("console TLS from {peer}: handshake timed out"),
            };
            let service = hyper::service::service_fn(move |mut req: hyper::Request<_>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                app.clone().oneshot(req)
            });
            let served = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection_with_upgrades(TokioIo::new(tls), service)
                .await;
            if let Err(e) = served {
                tracing::debug!("console connection from {peer}: {e}");
            }
        });
    }
}
