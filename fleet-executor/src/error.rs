//! Why a play, a task's keywords or its loop could not be used; each becomes a failed task
//! result or a play-level warning with the message Ansible shows. A wrapped error is part of
//! the message (a field, not a `source`), so it is shown once.

use std::path::PathBuf;

use fleet_templates::TemplateError;
use inventory::InventoryError;
use serde_json::Value;

/// An error of the executor (not of a module on a host: those are results).
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// A keyword's template failed.
    #[error(transparent)]
    Template(#[from] TemplateError),
    /// `--limit` or a play's `hosts:` pattern does not parse.
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    /// A play's `hosts:` could not be templated.
    #[error("{position}: hosts: {error}")]
    HostsPattern {
        position: String,
        error: TemplateError,
    },
    /// A play keyword's template gave a value the keyword does not take (`order`).
    #[error("{0}")]
    PlayKeyword(String),
    /// `become_method` other than sudo.
    #[error("become_method {0} is not supported (only sudo)")]
    BecomeMethod(String),
    /// `environment:` templated to something other than a dictionary.
    #[error("environment must be a dictionary")]
    EnvironmentNotDict,
    /// `loop:` (or a `with_*` list form) got something other than a list.
    #[error(
        "Invalid data passed to 'loop', it requires a list, got this instead: {0}. Hint: If you \
         passed a list/dict of just one element, try adding wantlist=True to your lookup \
         invocation or use q/query instead of lookup."
    )]
    LoopNotList(Value),
    /// A `with_sequence`/`with_together`/`with_dict` lookup refused its terms (Ansible's
    /// message).
    #[error("{0}")]
    Lookup(String),
    /// `changed_when`/`failed_when` could not be evaluated (ansible-core 2.19's words;
    /// `conditions` says which, for callers).
    #[error("Task failed: Error while evaluating conditional: {error}")]
    Conditional {
        conditions: String,
        error: TemplateError,
    },
    /// A `vars_files` entry could not be templated.
    #[error("vars_files {file}: {error}")]
    VarsFileName { file: String, error: TemplateError },
    /// A vars file holds something other than a mapping.
    #[error("{}: vars file must hold a mapping", .0.display())]
    VarsFileNotMapping(PathBuf),
    /// None of a `vars_files` entry's candidates exists.
    #[error("vars file {0} was not found")]
    VarsFileNotFound(String),
}
