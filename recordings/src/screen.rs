//! The terminal screen a recording shows at some point: replayed through a terminal model
//! (vt100), so a watcher joining a live session, or a replay starting in the middle of a long
//! recording, first sees what the user's terminal showed then, instead of a blank screen and
//! the tail of some escape sequence.

use std::io::{BufRead, BufReader, Read};

use crate::{Event, EventKind, Header};

/// A screen: bytes that redraw it on a terminal of `cols` x `rows`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Screen {
    pub cols: u32,
    pub rows: u32,
    pub bytes: Vec<u8>,
}

/// The screen at the end of a recording's first `len` bytes. Reads line by line (a long
/// session's recording is never held in memory); stops at the first line it cannot parse,
/// showing what came before.
pub fn screen_at(file: impl Read, len: u64) -> Screen {
    let blank = Screen {
        cols: 80,
        rows: 24,
        bytes: Vec::new(),
    };
    let mut lines = BufReader::new(file.take(len)).lines();
    let Some(Ok(first)) = lines.next() else {
        return blank;
    };
    let Ok(header) = Header::parse(&first) else {
        return blank;
    };
    let (rows, cols) = screen_size(header.width, header.height);
    let mut parser = vt100::Parser::new(rows, cols, 0);
    for line in lines {
        let Ok(event) = line
            .map_err(drop)
            .and_then(|l| Event::parse(&l).map_err(drop))
        else {
            break;
        };
        match event.kind {
            EventKind::Output => parser.process(event.data.as_bytes()),
            EventKind::Resize => {
                if let Some((c, r)) = event.data.split_once('x') {
                    if let (Ok(c), Ok(r)) = (c.parse(), r.parse()) {
                        let (rows, cols) = screen_size(c, r);
                        parser.screen_mut().set_size(rows, cols);
                    }
                }
            }
            _ => {}
        }
    }
    let (rows, cols) = parser.screen().size();
    Screen {
        cols: u32::from(cols),
        rows: u32::from(rows),
        bytes: parser.screen().contents_formatted(),
    }
}

/// (rows, cols) of the screen model for a terminal of `cols` x `rows`. A size of 0 (`ssh -tt`
/// from a pipe asks for a 0x0 PTY) means 80x24; at least 2 rows, because vt100 panics when a
/// line wraps on a one-row screen.
pub fn screen_size(cols: u32, rows: u32) -> (u16, u16) {
    let rows = if rows == 0 { 24 } else { rows.clamp(2, 500) };
    let cols = if cols == 0 { 80 } else { cols.clamp(2, 1000) };
    (rows as u16, cols as u16)
}
