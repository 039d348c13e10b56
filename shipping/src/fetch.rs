//! Fetching: a recording this node does not have on disk, assembled from its chunks.

use std::path::Path;

use futures::TryStreamExt;
use object_store::ObjectStore as _;
use sha2::{Digest, Sha256};

use crate::{Result, SealedObject, Shared, ShipError};

/// One chunk object.
pub(crate) struct Chunk {
    pub path: object_store::path::Path,
    pub size: u64,
}

/// What [`Shared::fetch`] brought back.
#[derive(Debug, Clone, PartialEq)]
pub struct Fetched {
    pub size: u64,
    /// The `sealed` object, when the session ended and its node sealed it.
    pub sealed: Option<SealedObject>,
}

/// The chunks of `name`, in order.
pub(crate) async fn chunks(shared: &Shared, name: &str) -> Result<Vec<Chunk>> {
    let dir = shared.prefix.child(name);
    let mut found: Vec<Chunk> = shared
        .store
        .list(Some(&dir))
        .try_filter(|m| std::future::ready(m.location.as_ref().ends_with(".part")))
        .map_ok(|m| Chunk {
            path: m.location,
            size: m.size,
        })
        .try_collect()
        .await?;
    // Eight-digit sequence numbers: the names sort in shipping order.
    found.sort_by(|a, b| a.path.as_ref().cmp(b.path.as_ref()));
    Ok(found)
}

impl Shared {
    /// Writes the recording `name` from shared storage to `dest` (through a temporary file,
    /// renamed when complete); `None` when storage has no chunk of it. A sealed recording whose
    /// chunks do not add up to its seal is refused as corrupt.
    pub async fn fetch(&self, name: &str, dest: &Path) -> Result<Option<Fetched>> {
        let chunks = chunks(self, name).await?;
        if chunks.is_empty() {
            return Ok(None);
        }
        let sealed = match self.store.get(&self.sealed(name)).await {
            Ok(got) => {
                let body = got.bytes().await?;
                Some(serde_json::from_slice::<SealedObject>(&body).map_err(|e| {
                    ShipError::Corrupt {
                        name: name.to_string(),
                        why: format!("sealed object: {e}"),
                    }
                })?)
            }
            Err(object_store::Error::NotFound { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        let mut data = Vec::new();
        for c in &chunks {
            data.extend_from_slice(&self.store.get(&c.path).await?.bytes().await?);
        }
        if let Some(s) = &sealed {
            let sha = hex::encode(Sha256::digest(&data));
            if s.size != data.len() as u64 || s.sha256 != sha {
                return Err(ShipError::Corrupt {
                    name: name.to_string(),
                    why: format!(
                        "chunks hold {} bytes (sha256 {sha}), the seal says {} bytes (sha256 {})",
                        data.len(),
                        s.size,
                        s.sha256
                    ),
                });
            }
        }
        let io = |source| ShipError::Io {
            path: dest.display().to_string(),
            source,
        };
        let tmp = dest.with_extension("fetching");
        tokio::fs::write(&tmp, &data).await.map_err(io)?;
        tokio::fs::rename(&tmp, dest).await.map_err(io)?;
        Ok(Some(Fetched {
            size: data.len() as u64,
            sealed,
        }))
    }
}
