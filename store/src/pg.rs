//! The PostgreSQL connection, with a thread of its own for callers inside tokio.
//!
//! Why a thread: the store's API is synchronous (SQLite answers in microseconds, and a
//! blocking call is what every caller wants), and the `postgres` crate is that API for
//! PostgreSQL, but it drives `tokio-postgres` with a runtime of its own and panics when called
//! from a thread that already runs a tokio runtime, which is where the bastion's server calls
//! the store from. So a caller inside a runtime sends the connection's thread a job (the SQL
//! and its owned [`Param`]s) and waits for the owned rows on a channel, blocking its worker
//! thread for the statement, exactly as it does on SQLite's mutex. A caller outside any
//! runtime (every CLI command, `bench`, the heartbeat thread) runs the job itself, under the
//! same mutex: handing a job to a parked thread and being woken for its answer costs about
//! 0.15 ms, more than a search that finds nothing takes on the server.
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
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::time::Duration;

use postgres::{Client, NoTls, SimpleQueryMessage, Statement};

use crate::db::{Param, Row};
use crate::pg_values::{placeholders, refs, row};
use crate::{Result, StoreError};

type Job = Box<dyn FnOnce(&Mutex<Option<Worker>>) + Send>;

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

/// The connection (filled in by its thread once connected) and the thread that runs jobs for
/// callers inside a tokio runtime; dropping it closes the connection.
pub(crate) struct PgConn {
    worker: Arc<Mutex<Option<Worker>>>,
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// The connection, for one job at a time. A job that panicked left no half-sent statement
/// behind (the `postgres` client answers or fails whole), so a poisoned lock is taken over.
fn lock(worker: &Mutex<Option<Worker>>) -> MutexGuard<'_, Option<Worker>> {
    worker.lock().unwrap_or_else(|p| p.into_inner())
}

/// The connection's thread is gone (it failed to connect, or the handle is being dropped).
fn thread_ended() -> StoreError {
    StoreError::Invalid("the database thread ended".into())
}

/// Whether this thread may drive the `postgres` client itself: not from inside a tokio
/// runtime, where its own `block_on` would panic.
fn outside_runtime() -> bool {
    tokio::runtime::Handle::try_current().is_err()
}

/// Rows cross the channel in chunks of this many, so a long query streams.
const CHUNK: usize = 1000;

impl PgConn {
    /// Connects to `url` (a `postgres://` URL) from a new thread, which then serves callers
    /// inside tokio.
    pub(crate) fn connect(url: &str) -> Result<PgConn> {
        let (jobs, rx) = mpsc::channel::<Job>();
        let (ready_tx, ready) = mpsc::channel::<Result<()>>();
        let url = url.to_string();
        let worker = Arc::new(Mutex::new(None));
        let shared = worker.clone();
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
                *lock(&shared) = Some(Worker {
                    url,
                    client,
                    statements: HashMap::new(),
                    in_tx: false,
                    lost: false,
                });
                let _ = ready_tx.send(Ok(()));
                while let Ok(job) = rx.recv() {
                    job(&shared);
                }
            })
            .map_err(|e| StoreError::Invalid(format!("cannot start the database thread: {e}")))?;
        let conn = PgConn {
            worker,
            jobs: Some(jobs),
            thread: Some(thread),
        };
        ready.recv().map_err(|_| thread_ended())??;
        Ok(conn)
    }

    /// Runs `job` with the connection: here, outside a tokio runtime; on the connection's
    /// thread otherwise (the caller then waits on whatever channel `job` answers on).
    fn run(&self, job: impl FnOnce(&mut Worker) + Send + 'static) -> Result<()> {
        let job = move |worker: &Mutex<Option<Worker>>| {
            if let Some(w) = lock(worker).as_mut() {
                job(w);
            }
        };
        if outside_runtime() {
            job(&self.worker);
            return Ok(());
        }
        self.jobs
            .as_ref()
            .and_then(|j| j.send(Box::new(job)).ok())
            .ok_or_else(thread_ended)
    }

    /// Runs `f` with the connection and waits for its answer.
    fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Worker) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.run(move |w| {
            let out = f(w);
            if out.is_err() {
                w.check_alive();
            }
            let _ = tx.send(out);
        })?;
        rx.recv().map_err(|_| thread_ended())?
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
        if outside_runtime() {
            let mut guard = lock(&self.worker);
            let w = guard.as_mut().ok_or_else(thread_ended)?;
            return w.rows(sql, params, plan, &mut each);
        }
        let (sql, params) = (sql.to_string(), params.to_vec());
        let (tx, rx) = mpsc::sync_channel::<Result<Vec<Row>>>(2);
        self.run(move |w| {
            let mut chunk = Vec::with_capacity(CHUNK);
            let streamed = w.rows(&sql, &params, plan, &mut |r| {
                chunk.push(r);
                if chunk.len() == CHUNK {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                    tx.send(Ok(full))
                        .map_err(|_| StoreError::Invalid("the caller stopped reading".into()))?;
                }
                Ok(())
            });
            // When the caller stopped reading, nobody receives this either.
            let _ = tx.send(streamed.map(|()| chunk));
        })?;
        // Reading stops at the first error (the job's or the caller's); dropping `rx` then
        // lets the job stop at its next chunk.
        for chunk in rx {
            for r in chunk? {
                each(r)?;
            }
        }
        Ok(())
    }
}

impl Worker {
    /// Runs a query and hands its rows to `sink` as they arrive; an error from `sink` stops
    /// the query and is returned. A failure of the query itself is followed by a look at
    /// whether the server is still there ([`Worker::check_alive`]); the sink's is not.
    fn rows(
        &mut self,
        sql: &str,
        params: &[Param],
        plan: Plan,
        sink: &mut dyn FnMut(Row) -> Result<()>,
    ) -> Result<()> {
        // Ok(Some(e)): the sink refused a row; Err: the query failed.
        let queried = (|| -> Result<Option<StoreError>> {
            let mut rows = match plan {
                Plan::Cached => {
                    let st = self.statement(sql)?;
                    self.client.query_raw(&st, refs(params))?
                }
                Plan::EachRun => {
                    self.ready()?;
                    let typed = params.iter().map(|p| (p, p.pg_type()));
                    self.client.query_typed_raw(&placeholders(sql), typed)?
                }
            };
            while let Some(r) = postgres::fallible_iterator::FallibleIterator::next(&mut rows)? {
                if let Err(refused) = sink(row(&r)?) {
                    return Ok(Some(refused));
                }
            }
            Ok(None)
        })();
        match queried {
            Ok(None) => Ok(()),
            Ok(Some(refused)) => Err(refused),
            Err(e) => {
                self.check_alive();
                Err(e)
            }
        }
    }
}

/// How a query is planned: once, its prepared statement kept; or at each run.
#[derive(Clone, Copy)]
enum Plan {
    Cached,
    EachRun,
}

impl Drop for PgConn {
    fn drop(&mut self) {
        // The client is closed on the connection's thread: closing blocks on the client's own
        // runtime, which panics inside tokio, where the last handle may be dropped.
        if let Some(jobs) = self.jobs.take() {
            let _ = jobs.send(Box::new(|worker| drop(lock(worker).take())));
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
