//! A throwaway PostgreSQL cluster for tests (the store's, and the bastion's end-to-end ones):
//! Debian's PostgreSQL 15, started once per test binary and shared, with one new database per
//! test ([`database`]).
//!
//! Why one cluster and not one per test: `initdb` and a start cost seconds each, over dozens
//! of tests. Why it cannot be skipped: the store promises the same behaviour on both engines,
//! so a machine without PostgreSQL fails these tests with a message saying what to install
//! (`.ci/run` installs it) instead of passing them untested.
//!
//! The cluster runs as the `postgres` OS user when the tests run as root (which `initdb` and
//! `postgres` refuse; otherwise as the user running them), in a temporary directory, on a
//! free port of 127.0.0.1 with its socket in that directory, with durability off (`fsync=off`:
//! a test database is thrown away). It is stopped and its directory removed when the test binary exits (an `atexit` handler);
//! should the binary die without exiting, the server gets SIGQUIT as its parent thread (which
//! lives as long as the process) goes away (`PR_SET_PDEATHSIG`).
//!
//! Every client call runs on a thread of its own: the `postgres` crate panics on a thread
//! that runs a tokio runtime, and tests call this from `#[tokio::test]`s too.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use postgres::{Client, NoTls};

struct Cluster {
    port: u16,
    admin: Mutex<Client>,
}

static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();
/// The server's pid and directory, for the `atexit` handler.
static RUNNING: OnceLock<(i32, PathBuf)> = OnceLock::new();
static NEXT: AtomicUsize = AtomicUsize::new(0);

/// The PostgreSQL programs: `$PG_BIN`, else Debian's PostgreSQL 15.
fn bin_dir() -> PathBuf {
    std::env::var_os("PG_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/lib/postgresql/15/bin"))
}

/// The URL of a new, empty database in the shared cluster (started on first use). Panics,
/// failing the test, when the cluster cannot run here.
pub fn database() -> String {
    let cluster = match CLUSTER.get_or_init(start) {
        Ok(c) => c,
        Err(e) => panic!("the PostgreSQL tests cannot run: {e}"),
    };
    let name = format!("t{}", NEXT.fetch_add(1, Ordering::SeqCst));
    let sql = format!("CREATE DATABASE {name}");
    off_runtime(|| {
        cluster
            .admin
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .batch_execute(&sql)
    })
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
    format!("postgres://postgres@127.0.0.1:{}/{name}", cluster.port)
}

/// Runs `f` on a new thread (never a tokio runtime's) and returns what it returns.
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().expect("the database call panicked"))
}

/// The `postgres` OS user's uid and gid, from /etc/passwd.
fn postgres_user() -> Result<(u32, u32), String> {
    let passwd = std::fs::read_to_string("/etc/passwd").map_err(|e| e.to_string())?;
    passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.first() == Some(&"postgres") && f.len() > 3)
        .and_then(|f| Some((f[2].parse().ok()?, f[3].parse().ok()?)))
        .ok_or_else(|| {
            "no `postgres` user in /etc/passwd (apt-get install postgresql-15 creates it)".into()
        })
}

fn start() -> Result<Cluster, String> {
    let bin = bin_dir();
    if !bin.join("initdb").exists() {
        return Err(format!(
            "PostgreSQL 15 is not installed ({} is missing): apt-get install postgresql-15 (.ci/run installs it), or set PG_BIN",
            bin.join("initdb").display()
        ));
    }
    // As root (CI, and the tests here), run as `postgres`; as anyone else, as oneself.
    // SAFETY: geteuid has no preconditions.
    let ids = if unsafe { libc::geteuid() } == 0 {
        Some(postgres_user()?)
    } else {
        None
    };
    let dir = tempfile::Builder::new()
        .prefix("store-pg-")
        .tempdir()
        .map_err(|e| e.to_string())?
        .keep();
    if let Some((uid, gid)) = ids {
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).map_err(|e| e.to_string())?;
    }
    let data = dir.join("data");
    let mut initdb = Command::new(bin.join("initdb"));
    initdb
        .args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ])
        .args(["--no-sync", "--no-instructions", "-D"])
        .arg(&data)
        .current_dir(&dir);
    let out = as_user(&mut initdb, ids)
        .output()
        .map_err(|e| format!("initdb: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let pid = spawn_server(&bin, &dir, port, ids)?;
    let _ = RUNNING.set((pid, dir.clone()));
    // SAFETY: registers a plain `extern "C"` function; it runs once, at exit.
    unsafe { libc::atexit(stop_at_exit) };
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match off_runtime(|| Client::connect(&url, NoTls)) {
            Ok(c) => {
                return Ok(Cluster {
                    port,
                    admin: Mutex::new(c),
                })
            }
            Err(e) if Instant::now() > deadline => {
                let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
                return Err(format!(
                    "the server did not answer in 60 s ({e}); its log:\n{log}"
                ));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// Starts `postgres` from a thread that lives as long as the test binary (the parent-death
/// signal follows the thread that forked), and returns its pid.
fn spawn_server(bin: &Path, dir: &Path, port: u16, ids: Option<(u32, u32)>) -> Result<i32, String> {
    let log = std::fs::File::create(dir.join("server.log")).map_err(|e| e.to_string())?;
    let mut cmd = Command::new(bin.join("postgres"));
    cmd.arg("-D")
        .arg(dir.join("data"))
        .args(["-p", &port.to_string(), "-k"])
        .arg(dir)
        .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
        .args(["-c", "synchronous_commit=off", "-c", "full_page_writes=off"])
        .args(["-c", "max_connections=200", "-c", "shared_buffers=32MB"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log);
    as_user(&mut cmd, ids);
    // SAFETY: prctl is async-signal-safe; it only sets this child's parent-death signal.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGQUIT);
            Ok(())
        });
    }
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("store-pg-cluster".into())
        .spawn(move || match cmd.spawn() {
            Ok(mut child) => {
                let _ = tx.send(Ok(child.id() as i32));
                let _ = child.wait();
                // Keep this thread (the server's parent) alive until the process exits.
                loop {
                    std::thread::park();
                }
            }
            Err(e) => {
                let _ = tx.send(Err(format!("postgres: {e}")));
            }
        })
        .map_err(|e| e.to_string())?;
    rx.recv().map_err(|e| e.to_string())?
}

/// Runs `cmd` as the user and group `ids`, when given.
fn as_user(cmd: &mut Command, ids: Option<(u32, u32)>) -> &mut Command {
    if let Some((uid, gid)) = ids {
        cmd.uid(uid).gid(gid);
    }
    cmd
}

/// Stops the server (immediate shutdown: nothing in it is kept) and removes its directory.
extern "C" fn stop_at_exit() {
    let Some((pid, dir)) = RUNNING.get() else {
        return;
    };
    // SAFETY: signals a process this binary started.
    unsafe { libc::kill(*pid, libc::SIGQUIT) };
    let deadline = Instant::now() + Duration::from_secs(10);
    // SAFETY: signal 0 only asks whether the process still exists.
    while unsafe { libc::kill(*pid, 0) } == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = std::fs::remove_dir_all(dir);
}
