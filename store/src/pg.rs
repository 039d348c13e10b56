//! The PostgreSQL connection, on a thread of its own.
//!
//! Why a thread: the store's API is synchronous (SQLite answers in microseconds, and a
//! blocking call is what every caller wants), and the `postgres` crate is that API for
//! PostgreSQL, but it drives `tokio-postgres` with a runtime of its own and panics when called
//! from a thread that already runs a tokio runtime, which is where the bastion calls the store
//! from. So the client lives on a dedicated thread; each call sends it a job (the SQL and its
//! owned [`Param`]s) and waits for the owned rows on a channel. A caller inside a tokio task
//! blocks its worker thread for the statement, exactly as it does today on SQLite's mutex.
//!
//! The thread also keeps the prepared statements (one round trip per statement after the
//! first) and rewrites SQLite's placeholders: `?N` becomes `$N`, and a bare `?` takes the
//! number after the highest used so far, as SQLite numbers it.
//!
//! A lost connection (PostgreSQL restarted, a failover) fails the statement that meets it;
//! the next statement outside a transaction connects again. Inside a transaction it does not:
//! the transaction is gone with the connection, so every statement fails until the caller's
//! ROLLBACK, rather than going on outside it (and outside the chain's lock).

use std::collections::HashMap;
use std::error::Error as StdError;
use std::sync::mpsc;
use std::time::Duration;

use postgres::types::{private::BytesMut, IsNull, ToSql, Type};
use postgres::{Client, NoTls, SimpleQueryMessage, Statement};

use crate::db::{Param, Row};
use crate::{Result, StoreError};

type Job = Box<dyn FnOnce(&mut Worker) + Send>;

/// The client and its statement cache, owned by the connection's thread.
struct Worker {
    url: String,
    client: Client,
    statements: HashMap<String, Statement>,
    /// Between BEGIN and COMMIT or ROLLBACK.
    in_tx: bool,
    /// A statement failed and the server no longer answers: connect again when allowed.
    lost: bool,
}

/// Opens a session with the time zone of this machine (`$TZ` when it names one), so "the
/// local day" in reports means the same as on SQLite. The zone goes in the startup packet
/// (`options=-c TimeZone=...`), not in a statement after it: every CLI command opens a
/// connection, and a round trip saved there is saved on each. A zone the server does not know
/// fails the startup; then the session runs in UTC, set after connecting.
fn open(url: &str) -> std::result::Result<Client, postgres::Error> {
    let zone = std::env::var("TZ")
        .ok()
        .filter(|z| !z.is_empty() && !z.starts_with(':'))
        .or_else(|| iana_time_zone::get_timezone().ok())
        .unwrap_or_else(|| "UTC".into());
    let config: postgres::Config = url.parse()?;
    if zone
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c))
    {
        let options = match config.get_options() {
            Some(o) if !o.is_empty() => format!("{o} -c TimeZone={zone}"),
            _ => format!("-c TimeZone={zone}"),
        };
        match config.clone().options(&options).connect(NoTls) {
            Ok(client) => return Ok(client),
            // The server refused the startup (the zone, most likely): connect without it.
            Err(e) if e.as_db_error().is_some() => {}
            // Unreachable, refused, timed out: trying again would only wait as long again.
            Err(e) => return Err(e),
        }
    }
    let mut client = config.connect(NoTls)?;
    client.batch_execute("SET TIME ZONE 'UTC'")?;
    Ok(client)
}

impl Worker {
    /// Connects again when the connection was lost, unless a transaction was open on it.
    fn ready(&mut self) -> Result<()> {
        if !self.lost && !self.client.is_closed() {
            return Ok(());
        }
        if self.in_tx {
            return Err(StoreError::Pg(
                "the connection to PostgreSQL was lost inside a transaction".into(),
            ));
        }
        self.client = open(&self.url)?;
        self.statements.clear();
        self.lost = false;
        Ok(())
    }

