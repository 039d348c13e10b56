//! Running a child process with a hard timeout and collecting its output.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// What a finished process did.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The command line, for messages.
    pub cmdline: String,
    /// Exit code; `None` if it died from a signal.
    pub code: Option<i32>,
    /// Everything it wrote to stdout (lossy UTF-8).
    pub stdout: String,
    /// Everything it wrote to stderr (lossy UTF-8).
    pub stderr: String,
    /// Wall-clock time from spawn to exit.
    pub elapsed: Duration,
}

impl Outcome {
    /// True if it exited with status 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// Panics (showing the output) unless it exited with status 0.
    pub fn assert_success(&self) -> &Self {
        assert!(self.success(), "expected success:\n{self}");
        self
    }

    /// Panics (showing the output) if it exited with status 0.
    pub fn assert_failure(&self) -> &Self {
        assert!(!self.success(), "expected failure:\n{self}");
        self
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "$ {}\n  exit: {:?} after {:.1?}\n  stdout: {:?}\n  stderr: {:?}",
            self.cmdline, self.code, self.elapsed, self.stdout, self.stderr
        )
    }
}

/// A printable form of a command line.
pub fn cmdline(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Runs `cmd` with stdin closed, waits at most `timeout`, and returns what it did.
/// A process still running at the deadline is killed and the test fails, with its output.
pub fn run(cmd: &mut Command, timeout: Duration) -> Outcome {
    let line = cmdline(cmd);
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {line}: {e}"));
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let status = loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            break Some(st);
        }
        if start.elapsed() >= timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = start.elapsed();
    let outcome = Outcome {
        cmdline: line,
        code: status.and_then(|s| s.code()),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        elapsed,
    };
    assert!(
        status.is_some(),
        "timed out after {timeout:?}, killed:\n{outcome}"
    );
    outcome
}

/// Reads a pipe to the end in a thread (so a chatty child cannot block on a full pipe).
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Every process whose parent chain leads to `pid` (children first found, then theirs), read
/// from `/proc`.
pub fn descendants(pid: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    if let Ok(rd) = std::fs::read_dir("/proc") {
        for e in rd.flatten() {
            let Some(p) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
                continue;
            };
            // pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u32>().ok());
            if let Some(ppid) = ppid {
                parents.push((p, ppid));
            }
        }
    }
    let mut out = vec![];
    let mut frontier = vec![pid];
    while let Some(parent) = frontier.pop() {
        for &(child, _) in parents.iter().filter(|(_, pp)| *pp == parent) {
            if !out.contains(&child) {
                out.push(child);
                frontier.push(child);
            }
        }
    }
    out
}

/// `kill -9` of `pid` and all its descendants, by process id. All are stopped (SIGSTOP) first,
/// so none can react to another's death (e.g. sshd reporting that its shell was killed): the
/// whole tree vanishes at once, as when a host dies.
pub fn kill_tree(pid: u32) {
    let mut all = vec![pid];
    all.extend(descendants(pid));
    let ids: Vec<String> = all.iter().map(u32::to_string).collect();
    for sig in ["-STOP", "-KILL"] {
        let _ = Command::new("kill")
            .arg(sig)
            .args(&ids)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Runs `cmd` with `input` on its stdin (then closed) to completion: (status, stdout, stderr).
pub fn run_with_input(cmd: &mut Command, input: &str) -> (i32, String, String) {
    use std::io::Write;
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawning {}: {e}", cmdline(cmd)));
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input.as_bytes()).expect("write stdin");
    drop(stdin);
    let out = child.wait_with_output().expect("output");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The child's stdout, line by line, through a channel (so reads can time out).
pub fn line_reader(child: &mut Child) -> mpsc::Receiver<String> {
    let out = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The child's exit code once it ends (-1 for a signal), or `None` after `timeout`.
pub fn wait_child(child: &mut Child, timeout: Duration) -> Option<i32> {
    crate::poll(timeout, || child.try_wait().ok().flatten()).map(|s| s.code().unwrap_or(-1))
}
