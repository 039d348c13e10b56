//! Tools the tests fetch from a registry (a PyPI virtualenv, a collection unpacked from a
//! wheel, an S3 server built by `cargo install`) are made once per machine under the
//! workspace's `target/`: parallel test binaries take a file lock, the first does the work, and
//! a ready marker written last tells every later run it is done (an interrupted install leaves
//! no marker, so the next run starts over).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::proc::{run, Outcome};

/// Runs the shell `script` under the lock `target/LOCK.lock` unless `marker` exists, then
/// writes `marker`; `Ok` once the marker is there, else what the script printed.
pub fn make_once(lock: &str, marker: &Path, script: &str, within: Duration) -> Result<(), Outcome> {
    if marker.is_file() {
        return Ok(());
    }
    let target = crate::fleet::workspace_root().join("target");
    let _ = std::fs::create_dir_all(&target);
    let marker = marker.display();
    let whole = format!("set -e\n[ -f '{marker}' ] && exit 0\n{script}\ntouch '{marker}'\n");
    let out = run(
        Command::new("flock")
            .arg(target.join(format!("{lock}.lock")))
            .args(["sh", "-c", &whole]),
        within,
    );
    if out.success() {
        Ok(())
    } else {
        Err(out)
    }
}
