//! End-to-end test harness for the `bastion` and `fleet` binaries.
//!
//! Everything here is real: targets are OpenSSH `sshd` processes on their own loopback
//! addresses (127.0.1.N), users are the OpenSSH `ssh`/`scp`/`sftp` clients, and the bastion
//! is the compiled binary run against a temporary data directory. Each fixture owns a temp
//! dir and kills its processes on drop, so tests run in parallel; every wait has a timeout.

pub mod ansible_targets;
pub mod bastion;
pub mod browser;
pub mod client;
pub mod cluster;
pub mod collections;
pub mod console_http;
pub mod fleet;
pub mod lab;
pub mod load;
pub mod net;
pub mod once;
pub mod proc;
pub mod prometheus;
pub mod pty;
pub mod pyvenv;
pub mod s3;
pub mod sshd;
pub mod tmpfs;
pub mod totp;
pub mod watcher;
pub mod webhook;

pub use bastion::{BastionHome, TestUser};
pub use browser::Browser;
pub use client::Client;
pub use console_http::ConsoleCurl;
pub use lab::Lab;
pub use load::{asciinema_cat, Gate};
pub use net::SilentListener;
pub use proc::{run, run_with_input, Outcome};
pub use pty::PtySession;
pub use sshd::{KeyPair, TargetSshd};
pub use tmpfs::SmallFs;
pub use totp::{code_at, fresh_code};
pub use watcher::Watcher;

use std::time::{Duration, Instant};

/// Calls `check` every 100 ms until it returns `Some`, or `None` once `timeout` has passed.
pub fn poll<T>(timeout: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Shorthand for a number of seconds.
pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// A binary of this workspace (e.g. `bastion` for fleet's tests), built on demand into the same
/// target directory as the running test.
pub fn workspace_binary(name: &str) -> String {
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("target/<profile>/deps")
        .to_path_buf();
    let bin = profile_dir.join(name);
    if !bin.exists() {
        let status =
            std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args(["build", "-p", name, "--bin", name])
                .status()
                .expect("run cargo build");
        assert!(status.success(), "cannot build the {name} binary");
    }
    bin.to_string_lossy().into_owned()
}

/// Skips a test that cannot run on this machine, saying so on stderr past the harness's
/// capture. Under CI (`CI=true`, as `.ci/run` sets it) a skip fails the test instead: CI must
/// never pass without the test having run.
pub fn skip(what: &str, why: &str) {
    skip_unless_ci(std::env::var("CI").is_ok_and(|v| v == "true"), what, why);
}

fn skip_unless_ci(ci: bool, what: &str, why: &str) {
    if ci {
        panic!("{what} cannot run here ({why}); under CI=true that fails rather than skips");
    }
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!("SKIPPED {what}: {why}\n").as_bytes(),
    );
}

#[cfg(test)]
mod skip_tests {
    #[test]
    fn a_skip_fails_under_ci_and_only_there() {
        let under_ci = std::panic::catch_unwind(|| super::skip_unless_ci(true, "t", "no mount"));
        assert!(under_ci.is_err());
        super::skip_unless_ci(false, "t", "no mount");
    }
}
