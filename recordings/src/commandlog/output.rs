//! Applying the target's output to the echo row, through `vte`.

use utf8carry::WholeChars;
use vte::{Params, Parser, Perform};

use super::state::Core;

/// Longest OSC string passed to `vte`; `vte` buffers OSC strings without limit, so longer ones
/// are cut off here and skipped up to their terminator.
const MAX_OSC: usize = 4096;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Guard {
    #[default]
    Ground,
    Esc,
    Osc,
    /// Inside an over-long OSC string, skipping to its end.
    Skip,
}

/// `vte`'s parser plus a watch on OSC string lengths, to keep memory bounded, and the bytes
/// of a UTF-8 character a read ended inside.
///
/// Why the held bytes: `vte` 0.15 keeps such a character itself until the next call, but when
/// that call's bytes complete it and an invalid byte follows within three bytes, it consumes
/// the character after it too (`advance_partial_utf8` returns the length of everything valid,
/// not of the one character it printed). The PTY splits reads anywhere, so the echo row, and
/// the logged command with it, would depend on where a read ended (the `commandlog` fuzz
/// target found it). Handed whole characters only, `vte` never takes that path.
#[derive(Default)]
pub(super) struct OutputParser {
    parser: Parser,
    guard: Guard,
    osc_len: usize,
    held: WholeChars,
}

impl OutputParser {
    /// Feeds `bytes` to `core`, continuing whatever the previous call left open.
    pub(super) fn advance(&mut self, core: &mut Core, bytes: &[u8]) {
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            self.guard = match (self.guard, b) {
                (Guard::Skip, 0x07 | 0x18 | 0x1a) => {
                    start = i + 1;
                    Guard::Ground
                }
                (Guard::Skip, 0x1b) => {
                    start = i;
                    Guard::Esc
                }
                (Guard::Skip, _) => {
                    start = i + 1;
                    Guard::Skip
                }
                (_, 0x1b) => Guard::Esc,
                (Guard::Esc, b']') => {
                    self.osc_len = 0;
                    Guard::Osc
                }
                (Guard::Osc, 0x07 | 0x18 | 0x1a) => Guard::Ground,
                (Guard::Osc, _) => {
                    self.osc_len += 1;
                    if self.osc_len > MAX_OSC {
                        self.feed(core, &bytes[start..i]);
                        self.parser = Parser::new();
                        self.held.clear();
                        start = i + 1;
                        Guard::Skip
                    } else {
                        Guard::Osc
                    }
                }
                _ => Guard::Ground,
            };
        }
        if start < bytes.len() {
            self.feed(core, &bytes[start..]);
        }
    }

    /// Hands `vte` the held bytes and `bytes`, except an unfinished UTF-8 character at the end,
    /// which is held for the next call.
    fn feed(&mut self, core: &mut Core, bytes: &[u8]) {
        self.held
            .feed(bytes, |whole| self.parser.advance(core, whole));
    }
}

/// Screen modes that switch to the alternate screen (full-screen programs).
fn is_alternate_screen(mode: u16) -> bool {
    matches!(mode, 47 | 1047 | 1049)
}

impl Perform for Core {
    fn print(&mut self, c: char) {
        // vte hands DEL (and UTF-8-encoded C1 controls) to `print`; a terminal draws nothing for
        // them, so neither may the row (they would end up in the command log's text).
        if !self.fullscreen && !c.is_control() {
            self.line.print(c);
            self.drew();
        }
    }

    fn execute(&mut self, byte: u8) {
        if self.fullscreen {
            return;
        }
        match byte {
            b'\r' => self.line.carriage_return(),
            // Within a wrapped command line a line feed moves to its next row.
            b'\n' | 0x0b | 0x0c if self.line.down(1) => {}
            b'\n' | 0x0b | 0x0c => {
                self.line_feed();
                self.new_row();
            }
            0x08 => self.line.left(1),
            b'\t' => self.line.tab(),
            _ => {}
        }
    }

    fn csi_dispatch(&mut self, params: &Params, intermediates: &[u8], ignore: bool, action: char) {
        if ignore {
            return;
        }
        if intermediates == b"?" && matches!(action, 'h' | 'l') {
            if params.iter().any(|p| is_alternate_screen(p[0])) {
                self.alternate_screen(action == 'h');
            }
            return;
        }
        if self.fullscreen || !intermediates.is_empty() {
            return;
        }
        let mut it = params.iter().map(|p| p[0]);
        let first = it.next().unwrap_or(0);
        let n = usize::from(first.max(1));
        match action {
            'C' | 'a' => self.line.right(n),
            'D' => self.line.left(n),
            'G' | '`' => self.line.set_column(n - 1),
            'H' | 'f' => {
                // Possibly another row, whose content is unknown.
                self.new_row();
                self.line
                    .set_column(usize::from(it.next().unwrap_or(1).max(1)) - 1);
            }
            'A' | 'B' | 'E' | 'F' | 'd' | 'e' => {
                // Moves within a wrapped command line stay on it; others leave it.
                let within = match action {
                    'A' | 'F' => self.line.up(n),
                    'B' | 'E' | 'e' => self.line.down(n),
                    _ => false,
                };
                if !within {
                    self.new_row();
                }
                if matches!(action, 'E' | 'F') {
                    self.line.carriage_return();
                }
            }
            'K' | 'J' => {
                match (action, first) {
                    ('K', 0) => self.line.erase_to_end(),
                    ('J', 0) => self.line.erase_below(),
                    (_, 1) => self.line.erase_to_start(),
                    _ => self.line.erase_all(),
                }
                self.drew();
            }
            'P' => {
                self.line.delete_chars(n);
                self.drew();
            }
            '@' => {
                self.line.insert_blanks(n);
                self.drew();
            }
            'X' => {
                self.line.erase_chars(n);
                self.drew();
            }
            _ => {}
        }
    }

