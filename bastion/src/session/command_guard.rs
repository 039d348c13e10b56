//! `deny_commands` in interactive shells: the Enter key is held until the target's echo of the
//! line has arrived, the echoed line is checked against the rules, and a matching line is wiped
//! on the target (Ctrl-E, Ctrl-U) instead of being submitted.
//!
//! The check reads the line the target's own line editor shows (history recall and tab
//! completion resolved), from the command log's terminal model, and the keys typed when they
//! were plain characters (a line typed ahead, before its prompt, has no readable echo yet). What it cannot see, it cannot
//! block: lines typed with echo off, commands inside full-screen programs, multi-line bracketed
//! pastes, obfuscated commands (see the README).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use regex::Regex;

use super::shell_log::ShellLog;

/// How long the target must stay quiet after answering the last keystrokes before the echoed
/// line is taken as complete.
const ECHO_QUIET: Duration = Duration::from_millis(15);
/// The longest Enter is held waiting for the echo (a target busy printing never goes quiet).
const ECHO_WAIT_MAX: Duration = Duration::from_millis(400);

/// Keys that make a shell run the line: Enter (CR), Ctrl-J (LF), and bash's Ctrl-O
/// (operate-and-get-next).
const SUBMIT_KEYS: &[u8] = b"\r\n\x0f";
/// Sent to the target in place of a blocked line's Enter: end of line, then erase the line.
/// Works in readline/libedit/zle and in the kernel's canonical mode (VKILL).
pub const WIPE_LINE: &[u8] = b"\x05\x15";

const PASTE_START: &[u8] = b"\x1b[200~";
const PASTE_END: &[u8] = b"\x1b[201~";

/// A piece of the user's input, as the pump must handle it.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece<'d> {
    /// Bytes to pass on as they are.
    Keys(&'d [u8]),
    /// A key that submits the line: check before passing it on.
    Submit(&'d [u8]),
}

/// A line a rule stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked {
    /// The command line as the target echoed it.
    pub line: String,
    /// The rule (regex source) that matched.
    pub rule: String,
    /// The line was judged on its keys alone, its echo unreadable: typed ahead while a
    /// command still runs. Such keys may sit in the target's terminal buffer where no wipe
    /// reaches them (they arrived while the shell's line editor had the terminal raw), so the
    /// line is left unsubmitted rather than followed by an Enter.
    pub typed_ahead: bool,
}

/// The command rules of one shell session.
pub struct CommandGuard<'a> {
    rules: &'a [Regex],
    shell: &'a ShellLog<'a>,
    paste: Mutex<PasteScan>,
    on_block: Box<dyn Fn(&Blocked) + Send + Sync + 'a>,
}

impl<'a> CommandGuard<'a> {
    /// A guard for a session with `rules`; `None` when there are none (nothing to hold).
    /// `on_block` records a stopped line (audit event); the guard stores it in the command log.
    pub fn new(
        rules: &'a [Regex],
        reviews: bool,
        shell: Option<&'a ShellLog<'a>>,
        on_block: impl Fn(&Blocked) + Send + Sync + 'a,
    ) -> Option<Self> {
        if rules.is_empty() && !reviews {
            return None;
        }
        Some(CommandGuard {
            rules,
            shell: shell?,
            paste: Mutex::new(PasteScan::default()),
            on_block: Box::new(on_block),
        })
    }

    /// Records a stopped line: command log row (marked blocked) and the caller's audit event.
    pub fn blocked(&self, b: &Blocked) {
        self.shell.log_blocked(&b.line);
        (self.on_block)(b);
    }