    /// After a failed statement: is the server still there? (An error is rare; asking costs
    /// one round trip.)
    fn check_alive(&mut self) {
        self.lost = self.client.is_valid(Duration::from_secs(5)).is_err();
    }

    /// Statements without parameters; follows BEGIN, COMMIT and ROLLBACK.
    fn batch(&mut self, sql: &str) -> Result<()> {
        let word = sql.trim().to_ascii_uppercase();
        if word == "ROLLBACK" {
            self.in_tx = false;
            if self.lost || self.client.is_closed() {
                return Ok(()); // nothing to roll back on a lost connection
            }
        }
        self.ready()?;
        let done = self.client.batch_execute(sql);
        match word.as_str() {
            "BEGIN" => self.in_tx = done.is_ok(),
            "COMMIT" => self.in_tx = false,
            _ => {}
        }
        Ok(done?)
    }

    fn statement(&mut self, sql: &str) -> Result<Statement> {
        self.ready()?;
        if let Some(st) = self.statements.get(sql) {
            return Ok(st.clone());
        }
        let st = self.client.prepare(&placeholders(sql))?;
        if self.statements.len() > 512 {
            self.statements.clear();
        }
        self.statements.insert(sql.to_string(), st.clone());
        Ok(st)
    }
}

/// Handle to the connection's thread; dropping it closes the connection.
pub(crate) struct PgConn {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Rows cross the channel in chunks of this many, so a long query streams.
const CHUNK: usize = 1000;

impl PgConn {
    /// Connects to `url` (a `postgres://` URL) on a new thread.
    pub(crate) fn connect(url: &str) -> Result<PgConn> {
        let (jobs, rx) = mpsc::channel::<Job>();
        let (ready_tx, ready) = mpsc::channel::<Result<()>>();
        let url = url.to_string();
        let thread = std::thread::Builder::new()
            .name("store-pg".into())
            .spawn(move || {
                let client = match open(&url) {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.into()));
                        return;
                    }
                };
                let mut w = Worker {
                    url,
                    client,
                    statements: HashMap::new(),
                    in_tx: false,
                    lost: false,
                };
                let _ = ready_tx.send(Ok(()));
                while let Ok(job) = rx.recv() {
                    job(&mut w);
                }
            })
            .map_err(|e| StoreError::Invalid(format!("cannot start the database thread: {e}")))?;
        let conn = PgConn {
            jobs: Some(jobs),
            thread: Some(thread),
        };
        ready
            .recv()
            .map_err(|_| StoreError::Invalid("the database thread ended".into()))??;
        Ok(conn)
    }

    /// Runs `f` on the connection's thread and waits for its answer.
    fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Worker) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |w| {
            let out = f(w);
            if out.is_err() {
                w.check_alive();
            }
            let _ = tx.send(out);
        });
        self.jobs
            .as_ref()
            .and_then(|j| j.send(job).ok())
            .ok_or_else(|| StoreError::Invalid("the database thread ended".into()))?;
        rx.recv()
            .map_err(|_| StoreError::Invalid("the database thread ended".into()))?
    }

    pub(crate) fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64> {
        let (sql, params) = (sql.to_string(), params.to_vec());
        self.call(move |w| {
            let st = w.statement(&sql)?;
            Ok(w.client.execute(&st, &refs(&params))?)
        })
    }

    pub(crate) fn batch(&mut self, sql: &str) -> Result<()> {
        let sql = sql.to_string();
        self.call(move |w| w.batch(&sql))
    }

    /// `BEGIN` and `query` (no parameters) in one round trip: the simple query protocol sends
    /// both in one message. The query's first row, its columns as text. On an error the
    /// transaction may be open (and aborted): the caller rolls back, as after any statement.
    pub(crate) fn begin_with(&mut self, query: &str) -> Result<Vec<Option<String>>> {
        let sql = format!("BEGIN; {query}");
        let query = query.to_string();
        self.call(move |w| {
            w.ready()?;
            w.in_tx = true;
            let row = w
                .client
                .simple_query(&sql)?
                .into_iter()
                .find_map(|m| match m {
                    SimpleQueryMessage::Row(r) => {
                        Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect())
                    }
                    _ => None,
                });
            row.ok_or_else(|| StoreError::Invalid(format!("no row from: {query}")))
        })
    }

    /// `statement` (no parameters) and `COMMIT` in one round trip. When the statement fails
    /// nothing after it runs: the transaction stays open (aborted) for the caller's ROLLBACK.
    pub(crate) fn commit_with(&mut self, statement: &str) -> Result<()> {
        let sql = format!("{statement}; COMMIT");
        self.call(move |w| {
            w.ready()?;
            w.client.simple_query(&sql)?;
            w.in_tx = false;
            Ok(())
        })
    }

    pub(crate) fn query_each(
        &mut self,
        sql: &str,
        params: &[Param],
        each: impl FnMut(Row) -> Result<()>,
    ) -> Result<()> {
        self.stream(sql, params, Plan::Cached, each)
    }

    /// As [`PgConn::query_each`], as an unnamed statement typed by its parameters (integers
    /// `bigint`, reals `double precision`, text and NULL `text`): parsed, planned for these
    /// values and run in one round trip, never a cached generic plan (`Conn::query_replanned`).
    pub(crate) fn query_each_replanned(
        &mut self,
        sql: &str,
        params: &[Param],
        each: impl FnMut(Row) -> Result<()>,
    ) -> Result<()> {
        self.stream(sql, params, Plan::EachRun, each)
    }

    fn stream(
        &mut self,
        sql: &str,
        params: &[Param],
        plan: Plan,
        mut each: impl FnMut(Row) -> Result<()>,
    ) -> Result<()> {
        let (sql, params) = (sql.to_string(), params.to_vec());
        let (tx, rx) = mpsc::sync_channel::<Result<Vec<Row>>>(2);
        let job: Job = Box::new(move |w| {
            let streamed = (|| -> Result<()> {
                let mut rows = match plan {
                    Plan::Cached => {
                        let st = w.statement(&sql)?;
                        w.client.query_raw(&st, refs(&params))?
                    }
                    Plan::EachRun => {
                        w.ready()?;
                        let typed = params.iter().map(|p| (p, p.pg_type()));
                        w.client.query_typed_raw(&placeholders(&sql), typed)?
                    }
                };
                let mut chunk = Vec::with_capacity(CHUNK);
                while let Some(r) = postgres::fallible_iterator::FallibleIterator::next(&mut rows)?
                {
                    chunk.push(row(&r)?);
                    if chunk.len() == CHUNK {
                        let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                        if tx.send(Ok(full)).is_err() {
                            return Ok(()); // the caller stopped reading
                        }
                    }
                }
                let _ = tx.send(Ok(chunk));
                Ok(())
            })();
            if let Err(e) = streamed {
                w.check_alive();
                let _ = tx.send(Err(e));
            }
        });
        self.jobs
            .as_ref()
            .and_then(|j| j.send(job).ok())
            .ok_or_else(|| StoreError::Invalid("the database thread ended".into()))?;
        // Reading stops at the first error (the job's or the caller's); dropping `rx` then
        // lets the job finish its query without anyone reading.
        for chunk in rx {
            for r in chunk? {
                each(r)?;
            }
        }
        Ok(())
    }
}

