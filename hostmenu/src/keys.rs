//! Turning the raw byte stream of the SSH channel into key events.
//!
//! CSI sequences, control characters and UTF-8 text are parsed by `vte`. What `vte` cannot
//! know is where a sequence starts over a network: an ESC may arrive alone at the end of a
//! chunk, and only the next chunk (or a timeout) tells whether it was the Esc key. So every
//! ESC is held back here and handed to `vte` only when the byte after it (`[` or `O`) shows
//! a key sequence; anything else makes it the Esc key. This also keeps `vte` out of its
//! string states (OSC, DCS, ...), which would otherwise swallow the user's typing.
//!
//! Text reaches `vte` in whole UTF-8 characters only (`utf8carry::WholeChars`): handed a
//! character split between two SSH packets, vte 0.15 can drop the character after it.

use utf8carry::WholeChars;
use vte::{Params, Parser, Perform};

const ESC: u8 = 0x1b;

/// One key press, as decoded from the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    /// A printable character.
    Char(char),
    /// A control key, by its lowercase letter: `Ctrl('c')` is 0x03.
    Ctrl(char),
    /// CR, LF or CRLF (counted once), or keypad Enter.
    Enter,
    /// DEL (0x7f) or BS (0x08).
    Backspace,
    /// The Escape key: an ESC not followed by a key sequence.
    Esc,
    /// Tab (0x09).
    Tab,
    /// Arrow up.
    Up,
    /// Arrow down.
    Down,
    /// Arrow left.
    Left,
    /// Arrow right.
    Right,
    /// Page up.
    PageUp,
    /// Page down.
    PageDown,
    /// Home.
    Home,
    /// End.
    End,
    /// Forward delete.
    Delete,
}

/// Stateful decoder from input bytes to [`Key`]s; sequences may be split across calls.
pub struct KeyDecoder {
    parser: Parser,
    sink: Sink,
    /// An ESC was the last byte seen and nothing after it yet.
    esc_pending: bool,
    /// The start of a UTF-8 character whose rest is still to come.
    text: WholeChars,
}

/// Receives `vte`'s actions and turns them into keys.
#[derive(Default)]
struct Sink {
    keys: Vec<Key>,
    /// `vte` is inside a sequence we started (ESC `[` or ESC `O`).
    in_seq: bool,
    /// ESC `O` was seen: the next printable is an SS3 key.
    ss3: bool,
    /// The previous byte was CR, so an LF right after it is the same Enter.
    after_cr: bool,
}

impl Default for KeyDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl KeyDecoder {
    /// A decoder with nothing pending.
    pub fn new() -> Self {
        KeyDecoder {
            parser: Parser::new(),
            sink: Sink::default(),
            esc_pending: false,
            text: WholeChars::default(),
        }
    }

    /// Decodes `bytes`, continuing any sequence left open by the previous call.
    pub fn decode(&mut self, bytes: &[u8]) -> Vec<Key> {
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            if self.esc_pending {
                self.esc_pending = false;
                if b == b'[' || b == b'O' {
                    self.parser.advance(&mut self.sink, &[ESC]);
                    self.sink.in_seq = true;
                    start = i;
                    continue;
                }
                self.sink.push(Key::Esc);
                start = i;
            }
            if b == ESC {
                self.advance(&bytes[start..i]);
                start = i + 1;
                self.abandon_sequence();
                self.esc_pending = true;
            }
        }
        if start < bytes.len() {
            self.advance(&bytes[start..]);
        }
        std::mem::take(&mut self.sink.keys)
    }

    /// Hands `bytes` to `vte`, holding an unfinished character at the end for the next call.
    fn advance(&mut self, bytes: &[u8]) {
        let (parser, sink) = (&mut self.parser, &mut self.sink);
        self.text.feed(bytes, |whole| parser.advance(sink, whole));
    }

    /// Whether input is waiting to be completed: a lone ESC or an unfinished sequence.
    /// The caller should call [`KeyDecoder::flush`] if nothing arrives shortly.
    pub fn pending(&self) -> bool {
        self.esc_pending || self.sink.in_seq
    }

    /// Gives up waiting: a lone ESC becomes the Esc key, an unfinished sequence is dropped.
    pub fn flush(&mut self) -> Vec<Key> {
        if self.esc_pending {
            self.esc_pending = false;
            self.sink.push(Key::Esc);
        }
        self.abandon_sequence();
        std::mem::take(&mut self.sink.keys)
    }

    /// Forgets everything pending, as if no input had been seen.
    pub fn reset(&mut self) {
        *self = KeyDecoder::new();
    }

    fn abandon_sequence(&mut self) {
        self.parser = Parser::new();
        self.text.clear();
        self.sink.in_seq = false;
        self.sink.ss3 = false;
    }
}

