//! Totals for `bastion report` and the console's reports: per user, per host and per day,
//! over a time range, optionally scoped to some hosts (an auditor of `web*`). Failed logins
//! name no host, so a scoped report counts none.

use std::collections::BTreeMap;

use super::{now_ts, Result, Store};
use crate::db::Param as Value;
use crate::event_kind::EventKind;

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
    /// Per local calendar day (`YYYY-MM-DD`).
    pub days: BTreeMap<String, Totals>,
}

/// What a report covers.
#[derive(Debug, Clone, Default)]
pub struct ReportQuery {
    /// From (inclusive) and to (exclusive), Unix seconds.
    pub from: f64,
    pub to: f64,
    /// Only these hosts; `None`: all (and failed logins, which name no host).
    pub hosts: Option<Vec<String>>,
}

/// `AND column IN (...)` for a scope, and its arguments.
fn scope(column: &str, hosts: &Option<Vec<String>>) -> (String, Vec<Value>) {
    match hosts {
        None => (String::new(), Vec::new()),
        Some(h) if h.is_empty() => (" AND 1=0".into(), Vec::new()),
        Some(h) => (
            format!(" AND {column} IN ({})", vec!["?"; h.len()].join(",")),
            h.iter().cloned().map(Value::Text).collect(),
        ),
    }
}

/// `(user, host, day)` of a row and its totals, added to each grouping.
fn add(r: &mut Report, (user, host, day): (String, String, String), f: impl Fn(&mut Totals)) {
    f(r.users.entry(user).or_default());
    if !host.is_empty() {
        f(r.hosts.entry(host).or_default());
    }
    f(r.days.entry(day).or_default());
}

/// The local calendar day of a timestamp column, as `YYYY-MM-DD`. PostgreSQL's session time
/// zone is set to this machine's when it connects (`pg.rs`).
fn day(pg: bool, column: &str) -> String {
    if pg {
        format!("to_char(to_timestamp({column}), 'YYYY-MM-DD')")
    } else {
        format!("date({column}, 'unixepoch', 'localtime')")
    }
}

impl Store {
    /// Aggregates sessions, commands and audit events since `since` (Unix seconds).
    pub fn report(&self, since: f64) -> Result<Report> {
        self.report_range(&ReportQuery {
            from: since,
            to: now_ts() + 1.0,
            hosts: None,
        })
    }

    /// Aggregates over `q`'s range and scope.
    pub fn report_range(&self, q: &ReportQuery) -> Result<Report> {
        let mut conn = self.conn();
        let mut r = Report::default();
        let range = |extra: Vec<Value>| {
            let mut a = vec![Value::Real(q.from), Value::Real(q.to)];
            a.extend(extra);
            a
        };
        let (where_host, host_args) = scope("host", &q.hosts);
        let sql = format!(
            "SELECT \"user\", host, {}, COUNT(*), SUM(COALESCE(ended_at, ?3) - started_at) FROM sessions
             WHERE started_at >= ?1 AND started_at < ?2{where_host} GROUP BY 1, 2, 3",
            day(self.pg, "started_at")
        );
        let mut args = range(vec![Value::Real(now_ts())]);
        args.extend(host_args.clone());
        for row in conn.query(&sql, &args)? {
            let (n, secs): (i64, f64) = (row.get(3)?, row.get(4)?);
            add(&mut r, (row.get(0)?, row.get(1)?, row.get(2)?), |t| {
                t.sessions += n;
                t.seconds += secs;
            });
        }
        let sql = format!(
            "SELECT \"user\", host, {}, COUNT(*), SUM(blocked) FROM commands
             WHERE ts >= ?1 AND ts < ?2{where_host} GROUP BY 1, 2, 3",
            day(self.pg, "ts")
        );
        for row in conn.query(&sql, &range(host_args))? {
            let (n, blocked): (i64, i64) = (row.get(3)?, row.get(4)?);
            add(&mut r, (row.get(0)?, row.get(1)?, row.get(2)?), |t| {
                t.commands += n;
                t.blocked_commands += blocked;
            });
        }
        let (where_audit, audit_args) = scope("json_extract(detail, '$.host')", &q.hosts);
        let sql = format!(
            "SELECT event, COALESCE(\"user\", ''), COALESCE(json_extract(detail, '$.host'), ''), {}, COUNT(*)
             FROM audit WHERE ts >= ?1 AND ts < ?2 AND event IN (?3, ?4, ?5){where_audit}
             GROUP BY 1, 2, 3, 4",
            day(self.pg, "ts")
        );
        let events = [
            EventKind::LoginFailed,
            EventKind::TotpFailed,
            EventKind::PolicyDeny,
        ]
        .map(|e| Value::Text(e.as_str().into()));
        let mut extra = events.to_vec();
        extra.extend(audit_args);
        for row in conn.query(&sql, &range(extra))? {
            let event: String = row.get(0)?;
            let key: (String, String, String) = (row.get(1)?, row.get(2)?, row.get(3)?);
            let n: i64 = row.get(4)?;
            if event == EventKind::PolicyDeny.as_str() {
                add(&mut r, key, |t| t.denials += n);
            } else if !key.0.is_empty() {
                add(&mut r, key, |t| t.failed_logins += n);
            }
        }
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{both_backends, Backend};

    fn a_range_report_counts_per_day_and_respects_the_scope(b: Backend) {
        let (_dir, store, _) = crate::testkit::store_on(b);
        let web = crate::testkit::session(&store, None);
        store
            .log_command(&crate::NewCommand {
                session_id: web,
                user: "alice",
                host: "web1",
                login: "root",
                offset: 0.0,
                command: "rm -rf /",
                exit_status: None,
                blocked: true,
                origin: "shell",
            })
            .unwrap();
        let deny = |host: &str| crate::AuditEvent::PolicyDeny {
            host: host.into(),
            login: None,
            channel: "shell".into(),
            reason: "r".into(),
        };
        store.audit(Some("alice"), None, &deny("web1")).unwrap();
        store.audit(Some("alice"), None, &deny("db1")).unwrap();
        let failed = crate::AuditEvent::LoginFailed {
            reason: "bad key".into(),
            key: "k".into(),
            login_name: "mallory".into(),
        };
        store.audit(Some("mallory"), None, &failed).unwrap();
        let all = store
            .report_range(&ReportQuery {
                from: 0.0,
                to: now_ts() + 10.0,
                hosts: None,
            })
            .unwrap();
        let today = chrono::Local::now().format("%Y-%m-%d").to_string();
        let day = &all.days[&today];
        assert_eq!(
            (
                day.sessions,
                day.commands,
                day.blocked_commands,
                day.denials,
                day.failed_logins
            ),
            (1, 1, 1, 2, 1)
        );
        assert_eq!(all.hosts["db1"].denials, 1);
        let web_only = store
            .report_range(&ReportQuery {
                from: 0.0,
                to: now_ts() + 10.0,
                hosts: Some(vec!["web1".into()]),
            })
            .unwrap();
        let day = &web_only.days[&today];
        assert_eq!((day.denials, day.failed_logins), (1, 0));
        assert!(!web_only.hosts.contains_key("db1"));
        assert!(!web_only.users.contains_key("mallory"));
        let past = store
            .report_range(&ReportQuery {
                from: 0.0,
                to: 1.0,
                hosts: None,
            })
            .unwrap();
        assert!(past.days.is_empty());
    }

    both_backends!(a_range_report_counts_per_day_and_respects_the_scope,);
}
