//! Paged, filtered and scoped reading for the web console: sessions, commands and audit
//! records, newest first, with the total for the pager.
//!
//! Scoping is part of the query, not a filter applied afterwards, so a page is always full and
//! the total never counts what the viewer may not see: `hosts: Some(list)` restricts every
//! query to those hosts (an auditor of `web*`), `None` shows all. The caller computes the list
//! from the policy (`access::Access::console_sees`) over [`Store::session_hosts`].

use super::{Result, Store};
use crate::audit::AuditRecord;
use crate::commands::CommandRow;
use crate::db::Param as Value;
use crate::sessions::SessionRow;

/// One page of results and how many there are in all.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    /// `total` stopped counting at [`COUNT_CAP`]: there are more.
    pub capped: bool,
    pub offset: u64,
    pub limit: u64,
}

/// How sessions are ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SessionSort {
    #[default]
    Newest,
    Oldest,
    User,
    Host,
    /// Most bytes moved first.
    Bytes,
}

impl SessionSort {
    pub const ALL: [(&'static str, SessionSort); 5] = [
        ("newest", SessionSort::Newest),
        ("oldest", SessionSort::Oldest),
        ("user", SessionSort::User),
        ("host", SessionSort::Host),
        ("bytes", SessionSort::Bytes),
    ];

    fn order_by(self) -> &'static str {
        match self {
            SessionSort::Newest => "s.started_at DESC, s.id DESC",
            SessionSort::Oldest => "s.started_at, s.id",
            SessionSort::User => "s.user, s.started_at DESC",
            SessionSort::Host => "s.host, s.started_at DESC",
            SessionSort::Bytes => "s.bytes_in + s.bytes_out DESC, s.id DESC",
        }
    }
}

/// Where a page of the newest-first or oldest-first session list starts: right after the
/// session with this start time and id (`backward`: right before it, the previous page).
/// Keyset paging reads one page from the index wherever it is, where `OFFSET` walks past
/// every row before it (a deep page of a scoped auditor's list took 0.7 s over 1M sessions).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SessionCursor {
    pub started_at: f64,
    pub id: i64,
    pub backward: bool,
}

impl SessionCursor {
    /// `STARTED_AT:ID`, as pager links carry it.
    pub fn parse(text: &str, backward: bool) -> Option<SessionCursor> {
        let (t, id) = text.split_once(':')?;
        let started_at: f64 = t.parse().ok().filter(|t: &f64| t.is_finite())?;
        Some(SessionCursor {
            started_at,
            id: id.parse().ok()?,
            backward,
        })
    }

    /// The text of the cursor at `row`.
    pub fn text_of(row: &SessionRow) -> String {
        format!("{}:{}", row.started_at, row.id)
    }
}

/// Filters of the console's session list.
#[derive(Debug, Clone, Default)]
pub struct SessionQuery {
    /// The viewer's scope: `None` sees every host.
    pub hosts: Option<Vec<String>>,
    pub user: Option<String>,
    pub host: Option<String>,
    pub login: Option<String>,
    pub kind: Option<String>,
    /// Started at or after (Unix seconds).
    pub from: Option<f64>,
    /// Started before.
    pub to: Option<f64>,
    pub active_only: bool,
    /// Only sessions with at least one blocked command.
    pub with_blocked: bool,
    pub sort: SessionSort,
    /// Keyset paging (newest and oldest orders only); then `offset` only numbers the rows.
    pub cursor: Option<SessionCursor>,
    pub offset: u64,
    pub limit: u64,
}

/// Filters of the console's command search.
#[derive(Debug, Clone, Default)]
pub struct CommandQuery {
    pub hosts: Option<Vec<String>>,
    /// Case-insensitive substring (trigram index from 3 characters).
    pub text: Option<String>,
    pub user: Option<String>,
    pub host: Option<String>,
    pub session: Option<i64>,
    pub from: Option<f64>,
    pub to: Option<f64>,
    pub blocked_only: bool,
    pub offset: u64,
    pub limit: u64,
}

/// Filters of the console's audit log.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only records about these hosts (`detail.host`); `None` shows every record.
    pub hosts: Option<Vec<String>>,
    pub event: Option<String>,
    pub user: Option<String>,
    /// Only records about this session (`detail.session`).
    pub session: Option<i64>,
    pub from: Option<f64>,
    pub to: Option<f64>,
    pub offset: u64,
    pub limit: u64,
}

/// A WHERE clause under construction, with its arguments in order.
#[derive(Default)]
struct Where {
    sql: String,
    args: Vec<Value>,
}

impl Where {
    fn push(&mut self, clause: &str, args: impl IntoIterator<Item = Value>) {
        self.sql.push_str(" AND ");
        self.sql.push_str(clause);
        self.args.extend(args);
    }

