//! Shipping: a recording's new bytes become the next chunk object, whole lines only; the end
//! of the session ships the rest and the `sealed` object.
//!
//! Where a file stands (bytes shipped, next chunk number) is kept in memory and, on the first
//! touch of a file (a restarted node sealing what it left behind), read back from the chunks
//! already in storage, so a restart never ships a byte twice or leaves a gap.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use object_store::{ObjectStore as _, PutPayload};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::{name_of, Result, SealedObject, Shared, ShipError};

#[derive(Debug, Clone, Copy, Default)]
struct Progress {
    offset: u64,
    seq: u64,
}

/// Ships recordings to shared storage.
pub struct Shipper {
    shared: Shared,
    files: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Progress>>>>>,
    failures: AtomicU64,
    started: Instant,
    /// Milliseconds after `started` when a shipping round last completed without failure.
    last_good_ms: AtomicU64,
}

impl Shipper {
    pub fn new(shared: Shared) -> Shipper {
        Shipper {
            shared,
            files: Mutex::new(HashMap::new()),
            failures: AtomicU64::new(0),
            started: Instant::now(),
            last_good_ms: AtomicU64::new(0),
        }
    }

    /// The storage it ships to.
    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Shipping attempts that failed (each is retried at the next interval).
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// Seconds since the last round in which every live recording shipped: how far behind
    /// shared storage may be.
    pub fn lag_seconds(&self) -> f64 {
        let now = self.started.elapsed().as_millis() as u64;
        now.saturating_sub(self.last_good_ms.load(Ordering::Relaxed)) as f64 / 1000.0
    }

    /// Ships each of `paths` (the live sessions' recordings); failures are counted and logged,
    /// and retried at the next round.
    pub async fn round(&self, paths: &[std::path::PathBuf]) {
        self.round_while(paths, |_| true).await
    }

    /// [`round`](Self::round), asking `may_write` again before each file: a node that may
    /// have been taken for dead since the round began (its heartbeat lease lapsed) stops
    /// before writing past a seal another node made.
    pub async fn round_while(
        &self,
        paths: &[std::path::PathBuf],
        may_write: impl Fn(&Path) -> bool,
    ) {
        let mut ok = true;
        for path in paths {
            if !may_write(path) {
                ok = false;
                continue;
            }
            if let Err(e) = self.ship_new(path).await {
                ok = false;
                self.failures.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("shipping {}: {e}", path.display());
            }
        }
        if ok {
            let now = self.started.elapsed().as_millis() as u64;
            self.last_good_ms.store(now, Ordering::Relaxed);
        }
    }

    /// Ships what `path` gained since its last chunk, up to its last complete line; returns
    /// the bytes shipped.
    pub async fn ship_new(&self, path: &Path) -> Result<u64> {
        self.ship(path, false).await
    }

    /// Ships the rest of a finished recording and writes its `sealed` object (the size and
    /// SHA-256 its `session_end` audit record names).
    pub async fn seal(&self, path: &Path, sealed: &SealedObject) -> Result<()> {
        let result = self.seal_inner(path, sealed).await;
        if result.is_err() {
            self.failures.fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    async fn seal_inner(&self, path: &Path, sealed: &SealedObject) -> Result<()> {
        self.ship(path, true).await?;
        let name = file_name(path)?;
        let body = serde_json::to_vec(sealed).expect("a seal serialises");
        self.shared
            .store
            .put(&self.shared.sealed(&name), PutPayload::from(body))
            .await?;
        lock(&self.files).remove(&name);
        Ok(())
    }

    async fn ship(&self, path: &Path, all: bool) -> Result<u64> {
        let name = file_name(path)?;
        let slot = lock(&self.files).entry(name.clone()).or_default().clone();
        let mut progress = slot.lock().await;
        let at = match *progress {
            Some(p) => p,
            None => self.resume(&name).await?,
        };
        let bytes = read_from(path, at.offset).await?;
        let take = if all {
            bytes.len()
        } else {
            bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)
        };
        if take == 0 {
            *progress = Some(at);
            return Ok(0);
        }
        let chunk = bytes::Bytes::from(bytes).slice(..take);
        self.shared
            .store
            .put(&self.shared.chunk(&name, at.seq), PutPayload::from(chunk))
            .await?;
        *progress = Some(Progress {
            offset: at.offset + take as u64,
            seq: at.seq + 1,
        });
        Ok(take as u64)
    }

    /// Where a file stands in storage: the chunks already there.
    async fn resume(&self, name: &str) -> Result<Progress> {
        let chunks = crate::fetch::chunks(&self.shared, name).await?;
        Ok(Progress {
            offset: chunks.iter().map(|c| c.size).sum(),
            seq: chunks.len() as u64,
        })
    }
}

fn file_name(path: &Path) -> Result<String> {
    name_of(path).ok_or_else(|| ShipError::Io {
        path: path.display().to_string(),
        source: std::io::Error::other("not a recording file name"),
    })
}

async fn read_from(path: &Path, offset: u64) -> Result<Vec<u8>> {
    let io = |source| ShipError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut f = tokio::fs::File::open(path).await.map_err(io)?;
    f.seek(std::io::SeekFrom::Start(offset)).await.map_err(io)?;
    let mut buf = Vec::new();
    f.read_to_end(&mut buf).await.map_err(io)?;
    Ok(buf)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
