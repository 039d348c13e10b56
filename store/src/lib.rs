//! The bastion's database: users with their keys and TOTP steps, sessions, the command log with
//! its trigram index, the signed and hash-chained audit log, pinned target host keys, and the
//! totals of `bastion report`.
//!
//! This crate owns every SQL statement: the SSH server, the CLI and the web console call its
//! typed API and never see a table. It also owns the one definition of what an audit record
//! says ([`AuditEvent`]). It must not know about SSH, policies or the data directory's layout:
//! callers hand it a database path and a signing key.
//!
//! Two engines, one behaviour (`db.rs` is the seam). The embedded default is SQLite in WAL
//! mode ([`Store::open`] on a file path): nothing to set up. Several bastion nodes share one
//! PostgreSQL database instead ([`Store::connect`] on a `postgres://` URL; `pg.rs`,
//! `schema_pg.rs`). Either way a `Store` is one connection behind a mutex: every statement is
//! short, and the audit chain needs its appends serialised anyway; on PostgreSQL the appends
//! of every node are serialised by a lock on the chain's head row (`audit_head.rs`), so the
//! chain has one global order. The schema is versioned (`schema.rs`): opening a database
//! written by an older bastion migrates it in place.
//!
//! The command log is bound into the audit chain (`command_audit.rs`: each row's content hash is
//! signed in the same transaction), and signed checkpoints (`checkpoint.rs`) state the size of
//! both every `CHECKPOINT_EVERY` records, so `verify` covers what `bastion commands` shows too.

mod audit;
mod audit_head;
mod browse;
mod checkpoint;
mod command_audit;
mod commands;
mod console;
mod copy;
mod db;
mod describe;
mod event_kind;
mod events;
mod hostkeys;
mod nodes;
mod pg;
#[cfg(test)]
mod pg_tests;
mod pg_values;
mod report;
mod requests;
mod schema;
mod schema_pg;
mod seals;
mod sessions;
#[cfg(test)]
mod testkit;
mod throttle;
mod users;
mod verify;
mod watch_relay;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::Connection;

use db::Conn;

pub use audit::{AuditRecord, CHECKPOINT_EVERY};
pub use browse::{
    AuditQuery, CommandQuery, Page, SessionCursor, SessionQuery, SessionSort, COUNT_CAP,
};
pub use checkpoint::CheckpointReport;
pub use command_audit::CommandAudit;
pub use commands::{CommandFilter, CommandRow, NewCommand};
pub use console::{ConsoleSession, LinkRefusal};
pub use copy::CopyReport;
pub use event_kind::EventKind;
pub use events::{AdminChange, AuditEvent, Seal, Transfer};
pub use hostkeys::{endpoint, PinCheck};
pub use nodes::Beat;
pub use report::{Report, ReportQuery, Totals};
pub use requests::{seconds_text, NewRequest, RequestKind, RequestRow, Verdict};
pub use schema::{AppliedMigration, SCHEMA_VERSION};
pub use seals::{Locate, RecordingSeal};
pub use sessions::{NewSession, SessionEnd, SessionFilter, SessionRow};
pub use users::UserKey;
pub use verify::Verification;
pub use watch_relay::{FeedChunks, WatchFeed};

/// Errors from the store; callers at the binary edge add context.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("database: {0}")]
    Pg(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{path}: schema version {found} is newer than this bastion knows ({known}); run the newer bastion, or restore a backup")]
    TooNew {
        path: String,
        found: usize,
        known: usize,
    },
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> StoreError {
        StoreError::Pg(pg_values::describe(&e))
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Handle to the database; cheap to share behind an `Arc`.
pub struct Store {
    conn: Mutex<Conn>,
    signer: Option<ed25519_dalek::SigningKey>,
    /// This node's audit head file: the newest audit record's id and hash it has written or
    /// seen, kept outside the database so deleting the newest rows (which leaves a valid
    /// chain) is still detected. SQLite: always `<db>.audit-head`. PostgreSQL: only when the
    /// caller names one ([`Store::with_audit_head`]); see `audit_head.rs`.
    audit_head: Option<PathBuf>,
    /// Records between two audit checkpoints ([`CHECKPOINT_EVERY`]; smaller in unit tests).
    checkpoint_every: i64,
    pg: bool,
    /// This node's name, written into the sessions it starts ([`Store::set_node`]).
    node: std::sync::OnceLock<String>,
}

impl Store {
    /// Opens (creating if needed) the SQLite database at `path` and applies migrations.
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
            conn: Mutex::new(Conn::Sqlite(conn)),
            signer,
            audit_head: Some(path.with_extension("audit-head")),
            checkpoint_every: CHECKPOINT_EVERY,
            pg: false,
            node: std::sync::OnceLock::new(),
        })
    }

    /// Opens the store `target` names: a `postgres://` (or `postgresql://`) URL connects to
    /// PostgreSQL and migrates its schema; anything else is a SQLite file path ([`Store::open`]).
    pub fn connect(target: &str, signer: Option<ed25519_dalek::SigningKey>) -> Result<Store> {
        if !is_postgres_url(target) {
            return Store::open(Path::new(target), signer);
        }
        let mut conn = Conn::Pg(pg::PgConn::connect(target)?);
        schema_pg::migrate(&mut conn, &redact(target))?;
        Ok(Store {
            conn: Mutex::new(conn),
            signer,
            audit_head: None,
            checkpoint_every: CHECKPOINT_EVERY,
            pg: true,
            node: std::sync::OnceLock::new(),
        })
    }

    /// Keeps this node's audit head in `path` (on PostgreSQL, a file on the node's own disk;
    /// on SQLite it replaces `<db>.audit-head`).
    pub fn with_audit_head(mut self, path: PathBuf) -> Store {
        self.audit_head = Some(path);
        self
    }

    /// True when the store is on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.pg
    }

    fn conn(&self) -> MutexGuard<'_, Conn> {
        // A panic while holding the lock may have left a transaction open: end it, and go on.
        self.conn.lock().unwrap_or_else(|p| {
            let mut c = p.into_inner();
            let _ = c.batch("ROLLBACK");
            self.conn.clear_poison();
            c
        })
    }

    /// Runs `f` in one write transaction: committed when it returns `Ok`, rolled back on error.
    pub(crate) fn tx<T>(&self, f: impl FnOnce(&mut Conn) -> Result<T>) -> Result<T> {
        let mut conn = self.conn();
        in_tx(&mut conn, f)
    }
}

/// [`Store::tx`] on a held connection.
pub(crate) fn in_tx<T>(conn: &mut Conn, f: impl FnOnce(&mut Conn) -> Result<T>) -> Result<T> {
    // SQLite: take the write lock now, not at the first write (no deadlock between readers
    // that both want to write). PostgreSQL: row locks are taken where they are needed.
    conn.batch(if conn.is_pg() {
        "BEGIN"
    } else {
        "BEGIN IMMEDIATE"
    })?;
    let done = f(conn).and_then(|v| conn.batch("COMMIT").map(|_| v));
    if done.is_err() {
        let _ = conn.batch("ROLLBACK");
    }
    done
}

/// True for a `postgres://` or `postgresql://` URL.
pub fn is_postgres_url(target: &str) -> bool {
    target.starts_with("postgres://") || target.starts_with("postgresql://")
}

/// `target` without a password, for messages and logs.
pub fn redact(target: &str) -> String {
    let Some((scheme, rest)) = target.split_once("://") else {
        return target.to_string();
    };
    match rest.split_once('@') {
        Some((cred, host)) => match cred.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => target.to_string(),
        },
        None => target.to_string(),
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
