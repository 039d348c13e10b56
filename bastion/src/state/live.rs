//! Sessions in progress, for auditors: what a watcher joining mid-session needs to see the
//! current screen (not a blank one), a broadcast of new output, and a kill switch.
//!
//! A recorded session keeps no screen model on its data path: a joining watcher's screen is
//! rebuilt from the recording written so far (off the data path, paid only when someone
//! watches), and the live stream continues exactly where that file ends. Only a terminal
//! session that could not be recorded keeps a live vt100 model.

use std::collections::HashMap;
#[cfg(test)]
use std::io::Read;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use recordings::Recorder;
use tokio::sync::{broadcast, watch};

use crate::locks::lock;

/// Where a watcher's first screen comes from, chosen when the session registers.
pub enum ScreenSource {
    /// The session's recording. Its writer must call [`LiveSession::output`] while holding the
    /// recorder's lock, right after recording the same bytes, so file and stream never overlap.
    Recording(Arc<Mutex<Recorder>>),
    /// An unrecorded terminal of this many columns and rows: kept as a live screen model.
    Terminal { cols: u32, rows: u32 },
    /// No terminal (exec, SFTP): watchers get the stream only.
    None,
}

/// Output chunks a watcher may fall behind by before it is told it lagged.
const WATCH_BACKLOG: usize = 1024;

/// A watcher's start: the screen so far, then everything after it.
pub struct Join {
    pub start: JoinStart,
    pub stream: broadcast::Receiver<Vec<u8>>,
}

/// A watcher's first screen, built: its size and the bytes that draw it, then the stream.
pub struct Watch {
    pub cols: u32,
    pub rows: u32,
    pub screen: Vec<u8>,
    pub stream: broadcast::Receiver<Vec<u8>>,
}

/// How a watcher's first screen is made.
pub enum JoinStart {
    /// Bytes that redraw the current screen.
    Snapshot(Vec<u8>),
    /// Replay the first `len` bytes of this recording with [`screen_from_recording`].
    Replay { path: PathBuf, len: u64 },
}

/// One live session.
pub struct LiveSession {
    pub id: i64,
    pub user: String,
    pub target: String,
    /// The approved request the session runs under; the sweep ends the session with it.
    pub grant: Option<i64>,
    /// Cleared when the session ends, so the session's owner gets its recorder back.
    recording: Mutex<Option<Arc<Mutex<Recorder>>>>,
    screen: Option<Mutex<vt100::Parser>>,
    /// Made by the first watcher: a broadcast channel allocates all its slots up front
    /// ([`WATCH_BACKLOG`] x ~56 bytes, as much as the rest of an idle session together), and
    /// most sessions are never watched.
    output: OnceLock<broadcast::Sender<Vec<u8>>>,
    kill: watch::Sender<Option<String>>,
}

impl LiveSession {
    /// Passes target output to watchers (skipped, no copy, while nobody watches) and, for an
    /// unrecorded terminal, to the screen model.
    pub fn output(&self, data: &[u8]) {
        match &self.screen {
            Some(screen) => {
                // Sent under the screen lock, so a joining watcher's snapshot and stream never
                // overlap or leave a gap.
                let mut p = lock(screen);
                p.process(data);
                self.send(data);
            }
            None => self.send(data),
        }
    }

    fn send(&self, data: &[u8]) {
        if let Some(out) = self.output.get().filter(|o| o.receiver_count() > 0) {
            let _ = out.send(data.to_vec());
        }
    }

    /// A receiver of the output from now on (the channel is made on first use).
    fn subscribe(&self) -> broadcast::Receiver<Vec<u8>> {
        self.output
            .get_or_init(|| broadcast::channel(WATCH_BACKLOG).0)
            .subscribe()
    }

    /// The recording's file, flushed so a reader of the file sees every event so far (for
    /// shipping it to shared storage); `None` for an unrecorded or ended session.
    pub fn flushed_recording(&self) -> Option<std::path::PathBuf> {
        let rec = lock(&self.recording).clone()?;
        let mut rec = lock(&rec);
        if let Err(e) = rec.flush() {
            tracing::warn!("session {}: flushing its recording: {e}", self.id);
        }
        Some(rec.path().to_path_buf())
    }

    /// Follows the user's terminal size (the recording has its own resize events).
    pub fn resize(&self, cols: u32, rows: u32) {
        if let Some(screen) = &self.screen {
            let (rows, cols) = recordings::screen_size(cols, rows);
            lock(screen).screen_mut().set_size(rows, cols);
        }
    }

