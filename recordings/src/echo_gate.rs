//! Which keystrokes may be recorded: only those the target echoed back.
//!
//! `record_input: true` records what the user typed, but never what was typed while the
//! target's terminal had echo off (passwords at a `sudo`, `ssh` or `read -s` prompt). The
//! bastion cannot see the target's terminal modes, so it goes by the evidence: typed text is
//! held back until the target's output shows it; typed text that was submitted (Enter) without
//! ever being shown is dropped. Keys that type nothing (arrows, Ctrl-C, Enter alone) carry no
//! secret and pass at once when nothing is held.

const ESC: u8 = 0x1b;
/// Held input beyond this is never recorded: nothing that long goes unconfirmed by an echo.
const MAX_HELD: usize = 4096;
/// How much recent output is kept to look for the echo in.
const MAX_SEEN: usize = 16 * 1024;

/// Filters the input stream of a recording. Feed it both directions in order; record what it
/// releases.
#[derive(Debug, Default)]
pub struct EchoGate {
    held: Vec<u8>,
    /// The printable text of `held` (what an echo would show).
    typed: Vec<u8>,
    /// Printable output seen since the first held key.
    seen: Vec<u8>,
    /// A submit key is among the held keys.
    submitted: bool,
    /// Inside an escape sequence of the input (arrow keys and the like type nothing).
    in_escape: EscapeState,
}

#[derive(Debug, Default, Clone, Copy, PartialEq)]
enum EscapeState {
    #[default]
    None,
    Esc,
    Csi,
}

impl EchoGate {
    /// A gate with nothing held.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keys the user sent. Returns the input that may be recorded now.
    pub fn input(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut typed_now = Vec::new();
        let mut submits = false;
        for &b in bytes {
            match self.in_escape {
                EscapeState::Esc => {
                    self.in_escape = if b == b'[' || b == b'O' {
                        EscapeState::Csi
                    } else {
                        EscapeState::None
                    };
                    continue;
                }
                EscapeState::Csi => {
                    if (0x40..=0x7e).contains(&b) {
                        self.in_escape = EscapeState::None;
                    }
                    continue;
                }
                EscapeState::None => {}
            }
            match b {
                ESC => self.in_escape = EscapeState::Esc,
                b'\r' | b'\n' => submits = true,
                b if b >= 0x20 && b != 0x7f => typed_now.push(b),
                _ => {}
            }
        }
        if self.held.is_empty() && typed_now.is_empty() {
            // Nothing to hide: control keys on their own.
            return bytes.to_vec();
        }
        if self.typed.is_empty() {
            self.seen.clear();
        }
        self.held.extend_from_slice(bytes);
        self.typed.extend_from_slice(&typed_now);
        self.submitted |= submits;
        if self.held.len() > MAX_HELD {
            self.drop_held();
        }
        Vec::new()
    }

    /// Output from the target. Returns held input that this output confirmed (to be recorded
    /// before the output itself).
    pub fn output(&mut self, bytes: &[u8]) -> Vec<u8> {
        if self.held.is_empty() {
            return Vec::new();
        }
        self.seen
            .extend(bytes.iter().copied().filter(|&b| b >= 0x20 && b != 0x7f));
        if self.seen.len() > MAX_SEEN {
            let cut = self.seen.len() - MAX_SEEN;
            self.seen.drain(..cut);
        }
        // While the line is being typed, any echo of the keys shows echo is on; line editors
        // redraw wrapped lines with extra characters, so the keys need only appear in order.
        // After Enter the echo must show them verbatim (program output cannot stand in).
        let echoed = if self.submitted {
            contains(&self.seen, &self.typed)
        } else {
            is_subsequence(&self.typed, &self.seen)
        };
        if self.typed.is_empty() || echoed {
            return self.release();
        }
        if self.submitted && bytes.iter().any(|&b| b == b'\n' || b == b'\r') {
            // The line went to the target and its text never appeared: typed blind.
            self.drop_held();
        }
        Vec::new()
    }

    fn release(&mut self) -> Vec<u8> {
        self.typed.clear();
        self.seen.clear();
        self.submitted = false;
        std::mem::take(&mut self.held)
    }

    fn drop_held(&mut self) {
        self.held.clear();
        self.typed.clear();
        self.seen.clear();
        self.submitted = false;
    }
}

fn is_subsequence(needle: &[u8], haystack: &[u8]) -> bool {
    let mut rest = haystack.iter();
    needle.iter().all(|n| rest.any(|h| h == n))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.len() <= haystack.len() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a script of ("i"|"o", bytes) and returns everything released as input.
    fn run(script: &[(&str, &str)]) -> String {
        let mut gate = EchoGate::new();
        let mut recorded = Vec::new();
        for (dir, bytes) in script {
            let released = match *dir {
                "i" => gate.input(bytes.as_bytes()),
                _ => gate.output(bytes.as_bytes()),
            };
            recorded.extend(released);
        }
        String::from_utf8(recorded).unwrap()
    }

    #[test]
    fn echoed_keys_are_recorded() {
        let got = run(&[
            ("i", "l"),
            ("o", "l"),
            ("i", "s"),
            ("o", "s"),
            ("i", "\r"),
            ("o", "\r\nfile\r\n$ "),
        ]);
        assert_eq!(got, "ls\r");
    }

    #[test]
    fn a_password_typed_with_echo_off_is_never_recorded() {
        let got = run(&[
            ("o", "[sudo] password for bob: "),
            ("i", "h"),
            ("i", "u"),
            ("i", "n"),
            ("i", "ter2"),
            ("i", "\r"),
            ("o", "\r\n"),
            ("o", "0\r\n$ "),
            ("i", "x"),
            ("o", "x"),
        ]);
        assert_eq!(got, "x");
    }

    #[test]
    fn a_fast_line_whose_echo_arrives_after_enter_is_recorded() {
        let got = run(&[("i", "echo hi\r"), ("o", "echo hi\r\nhi\r\n$ ")]);
        assert_eq!(got, "echo hi\r");
    }

    #[test]
    fn control_keys_alone_pass_at_once_and_keep_their_order() {
        assert_eq!(run(&[("i", "\x1b[A")]), "\x1b[A");
        assert_eq!(run(&[("i", "\x03")]), "\x03");
        let got = run(&[("i", "a"), ("i", "\x1b[D"), ("o", "a\x08")]);
        assert_eq!(got, "a\x1b[D");
    }

    #[test]
    fn a_wrapped_echo_with_redrawn_characters_releases_while_typing() {
        let got = run(&[("i", "abc"), ("o", "ab\rbc"), ("i", "\r"), ("o", "\r\n")]);
        assert_eq!(got, "abc\r");
    }

    #[test]
    fn output_that_merely_contains_the_letters_scattered_does_not_release() {
        let got = run(&[("i", "abc\r"), ("o", "a-b-c\r\n")]);
        assert_eq!(got, "");
    }

    #[test]
    fn endless_blind_typing_is_bounded_and_dropped() {
        let mut gate = EchoGate::new();
        for _ in 0..10_000 {
            assert!(gate.input(b"secret").is_empty());
        }
        assert!(gate.held.len() <= MAX_HELD);
    }
}
