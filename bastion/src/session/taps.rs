//! Everything that observes a proxied stream without changing it: the recording, the SFTP file
//! log, the shell command log, and the live view auditors watch. The pump calls one method per event; each tap is
//! optional.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use recordings::{EchoGate, Recorder};

use super::scp_log::{Direction, ScpLog};
use super::sftp_log::SftpLog;
use super::shell_log::ShellLog;
use crate::locks::lock;
use crate::state::LiveSession;
#[cfg(doc)]
use crate::state::ScreenSource;

/// The observers of one session.
#[derive(Default)]
pub struct Taps<'a> {
    pub recorder: Option<&'a Mutex<Recorder>>,
    pub record_input: bool,
    /// Holds recorded input back until the target echoes it (never records passwords).
    pub echo_gate: Mutex<EchoGate>,
    pub sftp: Option<&'a Mutex<SftpLog>>,
    /// The file list of a legacy scp session.
    pub scp: Option<&'a Mutex<ScpLog>>,
    pub live: Option<&'a LiveSession>,
    pub shell: Option<&'a ShellLog<'a>>,
    /// End the session when the recording can no longer be written (fail closed).
    pub recording_required: bool,
    /// A recording write failed.
    pub recording_failed: AtomicBool,
}

impl Taps<'_> {
    fn record(&self, f: impl FnOnce(&mut Recorder) -> Result<(), recordings::RecordingError>) {
        if let Some(r) = self.recorder {
            if let Err(e) = f(&mut lock(r)) {
                if !self.recording_failed.swap(true, Ordering::Relaxed) {
                    tracing::error!("recording write failed: {e}");
                }
            }
        }
    }

    /// Records with `f`, then shows `shown` to watchers while still holding the recorder's lock:
    /// a watcher joining replays the file up to a point and streams from there, so nothing
    /// may be recorded without being sent in the same step (see [`ScreenSource::Recording`]).
    fn record_and_show(
        &self,
        shown: &[u8],
        f: impl FnOnce(&mut Recorder) -> Result<(), recordings::RecordingError>,
    ) {
        match (self.recorder, self.live) {
            (Some(_), live) => self.record(|r| {
                let result = f(r);
                if let Some(live) = live {
                    live.output(shown);
                }
                result
            }),
            (None, Some(live)) => live.output(shown),
            (None, None) => {}
        }
    }

    /// Bytes the target printed on stdout.
    pub fn target_stdout(&self, data: &[u8]) {
        self.screen(data);
        if let Some(log) = self.sftp {
            lock(log).target_bytes(data);
        }
        self.scp_sent(Direction::Download, data);
    }

    /// Bytes the target printed on stderr: a terminal shows both streams, and a recording of
    /// a shell without one keeps them in order of arrival too.
    pub fn target_stderr(&self, data: &[u8]) {
        self.screen(data);
    }

    fn screen(&self, data: &[u8]) {
        if self.record_input {
            let confirmed = lock(&self.echo_gate).output(data);
            if !confirmed.is_empty() {
                self.record(|r| r.input(&confirmed));
            }
        }
        self.record_and_show(data, |r| r.output(data));
        if let Some(shell) = self.shell {
            shell.output(data);
        }
    }

    /// Bytes the user sent.
    pub fn user_input(&self, data: &[u8]) {
        crate::faults::point("user_input");
        if self.record_input {
            let released = lock(&self.echo_gate).input(data);
            if !released.is_empty() {
                self.record(|r| r.input(&released));
            }
        }
        if let Some(log) = self.sftp {
            lock(log).user_bytes(data);
        }
        self.scp_sent(Direction::Upload, data);
        if let Some(shell) = self.shell {
            shell.input(data);
        }
    }

    /// Bytes of an scp stream, read when they come from the side that sends the files.
    fn scp_sent(&self, from: Direction, data: &[u8]) {
        if let Some(log) = self.scp {
            let mut log = lock(log);
            if log.direction() == from {
                log.sent(data);
            }
        }
    }

    /// A whole line the user sent to a shell without a terminal, already judged and about to
    /// be passed on: recorded as input when the policy says so. No echo gate here: without a
    /// terminal nothing is echoed, so there is no echo-off state to respect.
    pub fn user_line(&self, line: &[u8]) {
        crate::faults::point("user_input");
        if self.record_input {
            self.record(|r| r.input(line));
        }
    }

    /// A message from the bastion itself on the user's screen: recorded as output with a
    /// marker, shown to watchers, but not part of the target's terminal (not in the command log).
    pub fn bastion_message(&self, marker: &str, text: &[u8]) {
        self.record_and_show(text, |r| {
            r.marker(marker)?;
            r.output(text)
        });
    }

    /// The user's terminal changed size.
    pub fn resize(&self, cols: u32, rows: u32) {
        self.record(|r| r.resize(cols, rows));
        if let Some(shell) = self.shell {
            shell.set_width(cols);
        }
        if let Some(live) = self.live {
            live.resize(cols, rows);
        }
    }

    /// Why the session must end now because its recording broke, if it must.
    pub fn recording_broken(&self) -> Option<&'static str> {
        (self.recording_required && self.recording_failed.load(Ordering::Relaxed))
            .then_some("the recording can no longer be written")
    }

    /// Called every second: keeps the one-second flush promise of recordings.
    pub fn tick(&self) {
        self.record(|r| r.flush_if_due());
    }
}
