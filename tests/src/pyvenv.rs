//! Python tools from PyPI the tests compare against or drive (ansible-core, schemathesis), each
//! in its own virtualenv under the workspace's `target/`, made once per machine under a file
//! lock (parallel test binaries do not race) and reused while the pinned requirement is the same.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The workspace root (this crate is `tests/`).
fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// `target/NAME` with `requirement` installed, checked by running `bin/TOOL --version`.
/// The error says what is missing (python3 with venv, PyPI).
pub fn make(name: &str, requirement: &str, tool: &str) -> Result<PathBuf, String> {
    let target = workspace_root().join("target");
    fs::create_dir_all(&target).map_err(|e| format!("mkdir {}: {e}", target.display()))?;
    let venv = target.join(name);
    // `ansible-core==2.19.*` -> `ansible-core-2.19` (the marker name venvs already carry).
    let pin: String = requirement
        .replace("==", "-")
        .replace(".*", "")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let marker = venv.join(format!(".ready-{pin}"));
    if marker.is_file() {
        return Ok(venv);
    }
    let script = format!(
        "rm -rf '{venv}'\n\
         {python} -m venv '{venv}'\n\
         '{venv}/bin/pip' install -q --disable-pip-version-check '{requirement}'\n\
         '{venv}/bin/{tool}' --version >/dev/null",
        venv = venv.display(),
        python = if Path::new("/usr/bin/python3").exists() {
            "/usr/bin/python3"
        } else {
            "python3"
        },
    );
    crate::once::make_once(name, &marker, &script, Duration::from_secs(900))
        .map(|()| venv.clone())
        .map_err(|out| {
            format!(
                "cannot create the virtualenv {} (needs python3 with venv, e.g. Debian's python3-venv, \
                 and access to PyPI for {requirement}):\n{out}",
                venv.display()
            )
        })
}
