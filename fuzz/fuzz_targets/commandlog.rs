//! The recordings crate's command-log state machine fed arbitrary input and output streams.
//!
//! The data is a list of chunks: a tag byte, a length byte, then that many payload bytes. The
//! tag's low two bits say what the chunk is (0 keystrokes, 1 target output, 2 a resize to
//! `length` columns with no payload, 3 a look at the pending line and the exit statuses); its
//! upper six bits say where to split the payload for the second run.
//!
//! Invariants: never panics; memory stays bounded; a command needs a submit key and an echo,
//! so there are never more commands than input bytes and none without output; command numbers
//! count up from 0; no command text is longer than the 16 Ki-cell row or holds a control
//! character; and splitting every chunk into two reads changes nothing (the PTY splits reads
//! wherever it likes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use recordings::{CommandExit, CommandLog, LoggedCommand};

/// The command log's longest row, in cells.
const MAX_CELLS: usize = 16 * 1024;

enum Chunk<'a> {
    Input(&'a [u8], usize),
    Output(&'a [u8], usize),
    Resize(u32),
    Peek,
}

fn chunks(mut data: &[u8]) -> Vec<Chunk<'_>> {
    let mut out = Vec::new();
    while let [tag, len, rest @ ..] = data {
        let (tag, len) = (*tag, usize::from(*len));
        let split = usize::from(tag >> 2);
        match tag & 3 {
            2 => {
                out.push(Chunk::Resize(len as u32));
                data = rest;
            }
            3 => {
                out.push(Chunk::Peek);
                data = rest;
            }
            kind => {
                let len = len.min(rest.len());
                let (payload, tail) = rest.split_at(len);
                let at = payload.len() * split / 63;
                out.push(if kind == 0 {
                    Chunk::Input(payload, at)
                } else {
                    Chunk::Output(payload, at)
                });
                data = tail;
            }
        }
    }
    out
}

#[derive(Default, Debug, PartialEq)]
struct Run {
    commands: Vec<(u64, String, u64)>,
    exits: Vec<CommandExit>,
    input_bytes: usize,
    output_bytes: usize,
}

impl Run {
    fn take(&mut self, commands: Vec<LoggedCommand>) {
        for c in commands {
            self.commands.push((c.seq, c.text, c.at.to_bits()));
        }
    }
}

fn run(chunks: &[Chunk<'_>], split: bool) -> Run {
    let mut log = CommandLog::new();
    log.set_width(80);
    let mut r = Run::default();
    for (i, chunk) in chunks.iter().enumerate() {
        let at = i as f64 * 0.25;
        match *chunk {
            Chunk::Input(bytes, cut) => {
                r.input_bytes += bytes.len();
                let parts = if split {
                    bytes.split_at(cut)
                } else {
                    (bytes, &[][..])
                };
                let got = log.input(at, parts.0);
                r.take(got);
                let got = log.input(at, parts.1);
                r.take(got);
            }
            Chunk::Output(bytes, cut) => {
                r.output_bytes += bytes.len();
                let parts = if split {
                    bytes.split_at(cut)
                } else {
                    (bytes, &[][..])
                };
                let got = log.output(at, parts.0);
                r.take(got);
                let got = log.output(at, parts.1);
                r.take(got);
            }
            Chunk::Resize(cols) => log.set_width(cols),
            Chunk::Peek => {
                if let Some(line) = log.pending_line() {
                    assert!(line.chars().count() <= MAX_CELLS);
                }
                r.exits.extend(log.take_exits());
            }
        }
    }
    let got = log.finish();
    r.take(got);
    r.exits.extend(log.take_exits());
    r
}

fuzz_target!(|data: &[u8]| {
    let chunks = chunks(data);
    let whole = run(&chunks, false);
    assert!(whole.commands.len() <= whole.input_bytes);
    if whole.output_bytes == 0 {
        assert!(whole.commands.is_empty());
    }
    for (i, (seq, text, _)) in whole.commands.iter().enumerate() {
        assert_eq!(*seq, i as u64);
        assert!(
            text.chars().count() <= MAX_CELLS,
            "command of {} chars",
            text.len()
        );
        assert!(
            !text.chars().any(|c| c.is_ascii_control()),
            "control character in {text:?}"
        );
    }
    let split = run(&chunks, true);
    assert_eq!(whole, split, "splitting reads changed the command log");
});