    fn text(&mut self, clause: &str, v: &Option<String>) {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            self.push(clause, [Value::Text(v.to_string())]);
        }
    }

    fn real(&mut self, clause: &str, v: Option<f64>) {
        if let Some(v) = v {
            self.push(clause, [Value::Real(v)]);
        }
    }

    /// `column IN (…)` for a scope; an empty scope matches nothing.
    fn scope(&mut self, column: &str, hosts: &Option<Vec<String>>) {
        let Some(hosts) = hosts else { return };
        if hosts.is_empty() {
            self.push("1=0", []);
            return;
        }
        let marks = vec!["?"; hosts.len()].join(",");
        self.push(
            &format!("{column} IN ({marks})"),
            hosts.iter().map(|h| Value::Text(h.clone())),
        );
    }
}

/// The keyset clause of a cursor query: the WHERE clause and its arguments, the ORDER BY to
/// read in, and whether the rows come back reversed (a previous page is read backwards from
/// the cursor, then turned round). `None` without a cursor, or for a sort it does not serve.
fn keyset(q: &SessionQuery) -> Option<(&'static str, Vec<Value>, &'static str, bool)> {
    let c = q.cursor?;
    let newest = match q.sort {
        SessionSort::Newest => true,
        SessionSort::Oldest => false,
        _ => return None,
    };
    // Reading towards older rows: newest order going forward, or oldest order going back.
    let older = newest != c.backward;
    // The plain range term on `started_at` comes first so the planner starts its walk of the
    // `sessions_started` index at the cursor; with only the OR it walks from the index's end and
    // filters every row before it (half a million rows for the page after the 500,000th).
    let (clause, order) = if older {
        (
            "s.started_at <= ? AND (s.started_at < ? OR s.id < ?)",
            "s.started_at DESC, s.id DESC",
        )
    } else {
        (
            "s.started_at >= ? AND (s.started_at > ? OR s.id > ?)",
            "s.started_at, s.id",
        )
    };
    let args = vec![
        Value::Real(c.started_at),
        Value::Real(c.started_at),
        Value::Int(c.id),
    ];
    Some((clause, args, order, c.backward))
}

/// The largest command-search total counted exactly: 40 pages. Past that the pager says "more
/// than 2,000"; counting every match of a common word (over 100,000 of 1M commands, and the
/// more for a viewer scoped to a few hosts, who skips the others' matches while counting)
/// would cost more than the page itself.
pub const COUNT_CAP: u64 = 2_000;

fn limit(l: u64) -> u64 {
    l.clamp(1, 500)
}

impl Store {
    /// Every host that has a session, for computing a viewer's scope.
    pub fn session_hosts(&self) -> Result<Vec<String>> {
        let rows = self
            .conn()
            .query("SELECT host FROM session_hosts ORDER BY host", &[])?;
        rows.iter().map(|r| r.get(0)).collect()
    }

    /// A page of sessions.
    pub fn browse_sessions(&self, q: &SessionQuery) -> Result<Page<SessionRow>> {
        let mut w = Where::default();
        w.scope("s.host", &q.hosts);
        w.text("s.\"user\" = ?", &q.user);
        w.text("s.host = ?", &q.host);
        w.text("s.login = ?", &q.login);
        w.text("s.kind = ?", &q.kind);
        w.real("s.started_at >= ?", q.from);
        w.real("s.started_at < ?", q.to);
        if q.active_only {
            w.push("s.status = 'active'", []);
        }
        if q.with_blocked {
            // Through the partial index of blocked commands: a few rows, not every session.
            w.push(
                "s.id IN (SELECT session_id FROM commands WHERE blocked = 1)",
                [],
            );
        }
        let total = self.count(
            &format!("SELECT count(*) FROM sessions s WHERE 1=1{}", w.sql),
            &w.args,
        )?;
        let (order, skip, reverse) = match keyset(q) {
            Some((clause, args, order, reverse)) => {
                w.push(clause, args);
                (order, 0, reverse)
            }
            None => (q.sort.order_by(), q.offset, false),
        };
        let sql = format!(
            "SELECT {} FROM sessions s WHERE 1=1{} ORDER BY {order} LIMIT {} OFFSET {skip}",
            crate::sessions::COLUMNS_S,
            w.sql,
            limit(q.limit),
        );
        let rows = self.conn().query(&sql, &w.args)?;
        let mut items = rows
            .iter()
            .map(crate::sessions::row_to_session)
            .collect::<Result<Vec<_>>>()?;
        if reverse {
            items.reverse();
        }
        Ok(Page {
            items,
            total,
            capped: false,
            offset: q.offset,
            limit: limit(q.limit),
        })
    }

