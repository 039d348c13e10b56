//! Parse errors: every one names `file:line:column` and what is wrong there.

use std::fmt;
use std::path::PathBuf;

use super::model::Position;

/// One thing wrong with a playbook, a task file or a role.
#[derive(Debug, thiserror::Error)]
pub enum PlaybookError {
    /// A file that must exist could not be read (the top-level playbook; other missing files are
    /// reported as [`PlaybookError::Invalid`] at the place that names them).
    #[error("{}: {message}", path.display())]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// Why, in words (from the I/O error).
        message: String,
    },
    /// Bad YAML, a bad shape or a bad value, at a known place.
    #[error("{position}: {message}")]
    Invalid {
        /// Where the problem is (the offending key or value).
        position: Position,
        /// What is wrong, naming the field and the task or play.
        message: String,
    },
}

impl PlaybookError {
    /// Builds an [`PlaybookError::Invalid`].
    pub fn invalid(position: Position, message: impl Into<String>) -> Self {
        PlaybookError::Invalid {
            position,
            message: message.into(),
        }
    }

    /// Where the error is, when known.
    pub fn position(&self) -> Option<&Position> {
        match self {
            PlaybookError::Io { .. } => None,
            PlaybookError::Invalid { position, .. } => Some(position),
        }
    }
}

/// Every error found in one parse: parsing goes on after a bad task or play so that
/// `fleet check` can report all of them at once. Never empty.
#[derive(Debug)]
pub struct PlaybookErrors(pub Vec<PlaybookError>);

impl PlaybookErrors {
    /// The errors, in the order they were found (document order).
    pub fn errors(&self) -> &[PlaybookError] {
        &self.0
    }
}

impl From<PlaybookError> for PlaybookErrors {
    fn from(error: PlaybookError) -> Self {
        PlaybookErrors(vec![error])
    }
}

impl fmt::Display for PlaybookErrors {
    /// One error per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PlaybookErrors {}
