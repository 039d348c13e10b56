//! `bastion serve`: wires the data directory, store, access rules and the SSH listener together.

mod control;
mod handler;
mod live;
mod recovery;
mod state;
mod watcher;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use russh::server::Server as _;
use russh::{MethodKind, MethodSet};

use crate::datadir::DataDir;
use crate::keys;

pub use live::{screen_from_recording, Join, JoinStart, LiveSession, LiveSessions, ScreenSource};
pub use recovery::seal_session;
pub use state::{load_access, ConnInfo, Shared};

/// Runs the SSH server until the process is stopped.
pub async fn serve(dir: DataDir, listen: Option<String>) -> Result<()> {
    let shared = Arc::new(Shared::load(dir)?);
    recovery::seal_interrupted(&shared)?;
    watcher::spawn(shared.clone());
    control::spawn(shared.clone(), &shared.dir.control_socket_path())?;

    let host_key = keys::load_private(&shared.dir.host_key_path())?;
    let config = russh::server::Config {
        server_id: russh::SshId::Standard("SSH-2.0-Bastion".into()),
        methods: MethodSet::from(&[MethodKind::PublicKey, MethodKind::KeyboardInteractive][..]),
        // Failures wait handler::FAILURE_DELAY in the handler; russh's delay would also hold
        // every partial success (good key, TOTP code still needed) for the whole second.
        auth_rejection_time: Duration::ZERO,
        auth_rejection_time_initial: Some(Duration::ZERO),
        keys: vec![host_key],
        inactivity_timeout: None,
        keepalive_interval: Some(Duration::from_secs(30)),
        keepalive_max: 4,
        max_auth_attempts: 6,
        nodelay: true,
        window_size: 8 * 1024 * 1024,
        channel_buffer_size: 64,
        ..Default::default()
    };
    let addr = listen.unwrap_or_else(|| shared.dir.settings.listen.clone());
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("listening on {addr}"))?;
    let local = listener.local_addr()?;
    tracing::info!("listening on {local}");
    eprintln!("bastion: listening on {local}");
    let mut server = handler::ConnectionFactory { shared };
    server
        .run_on_socket(Arc::new(config), &listener)
        .await
        .context("SSH server stopped")?;
    Ok(())
}
