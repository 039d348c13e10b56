//! `bastion replay ID`: plays a recording in the terminal at its real pace, with pause (space),
//! faster/slower (+/-), quit (q), `--idle-limit` to cap pauses, and `--at-command N` to jump to
//! the moment the session's Nth logged command ran.

use std::io::{IsTerminal, Write};
use std::os::fd::AsFd;
use std::path::Path;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use nix::sys::termios::{self, SetArg, Termios};
use recordings::{read_cast, EventKind};

use super::open;
use store::CommandFilter;

#[derive(Args)]
pub struct ReplayArgs {
    id: i64,
    /// Playback speed factor (2 = twice as fast).
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Longest pause between two events, in seconds.
    #[arg(long)]
    idle_limit: Option<f64>,
    /// Start where the session's Nth logged command (1-based) was entered.
    #[arg(long)]
    at_command: Option<usize>,
}

/// Restores the terminal's mode when dropped, however replay ends.
struct RawMode {
    saved: Termios,
}

impl RawMode {
    fn enable() -> Option<RawMode> {
        let stdin = std::io::stdin();
        let saved = termios::tcgetattr(stdin.as_fd()).ok()?;
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        // Keep output processing so recorded \n still returns the carriage where the target's did.
        raw.output_flags = saved.output_flags;
        termios::tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw).ok()?;
        Some(RawMode { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(std::io::stdin().as_fd(), SetArg::TCSANOW, &self.saved);
    }
}

pub fn run(dir: &Path, a: ReplayArgs) -> Result<ExitCode> {
    if !(a.speed > 0.0 && a.speed.is_finite()) {
        bail!("--speed must be a positive number");
    }
    let (data, store) = open(dir)?;
    let path = super::sessions::recording_path(&data, &store, a.id)?;
    let cast = read_cast(&path).with_context(|| format!("reading {}", path.display()))?;
    let start_at = match a.at_command {
        None => 0.0,
        Some(n) => command_offset(&store, a.id, n)?,
    };
    let interactive = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let _raw = if interactive { RawMode::enable() } else { None };
    let mut player = Player {
        keys: interactive.then(spawn_key_reader),
        speed: a.speed,
        paused: false,
    };
    let mut out = std::io::stdout().lock();
    let mut last_time = start_at;
    for ev in cast.events.iter().filter(|e| e.kind == EventKind::Output) {
        if ev.time > start_at {
            let mut gap = ev.time - last_time;
            if let Some(limit) = a.idle_limit {
                gap = gap.min(limit);
            }
            if player.wait(gap) == Wait::Quit {
                out.write_all(b"\r\n")?;
                return Ok(ExitCode::SUCCESS);
            }
            last_time = ev.time;
        }
        out.write_all(ev.data.as_bytes())?;
        out.flush()?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Where the session's `n`th logged command (1-based) was entered, in recording seconds.
fn command_offset(store: &store::Store, session: i64, n: usize) -> Result<f64> {
    let cmds = store.commands(&CommandFilter {
        session: Some(session),
        ..Default::default()
    })?;
    let Some(c) = n.checked_sub(1).and_then(|i| cmds.get(i)) else {
        bail!(
            "session {session} has {} logged commands; --at-command {n} is out of range",
            cmds.len()
        );
    };
    Ok(c.offset)
}

/// The playback's pace and the keys that change it (none when not on a terminal).
struct Player {
    keys: Option<mpsc::Receiver<u8>>,
    speed: f64,
    paused: bool,
}

#[derive(PartialEq, Eq)]
enum Wait {
    Done,
    Quit,
}

impl Player {
    /// Waits out a recorded gap of `gap` seconds at the current speed while answering keys:
    /// space pauses, +/- double or halve the speed (and what is left of the gap), q quits.
    fn wait(&mut self, gap: f64) -> Wait {
        let mut remaining = Duration::from_secs_f64(gap.max(0.0) / self.speed);
        loop {
            let started = Instant::now();
            let key = self.next_key(remaining);
            if !self.paused {
                remaining = remaining.saturating_sub(started.elapsed());
            }
            match key {
                Some(b'q') | Some(3) => return Wait::Quit,
                Some(b' ') => self.paused = !self.paused,
                Some(b'+') | Some(b'=') => {
                    self.speed = (self.speed * 2.0).min(64.0);
                    remaining /= 2;
                }
                Some(b'-') => {
                    self.speed = (self.speed / 2.0).max(1.0 / 64.0);
                    remaining *= 2;
                }
                _ => {}
            }
            if !self.paused && (remaining.is_zero() || key.is_none()) {
                return Wait::Done;
            }
        }
    }

    /// The next key within `remaining` (forever while paused); `None` when none came.
    fn next_key(&mut self, remaining: Duration) -> Option<u8> {
        match &self.keys {
            Some(rx) if self.paused => match rx.recv() {
                Ok(k) => Some(k),
                Err(_) => {
                    self.paused = false; // the keyboard went away: never stay paused
                    None
                }
            },
            Some(rx) => rx.recv_timeout(remaining).ok(),
            None => {
                std::thread::sleep(remaining);
                None
            }
        }
    }
}

/// Reads single key bytes from stdin on a thread.
fn spawn_key_reader() -> mpsc::Receiver<u8> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        use std::io::Read;
        let mut stdin = std::io::stdin();
        let mut b = [0u8; 1];
        while let Ok(1) = stdin.read(&mut b) {
            if tx.send(b[0]).is_err() {
                break;
            }
        }
    });
    rx
}
