//! The command log: each command line a user ran, from exec requests and reconstructed from
//! shell sessions, searchable by substring through a trigram index (SQLite: FTS5's trigram
//! tokenizer; PostgreSQL: a `pg_trgm` GIN index on the lower-cased command that serves
//! `LIKE lower('%…%')`, which is `ILIKE`). Each row is written
//! with its `command_logged` audit event (`command_audit.rs`), so an edited row fails `verify`.

use super::{now_ts, Result, Store};
use crate::audit::append_checkpointed;
use crate::command_audit::HashedCommand;
use crate::db::{params, Param as Value, Row};
use crate::events::AuditEvent;

/// A command to log.
#[derive(Debug, Clone)]
pub struct NewCommand<'a> {
    pub session_id: i64,
    pub user: &'a str,
    pub host: &'a str,
    pub login: &'a str,
    /// Seconds into the session (its recording, for shells).
    pub offset: f64,
    pub command: &'a str,
    pub exit_status: Option<i64>,
    /// Refused by a `deny_commands` rule; never reached the target.
    pub blocked: bool,
    /// `exec` or `shell`.
    pub origin: &'a str,
}

/// A logged command.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CommandRow {
    pub id: i64,
    pub session_id: i64,
    pub user: String,
    pub host: String,
    pub login: String,
    pub ts: f64,
    pub offset: f64,
    pub command: String,
    pub exit_status: Option<i64>,
    pub blocked: bool,
    pub origin: String,
}

/// Filters for `bastion commands`.
#[derive(Debug, Clone, Default)]
pub struct CommandFilter {
    pub user: Option<String>,
    pub host: Option<String>,
    pub session: Option<i64>,
    pub since: Option<f64>,
    /// Case-insensitive substring.
    pub grep: Option<String>,
    pub limit: Option<u64>,
}

impl Store {
    /// Appends a command and, in the same transaction, its `command_logged` audit event (the
    /// row's content hash, `command_audit.rs`); returns the row's id. Needs the signing key.
    pub fn log_command(&self, c: &NewCommand) -> Result<i64> {
        let signer = self.signer()?;
        let every = self.checkpoint_every;
        // Inside the chain's lock: command ids then grow in commit order on every node.
        self.chain_tx(|tx| {
            let ts = now_ts();
            let id: i64 = tx
                .query_one(
                    "INSERT INTO commands (session_id, \"user\", host, login, ts, \"offset\", command, exit_status, blocked, origin)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id",
                    params![c.session_id, c.user, c.host, c.login, ts, c.offset, c.command, c.exit_status, c.blocked, c.origin],
                )?
                .get(0)?;
            let sha256 = HashedCommand {
                session_id: c.session_id,
                user: c.user,
                host: c.host,
                login: c.login,
                ts,
                offset: c.offset,
                command: c.command,
                origin: c.origin,
                blocked: c.blocked,
            }
            .sha256();
            let event = AuditEvent::CommandLogged {
                session: c.session_id,
                command_id: id,
                sha256,
            };
            append_checkpointed(tx, signer, every, Some(c.user), None, &event)?;
            Ok(id)
        })
    }

    /// Records the exit status of a logged command once it is known.
    pub fn set_command_exit(&self, id: i64, exit_status: Option<i64>) -> Result<()> {
        self.conn().execute(
            "UPDATE commands SET exit_status = ?2 WHERE id = ?1",
            params![id, exit_status],
        )?;
        Ok(())
    }

