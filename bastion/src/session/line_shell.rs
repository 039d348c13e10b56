//! Shells without a terminal (`ssh bastion web1`, `ssh -T alice+web1@bastion`, a script piped
//! in): every line the user sends is a command the target's shell will read, so each one is
//! judged whole *before any byte of it is passed on*: checked against `deny_commands`, stored
//! in the command log, and only then sent. A blocked line is never sent; the session goes on.
//!
//! Why lines and not keystrokes: with no terminal there is no echo to read back (the PTY path,
//! `command_guard.rs`, checks what the target's line editor shows). Here the shell reads its
//! standard input line by line, so the line as sent is exactly what it will run. The price is
//! that input reaches the target a line at a time, which is how a shell consumes it anyway.
//!
//! Fail closed: a line that cannot be stored in the command log is not sent, and a "line" that
//! grows past [`MAX_LINE`] without a newline ends the session (it could hide a command split
//! across any boundary the bastion would pick). What this cannot see is what no line-based
//! check can: a command assembled at run time (`$(printf shut)down`), or lines a program other
//! than the shell reads (they are checked and logged as commands all the same).

use std::sync::Mutex;
use std::time::Instant;

use policies::SessionLimits;
use store::{NewCommand, Store, StoreError};

use super::command_guard::Blocked;

/// The longest line accepted without a newline.
pub const MAX_LINE: usize = 1 << 20;

/// A line longer than [`MAX_LINE`] arrived.
#[derive(Debug, PartialEq, Eq)]
pub struct LineTooLong;

/// The line-by-line gate of one shell session without a terminal.
pub struct LineShell<'a> {
    limits: &'a SessionLimits,
    store: &'a Store,
    session_id: i64,
    user: &'a str,
    host: &'a str,
    login: &'a str,
    started: Instant,
    /// Bytes of the line still being received.
    pending: Mutex<Vec<u8>>,
}

impl<'a> LineShell<'a> {
    /// A gate for one session; command-log offsets count from now (as the recording's).
    pub fn new(
        limits: &'a SessionLimits,
        store: &'a Store,
        session_id: i64,
        (user, host, login): (&'a str, &'a str, &'a str),
    ) -> Self {
        LineShell {
            limits,
            store,
            session_id,
            user,
            host,
            login,
            started: Instant::now(),
            pending: Mutex::new(Vec::new()),
        }
    }

    /// The complete lines (each with its newline) that `data` finishes; the rest waits.
    pub fn take_lines(&self, data: &[u8]) -> Result<Vec<Vec<u8>>, LineTooLong> {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        split_lines(&mut pending, data)
    }

    /// At the user's EOF: the last line if it has no newline.
    pub fn take_rest(&self) -> Option<Vec<u8>> {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        (!pending.is_empty()).then(|| std::mem::take(&mut *pending))
    }

    /// Judges one line: `Ok(None)` to send it (logged), `Ok(Some(_))` when a rule blocks it
    /// (logged as blocked), `Err` when it cannot be logged (then it must not be sent either).
    pub fn judge(&self, line: &[u8]) -> Result<Option<Blocked>, StoreError> {
        let text = command_text(line);
        if text.is_empty() {
            return Ok(None);
        }
        let rule = self
            .limits
            .deny_commands
            .iter()
            .find(|r| r.is_match(&text))
            .map(|r| r.as_str().to_string());
        self.log(text, rule)
    }

    /// Logs a line a reviewer refused, as blocked by the review `rule`.
    pub fn refuse(&self, line: &[u8], rule: &str) -> Result<Option<Blocked>, StoreError> {
        self.log(command_text(line), Some(rule.to_string()))
    }

    fn log(&self, text: String, rule: Option<String>) -> Result<Option<Blocked>, StoreError> {
        let row = NewCommand {
            session_id: self.session_id,
            user: self.user,
            host: self.host,
            login: self.login,
            offset: self.started.elapsed().as_secs_f64(),
            command: &text,
            exit_status: None,
            blocked: rule.is_some(),
            origin: "shell",
        };
        self.store.log_command(&row)?;
        crate::metrics::global().command_logged(&row);
        Ok(rule.map(|rule| Blocked {
            line: text,
            rule,
            typed_ahead: false,
        }))
    }
}

/// Appends `data` to `pending` and moves out every complete line.
fn split_lines(pending: &mut Vec<u8>, data: &[u8]) -> Result<Vec<Vec<u8>>, LineTooLong> {
    let mut lines = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.iter().position(|&b| b == b'\n') {
        pending.extend_from_slice(&rest[..=i]);
        if pending.len() > MAX_LINE {
            return Err(LineTooLong);
        }
        lines.push(std::mem::take(pending));
        rest = &rest[i + 1..];
    }
    pending.extend_from_slice(rest);
    if pending.len() > MAX_LINE {
        return Err(LineTooLong);
    }
    Ok(lines)
}

/// The command a line holds, as the log shows it: without its line ending and outer blanks.
pub fn command_text(line: &[u8]) -> String {
    String::from_utf8_lossy(line).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_whole_whatever_the_packets() {
        let mut pending = Vec::new();
        assert_eq!(
            split_lines(&mut pending, b"echo a").unwrap(),
            Vec::<Vec<u8>>::new()
        );
        assert_eq!(
            split_lines(&mut pending, b"b\nls\nshut").unwrap(),
            vec![b"echo ab\n".to_vec(), b"ls\n".to_vec()]
        );
        assert_eq!(
            split_lines(&mut pending, b"down\n").unwrap(),
            vec![b"shutdown\n".to_vec()]
        );
        assert!(pending.is_empty());
    }

    #[test]
    fn a_line_past_the_limit_is_refused_even_without_a_newline() {
        let mut pending = Vec::new();
        let big = vec![b'x'; MAX_LINE];
        assert!(split_lines(&mut pending, &big).is_ok());
        assert_eq!(split_lines(&mut pending, b"y"), Err(LineTooLong));
    }

    #[test]
    fn the_logged_command_has_no_line_ending() {
        assert_eq!(command_text(b"  echo hi \r\n"), "echo hi");
        assert_eq!(command_text(b"\n"), "");
    }

    #[test]
    fn blocked_lines_are_logged_as_blocked_and_others_as_run() {
        let dir = tempfile::tempdir().unwrap();
        // Logging a command also signs its hash into the audit chain: the store needs the key.
        let key = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
        let store = Store::open(&dir.path().join("db"), Some(key)).unwrap();
        let sid = store
            .start_session(&store::NewSession {
                user: "alice",
                source: "127.0.0.1",
                host: "web1",
                login: "root",
                kind: "shell",
                command: None,
                recording: None,
            })
            .unwrap();
        let limits = SessionLimits {
            deny_commands: vec![regex::Regex::new("shutdown").unwrap()],
            ..Default::default()
        };
        let shell = LineShell::new(&limits, &store, sid, ("alice", "web1", "root"));
        assert_eq!(shell.judge(b"hostname\n").unwrap(), None);
        let blocked = shell.judge(b"shutdown -h now\n").unwrap().unwrap();
        assert_eq!(blocked.line, "shutdown -h now");
        assert_eq!(blocked.rule, "shutdown");
        assert_eq!(shell.judge(b"   \n").unwrap(), None, "blank lines pass");
        let rows = store.commands(&Default::default()).unwrap();
        let logged: Vec<(&str, bool)> = rows
            .iter()
            .map(|r| (r.command.as_str(), r.blocked))
            .collect();
        assert_eq!(logged, [("hostname", false), ("shutdown -h now", true)]);
    }
}
