//! A long recording in parts, so a replay starts at once: a browser player fetches and parses
//! a whole asciicast file before its first frame, which for a 50 MiB recording is seconds.
//! The console serves it in parts of about [`PART_BYTES`] instead, each a valid asciicast v2
//! file of its own: the header, then — for every part but the first — the screen as it stood
//! where the part begins (replayed through the terminal model, [`crate::screen_at`]), then the
//! part's events with their times counted from the part's start.
//!
//! Finding the parts needs no pass over the file: seek to each multiple of the part size and
//! take the next line start as the boundary, reading only that line's time.

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};

use crate::{screen_at, Event, EventKind, Header};

/// About how many bytes of events each part holds.
pub const PART_BYTES: u64 = 2 << 20;

/// One part of a recording: bytes `start..end` of the file (whole event lines), the first of
/// which happened `start_time` seconds into the session.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Part {
    pub start: u64,
    pub end: u64,
    pub start_time: f64,
}

/// The parts of the recording in `file` (at least one for a file with a header; none for a
/// file without one).
pub fn parts<F: Read + Seek>(file: &mut F, part_bytes: u64) -> std::io::Result<Vec<Part>> {
    let len = file.seek(SeekFrom::End(0))?;
    file.seek(SeekFrom::Start(0))?;
    let mut reader = BufReader::new(&mut *file);
    let mut header = String::new();
    let header_end = reader.read_line(&mut header)? as u64;
    if header_end == 0 || !header.ends_with('\n') {
        return Ok(Vec::new());
    }
    let mut starts: Vec<(u64, f64)> = vec![(header_end, 0.0)];
    let mut target = header_end + part_bytes;
    while target < len {
        let Some((at, time)) = line_after(file, target)? else {
            break;
        };
        if at >= len {
            break;
        }
        starts.push((at, time));
        target = at + part_bytes;
    }
    Ok(starts
        .iter()
        .enumerate()
        .map(|(i, &(start, start_time))| Part {
            start,
            end: starts.get(i + 1).map_or(len, |n| n.0),
            start_time,
        })
        .collect())
}

/// The start of the first whole line at or after `offset` and its event's time.
fn line_after<F: Read + Seek>(file: &mut F, offset: u64) -> std::io::Result<Option<(u64, f64)>> {
    file.seek(SeekFrom::Start(offset - 1))?;
    let mut reader = BufReader::new(&mut *file);
    let mut skipped = Vec::new();
    // The byte before `offset` is read too: if it ends a line, `offset` starts one.
    let n = reader.read_until(b'\n', &mut skipped)? as u64;
    if n == 0 {
        return Ok(None);
    }
    let start = offset - 1 + n;
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(Some((start, 0.0)));
    }
    let time = Event::parse(line.trim_end()).map(|e| e.time).unwrap_or(0.0);
    Ok(Some((start, time)))
}

/// Writes part `part` of the recording in `file` as an asciicast v2 file to `out`: the header,
/// the screen where the part starts (all but the first part), then its events, times counted
/// from the part's start. A line that does not parse ends the part (a torn last line).
pub fn write_part<F: Read + Seek>(
    file: &mut F,
    part: &Part,
    out: &mut impl Write,
) -> std::io::Result<()> {
    file.seek(SeekFrom::Start(0))?;
    let mut header = String::new();
    BufReader::new(&mut *file).read_line(&mut header)?;
    let parsed = Header::parse(header.trim_end()).map_err(std::io::Error::other)?;
    out.write_all(header.as_bytes())?;
    let shift = part.start_time;
    if part.start > header.len() as u64 {
        file.seek(SeekFrom::Start(0))?;
        let screen = screen_at(&mut *file, part.start);
        // Clear, then draw: the player's terminal starts blank at the header's size.
        let mut draw = b"\x1b[H\x1b[2J".to_vec();
        draw.extend_from_slice(&screen.bytes);
        if (screen.cols, screen.rows) != (parsed.width, parsed.height) {
            let resize = Event {
                time: 0.0,
                kind: EventKind::Resize,
                data: format!("{}x{}", screen.cols, screen.rows),
            };
            writeln!(out, "{}", resize.to_json_line())?;
        }
        let first = Event {
            time: 0.0,
            kind: EventKind::Output,
            data: String::from_utf8_lossy(&draw).into_owned(),
        };
        writeln!(out, "{}", first.to_json_line())?;
    }
    file.seek(SeekFrom::Start(part.start))?;
    let reader = BufReader::new(file.take(part.end - part.start));
    for line in reader.lines() {
        let line = line?;
        let Ok(mut event) = Event::parse(&line) else {
            break;
        };
        event.time = (event.time - shift).max(0.0);
        writeln!(out, "{}", event.to_json_line())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn recording(events: usize) -> Vec<u8> {
        let mut text = String::from("{\"version\": 2, \"width\": 20, \"height\": 4}\n");
        for i in 0..events {
            let e = Event {
                time: i as f64,
                kind: EventKind::Output,
                data: format!("line {i}\r\n"),
            };
            text.push_str(&e.to_json_line());
            text.push('\n');
        }
        text.into_bytes()
    }

    #[test]
    fn parts_cover_the_file_at_line_starts_and_replay_like_the_whole() {
        let bytes = recording(200);
        let mut file = Cursor::new(bytes.clone());
        let parts = parts(&mut file, 700).unwrap();
        assert!(parts.len() > 3, "{parts:?}");
        for w in parts.windows(2) {
            assert_eq!(w[0].end, w[1].start);
            assert_eq!(bytes[w[1].start as usize - 1], b'\n');
        }
        assert_eq!(parts.last().unwrap().end, bytes.len() as u64);
        // Every part is a valid recording: times from zero, the screen drawn first.
        let third = parts[2];
        let mut out = Vec::new();
        write_part(&mut file, &third, &mut out).unwrap();
        let cast = crate::parse_cast(
            std::str::from_utf8(&out).unwrap(),
            std::path::Path::new("part"),
        )
        .unwrap();
        assert_eq!(cast.events[0].time, 0.0);
        let n = third.start_time as usize;
        assert!(cast.events[0].data.contains(&format!("line {}", n - 1)));
        assert_eq!(cast.events[1].data, format!("line {n}\r\n"));
        assert_eq!(cast.events[1].time, 0.0);
        assert_eq!(cast.events[2].time, 1.0);
        // The first part is the start of the file itself.
        let mut first = Vec::new();
        write_part(&mut file, &parts[0], &mut first).unwrap();
        assert_eq!(first, bytes[..parts[0].end as usize]);
    }

    #[test]
    fn a_small_or_headerless_file() {
        let bytes = recording(3);
        assert_eq!(parts(&mut Cursor::new(bytes), PART_BYTES).unwrap().len(), 1);
        assert!(parts(&mut Cursor::new(b"".to_vec()), 10)
            .unwrap()
            .is_empty());
    }
}
