//! A lab for the `fleet` binary: real sshd targets, an Ansible inventory naming them, and the
//! reference `ansible-playbook` (from PyPI, in a virtualenv under the workspace's `target/`).
//!
//! Every target is this machine, so playbooks write under `/tmp/fleet-samples/<host>/`. Each
//! lab gives its hosts unique names (`f1a2b3-h1`, ...) so parallel labs never share a path;
//! [`FleetLab::normalize`] maps them back to `lab-h1`, ... so two labs' results compare.
//!
//! The lab is split by concept: `lab` builds the targets and the files both tools read,
//! `run` runs `fleet` and `ansible-playbook` against them (isolated and throttled),
//! `recap` and `snapshot` read back what a run printed and what it left on the targets so
//! two runs compare, and `venv` provides the reference ansible-playbook. Everything callers
//! use is re-exported here, so `e2e::fleet::FleetLab` and friends keep their paths.

use std::path::{Path, PathBuf};

mod lab;
mod recap;
mod run;
mod snapshot;
mod venv;

pub use lab::FleetLab;
pub use recap::{diff_recaps, parse_recap, Recap};
pub use snapshot::{diff_snapshots, Entry, Snapshot};
pub use venv::{ansible_venv, ANSIBLE_PIN};

/// Where the sample playbooks write: `/tmp/fleet-samples/<inventory_hostname>/`.
pub const SAMPLES_ROOT: &str = "/tmp/fleet-samples";

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The shared sample playbooks (`../shared/fleet-samples` beside the workspace); panics with
/// a clear message if they are absent.
pub fn samples_dir() -> PathBuf {
    let dir = workspace_root().join("../shared/fleet-samples");
    assert!(
        dir.join("basic.yml").is_file(),
        "sample playbooks not found at {} (expected ../shared/fleet-samples beside the workspace)",
        dir.display()
    );
    dir.canonicalize().expect("canonicalize samples dir")
}

/// Our own playbooks for the comparisons (`tests/fixtures/fleet`).
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/fleet")
}
