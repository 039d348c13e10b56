//! Decoding the user's keystrokes into the few key classes the command log cares about.
//!
//! The exact meaning of editing keys does not matter here: the command text is taken from the
//! target's echo. What matters is when a line is submitted (Enter), cancelled (Ctrl-C), whether
//! it was typed as plain text, and where bracketed pastes begin and end. Sequences and UTF-8
//! characters may be split across calls.

/// A key, as far as the command log distinguishes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Key {
    /// A printable character.
    Char(char),
    /// CR, LF, or CRLF counted once.
    Enter,
    /// Ctrl-C (0x03).
    Interrupt,
    /// `ESC [ 200 ~`: bracketed paste begins.
    PasteStart,
    /// `ESC [ 201 ~`: bracketed paste ends.
    PasteEnd,
    /// Anything else: editing keys, cursor keys, Tab, other control keys, Alt-keys.
    Edit,
}

/// Longest CSI parameter string kept; longer sequences are still consumed, then ignored.
const MAX_CSI: usize = 16;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    #[default]
    Ground,
    Esc,
    Csi,
    Ss3,
}

/// Stateful decoder from input bytes to [`Key`]s.
#[derive(Debug, Default)]
pub(crate) struct KeyDecoder {
    state: State,
    csi: Vec<u8>,
    utf8: Vec<u8>,
    utf8_need: usize,
    /// The character being collected followed an ESC: it was an Alt-key, not text.
    drop_next_char: bool,
    after_cr: bool,
}

impl KeyDecoder {
    /// Decodes `bytes`, continuing whatever the previous call left open.
    pub(crate) fn decode(&mut self, bytes: &[u8], keys: &mut Vec<Key>) {
        for &b in bytes {
            self.byte(b, keys);
        }
    }

    fn byte(&mut self, b: u8, keys: &mut Vec<Key>) {
        match self.state {
            State::Ground => self.ground(b, keys),
            State::Esc => match b {
                b'[' => {
                    self.csi.clear();
                    self.state = State::Csi;
                }
                b'O' => self.state = State::Ss3,
                0x1b => keys.push(Key::Edit),
                _ if b < 0x20 => {
                    self.state = State::Ground;
                    keys.push(Key::Edit);
                    self.ground(b, keys);
                }
                _ => {
                    // Alt-<key>.
                    self.state = State::Ground;
                    keys.push(Key::Edit);
                    if b >= 0x80 {
                        self.drop_next_char = true;
                        self.ground(b, keys);
                    }
                }
            },
            State::Csi => match b {
                0x20..=0x3f => {
                    if self.csi.len() < MAX_CSI {
                        self.csi.push(b);
                    }
                }
                0x40..=0x7e => {
                    self.state = State::Ground;
                    keys.push(match (self.csi.as_slice(), b) {
                        (b"200", b'~') => Key::PasteStart,
                        (b"201", b'~') => Key::PasteEnd,
                        _ => Key::Edit,
                    });
                }
                _ => {
                    // A control or other byte aborts the sequence and counts on its own.
                    self.state = State::Ground;
                    keys.push(Key::Edit);
                    self.ground(b, keys);
                }
            },
            State::Ss3 => {
                self.state = State::Ground;
                if b < 0x20 {
                    keys.push(Key::Edit);
                    self.ground(b, keys);
                } else {
                    keys.push(Key::Edit);
                }
            }
        }
    }

    fn ground(&mut self, b: u8, keys: &mut Vec<Key>) {
        let after_cr = std::mem::take(&mut self.after_cr);
        if b >= 0x80 {
            self.utf8_byte(b, keys);
            return;
        }
        if !self.utf8.is_empty() {
            // An unfinished UTF-8 sequence: drop it.
            self.utf8.clear();
        }
        match b {
            0x1b => self.state = State::Esc,
            b'\r' => {
                self.after_cr = true;
                keys.push(Key::Enter);
            }
            b'\n' if after_cr => {}
            b'\n' => keys.push(Key::Enter),
            0x03 => keys.push(Key::Interrupt),
            0x20..=0x7e => keys.push(Key::Char(char::from(b))),
            _ => keys.push(Key::Edit),
        }
    }

    fn utf8_byte(&mut self, b: u8, keys: &mut Vec<Key>) {
        if b & 0xc0 == 0x80 && !self.utf8.is_empty() {
            self.utf8.push(b);
        } else {
            self.utf8.clear();
            self.utf8_need = match b {
                0xc2..=0xdf => 2,
                0xe0..=0xef => 3,
                0xf0..=0xf4 => 4,
                _ => {
                    self.drop_next_char = false;
                    return;
                }
            };
            self.utf8.push(b);
        }
        if self.utf8.len() < self.utf8_need {
            return;
        }
        let c = std::str::from_utf8(&self.utf8)
            .ok()
            .and_then(|s| s.chars().next());
        self.utf8.clear();
        if std::mem::take(&mut self.drop_next_char) {
            return;
        }
        match c {
            Some(c) if !c.is_control() => keys.push(Key::Char(c)),
            Some(_) => keys.push(Key::Edit),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> Vec<Key> {
        let mut d = KeyDecoder::default();
        let mut whole = Vec::new();
        d.decode(bytes, &mut whole);
        let mut d = KeyDecoder::default();
        let mut split = Vec::new();
        for b in bytes {
            d.decode(std::slice::from_ref(b), &mut split);
        }
        assert_eq!(whole, split, "chunking changed the keys of {bytes:?}");
        whole
    }

    #[test]
    fn printable_enter_and_controls() {
        use Key::*;
        assert_eq!(
            decode(b"ls\r\n\n\x03\x7f\x08\t\x15"),
            [
                Char('l'),
                Char('s'),
                Enter,
                Enter,
                Interrupt,
                Edit,
                Edit,
                Edit,
                Edit
            ]
        );
    }

    #[test]
    fn cursor_keys_and_paste() {
        use Key::*;
        assert_eq!(
            decode(b"\x1b[D\x1bOC\x1b[1;5D\x1b[3~\x1b[200~a\nb\x1b[201~"),
            [
                Edit,
                Edit,
                Edit,
                Edit,
                PasteStart,
                Char('a'),
                Enter,
                Char('b'),
                PasteEnd
            ]
        );
    }

    #[test]
    fn alt_keys_and_aborted_sequences() {
        use Key::*;
        assert_eq!(decode(b"\x1bb"), [Edit]);
        assert_eq!(decode(b"\x1b\r"), [Edit, Enter]);
        assert_eq!(decode(b"\x1b[1\rx"), [Edit, Enter, Char('x')]);
        assert_eq!(decode(b"\x1b\x1b[A"), [Edit, Edit]);
        assert_eq!(decode("\x1bé".as_bytes()), [Edit]);
    }

    #[test]
    fn utf8() {
        use Key::*;
        assert_eq!(
            decode("é€🦀".as_bytes()),
            [Char('é'), Char('€'), Char('🦀')]
        );
        // A broken sequence is dropped, what follows survives.
        assert_eq!(decode(b"\xe2\x82a\xffb"), [Char('a'), Char('b')]);
    }
}