/// How a query is planned: once, its prepared statement kept; or at each run.
#[derive(Clone, Copy)]
enum Plan {
    Cached,
    EachRun,
}

impl Param {
    /// The type an unnamed statement declares for this parameter.
    fn pg_type(&self) -> Type {
        match self {
            Param::Int(_) => Type::INT8,
            Param::Real(_) => Type::FLOAT8,
            Param::Text(_) | Param::Null => Type::TEXT,
        }
    }
}

impl Drop for PgConn {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn refs(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

/// A result row's columns as [`Val`]s, by the column's PostgreSQL type.
fn row(r: &postgres::Row) -> Result<Row> {
    let mut vals = Vec::with_capacity(r.len());
    for (i, col) in r.columns().iter().enumerate() {
        let t = col.type_();
        let v = if *t == Type::INT8 {
            r.try_get::<_, Option<i64>>(i)?.map(Param::Int)
        } else if *t == Type::INT4 {
            r.try_get::<_, Option<i32>>(i)?
                .map(|v| Param::Int(v.into()))
        } else if *t == Type::INT2 {
            r.try_get::<_, Option<i16>>(i)?
                .map(|v| Param::Int(v.into()))
        } else if *t == Type::BOOL {
            r.try_get::<_, Option<bool>>(i)?
                .map(|v| Param::Int(v.into()))
        } else if *t == Type::FLOAT8 {
            r.try_get::<_, Option<f64>>(i)?.map(Param::Real)
        } else if *t == Type::FLOAT4 {
            r.try_get::<_, Option<f32>>(i)?
                .map(|v| Param::Real(v.into()))
        } else {
            r.try_get::<_, Option<String>>(i)?.map(Param::Text)
        };
        vals.push(v.unwrap_or(Param::Null));
    }
    Ok(Row(vals))
}

type BoxError = Box<dyn StdError + Sync + Send>;

/// A [`Param`] is sent as whatever type the server inferred for its placeholder: an integer
/// to an `integer` or `double precision` column, or as text where the server expects text
/// (`json_extract(...) = ?` compares text).
impl ToSql for Param {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> std::result::Result<IsNull, BoxError> {
        let text_like = [
            Type::TEXT,
            Type::VARCHAR,
            Type::BPCHAR,
            Type::NAME,
            Type::UNKNOWN,
        ];
        match self {
            Param::Null => Ok(IsNull::Yes),
            Param::Int(i) if *ty == Type::INT8 => i.to_sql(ty, out),
            Param::Int(i) if *ty == Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
            Param::Int(i) if *ty == Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
            Param::Int(i) if *ty == Type::FLOAT8 => (*i as f64).to_sql(ty, out),
            Param::Int(i) if *ty == Type::BOOL => (*i != 0).to_sql(ty, out),
            Param::Int(i) if text_like.contains(ty) => i.to_string().to_sql(ty, out),
            Param::Real(f) if *ty == Type::FLOAT8 => f.to_sql(ty, out),
            Param::Real(f) if *ty == Type::FLOAT4 => (*f as f32).to_sql(ty, out),
            Param::Real(f) if text_like.contains(ty) => f.to_string().to_sql(ty, out),
            Param::Text(s) if text_like.contains(ty) => s.as_str().to_sql(ty, out),
            p => Err(format!("cannot send {p:?} as {ty}").into()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// SQLite's placeholders as PostgreSQL's: `?N` → `$N`, bare `?` → the next number. Text in
/// quotes (`'…'`, `"…"`) is copied as it is.
pub(crate) fn placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let mut quote: Option<char> = None;
    let mut highest = 0u32;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '?') => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                let n = digits.parse().unwrap_or(highest + 1);
                highest = highest.max(n);
                out.push('$');
                out.push_str(&n.to_string());
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

/// What the server said, not just "db error".
pub(crate) fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_are_numbered_as_sqlite_numbers_them() {
        let p = super::placeholders;
        assert_eq!(
            p("a = ?1 AND b = ?2 OR c = ?1"),
            "a = $1 AND b = $2 OR c = $1"
        );
        assert_eq!(p("x IN (?, ?) AND y = ?"), "x IN ($1, $2) AND y = $3");
        assert_eq!(p("t >= ?1 AND h IN (?, ?)"), "t >= $1 AND h IN ($2, $3)");
        assert_eq!(p("d = '?x' AND \"?\" = ?"), "d = '?x' AND \"?\" = $1");
    }
}
