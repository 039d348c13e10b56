//! Recordings on shared storage (`[shared_recordings] url`), for several nodes: this node ships
//! its live sessions' recordings every `interval` and seals them at the end (`shipping`), and
//! reads a recording another node wrote through [`locate`], which fetches it into this node's
//! recordings directory the first time.
//!
//! A sealed recording fetched once stays as a local file (it cannot change: its seal is signed
//! in the audit log). A live one (no `sealed` object yet) is fetched anew on every read into a
//! `.live-<name>` file, so nobody mistakes a partial copy for the finished recording.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use shipping::{SealedObject, Shipper};

/// `[shared_recordings]` in bastion.toml.
#[derive(Clone, Debug)]
pub struct SharedRecordingSettings {
    /// `s3://bucket/prefix` (credentials and endpoint from `AWS_*`) or `file:///shared/dir`.
    pub url: String,
    /// How often live recordings are shipped: at most this much (plus the recorder's flush
    /// delay) of a live session's recording is lost with its node.
    pub interval: Duration,
}

/// This node's shipper.
pub struct SharedRecordings {
    shipper: Shipper,
    interval: Duration,
}

impl SharedRecordings {
    /// Opens the storage named in the settings (`None` when there is none).
    pub fn open(settings: Option<&SharedRecordingSettings>) -> anyhow::Result<Option<Arc<Self>>> {
        let Some(s) = settings else { return Ok(None) };
        let shared = shipping::Shared::open(&s.url)?;
        Ok(Some(Arc::new(SharedRecordings {
            shipper: Shipper::new(shared),
            interval: s.interval,
        })))
    }

    pub fn shipper(&self) -> &Shipper {
        &self.shipper
    }

    /// Ships, every interval, what `live` (the live sessions' recordings, flushed) returns,
    /// each file only while `may_write` says so (this node's heartbeat lease, `fence.rs`).
    pub fn spawn_rounds(
        self: &Arc<Self>,
        live: impl Fn() -> Vec<PathBuf> + Send + Sync + 'static,
        may_write: impl Fn() -> bool + Send + Sync + 'static,
    ) {
        let me = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(me.interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut held = true;
            loop {
                tick.tick().await;
                let holds = may_write();
                if holds != held {
                    match holds {
                        true => tracing::info!("heartbeat lease renewed: shipping recordings"),
                        false => tracing::warn!(
                            "heartbeat lease lapsed (out of contact with the cluster?): \
                             recordings are not shipped until a heartbeat is accepted"
                        ),
                    }
                    held = holds;
                }
                if holds {
                    me.shipper.round_while(&live(), |_| may_write()).await;
                }
            }
        });
    }

    /// Ships the rest of a finished recording and its seal, in the background (retried once
    /// a second up to a minute; a node restarted later finds its chunks and seals again).
    pub fn seal(self: &Arc<Self>, path: PathBuf, size: u64, sha256: String) {
        let me = self.clone();
        tokio::spawn(async move {
            let sealed = SealedObject { size, sha256 };
            for attempt in 0..60 {
                match me.shipper.seal(&path, &sealed).await {
                    Ok(()) => return,
                    Err(e) if attempt == 59 => {
                        tracing::error!("shipping the sealed {}: {e}", path.display())
                    }
                    Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
                }
            }
        });
    }
}

impl SharedRecordings {
    /// Fetches another node's recording, as far as it was shipped, into `local_dir` under its
    /// own name (for sealing it there); `None` when storage has none of it.
    pub async fn fetch_whole(
        &self,
        recorded: &str,
        local_dir: &Path,
    ) -> anyhow::Result<Option<PathBuf>> {
        let Some(name) = shipping::name_of(Path::new(recorded)) else {
            return Ok(None);
        };
        let dest = local_dir.join(&name);
        Ok(self
            .shipper
            .shared()
            .fetch(&name, &dest)
            .await?
            .map(|_| dest))
    }
}

/// Ships the rest of a recording `seal` sealed, and its `sealed` object, when recordings are
/// shared and the seal names a finished recording (a session's own end, or its interruption).
pub fn ship_seal(shared: &super::Shared, seal: &store::Seal) {
    if let (Some(to), Some(path), Some(sha), Some(size)) = (
        &shared.shared_recordings,
        &seal.recording,
        &seal.recording_sha256,
        seal.recording_size,
    ) {
        to.seal(path.into(), size, sha.clone());
    }
}

/// A readable path for a recording this or another node wrote (`recorded`, as its sessions
/// row names it): the file itself when it is on this node, else a copy fetched from shared
/// storage into `local_dir`. `None` when it is on neither.
pub fn locate(
    settings: Option<&SharedRecordingSettings>,
    local_dir: &Path,
    recorded: &str,
) -> anyhow::Result<Option<PathBuf>> {
    let path = PathBuf::from(recorded);
    if path.exists() {
        return Ok(Some(path));
    }
    let (Some(settings), Some(name)) = (settings, shipping::name_of(&path)) else {
        return Ok(None);
    };
    let sealed_copy = local_dir.join(&name);
    if sealed_copy.exists() {
        return Ok(Some(sealed_copy));
    }
    let url = settings.url.clone();
    let staging = local_dir.join(format!(".fetch-{name}"));
    let fetched = block_on(async {
        let shared = shipping::Shared::open(&url)?;
        shared.fetch(&name, &staging).await
    })?;
    let Some(fetched) = fetched else {
        return Ok(None);
    };
    let dest = if fetched.sealed.is_some() {
        sealed_copy
    } else {
        local_dir.join(format!(".live-{name}"))
    };
    std::fs::rename(&staging, &dest)?;
    Ok(Some(dest))
}

/// Runs `f` to completion on a runtime of its own, on a thread of its own: callable from the
/// CLI, from blocking code inside the server's runtime, and from the console's thread alike.
fn block_on<T: Send>(f: impl std::future::Future<Output = T> + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for fetching a recording")
                .block_on(f)
        })
        .join()
        .expect("the recording fetch thread")
    })
}
