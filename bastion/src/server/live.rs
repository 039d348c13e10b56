//! Sessions in progress, for auditors: a live screen model per terminal session (so a watcher
//! joining mid-session sees the current screen, not a blank one), a broadcast of new output,
//! and a kill switch.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{broadcast, watch};

/// One live session.
pub struct LiveSession {
    pub id: i64,
    pub user: String,
    pub target: String,
    screen: Mutex<Option<vt100::Parser>>,
    output: broadcast::Sender<Vec<u8>>,
    kill: watch::Sender<Option<String>>,
}

impl LiveSession {
    /// Feeds target output to the screen model and to watchers.
    pub fn output(&self, data: &[u8]) {
        let mut screen = self.screen.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = screen.as_mut() {
            p.process(data);
        }
        // Sent under the screen lock, so a joining watcher's snapshot and stream never overlap
        // or leave a gap; skipped (no copy) while nobody watches.
        if self.output.receiver_count() > 0 {
            let _ = self.output.send(data.to_vec());
        }
    }

    /// Follows the user's terminal size.
    pub fn resize(&self, cols: u32, rows: u32) {
        let mut screen = self.screen.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = screen.as_mut() {
            let (rows, cols) = screen_size(cols, rows);
            p.screen_mut().set_size(rows, cols);
        }
    }

    /// The current screen as bytes that redraw it, plus a receiver of everything after it.
    pub fn join(&self) -> (Vec<u8>, broadcast::Receiver<Vec<u8>>) {
        let screen = self.screen.lock().unwrap_or_else(|p| p.into_inner());
        let snapshot = screen
            .as_ref()
            .map(|p| p.screen().contents_formatted())
            .unwrap_or_default();
        (snapshot, self.output.subscribe())
    }

    /// Asks the session to end with `reason` shown to the user.
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

/// (rows, cols) of the screen model for a terminal of `cols` x `rows`. A size of 0 (`ssh -tt`
/// from a pipe asks for a 0x0 PTY) means 80x24; at least 2 rows, because vt100 panics when a
/// line wraps on a one-row screen (which ended the session's pump mid-stream).
fn screen_size(cols: u32, rows: u32) -> (u16, u16) {
    let rows = if rows == 0 { 24 } else { rows.clamp(2, 500) };
    let cols = if cols == 0 { 80 } else { cols.clamp(2, 1000) };
    (rows as u16, cols as u16)
}

/// The registry of live sessions.
#[derive(Default)]
pub struct LiveSessions {
    map: Mutex<HashMap<i64, Arc<LiveSession>>>,
}

impl LiveSessions {
    /// Registers a session; `screen` is its terminal size when it has one.
    pub fn register(
        &self,
        id: i64,
        user: &str,
        target: &str,
        screen: Option<(u32, u32)>,
    ) -> LiveGuard<'_> {
        let (output, _) = broadcast::channel(1024);
        let (kill, _) = watch::channel(None);
        let parser = screen.map(|(cols, rows)| {
            let (rows, cols) = screen_size(cols, rows);
            vt100::Parser::new(rows, cols, 0)
        });
        let session = Arc::new(LiveSession {
            id,
            user: user.to_string(),
            target: target.to_string(),
            screen: Mutex::new(parser),
            output,
            kill,
        });
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, session.clone());
        LiveGuard {
            registry: self,
            session,
        }
    }

    /// A live session by id.
    pub fn get(&self, id: i64) -> Option<Arc<LiveSession>> {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .cloned()
    }
}

/// Keeps a session registered while it runs; unregisters on drop.
pub struct LiveGuard<'a> {
    registry: &'a LiveSessions,
    pub session: Arc<LiveSession>,
}

impl Drop for LiveGuard<'_> {
    fn drop(&mut self) {
        self.registry
            .map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.session.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zero_sized_terminal_takes_long_wrapping_output() {
        let live = LiveSessions::default();
        for size in [(0, 0), (1, 1), (3, 1)] {
            let guard = live.register(1, "u", "h", Some(size));
            let line = "x".repeat(250) + "\r\n";
            for _ in 0..50 {
                guard.session.output(line.as_bytes());
            }
            guard.session.resize(1, 1);
            guard.session.output(line.as_bytes());
        }
    }
}
