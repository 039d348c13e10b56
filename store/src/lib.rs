//! The bastion's database: users with their keys and TOTP steps, sessions, the command log with
//! its trigram index, the signed and hash-chained audit log, pinned target host keys, and the
//! totals of `bastion report`.
//!
//! This crate owns every SQL statement: the SSH server, the CLI and the web console call its
//! typed API and never see a table. It also owns the one definition of what an audit record
//! says ([`AuditEvent`]). It must not know about SSH, policies or the data directory's layout:
//! callers hand it a database path and a signing key.
//!
//! Today the engine is SQLite in WAL mode, one connection behind a mutex: every statement is
//! short, and the audit chain needs its appends serialised anyway. The schema is versioned
//! (`schema.rs`): opening a database written by an older bastion migrates it in place.
//!
//! The command log is bound into the audit chain (`command_audit.rs`: each row's content hash is
//! signed in the same transaction), and signed checkpoints (`checkpoint.rs`) state the size of
//! both every `CHECKPOINT_EVERY` records, so `verify` covers what `bastion commands` shows too.

mod audit;
mod browse;
mod checkpoint;
mod command_audit;
mod commands;
mod console;
mod describe;
mod events;
mod hostkeys;
mod report;
mod requests;
mod schema;
mod seals;
mod sessions;
#[cfg(test)]
mod testkit;
mod users;
mod verify;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::Connection;

pub use audit::{AuditRecord, CHECKPOINT_EVERY};
pub use browse::{
    AuditQuery, CommandQuery, Page, SessionCursor, SessionQuery, SessionSort, COUNT_CAP,
};
pub use checkpoint::CheckpointReport;
pub use command_audit::CommandAudit;
pub use commands::{CommandFilter, CommandRow, NewCommand};
pub use console::{ConsoleSession, LinkRefusal};
pub use events::{AdminChange, AuditEvent, EventKind, Seal, Transfer};
pub use hostkeys::{endpoint, PinCheck};
pub use report::{Report, ReportQuery, Totals};
pub use requests::{seconds_text, NewRequest, RequestKind, RequestRow, Verdict};
pub use schema::{AppliedMigration, SCHEMA_VERSION};
pub use seals::{Locate, RecordingSeal};
pub use sessions::{NewSession, SessionEnd, SessionFilter, SessionRow};
pub use users::UserKey;
pub use verify::Verification;

/// Errors from the store; callers at the binary edge add context.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("{0}")]
    Invalid(String),
    #[error("{path}: schema version {found} is newer than this bastion knows ({known}); run the newer bastion, or restore a backup")]
    TooNew {
        path: String,
        found: usize,
        known: usize,
    },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Handle to the database; cheap to share behind an `Arc`.
pub struct Store {
    conn: Mutex<Connection>,
    signer: Option<ed25519_dalek::SigningKey>,
    /// `<db>.audit-head`: the newest audit record's id and hash, kept outside the database so
    /// deleting the newest rows (which leaves a valid chain) is still detected.
    audit_head: std::path::PathBuf,
    /// Records between two audit checkpoints ([`CHECKPOINT_EVERY`]; smaller in unit tests).
    checkpoint_every: i64,
}

impl Store {
    /// Opens (creating if needed) the database and applies migrations.
    /// `signer` signs audit records; read-only admin commands may pass `None`... except they
    /// append `admin` events too, so every caller that writes passes the key.
    pub fn open(path: &Path, signer: Option<ed25519_dalek::SigningKey>) -> Result<Store> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        schema::migrate(&conn, path)?;
        Ok(Store {
            conn: Mutex::new(conn),
            signer,
            audit_head: path.with_extension("audit-head"),
            checkpoint_every: CHECKPOINT_EVERY,
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves the connection usable; recover it.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Seconds since the Unix epoch with sub-second precision, as stored in every table.
pub fn now_ts() -> f64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    d.as_secs_f64()
}

/// Formats a stored timestamp for humans, in local time.
pub fn format_ts(ts: f64) -> String {
    chrono::DateTime::from_timestamp(ts as i64, ((ts.fract()) * 1e9) as u32)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|| ts.to_string())
}

/// Formats a stored timestamp as RFC 3339 for JSON output.
pub fn rfc3339(ts: f64) -> String {
    chrono::DateTime::from_timestamp(ts as i64, ((ts.fract()) * 1e9) as u32)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| ts.to_string())
}
