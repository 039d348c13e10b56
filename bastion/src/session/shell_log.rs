//! Turns a shell session's terminal streams into command-log rows as they happen, using the
//! `recordings` crate's command-line reconstruction.

use std::sync::Mutex;
use std::time::Instant;

use recordings::{CommandLog, LoggedCommand};

use crate::store::{NewCommand, Store};

/// The command log of one shell session.
pub struct ShellLog<'a> {
    store: &'a Store,
    session_id: i64,
    user: &'a str,
    host: &'a str,
    login: &'a str,
    started: Instant,
    log: Mutex<CommandLog>,
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
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CommandLog> {
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keystrokes the user sent.
    pub fn input(&self, data: &[u8]) {
        let at = self.started.elapsed().as_secs_f64();
        let done = self.lock().input(at, data);
        self.store_all(done);
    }

    /// What the target printed.
    pub fn output(&self, data: &[u8]) {
        let at = self.started.elapsed().as_secs_f64();
        let done = self.lock().output(at, data);
        self.store_all(done);
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
            if let Err(e) = self.store.log_command(&row) {
                tracing::error!("session {}: cannot log command: {e}", self.session_id);
            }
        }
    }
}
