//! Requests: for access to a host (an approved one *is* the grant, until `granted_until`), and
//! for a command line a review rule holds. One table and one id sequence for both, so
//! `bastion approve ID` and the console decide either.
//!
//! Every change of state is one transaction with its audit record (`Store::audited_change`),
//! and only from the states it may leave: a request is decided once (`pending` → `approved`
//! or `denied`), a grant ends once (`approved` → `expired` or `revoked`). Two approvers
//! clicking at the same moment, or an approval racing the expiry sweep, therefore cannot both
//! win: the loser gets [`StoreError::Invalid`] naming the state it found.

use serde::Serialize;

use super::{now_ts, rfc3339, Result, Store, StoreError};
use crate::db::{params, Conn, Row};
use crate::AuditEvent;

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// Access to a host as a login, for a while.
    Access,
    /// One command line, held by a review rule.
    Command,
}

impl RequestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Access => "access",
            RequestKind::Command => "command",
        }
    }
}

/// A request as it is made.
#[derive(Debug, Clone)]
pub struct NewRequest<'a> {
    pub kind: RequestKind,
    pub user: &'a str,
    pub host: &'a str,
    pub login: &'a str,
    /// Access: the reason given. Command: the line.
    pub text: &'a str,
    /// Command: the rule that held it.
    pub rule: Option<&'a str>,
    /// Command: the session.
    pub session: Option<i64>,
    /// Who may approve, as the policy writes them.
    pub approvers: &'a [String],
    /// Access: how long, in seconds.
    pub seconds: Option<i64>,
}

/// A stored request.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RequestRow {
    pub id: i64,
    /// `access` or `command`.
    pub kind: String,
    pub user: String,
    pub host: String,
    pub login: String,
    pub text: String,
    pub rule: Option<String>,
    pub session_id: Option<i64>,
    pub approvers: Vec<String>,
    pub seconds: Option<i64>,
    pub created_at: f64,
    /// `pending`, `approved`, `denied`, `expired` or `revoked`.
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<f64>,
    /// The deny reason, or why it expired.
    pub note: Option<String>,
    /// Access, approved: when the grant ends (Unix seconds).
    pub granted_until: Option<f64>,
}

impl RequestRow {
    /// True for an access grant in force at `now`.
    pub fn grant_active(&self, now: f64) -> bool {
        self.kind == "access" && self.status == "approved" && self.granted_until > Some(now)
    }
}

/// A decision on a pending request.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Approved; for access, the grant runs until this Unix time.
    Approve {
        until: Option<f64>,
    },
    Deny {
        reason: String,
    },
}

const COLUMNS: &str = "id, kind, \"user\", host, login, text, rule, session_id, approvers, seconds,
    created_at, status, decided_by, decided_at, note, granted_until";

fn row(r: &Row) -> Result<RequestRow> {
    let approvers: String = r.get(8)?;
    Ok(RequestRow {
        id: r.get(0)?,
        kind: r.get(1)?,
        user: r.get(2)?,
        host: r.get(3)?,
        login: r.get(4)?,
        text: r.get(5)?,
        rule: r.get(6)?,
        session_id: r.get(7)?,
        approvers: serde_json::from_str(&approvers).unwrap_or_default(),
        seconds: r.get(9)?,
        created_at: r.get(10)?,
        status: r.get(11)?,
        decided_by: r.get(12)?,
        decided_at: r.get(13)?,
        note: r.get(14)?,
        granted_until: r.get(15)?,
    })
}

fn load(conn: &mut Conn, id: i64) -> Result<RequestRow> {
    conn.query_opt(
        &format!("SELECT {COLUMNS} FROM requests WHERE id = ?1"),
        params![id],
    )?
    .as_ref()
    .map(row)
    .transpose()?
    .ok_or_else(|| StoreError::Invalid(format!("no request {id}")))
}

impl Store {
    /// Stores a pending request and audits `request_created`; returns it.
    pub fn create_request(&self, r: &NewRequest<'_>, source: Option<&str>) -> Result<RequestRow> {
        self.audited_change(Some(r.user), source, |tx| {
            let id: i64 = tx.query_one(
                "INSERT INTO requests(kind, \"user\", host, login, text, rule, session_id, approvers,
                    seconds, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id",
                params![
                    r.kind.as_str(),
                    r.user,
                    r.host,
                    r.login,
                    r.text,
                    r.rule,
                    r.session,
                    serde_json::to_string(r.approvers).unwrap_or_else(|_| "[]".into()),
                    r.seconds,
                    now_ts()
                ],
            )?.get(0)?;
            let stored = load(tx, id)?;
            let event = AuditEvent::RequestCreated {
                request: stored.id,
                kind: stored.kind.clone(),
                host: stored.host.clone(),
                login: stored.login.clone(),
                text: stored.text.clone(),
                rule: stored.rule.clone(),
                session: stored.session_id,
                seconds: stored.seconds,
                approvers: stored.approvers.clone(),
            };
            Ok((stored, vec![event]))
        })
    }