    /// Commands matching `f`, oldest first.
    pub fn commands(&self, f: &CommandFilter) -> Result<Vec<CommandRow>> {
        let mut sql = format!("SELECT {COLUMNS_C} FROM commands c WHERE 1=1");
        let mut args: Vec<Value> = Vec::new();
        if let Some(g) = f.grep.as_deref().filter(|g| !g.is_empty()) {
            let (clause, arg) = match grep(self.pg, g) {
                Grep::Fts(phrase) => (
                    " AND c.id IN (SELECT rowid FROM commands_fts WHERE commands_fts MATCH ?)",
                    phrase,
                ),
                Grep::Scan(clause, arg) => (clause, arg),
                Grep::Nothing => return Ok(Vec::new()),
            };
            sql.push_str(clause);
            args.push(arg);
        }
        if let Some(u) = &f.user {
            sql.push_str(" AND c.\"user\" = ?");
            args.push(Value::Text(u.clone()));
        }
        if let Some(h) = &f.host {
            sql.push_str(" AND c.host = ?");
            args.push(Value::Text(h.clone()));
        }
        if let Some(s) = f.session {
            sql.push_str(" AND c.session_id = ?");
            args.push(Value::Int(s));
        }
        if let Some(t) = f.since {
            sql.push_str(" AND c.ts >= ?");
            args.push(Value::Real(t));
        }
        sql.push_str(" ORDER BY c.ts, c.id");
        if let Some(n) = f.limit {
            sql.push_str(&format!(" LIMIT {n}"));
        }
        let rows = self.conn().query_replanned(&sql, &args)?;
        rows.iter().map(row_to_command).collect()
    }
}

