//! Writes one session's recording as it happens.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::cast::{Event, EventKind, Header};
use crate::seal::{seal_file, Seal};
use crate::RecordingError;
use utf8carry::LossyText;

/// How often buffered events must reach the file (PRODUCT.md 1.5: at most one second lost).
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// Buffered bytes that make a write to the file even before the next flush: a busy session
/// (a `cat` of a big file) writes in chunks this big.
const WRITE_AT: usize = 64 * 1024;

/// What the buffer keeps after a flush. An idle session's events are a few dozen bytes a
/// second; a buffer kept at a busy moment's size would stay that big for the whole session (a
/// `BufWriter` of [`WRITE_AT`] bytes was a third of an idle session's memory).
const KEEP_AFTER_FLUSH: usize = 4 * 1024;

/// An open recording. Events are buffered and flushed by [`Recorder::flush_if_due`] (call it at
/// least every second) and by [`Recorder::finish`], which also returns the seal.
///
/// After a failed write (disk full) the recorder writes nothing more, so a torn event is only
/// ever at the end of the file, where [`Recorder::finish`] cuts it off.
pub struct Recorder {
    path: PathBuf,
    out: File,
    /// Events not yet written to `out`; grows with the traffic, shrinks at each flush.
    buf: Vec<u8>,
    started: Instant,
    last_flush: Instant,
    dirty: bool,
    /// A write failed; the file may end in a partial event.
    failed: bool,
    /// Each stream's text, with a UTF-8 character a chunk ended inside kept for the next chunk
    /// (a recording must stay valid JSON text: invalid bytes become U+FFFD).
    output_text: LossyText,
    input_text: LossyText,
}

/// Like a `BufWriter`, a recorder dropped without [`Recorder::finish`] still writes what it
/// buffered (unless a write failed: then nothing more goes to the file).
impl Drop for Recorder {
    fn drop(&mut self) {
        if !self.failed && !self.buf.is_empty() {
            let _ = self.out.write_all(&self.buf);
        }
    }
}