    /// A page of commands, newest first.
    pub fn browse_commands(&self, q: &CommandQuery) -> Result<Page<CommandRow>> {
        let mut w = Where::default();
        // With a search text of 3 or more characters the rows come from the trigram index,
        // newest (highest rowid) first, joined to their commands: a page of a common word
        // reads a page of matches, not all of them.
        // (PostgreSQL: the same predicate as `bastion commands --grep`, through the `pg_trgm`
        // index, in the commands' id order; both statements are planned for the text searched.)
        let mut from = "commands c".to_string();
        if let Some(t) = q.text.as_deref().filter(|t| !t.is_empty()) {
            match crate::commands::grep(self.pg, t) {
                crate::commands::Grep::Fts(phrase) => {
                    from = "commands_fts f JOIN commands c ON c.id = f.rowid".into();
                    w.push("commands_fts MATCH ?", [phrase]);
                }
                crate::commands::Grep::Scan(clause, arg) => {
                    w.push(clause.trim_start_matches(" AND "), [arg])
                }
                crate::commands::Grep::Nothing => w.push("1 = 0", []),
            }
        }
        w.scope("c.host", &q.hosts);
        w.text("c.\"user\" = ?", &q.user);
        w.text("c.host = ?", &q.host);
        if let Some(s) = q.session {
            w.push("c.session_id = ?", [Value::Int(s)]);
        }
        w.real("c.ts >= ?", q.from);
        w.real("c.ts < ?", q.to);
        if q.blocked_only {
            w.push("c.blocked = 1", []);
        }
        // Counting every match of a common word costs more than showing a page of them: the
        // total stops at COUNT_CAP (the page says "more than").
        let total = self.count_replanned(
            &format!(
                "SELECT count(*) FROM (SELECT 1 FROM {from} WHERE 1=1{} LIMIT {COUNT_CAP}) AS m",
                w.sql
            ),
            &w.args,
        )?;
        let searching = from.starts_with("commands_fts");
        let order = if q.session.is_some() {
            "c.offset, c.id"
        } else if searching {
            // The index's own rowid order (the command ids): FTS5 streams it backwards.
            "f.rowid DESC"
        } else {
            // Ids grow with time: the newest first, in index order.
            "c.id DESC"
        };
        let sql = format!(
            "SELECT {} FROM {from} WHERE 1=1{} ORDER BY {order} LIMIT {} OFFSET {}",
            crate::commands::COLUMNS_C,
            w.sql,
            limit(q.limit),
            q.offset
        );
        let rows = self.conn().query_replanned(&sql, &w.args)?;
        Ok(Page {
            items: rows
                .iter()
                .map(crate::commands::row_to_command)
                .collect::<Result<_>>()?,
            total,
            capped: total >= COUNT_CAP,
            offset: q.offset,
            limit: limit(q.limit),
        })
    }

    /// A page of audit records, newest first.
    pub fn browse_audit(&self, q: &AuditQuery) -> Result<Page<AuditRecord>> {
        let mut w = Where::default();
        w.scope("json_extract(a.detail, '$.host')", &q.hosts);
        w.text("a.event = ?", &q.event);
        w.text("a.\"user\" = ?", &q.user);
        if let Some(s) = q.session {
            // Through the partial expression index `audit_session` (schema v6).
            w.push(
                "json_extract(a.detail, '$.session') IS NOT NULL AND json_extract(a.detail, '$.session') = ?",
                [Value::Int(s)],
            );
        }
        w.real("a.ts >= ?", q.from);
        w.real("a.ts < ?", q.to);
        let total = self.count(
            &format!("SELECT count(*) FROM audit a WHERE 1=1{}", w.sql),
            &w.args,
        )?;
        let order = if q.session.is_some() {
            "a.id"
        } else {
            "a.id DESC"
        };
        let filter = format!(
            "1=1{} ORDER BY {order} LIMIT {} OFFSET {}",
            w.sql,
            limit(q.limit),
            q.offset
        );
        Ok(Page {
            items: self.select_records_where(&filter, &w.args)?,
            total,
            capped: false,
            offset: q.offset,
            limit: limit(q.limit),
        })
    }

    fn count(&self, sql: &str, args: &[Value]) -> Result<u64> {
        let n: i64 = self.conn().query_one(sql, args)?.get(0)?;
        Ok(n.max(0) as u64)
    }

    /// [`Store::count`] for a search, planned for its text (`Conn::query_replanned`).
    fn count_replanned(&self, sql: &str, args: &[Value]) -> Result<u64> {
        let rows = self.conn().query_replanned(sql, args)?;
        let n = rows.first().map_or(Ok(0), |r| r.get::<i64>(0))?;
        Ok(n.max(0) as u64)
    }
}

#[cfg(test)]
#[path = "browse_tests.rs"]
mod tests;
