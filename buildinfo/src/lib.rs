//! Used from `build.rs` of the `bastion` and `fleet` binaries: tells Cargo the git commit the
//! sources are at, as the `GIT_COMMIT` environment variable of the compiled crate, so
//! `--version` says exactly what was built (`0.1.0 (git 1a2b3c4d5e6f)`). Outside a git checkout
//! (a source tarball) it says `unknown`.

use std::path::Path;
use std::process::Command;

/// Emits `cargo:rustc-env=GIT_COMMIT=...` and asks Cargo to rerun when HEAD moves.
pub fn emit_git_commit() {
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=GIT_COMMIT={commit}");
    if let Some(git) = git_dir() {
        println!("cargo:rerun-if-changed={}", git.join("HEAD").display());
        println!("cargo:rerun-if-changed={}", git.join("refs").display());
        println!(
            "cargo:rerun-if-changed={}",
            git.join("packed-refs").display()
        );
    }
}

/// The repository's `.git` directory, if the build runs inside one.
fn git_dir() -> Option<std::path::PathBuf> {
    let out = Command::new("git")
        .args(["rev-parse", "--absolute-git-dir"])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Path::new(&dir).is_dir().then(|| dir.into())
}
