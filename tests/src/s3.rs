//! An S3-compatible object store for the shared-recordings tests: `s3s-fs` (crates.io, the
//! s3s project's S3 server over a local directory), installed once into `target/s3s-fs` by
//! `cargo install` (pinned; 0.14 is the last release this toolchain builds) and started on a
//! free loopback port with its own keys. It speaks the S3 REST API with SigV4 signatures, so
//! the bastion's `object_store` client talks to it exactly as to a bucket elsewhere; and since
//! it keeps each object as a plain file (`<root>/<bucket>/<key>`), a test can also look at
//! and tamper with what was stored.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::net::{free_port, wait_for_port};

const VERSION: &str = "0.14.1";
const ACCESS_KEY: &str = "AKE2ETESTS3S";
const SECRET_KEY: &str = "SKE2ETESTS3SSECRET";

/// `target/s3s-fs/bin/s3s-fs`, installed on first use (under a lock: tests run in parallel).
pub fn binary() -> Result<PathBuf, String> {
    let target = crate::fleet::workspace_root().join("target");
    let root = target.join("s3s-fs");
    let bin = root.join("bin/s3s-fs");
    let marker = root.join(format!(".ready-{VERSION}"));
    if marker.is_file() {
        return Ok(bin);
    }
    let script = format!(
        "cargo install --quiet --locked --features binary --root '{}' s3s-fs@{VERSION}",
        root.display()
    );
    crate::once::make_once("s3s-fs", &marker, &script, Duration::from_secs(1800))
        .map(|()| bin.clone())
        .map_err(|out| format!("cannot install s3s-fs {VERSION} from crates.io:\n{out}"))
}

/// A running `s3s-fs` with one bucket; killed when dropped.
pub struct S3Server {
    child: Child,
    port: u16,
    root: tempfile::TempDir,
    bucket: String,
}

impl S3Server {
    /// Starts a server with an empty bucket `bucket`.
    pub fn start(bucket: &str) -> S3Server {
        let bin = binary().unwrap_or_else(|e| panic!("{e}"));
        let root = tempfile::Builder::new()
            .prefix("s3s-")
            .tempdir()
            .expect("tempdir");
        std::fs::create_dir(root.path().join(bucket)).expect("the bucket's directory");
        let port = free_port(Ipv4Addr::LOCALHOST);
        let log = std::fs::File::create(root.path().join("server.log")).expect("log");
        let child = Command::new(bin)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(root.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start s3s-fs");
        let server = S3Server {
            child,
            port,
            root,
            bucket: bucket.to_string(),
        };
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        assert!(
            wait_for_port(addr, Duration::from_secs(20)),
            "s3s-fs did not listen: {}",
            server.log()
        );
        server
    }

    /// The `[shared_recordings] url` for `prefix` in the bucket.
    pub fn url(&self, prefix: &str) -> String {
        format!("s3://{}/{prefix}", self.bucket)
    }

    /// The environment an S3 client needs for this server (`object_store`'s `AWS_*`).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT", format!("http://127.0.0.1:{}", self.port)),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.into()),
            ("AWS_REGION", "us-east-1".into()),
        ]
    }

    /// Where the server keeps the objects under `prefix` as files.
    pub fn dir(&self, prefix: &str) -> PathBuf {
        self.root.path().join(&self.bucket).join(prefix)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.root.path().join("server.log")).unwrap_or_default()
    }

    pub fn root(&self) -> &Path {
        self.root.path()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
