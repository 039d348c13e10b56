//! `bastion serve`: wires the data directory, store, access rules and the SSH listener together.
//! This folder keeps the listener, the russh handler shim, the control socket and the file
//! watcher; what connections share lives in `state/`.

mod console_backend;
mod control;
mod handler;
mod jump;
mod nodes;
mod notifications;
mod watcher;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use russh::server::Server as _;
use russh::{MethodKind, MethodSet};

use crate::datadir::DataDir;

use crate::state::{seal_interrupted, Shared};

/// Starts the web console on a runtime of its own, one thread: its page rendering and store
/// queries then never occupy the worker threads that move SSH sessions' bytes, so auditors
/// browsing do not slow the keystrokes of the people they watch (`bench console-load`).
async fn start_console(
    config: console::ConsoleConfig,
    backend: Arc<console_backend::ConsoleBackend>,
) -> Result<()> {
    let (ready, started) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("console".into())
        .spawn(move || {
            lower_priority();
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready.send(Err(anyhow::anyhow!("web console runtime: {e}")));
                    return;
                }
            };
            rt.block_on(async move {
                match console::start(config, backend).await {
                    Ok(serving) => {
                        let _ = ready.send(Ok(()));
                        let _ = serving.await;
                    }
                    Err(e) => {
                        let _ = ready.send(Err(e));
                    }
                }
            });
        })
        .context("starting the web console's thread")?;
    started
        .await
        .context("the web console's thread ended before it started")?
}

/// Lowers the calling thread's scheduling priority (nice 10; on Linux the nice value is per
/// thread, and threads it starts inherit it): when the machine is busy, the console waits
/// and the SSH sessions do not. Written against libc because nix has no `setpriority`.
fn lower_priority() {
    // SAFETY: setpriority only reads its integer arguments; `who = 0` is the calling thread.
    let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 10) };
    if rc != 0 {
        tracing::warn!(
            "web console: cannot lower its priority: {}",
            std::io::Error::last_os_error()
        );
    }
}

/// Starts the `/metrics` listener of `[metrics] listen`, if set.
async fn start_metrics(shared: &Arc<Shared>) -> Result<()> {
    let Some(addr) = shared.dir.settings.metrics_listen.clone() else {
        return Ok(());
    };
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("metrics.listen: listening on {addr}"))?;
    eprintln!(
        "bastion: metrics on http://{}/metrics",
        listener.local_addr()?
    );
    let s = shared.clone();
    tokio::spawn(crate::metrics::serve(listener, move || {
        let shipping = s
            .shared_recordings
            .as_ref()
            .map(|r| crate::metrics::ShipStatus {
                lag_seconds: r.shipper().lag_seconds(),
                failures: r.shipper().failures(),
            });
        crate::metrics::global().render(&s.store, &s.dir.settings.node, shipping)
    }));
    Ok(())
}