/// How a case-insensitive substring search runs on this engine.
pub(crate) enum Grep {
    /// SQLite, 3 characters or more: this quoted FTS5 phrase (the trigram tokenizer makes it
    /// a substring match) against `commands_fts`.
    Fts(Value),
    /// A clause (starting ` AND `) and its argument: on PostgreSQL, `LIKE` on the lower-cased
    /// copy of the command (served by the `pg_trgm` index from 3 characters; `schema_pg.rs`),
    /// or SQLite's scan for shorter text. Run it with `query_replanned`: its best plan
    /// depends on the text searched.
    Scan(&'static str, Value),
    /// No command can match: the text holds a NUL, which no logged command does (the echo
    /// model never prints one, PostgreSQL text cannot hold one) and neither engine takes in a
    /// search (FTS5 calls the phrase unterminated, PostgreSQL refuses the byte).
    Nothing,
}

pub(crate) fn grep(pg: bool, g: &str) -> Grep {
    if g.contains('\0') {
        Grep::Nothing
    } else if pg {
        let escaped = g
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        // `ILIKE` exactly (it lowers both sides, then matches with `LIKE`), the row's side
        // lowered when it was written.
        Grep::Scan(
            " AND c.command_folded LIKE lower(?) ESCAPE '\\'",
            Value::Text(format!("%{escaped}%")),
        )
    } else if g.chars().count() >= 3 {
        Grep::Fts(Value::Text(format!("\"{}\"", g.replace('"', "\"\""))))
    } else {
        // Too short for trigrams: scan (still case-insensitive).
        Grep::Scan(
            " AND instr(lower(c.command), lower(?)) > 0",
            Value::Text(g.to_string()),
        )
    }
}

/// The columns [`row_to_command`] reads, of the table aliased `c`.
pub(crate) const COLUMNS_C: &str =
    "c.id, c.session_id, c.\"user\", c.host, c.login, c.ts, c.\"offset\",
    c.command, c.exit_status, c.blocked, c.origin";

pub(crate) fn row_to_command(r: &Row) -> Result<CommandRow> {
    Ok(CommandRow {
        id: r.get(0)?,
        session_id: r.get(1)?,
        user: r.get(2)?,
        host: r.get(3)?,
        login: r.get(4)?,
        ts: r.get(5)?,
        offset: r.get(6)?,
        command: r.get(7)?,
        exit_status: r.get(8)?,
        blocked: r.get(9)?,
        origin: r.get(10)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{both_backends, Backend};

    /// Logging a command appends its audit event, so the store needs the signing key.
    fn store_on(b: Backend) -> (tempfile::TempDir, Store) {
        let (dir, store, _) = crate::testkit::store_on(b);
        (dir, store)
    }

    fn session(store: &Store) -> i64 {
        crate::testkit::session(store, None)
    }

    fn log(store: &Store, sid: i64, cmd: &str) -> i64 {
        store
            .log_command(&NewCommand {
                session_id: sid,
                user: "alice",
                host: "web1",
                login: "root",
                offset: 1.5,
                command: cmd,
                exit_status: None,
                blocked: false,
                origin: "shell",
            })
            .unwrap()
    }

    fn grep_is_a_case_insensitive_substring_search(b: Backend) {
        let (_d, store) = store_on(b);
        let sid = session(&store);
        log(&store, sid, "systemctl restart nginx");
        log(&store, sid, "tail -f /var/log/NGINX/error.log");
        log(&store, sid, "ls -la");
        let found = |g: &str| {
            store
                .commands(&CommandFilter {
                    grep: Some(g.into()),
                    ..Default::default()
                })
                .unwrap()
                .into_iter()
                .map(|c| c.command)
                .collect::<Vec<_>>()
        };
        assert_eq!(found("nginx").len(), 2);
        assert_eq!(found("art ngi"), vec!["systemctl restart nginx"]);
        assert_eq!(found("-l"), vec!["ls -la"]);
        assert_eq!(found("\"quoted\""), Vec::<String>::new());
        // A NUL (the console's search box takes any text) finds nothing, on both engines,
        // in the CLI's search and the console's alike, instead of failing the query.
        assert_eq!(found("ngi\0nx"), Vec::<String>::new());
        assert_eq!(found("\u{8}\u{ae}\0"), Vec::<String>::new());
        let page = store
            .browse_commands(&crate::CommandQuery {
                text: Some("nginx\0".into()),
                limit: 10,
                ..Default::default()
            })
            .unwrap();
        assert!(page.items.is_empty(), "{:?}", page.items);
    }

    /// The search is planned for each text (PostgreSQL: an unnamed statement, never the
    /// generic plan a prepared one turns into after five runs), so the same statements run
    /// again and again with a rare text, two characters, a common one and every kind of filter
    /// parameter, on both engines, in the CLI's search and the console's; and case folds
    /// beyond ASCII as `ILIKE` and FTS5 fold it.
    fn grep_answers_the_same_on_every_run_whatever_the_text(b: Backend) {
        let (_d, store) = store_on(b);
        let sid = session(&store);
        for i in 0..30 {
            log(&store, sid, &format!("systemctl restart app{i}"));
        }
        log(&store, sid, "cat /srv/ÉCOLE/Straße.txt");
        log(&store, sid, "openssl rand -hex 16 # rare-token-1");
        let search = |g: &str, limit: Option<u64>| {
            let f = CommandFilter {
                grep: Some(g.into()),
                limit,
                user: Some("alice".into()),
                host: Some("web1".into()),
                session: Some(sid),
                since: Some(0.5),
            };
            let cli = store.commands(&f).unwrap();
            let console = store
                .browse_commands(&crate::CommandQuery {
                    text: Some(g.into()),
                    user: Some("alice".into()),
                    host: Some("web1".into()),
                    hosts: Some(vec!["web1".into()]),
                    session: Some(sid),
                    from: Some(0.5),
                    limit: 100,
                    ..Default::default()
                })
                .unwrap();
            let total = console.total;
            (
                cli.into_iter().map(|c| c.command).collect::<Vec<_>>(),
                total,
            )
        };
        for _ in 0..7 {
            let (rare, n) = search("RARE-token", None);
            assert_eq!(
                (rare, n),
                (vec!["openssl rand -hex 16 # rare-token-1".into()], 1)
            );
            let (two, n) = search("-H", Some(20));
            assert_eq!(
                (two, n),
                (vec!["openssl rand -hex 16 # rare-token-1".into()], 1)
            );
            let (common, n) = search("systemctl", Some(20));
            assert_eq!((common.len(), n), (20, 30));
            let (folded, n) = search("école/straß", None);
            assert_eq!((folded, n), (vec!["cat /srv/ÉCOLE/Straße.txt".into()], 1));
            let (none, n) = search("zqxjv", None);
            assert_eq!((none.len(), n), (0, 0));
        }
    }

    fn exit_status_is_set_later(b: Backend) {
        let (_d, store) = store_on(b);
        let sid = session(&store);
        let id = log(&store, sid, "false");
        store.set_command_exit(id, Some(1)).unwrap();
        let rows = store
            .commands(&CommandFilter {
                session: Some(sid),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(rows[0].exit_status, Some(1));
    }

    both_backends!(
        grep_is_a_case_insensitive_substring_search,
        grep_answers_the_same_on_every_run_whatever_the_text,
        exit_status_is_set_later,
    );
}