impl Sink {
    fn push(&mut self, key: Key) {
        self.after_cr = false;
        self.keys.push(key);
    }

    fn end_sequence(&mut self) {
        self.in_seq = false;
        self.ss3 = false;
    }
}

impl Perform for Sink {
    fn print(&mut self, c: char) {
        if self.ss3 {
            self.end_sequence();
            let key = match c {
                'A' => Key::Up,
                'B' => Key::Down,
                'C' => Key::Right,
                'D' => Key::Left,
                'H' => Key::Home,
                'F' => Key::End,
                'M' => Key::Enter,
                _ => {
                    self.after_cr = false;
                    return;
                }
            };
            self.push(key);
            return;
        }
        self.end_sequence();
        self.push(if c == '\x7f' {
            Key::Backspace
        } else {
            Key::Char(c)
        });
    }

    fn execute(&mut self, byte: u8) {
        if matches!(byte, 0x18 | 0x1a) {
            // CAN and SUB cancel any sequence in progress.
            self.end_sequence();
        }
        self.ss3 = false;
        match byte {
            b'\r' => {
                self.push(Key::Enter);
                self.after_cr = true;
            }
            b'\n' if self.after_cr => self.after_cr = false,
            b'\n' => self.push(Key::Enter),
            0x08 => self.push(Key::Backspace),
            b'\t' => self.push(Key::Tab),
            0x01..=0x1a => self.push(Key::Ctrl(char::from(b'a' + byte - 1))),
            _ => self.after_cr = false,
        }
    }

    fn csi_dispatch(&mut self, params: &Params, intermediates: &[u8], ignore: bool, action: char) {
        self.end_sequence();
        self.after_cr = false;
        if ignore || !intermediates.is_empty() {
            return;
        }
        let first = params
            .iter()
            .next()
            .and_then(|p| p.first().copied())
            .unwrap_or(0);
        let key = match (action, first) {
            ('A', _) => Key::Up,
            ('B', _) => Key::Down,
            ('C', _) => Key::Right,
            ('D', _) => Key::Left,
            ('H', _) => Key::Home,
            ('F', _) => Key::End,
            ('~', 1 | 7) => Key::Home,
            ('~', 4 | 8) => Key::End,
            ('~', 5) => Key::PageUp,
            ('~', 6) => Key::PageDown,
            ('~', 3) => Key::Delete,
            _ => return,
        };
        self.push(key);
    }