/// Runs the SSH server until the process is stopped.
pub async fn serve(dir: DataDir, listen: Option<String>, web_listen: Option<String>) -> Result<()> {
    let web = dir.settings.web.clone();
    let web_listen = web_listen.unwrap_or(web.listen.clone());
    let console_url = web.enabled.then(|| dir.console_url(&web_listen));
    let shared = Arc::new(Shared::load(dir, console_url.clone())?);
    seal_interrupted(&shared)?;
    watcher::spawn(shared.clone());
    crate::requests::sweep::spawn(shared.clone());
    notifications::spawn(shared.clone())?;
    control::spawn(shared.clone(), &shared.dir.control_socket_path())?;
    start_metrics(&shared).await?;
    nodes::spawn(shared.clone())?;
    if let Some(to) = &shared.shared_recordings {
        let s = shared.clone();
        let fence = shared.clone();
        to.spawn_rounds(
            move || {
                s.live
                    .all()
                    .iter()
                    .filter(|l| !s.fence.is_fenced(l.id))
                    .filter_map(|l| l.flushed_recording())
                    .collect()
            },
            move || fence.fence.lease_holds(),
        );
    }
    if let Some(public_url) = console_url {
        let config = console::ConsoleConfig {
            listen: web_listen,
            public_url,
            cert: shared.dir.web_cert_path(),
            key: shared.dir.web_key_path(),
            idle: web.session_idle,
            max_age: web.session_max,
        };
        start_console(
            config,
            Arc::new(console_backend::ConsoleBackend(shared.clone())),
        )
        .await?;
    }

    let config = ssh_config(
        &[MethodKind::PublicKey, MethodKind::KeyboardInteractive],
        (*shared.host_key).clone(),
        Vec::new(),
    );
    let addr = listen.unwrap_or_else(|| shared.dir.settings.listen.clone());
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("listening on {addr}"))?;
    let local = listener.local_addr()?;
    tracing::info!("listening on {local}");
    eprintln!("bastion: listening on {local}");
    let mut server = handler::ConnectionFactory {
        shared: shared.clone(),
    };
    let running = server.run_on_socket(Arc::new(config), &listener);
    tokio::pin!(running);
    tokio::select! {
        stopped = &mut running => stopped.context("SSH server stopped")?,
        signal = shutdown_signal() => {
            let signal = signal?;
            // The server future keeps being polled while sessions end: dropping it
            // disconnects every connection before their sessions could say why and seal.
            tokio::select! {
                _ = &mut running => {}
                _ = shutdown(&shared, signal) => {}
            }
        }
    }
    Ok(())
}

/// The SSH server settings of the bastion's own port and of ProxyJump inner connections.
fn ssh_config(
    methods: &[MethodKind],
    host_key: russh::keys::PrivateKey,
    certificates: Vec<russh::keys::Certificate>,
) -> russh::server::Config {
    russh::server::Config {
        server_id: russh::SshId::Standard("SSH-2.0-Bastion".into()),
        methods: MethodSet::from(methods),
        // Failures wait handler::FAILURE_DELAY in the handler; russh's delay would also hold
        // every partial success (good key, TOTP code still needed) for the whole second.
        auth_rejection_time: Duration::ZERO,
        auth_rejection_time_initial: Some(Duration::ZERO),
        keys: vec![host_key],
        certificates,
        inactivity_timeout: None,
        keepalive_interval: Some(Duration::from_secs(30)),
        keepalive_max: 4,
        max_auth_attempts: 6,
        nodelay: true,
        window_size: 8 * 1024 * 1024,
        channel_buffer_size: 64,
        ..Default::default()
    }
}

/// How long a clean shutdown waits for sessions to end before stopping anyway (those left are
/// sealed as interrupted at the next start, as after a crash).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Time for connection tasks to write out what ended sessions queued.
const FLUSH_GRACE: Duration = Duration::from_millis(500);

/// Resolves with the signal's name on SIGTERM or SIGINT.
async fn shutdown_signal() -> Result<&'static str> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("SIGINT handler")?;
    Ok(tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    })
}

/// A clean stop: every live session is ended with a message (sealed, `session_end` audited as
/// usual), then one last signed checkpoint closes the audit log.
async fn shutdown(shared: &Shared, signal: &str) {
    eprintln!("bastion: {signal}: ending live sessions, then stopping");
    shared.running.stop();
    for session in shared.live.all() {
        session.kill("the bastion is shutting down".into());
    }
    if tokio::time::timeout(SHUTDOWN_GRACE, shared.running.wait_idle())
        .await
        .is_err()
    {
        tracing::warn!("sessions still running after {SHUTDOWN_GRACE:?}; stopping anyway");
    }
    // The connections' own tasks still have the sessions' last words (the message, exit
    // status, close) to write out; they end with the process.
    tokio::time::sleep(FLUSH_GRACE).await;
    match shared.store.checkpoint_now() {
        Ok(Some(id)) => eprintln!("bastion: audit log closed with checkpoint record {id}"),
        Ok(None) => {}
        Err(e) => tracing::error!("cannot write the shutdown checkpoint: {e}"),
    }
}