    /// Where a new watcher starts, and its receiver of everything after that.
    pub fn join(&self) -> Join {
        if let Some(screen) = &self.screen {
            let p = lock(screen);
            return Join {
                start: JoinStart::Snapshot(p.screen().contents_formatted()),
                stream: self.subscribe(),
            };
        }
        let recording = lock(&self.recording);
        let Some(recorder) = recording.as_ref() else {
            return Join {
                start: JoinStart::Snapshot(Vec::new()),
                stream: self.subscribe(),
            };
        };
        // Under the recorder's lock no output is recorded or sent: the file up to `len` and
        // the stream from the subscription on are exactly the whole output.
        let mut rec = lock(recorder);
        let start = match rec.flush_for_reader() {
            Ok(len) => JoinStart::Replay {
                path: rec.path().to_path_buf(),
                len,
            },
            Err(e) => {
                tracing::warn!("session {}: watcher gets no screen: {e}", self.id);
                JoinStart::Snapshot(Vec::new())
            }
        };
        Join {
            start,
            stream: self.subscribe(),
        }
    }

    /// Asks the session to end with `reason` shown to the user.
    /// Joins as a watcher and builds the first screen, ready to show (blocking: it may replay
    /// the recording so far; run it off the async threads).
    pub fn watch_blocking(&self) -> Watch {
        let Join { start, stream } = self.join();
        let (cols, rows, screen) = match start {
            JoinStart::Snapshot(bytes) => {
                let (rows, cols) = self
                    .screen
                    .as_ref()
                    .map(|s| lock(s).screen().size())
                    .unwrap_or((24, 80));
                (u32::from(cols), u32::from(rows), bytes)
            }
            JoinStart::Replay { path, len } => std::fs::File::open(&path)
                .map(|f| {
                    let s = recordings::screen_at(f, len);
                    (s.cols, s.rows, s.bytes)
                })
                .unwrap_or((80, 24, Vec::new())),
        };
        Watch {
            cols,
            rows,
            screen,
            stream,
        }
    }

    pub fn kill(&self, reason: String) {
        let _ = self.kill.send(Some(reason));
    }

    /// Resolves once the session is killed, with the reason.
    pub async fn killed(&self) -> String {
        let mut rx = self.kill.subscribe();
        loop {
            if let Some(r) = rx.borrow_and_update().clone() {
                return r;
            }
            if rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}

/// The screen at the end of a recording's first `len` bytes (`recordings::screen_at`).
#[cfg(test)]
pub fn screen_from_recording(file: impl Read, len: u64) -> Vec<u8> {
    recordings::screen_at(file, len).bytes
}

/// The registry of live sessions.
#[derive(Default)]
pub struct LiveSessions {
    map: Mutex<HashMap<i64, Arc<LiveSession>>>,
}

impl LiveSessions {
    /// Registers a session; `source` says how a joining watcher sees its current screen.
    pub fn register(
        &self,
        id: i64,
        user: &str,
        target: &str,
        source: ScreenSource,
        grant: Option<i64>,
    ) -> LiveGuard<'_> {
        let (kill, _) = watch::channel(None);
        let (recording, screen) = match source {
            ScreenSource::Recording(r) => (Some(r), None),
            ScreenSource::Terminal { cols, rows } => {
                let (rows, cols) = recordings::screen_size(cols, rows);
                (None, Some(Mutex::new(vt100::Parser::new(rows, cols, 0))))
            }
            ScreenSource::None => (None, None),
        };
        let session = Arc::new(LiveSession {
            id,
            user: user.to_string(),
            target: target.to_string(),
            grant,
            recording: Mutex::new(recording),
            screen,
            output: OnceLock::new(),
            kill,
        });
        lock(&self.map).insert(id, session.clone());
        LiveGuard {
            registry: self,
            session,
        }
    }

    /// A live session by id.
    pub fn get(&self, id: i64) -> Option<Arc<LiveSession>> {
        lock(&self.map).get(&id).cloned()
    }

    /// Every live session.
    pub fn all(&self) -> Vec<Arc<LiveSession>> {
        lock(&self.map).values().cloned().collect()
    }
}

/// Keeps a session registered while it runs; unregisters on drop and lets go of the session's
/// recorder (a watcher still streaming holds only its receiver).
pub struct LiveGuard<'a> {
    registry: &'a LiveSessions,
    pub session: Arc<LiveSession>,
}