    fn esc_dispatch(&mut self, intermediates: &[u8], _ignore: bool, byte: u8) {
        self.after_cr = false;
        if byte == b'O' && intermediates.is_empty() && self.in_seq {
            self.ss3 = true;
        } else {
            self.end_sequence();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(chunks: &[&[u8]]) -> Vec<Key> {
        let mut d = KeyDecoder::new();
        chunks.iter().flat_map(|c| d.decode(c)).collect()
    }

    #[test]
    fn printable_and_utf8() {
        assert_eq!(keys(&[b"a\xc3\xa9"]), vec![Key::Char('a'), Key::Char('é')]);
        // A UTF-8 char split across two chunks.
        assert_eq!(keys(&[b"\xe6\x97", b"\xa5"]), vec![Key::Char('日')]);
    }

    /// Wherever a packet boundary falls, the keys are those of the whole input, also when an
    /// invalid byte follows a split character closely (vte 0.15 alone loses a key there).
    #[test]
    fn a_split_character_before_an_invalid_byte_loses_no_key() {
        let input = "x€}é}"
            .as_bytes()
            .iter()
            .chain(b"\x8d")
            .chain("é✓z".as_bytes());
        let input: Vec<u8> = input.copied().collect();
        let whole = keys(&[&input]);
        assert!(whole.contains(&Key::Char('z')), "{whole:?}");
        for cut in 0..=input.len() {
            assert_eq!(keys(&[&input[..cut], &input[cut..]]), whole, "cut at {cut}");
        }
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(keys(&bytes), whole, "one byte at a time");
    }

    #[test]
    fn arrows_in_both_forms_and_split() {
        use Key::*;
        assert_eq!(keys(&[b"\x1b[A\x1bOB"]), vec![Up, Down]);
        assert_eq!(keys(&[b"\x1b", b"[", b"A"]), vec![Up]);
        assert_eq!(keys(&[b"\x1b", b"OA"]), vec![Up]);
        assert_eq!(keys(&[b"\x1bO", b"B"]), vec![Down]);
        assert_eq!(keys(&[b"\x1b[1;5A"]), vec![Up]);
    }

    #[test]
    fn paging_keys() {
        use Key::*;
        assert_eq!(
            keys(&[b"\x1b[5~\x1b[6~\x1b[H\x1b[F\x1b[1~\x1b[4~\x1bOH\x1b[3~"]),
            vec![PageUp, PageDown, Home, End, Home, End, Home, Delete]
        );
    }

    #[test]
    fn controls() {
        use Key::*;
        assert_eq!(
            keys(&[b"\x03\x04\x15\x10\x0e\x7f\x08\t"]),
            vec![
                Ctrl('c'),
                Ctrl('d'),
                Ctrl('u'),
                Ctrl('p'),
                Ctrl('n'),
                Backspace,
                Backspace,
                Tab
            ]
        );
    }

    #[test]
    fn crlf_is_one_enter() {
        use Key::*;
        assert_eq!(keys(&[b"\r\n"]), vec![Enter]);
        assert_eq!(keys(&[b"\r", b"\n"]), vec![Enter]);
        assert_eq!(keys(&[b"\n\n"]), vec![Enter, Enter]);
        assert_eq!(keys(&[b"\r\r\n"]), vec![Enter, Enter]);
        assert_eq!(keys(&[b"\ra\n"]), vec![Enter, Char('a'), Enter]);
    }

    #[test]
    fn lone_esc_waits_for_next_chunk_or_flush() {
        let mut d = KeyDecoder::new();
        assert_eq!(d.decode(b"x\x1b"), vec![Key::Char('x')]);
        assert!(d.pending());
        assert_eq!(d.flush(), vec![Key::Esc]);
        assert!(!d.pending());
        assert_eq!(d.flush(), vec![]);

        assert_eq!(d.decode(b"\x1b"), vec![]);
        assert_eq!(d.decode(b"q"), vec![Key::Esc, Key::Char('q')]);
        assert!(!d.pending());
    }

    #[test]
    fn esc_followed_by_other_bytes_is_the_esc_key() {
        use Key::*;
        assert_eq!(keys(&[b"\x1bw"]), vec![Esc, Char('w')]);
        assert_eq!(keys(&[b"\x1b\x1b[A"]), vec![Esc, Up]);
        // Bytes that would open an OSC/DCS string must not swallow later typing.
        assert_eq!(
            keys(&[b"\x1b]ab\x1bPc"]),
            vec![
                Esc,
                Char(']'),
                Char('a'),
                Char('b'),
                Esc,
                Char('P'),
                Char('c')
            ]
        );
    }

    #[test]
    fn unfinished_sequence_is_dropped_on_flush_or_new_esc() {
        let mut d = KeyDecoder::new();
        assert_eq!(d.decode(b"\x1b[1"), vec![]);
        assert!(d.pending());
        assert_eq!(d.flush(), vec![]);
        assert_eq!(d.decode(b"a"), vec![Key::Char('a')]);
        assert_eq!(d.decode(b"\x1b[5\x1b[B"), vec![Key::Down]);
        assert_eq!(d.decode(b"\x1bOx"), vec![]);
        assert!(!d.pending());
    }

    #[test]
    fn ctrl_c_inside_a_sequence_still_counts() {
        assert_eq!(keys(&[b"\x1b[1\x03"]), vec![Key::Ctrl('c')]);
    }

    #[test]
    fn never_panics_on_any_bytes() {
        let mut d = KeyDecoder::new();
        let mut x: u32 = 12345;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let n = (x % 7) as usize;
            let chunk: Vec<u8> = (0..n).map(|i| (x >> (i * 3)) as u8).collect();
            let _ = d.decode(&chunk);
            if x.is_multiple_of(11) {
                let _ = d.flush();
            }
        }
    }
}