impl Recorder {
    /// Creates the file (never overwriting one) with mode 0600 and writes the header.
    pub fn create(path: &Path, header: &Header) -> Result<Recorder, RecordingError> {
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let file = opts.open(path).map_err(|e| RecordingError::io(path, e))?;
        let mut rec = Recorder {
            path: path.to_path_buf(),
            out: file,
            buf: Vec::new(),
            started: Instant::now(),
            last_flush: Instant::now(),
            dirty: false,
            failed: false,
            output_text: LossyText::default(),
            input_text: LossyText::default(),
        };
        if let Err(e) = rec
            .write_line(&header.to_json_line())
            .and_then(|_| rec.flush())
        {
            // No half-made file left behind (e.g. an empty one on a full disk).
            rec.failed = true;
            drop(rec);
            let _ = std::fs::remove_file(path);
            return Err(e);
        }
        Ok(rec)
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Seconds since the recording started; the time base of every event.
    pub fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Records bytes the target printed.
    pub fn output(&mut self, bytes: &[u8]) -> Result<(), RecordingError> {
        let text = self.output_text.decode(bytes);
        self.event(EventKind::Output, text)
    }

    /// Records bytes the user typed.
    pub fn input(&mut self, bytes: &[u8]) -> Result<(), RecordingError> {
        let text = self.input_text.decode(bytes);
        self.event(EventKind::Input, text)
    }

    /// Records a terminal resize.
    pub fn resize(&mut self, cols: u32, rows: u32) -> Result<(), RecordingError> {
        self.event(EventKind::Resize, format!("{cols}x{rows}"))
    }

    /// Records a marker, e.g. "blocked: rm -rf /", that players can jump to.
    pub fn marker(&mut self, label: &str) -> Result<(), RecordingError> {
        self.event(EventKind::Marker, label.to_string())
    }

    /// Flushes if the last flush is a second old or more.
    pub fn flush_if_due(&mut self) -> Result<(), RecordingError> {
        if self.dirty && self.last_flush.elapsed() >= FLUSH_EVERY {
            self.flush()?;
        }
        Ok(())
    }

    /// Pushes buffered events to the file, and lets the buffer shrink back.
    pub fn flush(&mut self) -> Result<(), RecordingError> {
        self.write_out()?;
        self.buf.shrink_to(KEEP_AFTER_FLUSH);
        self.last_flush = Instant::now();
        self.dirty = false;
        Ok(())
    }

    /// Writes the buffer to the file.
    fn write_out(&mut self) -> Result<(), RecordingError> {
        self.check_usable()?;
        let written = self.out.write_all(&self.buf);
        self.buf.clear();
        self.io_result(written)
    }

    /// Flushes and returns the file's length: everything recorded so far is in the file up to
    /// there, so a reader (a watcher joining mid-session) can replay it while writing goes on.
    pub fn flush_for_reader(&mut self) -> Result<u64, RecordingError> {
        self.flush()?;
        let len = self.out.metadata().map(|m| m.len());
        self.io_result(len)
    }

    /// Writes what is left, syncs the file to disk and returns its seal (SHA-256 and size).
    /// If a write failed (now or earlier), what did not fit is dropped and the file is cut
    /// back to its last complete event, as crash repair does, and that is sealed: the
    /// recording stays playable up to the failure.
    pub fn finish(mut self) -> Result<Seal, RecordingError> {
        match self.write_rest() {
            Ok(seal) => Ok(seal),
            Err(e) => {
                let path = self.path.clone();
                // Close without writing the buffer again: nothing more goes to the file.
                self.failed = true;
                drop(self);
                crate::repair_and_seal(&path)
                    .map(|(seal, _dropped)| seal)
                    .map_err(|_| e)
            }
        }
    }

    fn write_rest(&mut self) -> Result<Seal, RecordingError> {
        for stream in [EventKind::Output, EventKind::Input] {
            let rest = match stream {
                EventKind::Output => self.output_text.finish(),
                _ => self.input_text.finish(),
            };
            if !rest.is_empty() {
                self.event(stream, rest)?;
            }
        }
        self.flush()?;
        let synced = self.out.sync_all();
        self.io_result(synced)?;
        seal_file(&self.path)
    }

    /// Refuses further writes after a failed one.
    fn check_usable(&self) -> Result<(), RecordingError> {
        if self.failed {
            return Err(RecordingError::io(
                &self.path,
                std::io::Error::other("an earlier write failed; recording stopped"),
            ));
        }
        Ok(())
    }

    /// Maps an I/O result, remembering a failure.
    fn io_result<T>(&mut self, r: std::io::Result<T>) -> Result<T, RecordingError> {
        r.map_err(|e| {
            self.failed = true;
            RecordingError::io(&self.path, e)
        })
    }

    fn event(&mut self, kind: EventKind, data: String) -> Result<(), RecordingError> {
        if data.is_empty() {
            return Ok(());
        }
        let line = Event {
            time: self.elapsed(),
            kind,
            data,
        }
        .to_json_line();
        self.write_line(&line)
    }

    fn write_line(&mut self, line: &str) -> Result<(), RecordingError> {
        self.check_usable()?;
        self.buf.extend_from_slice(line.as_bytes());
        self.buf.push(b'\n');
        self.dirty = true;
        if self.buf.len() >= WRITE_AT {
            self.write_out()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read_cast;

    fn header() -> Header {
        Header {
            width: 80,
            height: 24,
            timestamp: 1,
            title: "alice -> root@web1".into(),
            term: Some("xterm-256color".into()),
        }
    }

    #[test]
    fn writes_a_readable_cast() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.cast");
        let mut r = Recorder::create(&path, &header()).unwrap();
        r.output(b"hello \xe2\x82").unwrap();
        r.output(b"\xac\r\n").unwrap();
        r.resize(100, 30).unwrap();
        r.input(b"ls\r").unwrap();
        let seal = r.finish().unwrap();
        let cast = read_cast(&path).unwrap();
        assert_eq!(cast.header, header());
        assert_eq!(cast.output_text(), "hello €\r\n");
        assert_eq!(cast.events[2].kind, EventKind::Resize);
        assert_eq!(cast.events[2].data, "100x30");
        assert_eq!(cast.events[3].kind, EventKind::Input);
        assert_eq!(seal.size, std::fs::metadata(&path).unwrap().len());
    }

    #[test]
    fn never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.cast");
        std::fs::write(&path, "x").unwrap();
        assert!(Recorder::create(&path, &header()).is_err());
    }

    #[test]
    fn a_failed_write_stops_the_recording_and_finish_seals_what_is_complete() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.cast");
        let mut r = Recorder::create(&path, &header()).unwrap();
        r.output(b"kept").unwrap();
        r.flush().unwrap();
        let complete = std::fs::read(&path).unwrap();
        // The disk fills: part of an event reaches the file, the rest fails (/dev/full).
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"[1.5,\"o\",\"torn")
            .unwrap();
        r.out = File::options().write(true).open("/dev/full").unwrap();
        r.output(b"lost").unwrap();
        assert!(r.flush().is_err());
        assert!(
            r.output(b"after").is_err(),
            "nothing is written after a failure"
        );
        let seal = r.finish().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), complete);
        assert_eq!(seal, seal_file(&path).unwrap());
        assert_eq!(read_cast(&path).unwrap().output_text(), "kept");
    }

    #[test]
    fn the_buffer_shrinks_back_after_a_burst_and_nothing_is_lost() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.cast");
        let mut r = Recorder::create(&path, &header()).unwrap();
        let burst = "x".repeat(3 * WRITE_AT);
        r.output(burst.as_bytes()).unwrap();
        r.output(b"tail").unwrap();
        r.flush().unwrap();
        assert!(r.buf.capacity() <= KEEP_AFTER_FLUSH, "{}", r.buf.capacity());
        r.output(b"!").unwrap();
        r.finish().unwrap();
        assert_eq!(
            read_cast(&path).unwrap().output_text(),
            format!("{burst}tail!")
        );
    }

    #[test]
    fn flushed_events_are_on_disk_before_finish() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.cast");
        let mut r = Recorder::create(&path, &header()).unwrap();
        r.output(b"first").unwrap();
        r.flush().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("first"));
        r.output(b"second").unwrap();
        let len = r.flush_for_reader().unwrap();
        assert_eq!(len, std::fs::metadata(&path).unwrap().len());
        assert!(std::fs::read_to_string(&path).unwrap().contains("second"));
        drop(r);
    }
}
