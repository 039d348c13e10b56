//! The local control socket (`control.sock` in the data directory, mode 0600) through which
//! `bastion watch` and `bastion kill` reach the running server.
//!
//! Protocol: the client sends one JSON line `{"cmd": "watch"|"kill", "id": N, "by": NAME}`; the
//! server answers one JSON line `{"ok": true}` or `{"ok": false, "error": "..."}`. After a
//! successful `watch` the server streams the session's current screen, then its live output,
//! until the session ends or the watcher leaves.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::broadcast::error::RecvError;

use crate::state::kill::Ended;
use crate::state::watch_relay;
use crate::state::{Shared, Watch};

/// Binds the socket (replacing a stale one) and serves it in the background.
pub fn spawn(shared: Arc<Shared>, path: &Path) -> Result<()> {
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            anyhow::bail!(
                "{} is in use: is another bastion serving this data directory?",
                path.display()
            );
        }
        std::fs::remove_file(path).with_context(|| format!("removing stale {}", path.display()))?;
    }
    let listener =
        UnixListener::bind(path).with_context(|| format!("binding {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("setting permissions on {}", path.display()))?;
    tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    let shared = shared.clone();
                    tokio::spawn(async move {
                        if let Err(e) = handle(shared, stream).await {
                            tracing::debug!("control connection: {e:#}");
                        }
                    });
                }
                Err(e) => tracing::warn!("control socket accept: {e}"),
            }
        }
    });
    Ok(())
}

async fn handle(shared: Arc<Shared>, stream: UnixStream) -> Result<()> {
    let uid = stream.peer_cred().map(|c| c.uid()).ok();
    let (read, mut write) = stream.into_split();
    let line = read_request(read).await?;
    let req: serde_json::Value = serde_json::from_str(&line).context("bad request")?;
    let id = req["id"].as_i64().unwrap_or(-1);
    // The name the admin command resolved (the sudo caller, else the account it runs as),
    // and, for the audit record, the uid the socket itself reports.
    let name = req["by"].as_str().unwrap_or("?").to_string();
    let by = format!(
        "{name} (uid {})",
        uid.map(|u| u.to_string()).unwrap_or("?".into())
    );
    let reply = |v: serde_json::Value| format!("{v}\n");
    if req["cmd"].as_str() == Some("kill") {
        let message = format!("terminated by an administrator ({name})");
        let answer = match crate::state::kill::end_session(&shared, id, &by, &message)? {
            Ended::Here => json!({"ok": true}),
            Ended::Ordered { node } => json!({"ok": true, "node": node}),
            Ended::NotLive => json!({"ok": false, "error": format!("no live session {id}")}),
        };
        write.write_all(reply(answer).as_bytes()).await?;
        return Ok(());
    }
    match req["cmd"].as_str() {
        Some("watch") => {
            let watch = match start_watch(&shared, id, &by).await {
                Ok(watch) => watch,
                Err(e) => {
                    let error = format!("{e:#}");
                    write
                        .write_all(reply(json!({"ok": false, "error": error})).as_bytes())
                        .await?;
                    return Ok(());
                }
            };
            let Watch {
                screen: snapshot,
                stream: mut rx,
                ..
            } = watch;
            write
                .write_all(reply(json!({"ok": true})).as_bytes())
                .await?;
            write.write_all(&snapshot).await?;
            loop {
                match rx.recv().await {
                    Ok(bytes) => write.write_all(&bytes).await?,
                    Err(RecvError::Lagged(n)) => {
                        tracing::debug!("watcher of session {id} skipped {n} chunks")
                    }
                    Err(RecvError::Closed) => break,
                }
            }
            write.shutdown().await?;
        }
        _ => {
            write
                .write_all(reply(json!({"ok": false, "error": "unknown command"})).as_bytes())
                .await?
        }
    }
    Ok(())
}

/// Audits the watch and joins session `id`, on this node or (through the database) on the
/// node that serves it.
async fn start_watch(shared: &Arc<Shared>, id: i64, by: &str) -> Result<Watch> {
    let shared = shared.clone();
    let by = by.to_string();
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        watch_relay::start_watch_blocking(&shared, &runtime, id, &by)
    })
    .await?
}

/// Reads one request line, bounded so a misbehaving client cannot make the server buffer forever.
async fn read_request<R: tokio::io::AsyncRead + Unpin>(read: R) -> Result<String> {
    let mut line = String::new();
    let n = BufReader::new(tokio::io::AsyncReadExt::take(read, 4096))
        .read_line(&mut line)
        .await?;
    anyhow::ensure!(
        n > 0 && line.ends_with('\n'),
        "request line missing or too long"
    );
    Ok(line)
}
