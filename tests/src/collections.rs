//! Ansible collections for the fallback tests: `community.general`, taken from the `ansible`
//! community package on PyPI.
//!
//! Why from PyPI: `ansible-galaxy collection install` needs galaxy.ansible.com, which CI and
//! this machine cannot always reach, while PyPI is already required for the reference venv
//! ([`crate::fleet::ansible_venv`]). The `ansible` package of the same release line as
//! [`crate::fleet::ANSIBLE_PIN`] bundles community.general; only that collection is unpacked,
//! once per machine, under the workspace's `target/ansible-collections` (under a file lock).

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use crate::fleet::{ansible_venv, workspace_root};

/// The `ansible` community package whose community.general the tests use (ansible 12 is built
/// on ansible-core 2.19, the reference's version).
pub const ANSIBLE_COMMUNITY_PIN: &str = "ansible==12.3.0";

/// A directory for `ANSIBLE_COLLECTIONS_PATH` holding `ansible_collections/community/general`.
/// Panics with a clear message if it cannot be made (no PyPI).
pub fn community_general() -> PathBuf {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match DIR.get_or_init(unpack) {
        Ok(p) => p.clone(),
        Err(e) => panic!("{e}"),
    }
}

fn unpack() -> Result<PathBuf, String> {
    let target = workspace_root().join("target");
    let dir = target.join("ansible-collections");
    let marker = dir.join(format!(
        ".ready-{}",
        ANSIBLE_COMMUNITY_PIN.replace("==", "-")
    ));
    if marker.is_file() {
        return Ok(dir);
    }
    let venv = ansible_venv();
    let script = format!(
        "rm -rf '{dir}' && mkdir -p '{dir}/wheel'\n\
         '{venv}/bin/pip' download -q --disable-pip-version-check --no-deps \
         -d '{dir}/wheel' '{ANSIBLE_COMMUNITY_PIN}'\n\
         '{venv}/bin/python' -c 'import sys, zipfile, glob\n\
z = zipfile.ZipFile(glob.glob(sys.argv[1] + \"/wheel/*.whl\")[0])\n\
z.extractall(sys.argv[1], [n for n in z.namelist() if n.startswith(\"ansible_collections/community/general/\")])' '{dir}'\n\
         rm -rf '{dir}/wheel'",
        dir = dir.display(),
        venv = venv.display(),
    );
    crate::once::make_once(
        "ansible-collections",
        &marker,
        &script,
        Duration::from_secs(600),
    )
    .map(|()| dir.clone())
    .map_err(|out| {
        format!(
            "cannot unpack community.general from {ANSIBLE_COMMUNITY_PIN} (PyPI) into {}:\n{out}",
            dir.display()
        )
    })
}
