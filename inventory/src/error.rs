//! The one error type of the crate: every failure names where it happened.

use std::path::PathBuf;

/// Everything that can go wrong while reading an inventory or evaluating a host pattern.
///
/// Parse errors carry `origin:line:column` (1-based) so an operator can jump straight to the
/// offending spot; I/O errors carry the path that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// A file or directory could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The text is not valid YAML / INI, or does not have the shape of an inventory.
    #[error("{origin}:{line}:{col}: {message}")]
    Parse {
        /// File name (or caller-supplied label) of the text.
        origin: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// What is wrong, in words.
        message: String,
    },
    /// A host pattern (as given to `Inventory::select`) is malformed.
    #[error("invalid host pattern {pattern:?}: {message}")]
    Pattern {
        /// The offending (sub)pattern.
        pattern: String,
        /// What is wrong, in words.
        message: String,
    },
}

impl InventoryError {
    /// Builds a [`InventoryError::Parse`]; a small helper so call sites stay on one line.
    pub fn parse(origin: &str, line: usize, col: usize, message: impl Into<String>) -> Self {
        InventoryError::Parse {
            origin: origin.to_string(),
            line,
            col,
            message: message.into(),
        }
    }

    /// Builds a [`InventoryError::Pattern`].
    pub fn pattern(pattern: &str, message: impl Into<String>) -> Self {
        InventoryError::Pattern {
            pattern: pattern.to_string(),
            message: message.into(),
        }
    }

    /// Builds a [`InventoryError::Io`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        InventoryError::Io {
            path: path.into(),
            source,
        }
    }
}
