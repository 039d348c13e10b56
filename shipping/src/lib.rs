//! Shared recordings: several bastion nodes, one place where every recording can be read.
//!
//! A node writes a session's recording to its own disk while the session runs (the recorder's
//! torn-write handling stays what it is), and a [`Shipper`] copies it to shared storage as it
//! grows: every interval, the bytes written since the last chunk, cut at the last complete
//! line, become the next chunk object; at the session's end the rest is shipped and a
//! `sealed` object records the file's size and SHA-256 (what `session_end` audited). A node
//! that dies therefore loses at most one interval (plus the recorder's flush delay) of its live
//! sessions' recordings, and every chunk that reached shared storage holds whole asciicast
//! lines, so what survives replays.
//!
//! Any node reads a recording it does not have on disk with [`Shared::fetch`]: the chunks in
//! order, concatenated into a local copy (verified against the `sealed` object when there is
//! one), which replay, export, the console and `audit verify` then read as a local file.
//!
//! Layout under the configured prefix: `<file name>/<seq, 8 digits>.part` and
//! `<file name>/sealed` (JSON: `size`, `sha256`). Storage is one of:
//! - `s3://bucket/prefix`: an S3-compatible object store; endpoint and credentials come from the
//!   usual `AWS_*` variables (`AWS_ENDPOINT`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//!   `AWS_REGION`, `AWS_ALLOW_HTTP` for a plain-HTTP endpoint);
//! - `file:///path`: a directory every node mounts (NFS, CephFS, ...).

mod fetch;
mod ship;

use std::sync::Arc;

use object_store::path::Path as ObjectPath;
use object_store::ObjectStore;

pub use fetch::Fetched;
pub use ship::Shipper;

/// Errors of shared storage; the caller adds which session.
#[derive(Debug, thiserror::Error)]
pub enum ShipError {
    #[error("shared recordings URL {url:?}: {why}")]
    Url { url: String, why: String },
    #[error("shared storage: {0}")]
    Store(#[from] object_store::Error),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("recording {name} in shared storage: {why}")]
    Corrupt { name: String, why: String },
}

pub type Result<T, E = ShipError> = std::result::Result<T, E>;

/// Shared storage for recordings.
#[derive(Clone)]
pub struct Shared {
    store: Arc<dyn ObjectStore>,
    prefix: ObjectPath,
    url: String,
}

/// What the `sealed` object says.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SealedObject {
    pub size: u64,
    pub sha256: String,
}

impl Shared {
    /// Opens `s3://bucket/prefix` or `file:///path` (the directory must exist).
    pub fn open(url: &str) -> Result<Shared> {
        let bad = |why: String| ShipError::Url {
            url: url.to_string(),
            why,
        };
        let parsed = url::Url::parse(url).map_err(|e| bad(e.to_string()))?;
        let (store, prefix): (Arc<dyn ObjectStore>, &str) = match parsed.scheme() {
            "s3" => {
                let s3 = object_store::aws::AmazonS3Builder::from_env()
                    .with_url(url)
                    .build()
                    .map_err(|e| bad(e.to_string()))?;
                (Arc::new(s3), parsed.path())
            }
            "file" => {
                let dir = parsed.path();
                let local = object_store::local::LocalFileSystem::new_with_prefix(dir)
                    .map_err(|e| bad(format!("{e} (the directory must exist)")))?;
                (Arc::new(local), "")
            }
            other => {
                return Err(bad(format!(
                    "unknown scheme {other:?}: use s3:// or file://"
                )))
            }
        };
        Ok(Shared {
            store,
            prefix: ObjectPath::from(prefix.trim_matches('/')),
            url: url.to_string(),
        })
    }

    /// The URL it was opened with (no credentials: those come from the environment).
    pub fn url(&self) -> &str {
        &self.url
    }

    fn object(&self, name: &str, part: &str) -> ObjectPath {
        let mut p = self.prefix.clone();
        for segment in [name, part] {
            p = p.child(segment);
        }
        p
    }

    fn chunk(&self, name: &str, seq: u64) -> ObjectPath {
        self.object(name, &format!("{seq:08}.part"))
    }

    fn sealed(&self, name: &str) -> ObjectPath {
        self.object(name, "sealed")
    }
}

/// The object name of a recording file: its file name (session ids make it unique).
pub fn name_of(path: &std::path::Path) -> Option<String> {
    path.file_name()?.to_str().map(str::to_string)
}

#[cfg(test)]
mod tests;
