//! What a run shows: ansible-playbook's layout (`PLAY [...]`, `TASK [...]`, `ok: [host]`,
//! `PLAY RECAP`), colours on a terminal only, a live progress line, `--json` lines, `-v` results
//! and `--diff` unified diffs. The executor reports [`Event`]s; a [`Reporter`] renders them.

use serde_json::Value;

use fleet_modules::Diff;

mod adhoc;
mod color;
mod diff;
mod dump;
mod json;
mod text;

pub use adhoc::{AdhocOptions, AdhocReporter};
pub use json::JsonReporter;
pub use text::{TextOptions, TextReporter};

/// How one host's task ended, as ansible-playbook names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Succeeded without change (`ok:`).
    Ok,
    /// Succeeded and changed the host (`changed:`).
    Changed,
    /// Failed (`fatal: [...]: FAILED!`, or `failed:` for a loop item).
    Failed,
    /// Condition false, or skipped by the module (`skipping:`).
    Skipped,
    /// The host could not be reached (`fatal: [...]: UNREACHABLE!`).
    Unreachable,
}

/// Per-host totals for the recap, counted as Ansible counts them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct HostStats {
    pub ok: u32,
    pub changed: u32,
    pub unreachable: u32,
    pub failed: u32,
    pub skipped: u32,
    pub rescued: u32,
    pub ignored: u32,
}

/// One result line: a host's task outcome (or one loop item's).
#[derive(Debug, Clone)]
pub struct HostResult {
    /// Inventory name of the host.
    pub host: String,
    /// `delegate_to` target, shown as `[host -> other]`.
    pub delegated_to: Option<String>,
    pub status: Status,
    /// The failure was ignored (`ignore_errors`): printed, then `...ignoring`.
    pub ignored: bool,
    /// The loop item label, for per-item lines (`(item=alice)`).
    pub item_label: Option<String>,
    /// The module's result dictionary (what `register` stores), already censored for `no_log`.
    pub result: Value,
    /// Before/after pairs to print with `--diff`.
    pub diffs: Vec<Diff>,
    /// The action (`debug` results are always printed, like Ansible's default callback).
    pub action: String,
    /// Retrying an `until` loop: `FAILED - RETRYING: [host]: name (N retries left).`
    pub retries_left: Option<i64>,
}

impl HostResult {
    /// The result of a task the executor decided itself (no module ran): not delegated, no
    /// loop item, nothing ignored, no diff.
    pub fn decided(host: &str, status: Status, result: Value, action: &str) -> HostResult {
        HostResult {
            host: host.to_string(),
            delegated_to: None,
            status,
            ignored: false,
            item_label: None,
            result,
            diffs: Vec::new(),
            action: action.to_string(),
            retries_left: None,
        }
    }
}

/// Everything the executor reports, in order.
#[derive(Debug, Clone)]
pub enum Event {
    /// A play begins, with the hosts it targets.
    PlayStart { name: String, hosts: Vec<String> },
    /// A task begins on `hosts` (the progress line counts results against their number).
    TaskStart {
        name: String,
        /// `RUNNING HANDLER [...]` instead of `TASK [...]`.
        handler: bool,
        hosts: usize,
    },
    /// One host (or loop item) finished.
    Result(Box<HostResult>),
    /// Hosts included a task file (`included: FILE for h1, h2`), counted `ok` for each.
    Included {
        file: String,
        hosts: Vec<String>,
        /// The loop item, for includes in a loop (`=> (item=x)`).
        item_label: Option<String>,
    },
    /// The play has no hosts left to run on (`NO MORE HOSTS LEFT`).
    NoMoreHosts,
    /// A warning (`[WARNING]: ...`).
    Warning(String),
    /// A detail shown with `-v` only (which path a task's module takes).
    Verbose(String),
    /// The run ended; totals per host in inventory order.
    Recap(Vec<(String, HostStats)>),
}

/// Renders events. Called from one task at a time, in event order.
pub trait Reporter: Send {
    fn report(&mut self, event: &Event);
}