    /// One request.
    pub fn request(&self, id: i64) -> Result<Option<RequestRow>> {
        let mut conn = self.conn();
        match load(&mut conn, id) {
            Ok(r) => Ok(Some(r)),
            Err(StoreError::Invalid(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The newest `limit` requests (only pending ones with `pending_only`), newest first.
    pub fn requests(&self, pending_only: bool, limit: usize) -> Result<Vec<RequestRow>> {
        let filter = if pending_only {
            "WHERE status = 'pending'"
        } else {
            ""
        };
        let rows = self.conn().query(
            &format!("SELECT {COLUMNS} FROM requests {filter} ORDER BY id DESC LIMIT ?1"),
            params![i64::try_from(limit).unwrap_or(i64::MAX)],
        )?;
        rows.iter().map(row).collect()
    }

    /// How many requests wait for a decision.
    pub fn pending_request_count(&self) -> Result<u64> {
        let n: i64 = self
            .conn()
            .query_one(
                "SELECT count(*) FROM requests WHERE status = 'pending'",
                &[],
            )?
            .get(0)?;
        Ok(n.max(0) as u64)
    }

    /// Decides a pending request (audited `request_approved` or `request_denied`, with `by`).
    /// Refused when it is not pending any more.
    pub fn decide_request(&self, id: i64, by: &str, verdict: &Verdict) -> Result<RequestRow> {
        let user = self.request(id)?.map(|r| r.user);
        self.audited_change(user.as_deref(), None, |tx| {
            let before = load(tx, id)?;
            if before.status != "pending" {
                return Err(StoreError::Invalid(format!(
                    "request {id} is {}, not pending",
                    before.status
                )));
            }
            let (status, note, until) = match verdict {
                Verdict::Approve { until } => ("approved", None, *until),
                Verdict::Deny { reason } => ("denied", Some(reason.as_str()), None),
            };
            tx.execute(
                "UPDATE requests SET status = ?2, decided_by = ?3, decided_at = ?4, note = ?5,
                    granted_until = ?6 WHERE id = ?1 AND status = 'pending'",
                params![id, status, by, now_ts(), note, until],
            )?;
            let after = load(tx, id)?;
            let event = match verdict {
                Verdict::Approve { until } => AuditEvent::RequestApproved {
                    request: id,
                    kind: after.kind.clone(),
                    by: by.to_string(),
                    until: until.map(rfc3339),
                    session: after.session_id,
                },
                Verdict::Deny { reason } => AuditEvent::RequestDenied {
                    request: id,
                    kind: after.kind.clone(),
                    by: by.to_string(),
                    reason: reason.clone(),
                    session: after.session_id,
                },
            };
            Ok((after, vec![event]))
        })
    }

    /// Ends an approved grant early (audited `request_revoked`). Refused unless it is in force.
    pub fn revoke_request(&self, id: i64, by: &str) -> Result<RequestRow> {
        let user = self.request(id)?.map(|r| r.user);
        self.audited_change(user.as_deref(), None, |tx| {
            let before = load(tx, id)?;
            if !before.grant_active(now_ts()) {
                return Err(StoreError::Invalid(format!(
                    "request {id} is not a grant in force (it is {})",
                    before.status
                )));
            }
            tx.execute(
                "UPDATE requests SET status = 'revoked', note = ?2 WHERE id = ?1",
                params![id, format!("revoked by {by}")],
            )?;
            let event = AuditEvent::RequestRevoked {
                request: id,
                by: by.to_string(),
            };
            Ok((load(tx, id)?, vec![event]))
        })
    }

    /// Closes a request that ran out: an approved grant past its end, a held command nobody
    /// decided in time, a pending request its user left (audited `request_expired` with
    /// `reason`). `Ok(None)` when it was already closed (someone else won the race).
    pub fn expire_request(&self, id: i64, reason: &str) -> Result<Option<RequestRow>> {
        let user = self.request(id)?.map(|r| r.user);
        self.audited_change(user.as_deref(), None, |tx| {
            let before = load(tx, id)?;
            if !matches!(before.status.as_str(), "pending" | "approved") {
                return Ok((None, Vec::new()));
            }
            tx.execute(
                "UPDATE requests SET status = 'expired', note = ?2 WHERE id = ?1",
                params![id, reason],
            )?;
            let event = AuditEvent::RequestExpired {
                request: id,
                kind: before.kind.clone(),
                reason: reason.to_string(),
                session: before.session_id,
            };
            Ok((Some(load(tx, id)?), vec![event]))
        })
    }

    /// Grants whose end has passed at `now` and are not yet marked expired.
    pub fn grants_ended(&self, now: f64) -> Result<Vec<RequestRow>> {
        let rows = self.conn().query(
            &format!(
                "SELECT {COLUMNS} FROM requests WHERE status = 'approved' AND kind = 'access'
                 AND granted_until <= ?1"
            ),
            params![now],
        )?;
        rows.iter().map(row).collect()
    }

    /// The access grants `user` holds at `now`.
    pub fn held_grants(&self, user: &str, now: f64) -> Result<Vec<RequestRow>> {
        let rows = self.conn().query(
            &format!(
                "SELECT {COLUMNS} FROM requests WHERE status = 'approved' AND \"user\" = ?1
                 AND kind = 'access' AND granted_until > ?2"
            ),
            params![user, now],
        )?;
        rows.iter().map(row).collect()
    }
}

/// `2h`, `90m`, `45s`: a duration in seconds as people write it.
pub fn seconds_text(s: i64) -> String {
    match s {
        s if s > 0 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s > 0 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{both_backends, store_on, Backend};

    fn access<'a>(approvers: &'a [String]) -> NewRequest<'a> {
        NewRequest {
            kind: RequestKind::Access,
            user: "alice",
            host: "db1",
            login: "postgres",
            text: "INC-4521",
            rule: None,
            session: None,
            approvers,
            seconds: Some(7200),
        }
    }

    fn a_request_is_decided_once_and_every_step_is_audited(b: Backend) {
        let (_dir, s, _) = store_on(b);
        let approvers = vec!["bob".to_string()];
        let r = s
            .create_request(&access(&approvers), Some("127.0.0.1"))
            .unwrap();
        assert_eq!(r.status, "pending");
        assert_eq!(s.requests(true, 10).unwrap(), vec![r.clone()]);
        let until = now_ts() + 3600.0;
        let ok = s
            .decide_request(r.id, "bob", &Verdict::Approve { until: Some(until) })
            .unwrap();
        assert_eq!(ok.status, "approved");
        assert!(ok.grant_active(now_ts()));
        let again = s.decide_request(
            r.id,
            "carol",
            &Verdict::Deny {
                reason: "no".into(),
            },
        );
        assert!(again
            .unwrap_err()
            .to_string()
            .contains("approved, not pending"));
        assert_eq!(s.held_grants("alice", now_ts()).unwrap().len(), 1);
        assert!(s.held_grants("alice", until + 1.0).unwrap().is_empty());
        assert_eq!(s.grants_ended(until + 1.0).unwrap().len(), 1);
        let revoked = s.revoke_request(r.id, "root").unwrap();
        assert_eq!(revoked.status, "revoked");
        assert!(s.revoke_request(r.id, "root").is_err());
        assert!(s.expire_request(r.id, "late").unwrap().is_none());
        let events: Vec<String> = s
            .audit_records(None)
            .unwrap()
            .iter()
            .map(|a| a.event.clone())
            .collect();
        assert_eq!(
            events,
            ["request_created", "request_approved", "request_revoked"]
        );
    }

    fn an_unanswered_request_expires_with_its_reason(b: Backend) {
        let (_dir, s, _) = store_on(b);
        let approvers = vec!["bob".to_string()];
        let mut new = access(&approvers);
        new.kind = RequestKind::Command;
        new.text = "DROP TABLE t";
        new.session = Some(4);
        let r = s.create_request(&new, None).unwrap();
        let gone = s
            .expire_request(r.id, "no decision in 5m")
            .unwrap()
            .unwrap();
        assert_eq!(gone.status, "expired");
        assert_eq!(gone.note.as_deref(), Some("no decision in 5m"));
        assert!(s
            .decide_request(r.id, "bob", &Verdict::Approve { until: None })
            .is_err());
    }

    both_backends!(
        a_request_is_decided_once_and_every_step_is_audited,
        an_unanswered_request_expires_with_its_reason,
    );
}
