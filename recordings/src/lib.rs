//! Session recordings in asciicast v2, the format `asciinema play` reads.
//!
//! - [`Recorder`] writes a recording while a session runs, flushing at least once a second so a
//!   crash loses at most the last second.
//! - [`seal_file`] and [`repair_and_seal`] compute the SHA-256 and size that the audit log signs;
//!   repair first cuts a crashed recording back to its last complete event.
//! - [`read_cast`] (from a file) and [`parse_cast`] (from text) parse a recording back, for export, replay and tests.
//! - [`EchoGate`] keeps input typed with echo off (passwords) out of recordings.
//! - [`CommandLog`] reconstructs the commands typed in an interactive shell from the PTY streams.
//!
//! It owns the bytes of a recording and what can be read from them; it must not know sessions,
//! users or policies (the bastion passes a header and a stream), nor the database.

mod cast;
mod commandlog;
mod echo_gate;
mod error;
mod recorder;
mod screen;
mod seal;
mod slice;

pub use cast::{parse_cast, read_cast, Cast, Event, EventKind, Header};
pub use commandlog::{CommandExit, CommandLog, LoggedCommand};
pub use echo_gate::EchoGate;
pub use error::RecordingError;
pub use recorder::Recorder;
pub use screen::{screen_at, screen_size, Screen};
pub use seal::{repair_and_seal, seal_file, Seal};
pub use slice::{parts, write_part, Part, PART_BYTES};
