//! Session rows: one per proxied channel, from start to end (or `interrupted` after a crash).

use super::{now_ts, Result, Store};
use crate::db::{params, Row};
use crate::events::Seal;

/// What is known when a session starts.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub user: &'a str,
    pub source: &'a str,
    pub host: &'a str,
    pub login: &'a str,
    pub kind: &'a str,
    pub command: Option<&'a str>,
    pub recording: Option<&'a str>,
}

/// What is known when it ends.
#[derive(Debug, Clone, Default)]
pub struct SessionEnd {
    pub exit_status: Option<u32>,
    pub exit_signal: Option<String>,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// The recording and its seal, as the `session_end` event signs them.
    pub seal: Seal,
    pub reason: String,
}

/// A stored session.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SessionRow {
    pub id: i64,
    pub user: String,
    pub source: String,
    pub host: String,
    pub login: String,
    pub kind: String,
    pub command: Option<String>,
    pub started_at: f64,
    pub ended_at: Option<f64>,
    pub status: String,
    pub exit_status: Option<i64>,
    pub exit_signal: Option<String>,
    pub recording: Option<String>,
    pub rec_sha256: Option<String>,
    pub bytes_in: i64,
    pub bytes_out: i64,
    pub end_reason: Option<String>,
    /// The node that served it (`None`: written before nodes were recorded, by the only node).
    pub node: Option<String>,
}

/// Filters for `bastion sessions`.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    pub active_only: bool,
    pub user: Option<String>,
    pub host: Option<String>,
    pub since: Option<f64>,
}

const COLUMNS: &str =
    "id, \"user\", source, host, login, kind, command, started_at, ended_at, status,
    exit_status, exit_signal, recording, rec_sha256, bytes_in, bytes_out, end_reason, node";

/// [`COLUMNS`] of the table aliased `s` (for queries that join or filter on subqueries).
pub(crate) const COLUMNS_S: &str = "s.id, s.\"user\", s.source, s.host, s.login, s.kind, s.command,
    s.started_at, s.ended_at, s.status, s.exit_status, s.exit_signal, s.recording, s.rec_sha256,
    s.bytes_in, s.bytes_out, s.end_reason, s.node";

impl Store {
    /// Inserts an `active` session and returns its id.
    pub fn start_session(&self, s: &NewSession<'_>) -> Result<i64> {
        let row = self.conn().query_one(
            "INSERT INTO sessions(\"user\", source, host, login, kind, command, started_at, recording, node)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
            params![
                s.user,
                s.source,
                s.host,
                s.login,
                s.kind,
                s.command,
                now_ts(),
                s.recording,
                self.node()
            ],
        )?;
        row.get(0)
    }

    /// Sets the recording path once the file exists (its name contains the session id).
    pub fn set_session_recording(&self, id: i64, path: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE sessions SET recording = ?2 WHERE id = ?1",
            params![id, path],
        )?;
        Ok(())
    }

    /// Closes a session.
    /// Seals a session at its normal end, if it is still `active`: a compare-and-set, so a
    /// session that another node already sealed as interrupted (its node was taken for dead,
    /// `Store::interrupt_session`) is never sealed a second time. True when this call sealed
    /// it; false when it was no longer active, and nothing was written (the caller then writes
    /// no `session_end` record and ships no seal: the recording's one seal is the other's).
    pub fn end_session(&self, id: i64, end: &SessionEnd) -> Result<bool> {
        let changed = self.conn().execute(
            "UPDATE sessions SET ended_at = ?2, status = 'closed', exit_status = ?3, exit_signal = ?4,
             bytes_in = ?5, bytes_out = ?6, rec_sha256 = ?7, rec_size = ?8, end_reason = ?9,
             recording = COALESCE(?10, recording)
             WHERE id = ?1 AND status = 'active'",
            params![
                id,
                now_ts(),
                end.exit_status,
                &end.exit_signal,
                end.bytes_in as i64,
                end.bytes_out as i64,
                &end.seal.recording_sha256,
                end.seal.recording_size.map(|v| v as i64),
                &end.reason,
                &end.seal.recording
            ],
        )?;
        Ok(changed == 1)
    }

    /// Sessions still marked active (after a crash: the ones to mark interrupted).
    pub fn active_sessions(&self) -> Result<Vec<SessionRow>> {
        self.sessions(&SessionFilter {
            active_only: true,
            ..Default::default()
        })
    }

    /// Marks a session that ended abnormally (a crash, a failed session task) as interrupted,
    /// with its repaired recording's seal and why.
    pub fn mark_interrupted(&self, id: i64, seal: &Seal, reason: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE sessions SET status = 'interrupted', ended_at = ?2, rec_sha256 = ?3, rec_size = ?4,
             end_reason = ?5 WHERE id = ?1",
            params![
                id,
                now_ts(),
                &seal.recording_sha256,
                seal.recording_size.map(|v| v as i64),
                reason
            ],
        )?;
        Ok(())
    }

    pub fn session(&self, id: i64) -> Result<Option<SessionRow>> {
        self.conn()
            .query_opt(
                &format!("SELECT {COLUMNS} FROM sessions WHERE id = ?1"),
                params![id],
            )?
            .as_ref()
            .map(row_to_session)
            .transpose()
    }

    pub fn sessions(&self, f: &SessionFilter) -> Result<Vec<SessionRow>> {
        let rows = self.conn().query(
            &format!(
                "SELECT {COLUMNS} FROM sessions
                 WHERE (?1 = 0 OR status = 'active') AND (CAST(?2 AS TEXT) IS NULL OR \"user\" = ?2)
                   AND (CAST(?3 AS TEXT) IS NULL OR host = ?3) AND started_at >= ?4
                 ORDER BY id"
            ),
            params![f.active_only, &f.user, &f.host, f.since.unwrap_or(0.0)],
        )?;
        rows.iter().map(row_to_session).collect()
    }
}

pub(crate) fn row_to_session(r: &Row) -> Result<SessionRow> {
    Ok(SessionRow {
        id: r.get(0)?,
        user: r.get(1)?,
        source: r.get(2)?,
        host: r.get(3)?,
        login: r.get(4)?,
        kind: r.get(5)?,
        command: r.get(6)?,
        started_at: r.get(7)?,
        ended_at: r.get(8)?,
        status: r.get(9)?,
        exit_status: r.get(10)?,
        exit_signal: r.get(11)?,
        recording: r.get(12)?,
        rec_sha256: r.get(13)?,
        bytes_in: r.get(14)?,
        bytes_out: r.get(15)?,
        end_reason: r.get(16)?,
        node: r.get(17)?,
    })
}