impl Drop for LiveGuard<'_> {
    fn drop(&mut self) {
        lock(&self.registry.map).remove(&self.session.id);
        lock(&self.session.recording).take();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use recordings::Header;

    #[test]
    fn a_zero_sized_terminal_takes_long_wrapping_output() {
        let live = LiveSessions::default();
        for (cols, rows) in [(0, 0), (1, 1), (3, 1)] {
            let guard = live.register(1, "u", "h", ScreenSource::Terminal { cols, rows }, None);
            let line = "x".repeat(250) + "\r\n";
            for _ in 0..50 {
                guard.session.output(line.as_bytes());
            }
            guard.session.resize(1, 1);
            guard.session.output(line.as_bytes());
        }
    }

    #[test]
    fn an_unwatched_session_has_no_broadcast_channel_until_a_watcher_joins() {
        let dir = tempfile::tempdir().unwrap();
        let rec = Arc::new(Mutex::new(recording(dir.path()).0));
        let live = LiveSessions::default();
        let guard = live.register(3, "u", "h", ScreenSource::Recording(rec.clone()), None);
        write(&rec, &guard.session, b"before anyone watches");
        assert!(
            guard.session.output.get().is_none(),
            "made without a watcher"
        );
        let mut stream = guard.session.join().stream;
        write(&rec, &guard.session, b"watched");
        assert_eq!(stream.try_recv().unwrap(), b"watched");
    }

    /// What the session's writer does (`Taps`): record, then send, under the recorder's lock.
    fn write(rec: &Mutex<Recorder>, session: &LiveSession, data: &[u8]) {
        let mut r = lock(rec);
        r.output(data).unwrap();
        session.output(data);
    }

    /// A new 80x24 recording in `dir`, and its path.
    fn recording(dir: &std::path::Path) -> (Recorder, PathBuf) {
        let path = dir.join("s.cast");
        let header = Header {
            width: 80,
            height: 24,
            timestamp: 1,
            title: "t".into(),
            term: None,
        };
        (Recorder::create(&path, &header).unwrap(), path)
    }

    fn text(screen: &[u8]) -> String {
        let mut p = vt100::Parser::new(24, 80, 0);
        p.process(screen);
        p.screen().contents()
    }

    #[test]
    fn a_watcher_of_a_recorded_session_gets_the_current_screen_then_exactly_what_follows() {
        let dir = tempfile::tempdir().unwrap();
        let rec = Arc::new(Mutex::new(recording(dir.path()).0));
        let live = LiveSessions::default();
        let guard = live.register(7, "u", "h", ScreenSource::Recording(rec.clone()), None);
        for i in 1..=60 {
            write(&rec, &guard.session, format!("OLD-{i}\r\n").as_bytes());
        }
        lock(&rec).resize(100, 30).unwrap();
        write(&rec, &guard.session, b"\x1b[2J\x1b[HNEW-SCREEN");

        let Join { start, mut stream } = live.get(7).unwrap().join();
        let JoinStart::Replay { path: p, len } = start else {
            panic!("a recorded session replays its recording")
        };
        write(&rec, &guard.session, b" AFTER-JOIN");
        let screen = text(&screen_from_recording(
            std::fs::File::open(&p).unwrap(),
            len,
        ));
        assert!(screen.contains("NEW-SCREEN"), "{screen:?}");
        assert!(
            !screen.contains("OLD-"),
            "a cleared screen shows nothing old: {screen:?}"
        );
        assert!(
            !screen.contains("AFTER-JOIN"),
            "later output is the stream's: {screen:?}"
        );
        assert_eq!(stream.try_recv().unwrap(), b" AFTER-JOIN");
        assert!(stream.try_recv().is_err());

        drop(guard);
        assert!(live.get(7).is_none());
        assert_eq!(
            Arc::strong_count(&rec),
            1,
            "the session's owner gets its recorder back"
        );
    }

    #[test]
    fn a_replay_shows_the_last_rows_of_scrolled_output_and_stops_at_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let (mut rec, path) = recording(dir.path());
        for i in 1..=60 {
            rec.output(format!("LINE-{i}\r\n").as_bytes()).unwrap();
        }
        let len = rec.flush_for_reader().unwrap();
        drop(rec);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(b"[9.0,\"o\",\"TORN");
        let screen = text(&screen_from_recording(&bytes[..], bytes.len() as u64));
        assert!(
            screen.contains("LINE-60") && screen.contains("LINE-38"),
            "{screen:?}"
        );
        assert!(
            !screen.contains("LINE-37\n") && !screen.contains("TORN"),
            "{screen:?}"
        );
        assert_eq!(
            screen,
            text(&screen_from_recording(&bytes[..], len)),
            "the torn line changes nothing"
        );
        assert!(screen_from_recording(&b"not a header\n"[..], 13).is_empty());
    }
}
