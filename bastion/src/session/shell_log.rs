//! Turns a shell session's terminal streams into command-log rows as they happen, using the
//! `recordings` crate's command-line reconstruction.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use recordings::{CommandExit, CommandLog, LoggedCommand};

use store::{NewCommand, Store};

/// The command log of one shell session.
pub struct ShellLog<'a> {
    store: &'a Store,
    session_id: i64,
    user: &'a str,
    host: &'a str,
    login: &'a str,
    started: Instant,
    log: Mutex<CommandLog>,
    /// Command-log row of each logged command still waiting for its exit status, by sequence
    /// number (only the last few: a status only ever follows the latest command).
    rows: Mutex<Vec<(u64, i64)>>,
    /// Session time (ms) of the last keystrokes passed to the target.
    last_input_ms: AtomicU64,
    /// Session time (ms) of the last output from the target.
    last_output_ms: AtomicU64,
}

impl<'a> ShellLog<'a> {
    /// Starts logging; offsets count from now (the recording starts at the same moment).
    pub fn new(
        store: &'a Store,
        session_id: i64,
        user: &'a str,
        host: &'a str,
        login: &'a str,
    ) -> Self {
        ShellLog {
            store,
            session_id,
            user,
            host,
            login,
            started: Instant::now(),
            log: Mutex::new(CommandLog::new()),
            rows: Mutex::new(Vec::new()),
            last_input_ms: AtomicU64::new(0),
            last_output_ms: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CommandLog> {
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The terminal's width, at the start and on every resize.
    pub fn set_width(&self, cols: u32) {
        self.lock().set_width(cols);
    }

    /// Keystrokes the user sent.
    pub fn input(&self, data: &[u8]) {
        self.last_input_ms.store(self.now_ms(), Ordering::Relaxed);
        let at = self.started.elapsed().as_secs_f64();
        let done = self.lock().input(at, data);
        self.store_all(done);
    }

    /// What the target printed.
    pub fn output(&self, data: &[u8]) {
        self.last_output_ms.store(self.now_ms(), Ordering::Relaxed);
        let at = self.started.elapsed().as_secs_f64();
        let (done, exits) = {
            let mut log = self.lock();
            let done = log.output(at, data);
            (done, log.take_exits())
        };
        self.store_all(done);
        self.store_exits(exits);
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// Whether the target has answered the last keystrokes and then stayed quiet for `quiet_ms`:
    /// the echo of what was typed is then on the line model.
    pub fn echo_settled(&self, quiet_ms: u64) -> bool {
        let input = self.last_input_ms.load(Ordering::Relaxed);
        let output = self.last_output_ms.load(Ordering::Relaxed);
        output >= input && self.now_ms().saturating_sub(output) >= quiet_ms
    }

    /// The command line being typed, as the target echoed it (see `CommandLog::pending_line`).
    pub fn pending_line(&self) -> Option<String> {
        self.lock().pending_line()
    }

    /// The plain keys of the line being typed (see `CommandLog::pending_keys`).
    pub fn pending_keys(&self) -> Option<String> {
        self.lock().pending_keys()
    }

    /// Stores a command line that a `deny_commands` rule stopped before it reached the target.
    pub fn log_blocked(&self, text: &str) {
        let row = NewCommand {
            session_id: self.session_id,
            user: self.user,
            host: self.host,
            login: self.login,
            offset: self.started.elapsed().as_secs_f64(),
            command: text,
            exit_status: None,
            blocked: true,
            origin: "shell",
        };
        if let Err(e) = self.store.log_command(&row) {
            tracing::error!(
                "session {}: cannot log blocked command: {e}",
                self.session_id
            );
        }
    }

    /// Session end: stores whatever was entered but not yet confirmed by the target's echo.
    pub fn finish(&self) {
        let done = self.lock().finish();
        self.store_all(done);
    }

    fn store_all(&self, commands: Vec<LoggedCommand>) {
        for c in commands {
            let row = NewCommand {
                session_id: self.session_id,
                user: self.user,
                host: self.host,
                login: self.login,
                offset: c.at,
                command: &c.text,
                exit_status: c.exit_status.map(i64::from),
                blocked: false,
                origin: "shell",
            };
            match self.store.log_command(&row) {
                Ok(id) => {
                    crate::metrics::global().command_logged(&row);
                    let mut rows = self.rows.lock().unwrap_or_else(|p| p.into_inner());
                    if rows.len() >= 16 {
                        rows.remove(0);
                    }
                    rows.push((c.seq, id));
                }
                Err(e) => tracing::error!("session {}: cannot log command: {e}", self.session_id),
            }
        }
    }

    fn store_exits(&self, exits: Vec<CommandExit>) {
        for exit in exits {
            let mut rows = self.rows.lock().unwrap_or_else(|p| p.into_inner());
            let Some(pos) = rows.iter().position(|(seq, _)| *seq == exit.seq) else {
                continue;
            };
            let (_, id) = rows.remove(pos);
            drop(rows);
            if let Err(e) = self
                .store
                .set_command_exit(id, Some(i64::from(exit.status)))
            {
                tracing::error!("session {}: cannot store exit status: {e}", self.session_id);
            }
        }
    }
}
