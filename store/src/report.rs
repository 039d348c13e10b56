//! Totals for `bastion report`: per user and per host since a moment.

use std::collections::BTreeMap;

use super::{now_ts, Result, Store};
use crate::events::EventKind;

/// Totals for one user or one host.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Totals {
    pub sessions: i64,
    /// Seconds in sessions (open ones count up to now).
    pub seconds: f64,
    pub commands: i64,
    pub blocked_commands: i64,
    /// Policy denials.
    pub denials: i64,
    /// Failed logins (key or TOTP); per user only.
    pub failed_logins: i64,
}

/// The whole report.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Report {
    pub users: BTreeMap<String, Totals>,
    pub hosts: BTreeMap<String, Totals>,
}

impl Store {
    /// Aggregates sessions, commands and audit events since `since` (Unix seconds).
    pub fn report(&self, since: f64) -> Result<Report> {
        let conn = self.conn();
        let mut r = Report::default();
        let now = now_ts();
        let mut q = conn.prepare(
            "SELECT user, host, COUNT(*), SUM(COALESCE(ended_at, ?2) - started_at) FROM sessions
             WHERE started_at >= ?1 GROUP BY user, host",
        )?;
        let rows = q.query_map(rusqlite::params![since, now], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, f64>(3)?,
            ))
        })?;
        for row in rows {
            let (user, host, n, secs) = row?;
            for t in [
                r.users.entry(user).or_default(),
                r.hosts.entry(host).or_default(),
            ] {
                t.sessions += n;
                t.seconds += secs;
            }
        }
        let mut q = conn.prepare(
            "SELECT user, host, COUNT(*), SUM(blocked) FROM commands WHERE ts >= ?1 GROUP BY user, host",
        )?;
        let rows = q.query_map([since], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, i64>(3)?,
            ))
        })?;
        for row in rows {
            let (user, host, n, blocked) = row?;
            for t in [
                r.users.entry(user).or_default(),
                r.hosts.entry(host).or_default(),
            ] {
                t.commands += n;
                t.blocked_commands += blocked;
            }
        }
        let mut q = conn.prepare(
            "SELECT event, COALESCE(user, ''), COALESCE(json_extract(detail, '$.host'), ''), COUNT(*) FROM audit
             WHERE ts >= ?1 AND event IN (?2, ?3, ?4)
             GROUP BY event, user, json_extract(detail, '$.host')",
        )?;
        let counted = rusqlite::params![
            since,
            EventKind::LoginFailed.as_str(),
            EventKind::TotpFailed.as_str(),
            EventKind::PolicyDeny.as_str()
        ];
        let rows = q.query_map(counted, |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, i64>(3)?,
            ))
        })?;
        for row in rows {
            let (event, user, host, n) = row?;
            if event == EventKind::PolicyDeny.as_str() {
                r.users.entry(user).or_default().denials += n;
                if !host.is_empty() {
                    r.hosts.entry(host).or_default().denials += n;
                }
            } else if !user.is_empty() {
                r.users.entry(user).or_default().failed_logins += n;
            }
        }
        Ok(r)
    }
}
