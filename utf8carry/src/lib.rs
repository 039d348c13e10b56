//! A byte stream cut at arbitrary points, read as UTF-8.
//!
//! A terminal's output and a user's keystrokes reach the bastion in reads that the PTY and the
//! SSH packets cut wherever they like, often inside a multi-byte character. Whoever decodes
//! such a stream must hold the first bytes of a split character until the rest arrives;
//! decoded chunk by chunk, `é` cut in two would become two replacement characters, and a
//! terminal parser handed half a character can lose the next one (vte 0.15 does, when an
//! invalid byte follows within three bytes: `advance_partial_utf8` consumes every valid byte
//! it copied, not just the character it printed).
//!
//! One reading of "unfinished" serves every decoder here: the bytes at the end that
//! `str::from_utf8` calls incomplete (an error with no error length), at most three. Invalid
//! bytes are never held: they are the decoder's to replace, now.
//!
//! Written by hand: `encoding_rs`'s streaming decoder does the lossy decoding, but it allocates
//! its own output and has no answer for the other need here, handing a terminal parser raw
//! bytes that end on a character boundary; fifteen lines over `std` do both.

/// How many bytes at the end of `bytes` are the start of a UTF-8 character still missing
/// continuation bytes (0 to 3).
fn unfinished_tail(bytes: &[u8]) -> usize {
    let tail = bytes.len().saturating_sub(3);
    let Some(start) = (tail..bytes.len()).rev().find(|&i| bytes[i] & 0xc0 != 0x80) else {
        return 0; // continuation bytes only: any character they belong to began earlier
    };
    match std::str::from_utf8(&bytes[start..]) {
        Err(e) if e.error_len().is_none() => bytes.len() - start,
        _ => 0,
    }
}

/// Raw bytes handed on in whole characters: an unfinished character at the end of one chunk
/// waits for the next, for a consumer (a terminal parser) that must see bytes, not text.
#[derive(Debug, Default)]
pub struct WholeChars {
    held: Vec<u8>,
}

impl WholeChars {
    /// Calls `consume` with the held bytes and `bytes`, up to the last whole character; holds
    /// an unfinished character at the end for the next call. `consume` is not called when
    /// nothing is whole yet.
    pub fn feed(&mut self, bytes: &[u8], consume: impl FnOnce(&[u8])) {
        let joined;
        let bytes = if self.held.is_empty() {
            bytes
        } else {
            self.held.extend_from_slice(bytes);
            joined = std::mem::take(&mut self.held);
            &joined[..]
        };
        let (now, later) = bytes.split_at(bytes.len() - unfinished_tail(bytes));
        if !now.is_empty() {
            consume(now);
        }
        self.held.extend_from_slice(later);
    }

    /// Forgets a held partial character (the consumer was reset; the rest of it would be
    /// garbage now).
    pub fn clear(&mut self) {
        self.held.clear();
    }

    /// Whether part of a character is waiting for its rest.
    pub fn is_holding(&self) -> bool {
        !self.held.is_empty()
    }
}

/// Text decoded from chunks, lossily: invalid bytes become U+FFFD at once, an unfinished
/// character at the end of a chunk is completed by the next (for a recording or a browser,
/// which must get valid UTF-8 text).
#[derive(Debug, Default)]
pub struct LossyText {
    whole: WholeChars,
}

impl LossyText {
    /// Decodes the held bytes and `bytes`, holding an unfinished character at the end.
    pub fn decode(&mut self, bytes: &[u8]) -> String {
        let mut text = String::new();
        self.whole.feed(bytes, |whole| {
            text = String::from_utf8_lossy(whole).into_owned()
        });
        text
    }

    /// The end of the stream: a held partial character, as replacement text ("" if none).
    pub fn finish(&mut self) -> String {
        String::from_utf8_lossy(&std::mem::take(&mut self.whole.held)).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfinished_tail_counts_only_a_character_still_missing_bytes() {
        assert_eq!(unfinished_tail(b"ab"), 0);
        assert_eq!(unfinished_tail(b"a\xc3"), 1);
        assert_eq!(unfinished_tail(b"a\xc3\xa9"), 0);
        assert_eq!(unfinished_tail(b"\xe2\x82"), 2);
        assert_eq!(unfinished_tail(b"\xe2\x82\xac"), 0);
        assert_eq!(unfinished_tail(b"\xf0\x9f\x98"), 3);
        assert_eq!(unfinished_tail(b"\x80\x80\x80"), 0);
        assert_eq!(unfinished_tail(b"\xff"), 0);
        assert_eq!(unfinished_tail(b"\xe2\xff"), 0);
        assert_eq!(unfinished_tail(b""), 0);
    }

    /// Every way of cutting a text with invalid bytes in two decodes as the whole text does.
    #[test]
    fn every_split_point_decodes_as_the_whole() {
        let input = "a€é\u{1f600}|"
            .as_bytes()
            .iter()
            .chain(b"\xff\xe2\x82x\xc3")
            .copied()
            .collect::<Vec<u8>>();
        let whole = LossyText::default().decode(&input);
        for cut in 0..=input.len() {
            let mut d = LossyText::default();
            let text = d.decode(&input[..cut]) + &d.decode(&input[cut..]);
            // The final lone lead byte stays held in both: nothing followed it yet.
            assert_eq!(text, whole, "cut at {cut}");
            let mut bytes = Vec::new();
            let mut w = WholeChars::default();
            w.feed(&input[..cut], |b| bytes.extend_from_slice(b));
            w.feed(&input[cut..], |b| bytes.extend_from_slice(b));
            assert_eq!(bytes, input[..input.len() - 1], "cut at {cut}");
            assert!(w.is_holding());
        }
    }

    #[test]
    fn an_invalid_byte_before_a_split_character_does_not_break_it() {
        let mut d = LossyText::default();
        assert_eq!(d.decode(b"\xff \xe2\x82"), "\u{fffd} ");
        assert_eq!(d.decode(b"\xac!"), "\u{20ac}!");
        assert_eq!(d.decode(b"end\xf0\x9f"), "end");
        assert_eq!(d.finish(), "\u{fffd}");
        assert_eq!(d.finish(), "");
    }

    #[test]
    fn clear_drops_a_held_character() {
        let mut w = WholeChars::default();
        w.feed(b"x\xe2", |b| assert_eq!(b, b"x"));
        w.clear();
        let mut seen = Vec::new();
        w.feed(b"\x82\xacy", |b| seen.extend_from_slice(b));
        assert_eq!(seen, b"\x82\xacy");
    }
}
