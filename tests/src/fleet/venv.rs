//! The reference implementation: `ansible-playbook` from PyPI, pinned to [`ANSIBLE_PIN`], in a
//! virtualenv made once per machine, and the target Python it runs modules with.
//!
//! Comparisons are only meaningful against a known ansible-core release, and building the venv
//! is slow, so it is made once (under a lock shared by parallel test binaries) and reused.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The ansible-core release the comparisons are made against (a pip requirement).
pub const ANSIBLE_PIN: &str = "ansible-core==2.19.*";

/// The Python ansible-playbook runs modules with on the targets: the system's
/// `/usr/bin/python3` (discovery could pick a version manager's shim on PATH instead).
pub(super) fn target_python() -> &'static str {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "auto_silent"
    }
}

/// The virtualenv holding `ansible-playbook` ([`ANSIBLE_PIN`]), made once per machine under
/// the workspace's `target/ansible-venv` (under a file lock, so parallel test binaries do not
/// race). Panics with a clear message if it cannot be made (no python3 venv, no PyPI).
pub fn ansible_venv() -> PathBuf {
    static VENV: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match VENV.get_or_init(make_venv) {
        Ok(p) => p.clone(),
        Err(e) => panic!("{e}"),
    }
}

fn make_venv() -> Result<PathBuf, String> {
    crate::pyvenv::make("ansible-venv", ANSIBLE_PIN, "ansible-playbook")
}
