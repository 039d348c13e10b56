//! `ssh -J alice@bastion root@web1`: ProxyJump, recorded.
//!
//! OpenSSH's ProxyJump asks the jump host for a `direct-tcpip` channel to web1's SSH port and
//! runs a second, end-to-end encrypted SSH connection inside it. Relayed as bytes, that inner
//! connection would be opaque: nothing recorded, no command checked. So when a `direct-tcpip`
//! request names an inventory host's SSH service (`access::Access::ssh_service`), the bastion
//! does not relay it; it *is* the SSH server at the end of that channel:
//!
//! 1. The jump itself is decided (`session::authorize_jump`, audited): a user with no login on
//!    the host is refused before anything else.
//! 2. The inner connection is served by the same russh handler as the bastion's own port, in
//!    jump mode: it shows the bastion's host key inside a host certificate for exactly that
//!    host's names (`host_cert`), accepts only public-key logins with one of the same user's
//!    registered keys (the outer login already passed TOTP), and takes the login name as the
//!    target login.
//! 3. Each session channel inside is then served exactly as a direct session with that target:
//!    policy decision per channel, the bastion's own upstream connection, recording, command
//!    log, `deny_commands`, scp/sftp/rsync audit; `session_start` says `via: proxyjump`.

use std::sync::Arc;

use russh::server::{ChannelOpenHandle, Msg};
use russh::{Channel, ChannelOpenFailure, MethodKind};

use super::handler::ConnectionHandler;
use crate::host_cert;
use crate::state::{ConnInfo, Shared};

/// The inner connection's ciphers. It runs inside the outer connection, which is already
/// encrypted, so its cipher is a second layer the bastion pays for on every byte; AES-GCM runs
/// on the CPU's AES instructions, several times faster than ChaCha20-Poly1305 (OpenSSH's first
/// choice, which it would otherwise pick), and is as strong. A client that disables AES-GCM
/// is told there is no common cipher.
const INNER_CIPHERS: &[russh::cipher::Name] =
    &[russh::cipher::AES_128_GCM, russh::cipher::AES_256_GCM];

/// Whom an inner ProxyJump connection is for.
#[derive(Clone, Debug)]
pub struct JumpTo {
    /// The bastion user of the outer connection.
    pub user: String,
    /// The inventory name of the host jumped to.
    pub host: String,
    pub totp_verified: bool,
}

/// Serves one ProxyJump channel to `host` (an inventory name) until the inner connection ends.
pub async fn serve(
    shared: Arc<Shared>,
    outer: ConnInfo,
    channel: Channel<Msg>,
    reply: ChannelOpenHandle,
    host: String,
) {
    if crate::session::authorize_jump(&shared, &outer, &host).is_err() {
        reply
            .reject(ChannelOpenFailure::AdministrativelyProhibited)
            .await;
        return;
    }
    let certificate = {
        let access = shared.access();
        let Some(h) = access.resolve(&host) else {
            reply.reject(ChannelOpenFailure::ConnectFailed).await;
            return;
        };
        host_cert::issue(
            &shared.host_ca,
            &shared.host_key,
            &h.name,
            &[&h.name, h.address()],
        )
    };
    let certificate = match certificate {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("cannot issue a host certificate for {host}: {e}");
            reply.reject(ChannelOpenFailure::ConnectFailed).await;
            return;
        }
    };
    reply.accept().await;
    let mut config = super::ssh_config(
        &[MethodKind::PublicKey],
        (*shared.host_key).clone(),
        vec![certificate],
    );
    config.preferred.cipher = std::borrow::Cow::Borrowed(INNER_CIPHERS);
    // No keepalives inside: the outer connection's already find a client that went away (its
    // channel, this connection's transport, then closes), and each kept timer is reset on every
    // packet, a cost a keystroke would pay twice.
    config.keepalive_interval = None;
    let config = Arc::new(config);
    let handler = ConnectionHandler::jumped(shared.clone(), &outer, host.clone());
    match russh::server::run_stream(config, channel.into_stream(), handler).await {
        Ok(running) => {
            if let Err(e) = running.await {
                tracing::debug!("ProxyJump connection to {host} ended: {e}");
            }
        }
        Err(e) => tracing::debug!("ProxyJump connection to {host} failed to start: {e}"),
    }
}
