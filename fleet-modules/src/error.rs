//! Why a module fails on a host short of the host being unreachable (that is
//! [`RemoteError`](crate::remote::RemoteError)): each becomes a failed result whose `msg` is
//! Ansible's wording.

use crate::ModuleResult;

/// A module argument that does not have the type or value the module needs, or a combination
/// Ansible refuses (`parameters are mutually exclusive: ...`). Its text is the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadArg(pub String);

impl From<String> for BadArg {
    fn from(msg: String) -> Self {
        BadArg(msg)
    }
}

impl From<&str> for BadArg {
    fn from(msg: &str) -> Self {
        BadArg(msg.to_string())
    }
}

impl std::ops::Deref for BadArg {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

/// A module failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModuleError {
    /// The arguments cannot be used.
    #[error(transparent)]
    BadArg(#[from] BadArg),
    /// A file on the controller (`src`, a template) is missing, unreadable or does not render.
    #[error("{0}")]
    Local(String),
    /// The host reported a failure: a missing directory, a failed `validate`, a checksum that
    /// does not match.
    #[error("{0}")]
    Host(String),
}

impl From<BadArg> for ModuleResult {
    fn from(e: BadArg) -> Self {
        ModuleResult::fail(e.0)
    }
}

impl From<ModuleError> for ModuleResult {
    fn from(e: ModuleError) -> Self {
        ModuleResult::fail(e.to_string())
    }
}
