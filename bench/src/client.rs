//! A minimal russh client: key login (plus a TOTP code when asked) and an interactive shell.
//! One process holding hundreds of sessions measures the bastion, not `ssh` process spawns.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use russh::client::{self, AuthResult, Handle, KeyboardInteractiveAuthResponse};
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg};
use russh::{Channel, ChannelMsg};

/// Accepts any host key (the targets are made fresh for each run).
pub struct Accept;

impl client::Handler for Accept {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        _key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

/// The client configuration shared by every connection.
pub fn config() -> Arc<client::Config> {
    Arc::new(client::Config {
        inactivity_timeout: None,
        nodelay: true,
        ..Default::default()
    })
}

/// Loads a private key file.
pub fn load_key(path: &std::path::Path) -> Result<Arc<PrivateKey>> {
    Ok(Arc::new(
        russh::keys::load_secret_key(path, None).context("load key")?,
    ))
}

/// Connects and logs in as `user` with `key`, answering a keyboard-interactive prompt with
/// `code` if the server asks for one.
pub async fn login(
    cfg: Arc<client::Config>,
    addr: (&str, u16),
    user: &str,
    key: &Arc<PrivateKey>,
    code: Option<&str>,
) -> Result<Handle<Accept>> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let mut h = client::connect_stream(cfg, tcp, Accept).await?;
    let key = PrivateKeyWithHashAlg::new(key.clone(), None);
    match h.authenticate_publickey(user, key).await? {
        AuthResult::Success => return Ok(h),
        AuthResult::Failure {
            partial_success: true,
            ..
        } => {}
        AuthResult::Failure { .. } => bail!("key refused for {user}"),
    }
    let code = code.context("a second factor was asked for")?;
    let mut reply = h
        .authenticate_keyboard_interactive_start(user, None)
        .await?;
    loop {
        match reply {
            KeyboardInteractiveAuthResponse::Success => return Ok(h),
            KeyboardInteractiveAuthResponse::Failure { .. } => bail!("TOTP refused for {user}"),
            KeyboardInteractiveAuthResponse::InfoRequest { prompts, .. } => {
                let answers = prompts.iter().map(|_| code.to_string()).collect();
                reply = h.authenticate_keyboard_interactive_respond(answers).await?;
            }
        }
    }
}

/// Opens a session channel with a PTY and a shell, and waits for its first output (the prompt).
pub async fn shell(h: &Handle<Accept>) -> Result<Channel<client::Msg>> {
    let mut ch = h.channel_open_session().await?;
    ch.request_pty(false, "xterm", 80, 24, 0, 0, &[]).await?;
    ch.request_shell(false).await?;
    wait_for(&mut ch, |_| true, Duration::from_secs(60)).await?;
    Ok(ch)
}

/// Reads channel data until `done` accepts a chunk; fails on close or timeout.
pub async fn wait_for(
    ch: &mut Channel<client::Msg>,
    mut done: impl FnMut(&[u8]) -> bool,
    timeout: Duration,
) -> Result<()> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let msg = tokio::time::timeout_at(deadline, ch.wait())
            .await
            .context("timed out waiting for output")?;
        match msg {
            Some(ChannelMsg::Data { data }) if done(&data) => return Ok(()),
            Some(ChannelMsg::Eof | ChannelMsg::Close) | None => bail!("channel closed"),
            _ => {}
        }
    }
}
