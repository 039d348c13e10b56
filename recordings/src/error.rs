//! The one error type of this crate.

use std::path::PathBuf;

/// Why a recording could not be written, read or sealed.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    /// The file system refused (disk full, permissions, missing directory).
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not asciicast v2; `line` is 1-based.
    #[error("{path}:{line}: {message}")]
    Format {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

impl RecordingError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        RecordingError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
