//! The asciicast v2 data model and its reader.
//!
//! A file is one JSON header line followed by one JSON array per event: `[seconds, code, data]`.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::RecordingError;

/// The first line of a recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// Terminal columns at the start.
    pub width: u32,
    /// Terminal rows at the start.
    pub height: u32,
    /// Unix time the session started.
    pub timestamp: i64,
    /// `alice -> root@web1`.
    pub title: String,
    /// The client's `TERM`, kept so players pick matching terminal behaviour.
    pub term: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct HeaderLine {
    version: u32,
    width: u32,
    height: u32,
    #[serde(default)]
    timestamp: Option<i64>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    env: Option<serde_json::Map<String, Value>>,
}

impl Header {
    /// The header as one JSON line, without the newline.
    pub fn to_json_line(&self) -> String {
        let env = self.term.as_ref().map(|t| {
            let mut m = serde_json::Map::new();
            m.insert("TERM".into(), Value::String(t.clone()));
            m.insert("SHELL".into(), Value::String("/bin/sh".into()));
            m
        });
        let line = HeaderLine {
            version: 2,
            width: self.width,
            height: self.height,
            timestamp: Some(self.timestamp),
            title: Some(self.title.clone()),
            env,
        };
        serde_json::to_string(&line).expect("header serializes")
    }

    /// Parses a header line; the error text says what is wrong.
    pub fn parse(line: &str) -> Result<Header, String> {
        let h: HeaderLine = serde_json::from_str(line).map_err(|e| format!("bad header: {e}"))?;
        if h.version != 2 {
            return Err(format!("unsupported asciicast version {}", h.version));
        }
        let term = h
            .env
            .as_ref()
            .and_then(|e| e.get("TERM"))
            .and_then(|v| v.as_str())
            .map(str::to_string);
        Ok(Header {
            width: h.width,
            height: h.height,
            timestamp: h.timestamp.unwrap_or(0),
            title: h.title.unwrap_or_default(),
            term,
        })
    }
}

/// What an event records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// `o`: bytes the target printed.
    Output,
    /// `i`: bytes the user typed (only recorded where policy allows).
    Input,
    /// `r`: a terminal resize, data `COLSxROWS`.
    Resize,
    /// `m`: a marker (e.g. a blocked command), for jumping in players.
    Marker,
    /// Any other code, kept verbatim.
    Other(String),
}

impl EventKind {
    /// The one-letter asciicast code.
    pub fn code(&self) -> &str {
        match self {
            EventKind::Output => "o",
            EventKind::Input => "i",
            EventKind::Resize => "r",
            EventKind::Marker => "m",
            EventKind::Other(c) => c,
        }
    }

    fn from_code(code: &str) -> EventKind {
        match code {
            "o" => EventKind::Output,
            "i" => EventKind::Input,
            "r" => EventKind::Resize,
            "m" => EventKind::Marker,
            other => EventKind::Other(other.to_string()),
        }
    }
}

/// One line after the header.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Seconds since the session started.
    pub time: f64,
    /// Which stream the data belongs to.
    pub kind: EventKind,
    /// The text (UTF-8; undecodable target bytes were replaced with U+FFFD).
    pub data: String,
}

impl Event {
    /// Parses one event line.
    pub fn parse(line: &str) -> Result<Event, String> {
        let (time, code, data): (f64, String, String) =
            serde_json::from_str(line).map_err(|e| format!("bad event: {e}"))?;
        if !time.is_finite() || time < 0.0 {
            return Err(format!("bad event time {time}"));
        }
        Ok(Event {
            time,
            kind: EventKind::from_code(&code),
            data,
        })
    }

    /// The event as one JSON line, without the newline.
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(&(Rounded(self.time), self.kind.code(), &self.data))
            .expect("event serializes")
    }
}

/// Serializes seconds with microsecond precision, so files stay small and diff-able.
struct Rounded(f64);

impl Serialize for Rounded {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64((self.0 * 1e6).round() / 1e6)
    }
}

/// A whole recording in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Cast {
    pub header: Header,
    pub events: Vec<Event>,
}

impl Cast {
    /// Everything the target printed, concatenated; handy for search and tests.
    pub fn output_text(&self) -> String {
        self.events
            .iter()
            .filter(|e| e.kind == EventKind::Output)
            .map(|e| e.data.as_str())
            .collect()
    }
}

/// Reads and validates a whole recording; errors name the file and line.
pub fn read_cast(path: &Path) -> Result<Cast, RecordingError> {
    let text = std::fs::read_to_string(path).map_err(|e| RecordingError::io(path, e))?;
    parse_cast(&text, path)
}

/// Parses and validates a whole recording held in memory (what [`read_cast`] does after
/// reading the file); `path` names it in errors.
pub fn parse_cast(text: &str, path: &Path) -> Result<Cast, RecordingError> {
    let format = |line: usize, message: String| RecordingError::Format {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut lines = text.lines().enumerate();
    let header = match lines.next() {
        Some((_, l)) => Header::parse(l).map_err(|m| format(1, m))?,
        None => return Err(format(1, "empty file".into())),
    };
    let mut events = Vec::new();
    let mut last = 0.0;
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let ev = Event::parse(line).map_err(|m| format(i + 1, m))?;
        if ev.time + 1e-9 < last {
            return Err(format(
                i + 1,
                format!("event time {} goes backwards (previous {last})", ev.time),
            ));
        }
        last = ev.time;
        events.push(ev);
    }
    Ok(Cast { header, events })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips() {
        let h = Header {
            width: 80,
            height: 24,
            timestamp: 1_700_000_000,
            title: "a -> b@c".into(),
            term: Some("xterm".into()),
        };
        assert_eq!(Header::parse(&h.to_json_line()).unwrap(), h);
    }

    #[test]
    fn event_round_trips_with_escapes() {
        let e = Event {
            time: 1.2345678,
            kind: EventKind::Output,
            data: "\u{1b}[1mhi\r\n\"".into(),
        };
        let back = Event::parse(&e.to_json_line()).unwrap();
        assert_eq!(back.data, e.data);
        assert!((back.time - 1.234568).abs() < 1e-9);
    }

    #[test]
    fn parses_text_and_names_the_line_of_an_error() {
        let path = Path::new("x.cast");
        let text = "{\"version\":2,\"width\":80,\"height\":24}\n[0.5,\"o\",\"hi\"]\n";
        assert_eq!(parse_cast(text, path).unwrap().output_text(), "hi");
        let bad = format!("{text}[0.1,\"o\",\"back\"]\n");
        match parse_cast(&bad, path) {
            Err(RecordingError::Format { line, .. }) => assert_eq!(line, 3),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rejects_other_versions() {
        assert!(Header::parse(r#"{"version":1,"width":1,"height":1}"#).is_err());
    }
}
