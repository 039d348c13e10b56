//! Helpers for load and fault tests: sizes from the environment, a start line that many
//! threads wait at (with a timeout) and a crowd of workers run through it, playing recordings
//! with `asciinema`, counting sockets.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::pty::PtySession;

/// A test size from environment variable `var` (e.g. `LOAD_SESSIONS=200` from the bench
/// command), else `default` (the reduced CI size). Panics on a value that is not a number.
pub fn size(var: &str, default: usize) -> usize {
    match std::env::var(var) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{var}={v:?} is not a number")),
        Err(_) => default,
    }
}

/// A worker's error when the test gave up waiting for the others.
pub const ABORTED: &str = "released without its turn: not every session opened";

/// A start line for worker threads: each one [`Gate::arrive`]s, then [`Gate::wait`]s until the
/// test [`Gate::open`]s it (or it times out, so a failed test never leaves threads hanging).
#[derive(Default)]
pub struct Gate {
    arrived: AtomicUsize,
    failed: AtomicUsize,
    open: AtomicBool,
    aborted: AtomicBool,
}

impl Gate {
    /// A closed gate.
    pub fn new() -> Gate {
        Gate::default()
    }

    /// A worker reached the line.
    pub fn arrive(&self) {
        self.arrived.fetch_add(1, Ordering::SeqCst);
    }

    /// A worker gave up before reaching the line (the test should stop waiting for it).
    pub fn fail(&self) {
        self.failed.fetch_add(1, Ordering::SeqCst);
    }

    /// Lets every waiting worker go on.
    pub fn open(&self) {
        self.open.store(true, Ordering::SeqCst);
    }

    /// Releases the waiting workers with the news that the test gave up ([`Gate::wait`]
    /// returns false), so they end at once.
    pub fn abort(&self) {
        self.aborted.store(true, Ordering::SeqCst);
        self.open();
    }

    /// Blocks a worker until the gate opens; false if it was aborted or `timeout` passed first.
    pub fn wait(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while !self.open.load(Ordering::SeqCst) {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        !self.aborted.load(Ordering::SeqCst)
    }

    /// Waits until `n` workers arrived; `Err((arrived, failed))` once any failed or `timeout`
    /// passed.
    pub fn all_arrived(&self, n: usize, timeout: Duration) -> Result<(), (usize, usize)> {
        let deadline = Instant::now() + timeout;
        loop {
            let (a, f) = (
                self.arrived.load(Ordering::SeqCst),
                self.failed.load(Ordering::SeqCst),
            );
            if a >= n {
                return Ok(());
            }
            if f > 0 || Instant::now() >= deadline {
                return Err((a, f));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// `asciinema cat FILE` on a PTY (it wants a terminal even to print): what it printed, or why
/// it failed (non-zero exit, or no exit within 60 s).
pub fn asciinema_cat(path: &std::path::Path) -> Result<String, String> {
    let argv = vec![
        "asciinema".to_string(),
        "cat".to_string(),
        path.display().to_string(),
    ];
    let mut cat = PtySession::spawn(&argv, &[], 80, 24);
    let code = cat.wait(Duration::from_secs(60));
    // The reader thread may still be draining the PTY: give it a moment to catch up.
    std::thread::sleep(Duration::from_millis(100));
    match code {
        Some(0) => Ok(cat.output()),
        other => Err(format!(
            "asciinema cat {} exited {other:?}:\n{}",
            path.display(),
            cat.output()
        )),
    }
}

/// How many sockets process `pid` holds open (its `/proc/PID/fd` entries that are sockets).
pub fn open_sockets(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|rd| {
            rd.flatten()
                .filter(|e| {
                    std::fs::read_link(e.path())
                        .is_ok_and(|t| t.to_string_lossy().starts_with("socket:"))
                })
                .count()
        })
        .unwrap_or(0)
}

/// Runs `n` workers at once (`worker(i, &gate)` on its own thread). Once all have arrived at
/// the gate (within `timeout`), `at_peak` runs (the test's look at the live server), then the
/// gate opens and the workers finish; if not all arrived, or `at_peak` panicked, the gate is
/// aborted so no worker hangs. Panics listing the first failures (the real ones before those
/// released because of them); returns `at_peak`'s result.
pub fn crowd<T>(
    n: usize,
    timeout: Duration,
    worker: impl Fn(usize, &Gate) -> Result<(), String> + Sync,
    at_peak: impl FnOnce() -> T,
) -> T {
    let gate = Gate::new();
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..n)
            .map(|i| {
                let (gate, worker) = (&gate, &worker);
                s.spawn(move || worker(i, gate))
            })
            .collect();
        let all = gate.all_arrived(n, timeout);
        // Whatever happens at the peak (even a failed assertion), the workers are released.
        let peak = all
            .is_ok()
            .then(|| std::panic::catch_unwind(std::panic::AssertUnwindSafe(at_peak)));
        match &peak {
            Some(Ok(_)) => gate.open(),
            _ => gate.abort(),
        }
        let mut errors: Vec<String> = workers
            .into_iter()
            .filter_map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err("worker panicked".into()))
                    .err()
            })
            .collect();
        let peak = match peak {
            Some(Ok(v)) => Some(v),
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => None,
        };
        errors.sort_by_key(|e| e.contains(ABORTED));
        assert!(
            errors.is_empty(),
            "{} of {n} workers failed (arrived/failed at the gate: {all:?}); first ones:\n{}",
            errors.len(),
            errors
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
        peak.expect("every worker was at the gate at once")
    })
}