    /// Splits the user's bytes at the keys that submit a line (outside bracketed pastes).
    pub fn split<'d>(&self, data: &'d [u8]) -> Vec<Piece<'d>> {
        let mut scan = self.paste.lock().unwrap_or_else(|p| p.into_inner());
        scan.split(data)
    }

    /// Waits for the echo of everything typed so far, bounded by [`ECHO_WAIT_MAX`].
    pub async fn settle(&self) {
        let deadline = Instant::now() + ECHO_WAIT_MAX;
        while !self.shell.echo_settled(ECHO_QUIET.as_millis() as u64) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Checks the line about to be submitted, after its echo has settled: the line as echoed
    /// and, when it was typed as plain characters, the keys themselves. The keys matter when
    /// the echo cannot be read: a line typed ahead while a command still runs has no prompt to
    /// mark where it starts, yet the shell runs it as soon as the prompt comes back.
    pub async fn check(&self) -> Option<Blocked> {
        self.settle().await;
        let echoed = self.shell.pending_line();
        let typed_ahead = echoed.is_none();
        [echoed, self.shell.pending_keys()]
            .into_iter()
            .flatten()
            .find_map(|line| {
                let line = line.trim();
                let rule = self.rules.iter().find(|r| r.is_match(line))?;
                Some(Blocked {
                    line: line.to_string(),
                    rule: rule.as_str().to_string(),
                    typed_ahead,
                })
            })
    }

    /// The line about to be submitted, as echoed (or as typed when the echo is unreadable),
    /// once the echo has settled.
    pub async fn pending_text(&self) -> Option<String> {
        self.settle().await;
        self.shell
            .pending_line()
            .or_else(|| self.shell.pending_keys())
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
    }

    /// The command log of the session (to store a blocked line and feed it the wipe keys).
    pub fn shell(&self) -> &ShellLog<'a> {
        self.shell
    }
}

/// Tracks bracketed pastes across packets: newlines inside a paste do not submit anything.
#[derive(Default)]
struct PasteScan {
    in_paste: bool,
    /// How many bytes of the marker being looked for matched at the end of the last packet.
    partial: usize,
}

impl PasteScan {
    fn split<'d>(&mut self, data: &'d [u8]) -> Vec<Piece<'d>> {
        let mut pieces = Vec::new();
        let mut start = 0;
        for (i, &b) in data.iter().enumerate() {
            let marker = if self.in_paste {
                PASTE_END
            } else {
                PASTE_START
            };
            if b == marker[self.partial] {
                self.partial += 1;
                if self.partial == marker.len() {
                    self.in_paste = !self.in_paste;
                    self.partial = 0;
                }
                continue;
            }
            self.partial = usize::from(b == marker[0]);
            if !self.in_paste && SUBMIT_KEYS.contains(&b) {
                if start < i {
                    pieces.push(Piece::Keys(&data[start..i]));
                }
                pieces.push(Piece::Submit(&data[i..i + 1]));
                start = i + 1;
            }
        }
        if start < data.len() {
            pieces.push(Piece::Keys(&data[start..]));
        }
        pieces
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_all(packets: &[&[u8]]) -> Vec<String> {
        let mut scan = PasteScan::default();
        let mut out = Vec::new();
        for p in packets {
            for piece in scan.split(p) {
                out.push(match piece {
                    Piece::Keys(k) => format!("K:{}", String::from_utf8_lossy(k)),
                    Piece::Submit(k) => format!("S:{:?}", k[0] as char),
                });
            }
        }
        out
    }

    #[test]
    fn enter_keys_split_the_input() {
        assert_eq!(split_all(&[b"ls\r"]), ["K:ls", "S:'\\r'"]);
        assert_eq!(
            split_all(&[b"a\rb\nc"]),
            ["K:a", "S:'\\r'", "K:b", "S:'\\n'", "K:c"]
        );
        assert_eq!(split_all(&[b"\x0f"]), ["S:'\\u{f}'"]);
        assert_eq!(split_all(&[b"abc"]), ["K:abc"]);
    }

    #[test]
    fn newlines_inside_a_bracketed_paste_do_not_submit() {
        let got = split_all(&[b"\x1b[200~rm -rf /\rx\x1b[201~\r"]);
        assert_eq!(got, ["K:\x1b[200~rm -rf /\rx\x1b[201~", "S:'\\r'"]);
        // Markers split across packets are still recognised.
        let got = split_all(&[b"\x1b[2", b"00~a\r", b"b\x1b[20", b"1~\r"]);
        assert_eq!(
            got,
            ["K:\x1b[2", "K:00~a\r", "K:b\x1b[20", "K:1~", "S:'\\r'"]
        );
    }
}
