//! `bastion audit --follow --json [--after ID]`: every record after ID, then each new one as it
//! is committed, one JSON line each, for shipping the log off the box (a SIEM, a file on
//! another host). A copy kept elsewhere is what makes deleting or rewriting the newest
//! records visible, even to an attacker holding the signing key.
//!
//! Why polling: the records are written by another process (`bastion serve`, or an admin
//! command), and SQLite has no cross-process change notification. A poll is one indexed
//! `id > last` query every 200 ms, on a WAL database that readers never block.
//!
//! Why resuming by id is exact: every append takes SQLite's write lock (an IMMEDIATE
//! transaction) before choosing `max(id) + 1`, so records commit in id order and a reader that
//! has seen id N has seen every id below it. A consumer restarts with `--after` its last id
//! and gets exactly the rest: no gap, no duplicate.

use std::io::{ErrorKind, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use store::Store;

use super::audit::json_line;

/// Time between two looks at the database once caught up.
const POLL: Duration = Duration::from_millis(200);
/// Records read per query while catching up.
const BATCH: usize = 500;

/// Whether standard output is a pipe or socket whose reader has closed it. Without this, an
/// idle follow (no new records to write, so no EPIPE) would outlive `| head -n 3` forever.
fn reader_gone() -> bool {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::os::fd::AsFd;
    let stdout = std::io::stdout();
    let mut fds = [PollFd::new(stdout.as_fd(), PollFlags::POLLOUT)];
    match poll(&mut fds, PollTimeout::ZERO) {
        Ok(_) => fds[0]
            .revents()
            .is_some_and(|r| r.intersects(PollFlags::POLLERR | PollFlags::POLLHUP)),
        Err(_) => false,
    }
}

/// Prints records after `after` forever; returns when standard output is closed.
pub fn follow(store: &Store, after: i64) -> Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut last = after;
    loop {
        let batch = store.audit_records_after(last, BATCH)?;
        for r in &batch {
            let mut out = stdout.lock();
            let written = writeln!(out, "{}", json_line(r)).and_then(|()| out.flush());
            match written {
                Ok(()) => last = r.id,
                // The reader went away (`| head`, a closed pipe): that ends a follow cleanly.
                // Rust ignores SIGPIPE, so it shows up here as EPIPE.
                Err(e) if e.kind() == ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
                Err(e) => return Err(e.into()),
            }
        }
        if batch.len() < BATCH {
            if reader_gone() {
                return Ok(ExitCode::SUCCESS);
            }
            std::thread::sleep(POLL);
        }
    }
}