    fn esc_dispatch(&mut self, intermediates: &[u8], _ignore: bool, byte: u8) {
        if self.fullscreen || !intermediates.is_empty() {
            return;
        }
        match byte {
            b'c' => self.line.reset(),
            b'D' | b'E' => {
                self.line_feed();
                self.new_row();
                if byte == b'E' {
                    self.line.carriage_return();
                }
            }
            b'M' => self.line.new_row(),
            _ => {}
        }
    }

    fn osc_dispatch(&mut self, params: &[&[u8]], _bell_terminated: bool) {
        // Shell integration (FinalTerm / OSC 133, VS Code's OSC 633): `A` starts the prompt,
        // `B` ends it, `D;STATUS` reports how the last command ended.
        let integration = matches!(params.first(), Some(&b"133") | Some(&b"633"));
        if self.fullscreen || !integration {
            return;
        }
        match params.get(1).and_then(|p| p.first()) {
            Some(b'B') => self.start_hint = Some(self.line.cursor()),
            Some(b'A') => self.start_hint = None,
            Some(b'D') => {
                let status = params
                    .get(2)
                    .and_then(|p| std::str::from_utf8(p).ok())
                    .and_then(|p| p.trim().parse::<i32>().ok());
                if let Some(status) = status {
                    self.command_finished(status);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(bytes: &[u8]) -> Core {
        let mut core = Core::default();
        OutputParser::default().advance(&mut core, bytes);
        core
    }

    #[test]
    fn readline_redraws() {
        assert_eq!(feed(b"$ lsx\x08\x1b[Kq").line.text(), "$ lsq");
        assert_eq!(feed(b"$ eco x\x08\x08\x08\x1b[1@h").line.text(), "$ echo x");
        assert_eq!(
            feed(b"$ cat lo\x08\x08\x08\x08\x08\x1b[2Pd d").line.text(),
            "$ cd d"
        );
        assert_eq!(feed(b"$ ab\x1b[2D\x1b[3Cc\x1b[1G#").line.text(), "# ab c");
        assert_eq!(feed(b"$ x\r\n").line.text(), "");
    }

    #[test]
    fn alternate_screen_modes() {
        for seq in ["\x1b[?1049h", "\x1b[?47h", "\x1b[?1047h", "\x1b[?25;1049h"] {
            let core = feed(seq.as_bytes());
            assert!(core.fullscreen, "{seq:?}");
        }
        assert!(!feed(b"\x1b[?1049h junk \x1b[?1049l").fullscreen);
        assert!(!feed(b"\x1b[?2004h").fullscreen);
    }

    /// Found by the `commandlog` fuzz target: "é" split between two reads, then an invalid
    /// byte; `vte` alone dropped the "}" between them.
    #[test]
    fn a_character_split_between_reads_before_an_invalid_byte_loses_nothing() {
        let bytes = b"$ \xc3\xa9}\x8dx";
        let whole = feed(bytes).line.text();
        assert!(
            whole.starts_with("$ \u{e9}}") && whole.ends_with('x'),
            "{whole:?}"
        );
        for cut in 0..=bytes.len() {
            let mut core = Core::default();
            let mut p = OutputParser::default();
            p.advance(&mut core, &bytes[..cut]);
            p.advance(&mut core, &bytes[cut..]);
            assert_eq!(core.line.text(), whole, "split at {cut}");
        }
    }

    #[test]
    fn long_osc_is_cut_off() {
        let mut bytes = b"$ \x1b]0;".to_vec();
        bytes.extend(std::iter::repeat_n(b'x', 100_000));
        bytes.extend(b"\x07ls");
        let core = feed(&bytes);
        assert_eq!(core.line.text(), "$ ls");
        let mut core = Core::default();
        let mut p = OutputParser::default();
        for b in &bytes {
            p.advance(&mut core, std::slice::from_ref(b));
        }
        assert_eq!(core.line.text(), "$ ls");
        let mut bytes = b"\x1b]2;".to_vec();
        bytes.extend(std::iter::repeat_n(b'y', 10_000));
        bytes.extend(b"\x1b\\\x1b]133;B\x07$ ");
        assert_eq!(feed(&bytes).line.text(), "$");
    }
}
