//! The seam between the store's SQL and the two engines it runs on: SQLite (the embedded
//! default, one file) and PostgreSQL (several bastion nodes on one database, `pg.rs`).
//!
//! Why a seam and not an ORM or two copies of every query: almost every statement the store
//! runs is plain SQL that both engines accept as written, so each is kept once, in the module
//! that owns it, with `?N` placeholders (SQLite's; `pg.rs` rewrites them to `$N`). Parameters
//! and results cross the seam as small owned enums ([`Param`], [`Val`]), which is what lets
//! the PostgreSQL connection live on its own thread (see `pg.rs`). Where the engines really
//! differ (DDL, the command search index, a day's date), the caller asks [`Conn::is_pg`].
//!
//! Portability rules the SQL texts follow: `user` and `offset` columns are written quoted
//! (`"user"`, both are keywords in PostgreSQL); booleans are stored as INTEGER 0/1 on both; new
//! ids come back through `RETURNING id`; `INSERT … ON CONFLICT DO NOTHING`, never SQLite's
//! `INSERT OR IGNORE`; a derived table always has an alias.

use crate::{Result, StoreError};

/// A statement parameter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Param {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

/// A value read from a result row.
pub(crate) type Val = Param;

/// Builds a `&[Param]` from expressions that convert into [`Param`].
macro_rules! params {
    ($($v:expr),* $(,)?) => { &[$($crate::db::Param::from($v)),*][..] };
}
pub(crate) use params;

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Param {
            fn from(v: $t) -> Param {
                Param::Int(v as i64)
            }
        }
    )*};
}
from_int!(i64, i32, u32, usize, u64);

impl From<bool> for Param {
    fn from(v: bool) -> Param {
        Param::Int(v as i64)
    }
}
impl From<f64> for Param {
    fn from(v: f64) -> Param {
        Param::Real(v)
    }
}
impl From<&str> for Param {
    fn from(v: &str) -> Param {
        Param::Text(v.to_string())
    }
}
impl From<String> for Param {
    fn from(v: String) -> Param {
        Param::Text(v)
    }
}
impl From<&String> for Param {
    fn from(v: &String) -> Param {
        Param::Text(v.clone())
    }
}
impl<T: Into<Param>> From<Option<T>> for Param {
    fn from(v: Option<T>) -> Param {
        v.map_or(Param::Null, Into::into)
    }
}
impl From<&Option<String>> for Param {
    fn from(v: &Option<String>) -> Param {
        v.as_deref().into()
    }
}

/// One result row, its columns in SELECT order.
#[derive(Debug, Clone)]
pub(crate) struct Row(pub(crate) Vec<Val>);

impl Row {
    /// Column `i` as `T`; a type the column does not hold is an error naming the column.
    pub(crate) fn get<T: FromVal>(&self, i: usize) -> Result<T> {
        let v = self.0.get(i).unwrap_or(&Param::Null);
        T::from_val(v).ok_or_else(|| StoreError::Invalid(format!("column {i}: unexpected {v:?}")))
    }
}

/// Conversion of a column's value to a Rust type.
pub(crate) trait FromVal: Sized {
    fn from_val(v: &Val) -> Option<Self>;
}

impl FromVal for i64 {
    fn from_val(v: &Val) -> Option<i64> {
        match v {
            Param::Int(i) => Some(*i),
            _ => None,
        }
    }
}
impl FromVal for usize {
    fn from_val(v: &Val) -> Option<usize> {
        i64::from_val(v).and_then(|i| usize::try_from(i).ok())
    }
}
impl FromVal for f64 {
    fn from_val(v: &Val) -> Option<f64> {
        match v {
            Param::Real(f) => Some(*f),
            Param::Int(i) => Some(*i as f64),
            _ => None,
        }
    }
}
impl FromVal for bool {
    fn from_val(v: &Val) -> Option<bool> {
        i64::from_val(v).map(|i| i != 0)
    }
}
impl FromVal for String {
    fn from_val(v: &Val) -> Option<String> {
        match v {
            Param::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
}
impl<T: FromVal> FromVal for Option<T> {
    fn from_val(v: &Val) -> Option<Option<T>> {
        match v {
            Param::Null => Some(None),
            v => T::from_val(v).map(Some),
        }
    }
}

/// A connection to either engine. Methods take `&mut self`: the store holds it behind its
/// mutex, so one statement (or one transaction) runs at a time per `Store`, as before.
pub(crate) enum Conn {
    Sqlite(rusqlite::Connection),
    Pg(crate::pg::PgConn),
}

impl Conn {
    pub(crate) fn is_pg(&self) -> bool {
        matches!(self, Conn::Pg(_))
    }

    /// The PostgreSQL connection, for what only it can do (`pg.rs`: one round trip for two
    /// statements); `None` on SQLite.
    pub(crate) fn pg(&mut self) -> Option<&mut crate::pg::PgConn> {
        match self {
            Conn::Pg(c) => Some(c),
            Conn::Sqlite(_) => None,
        }
    }

    /// Runs one statement; the number of rows it changed.
    pub(crate) fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64> {
        match self {
            Conn::Sqlite(c) => Ok(c.execute(sql, rusqlite::params_from_iter(params))? as u64),
            Conn::Pg(c) => c.execute(sql, params),
        }
    }

    /// Every row of a query.
    pub(crate) fn query(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Row>> {
        let mut out = Vec::new();
        self.query_each(sql, params, |r| {
            out.push(r);
            Ok(())
        })?;
        Ok(out)
    }

    /// Calls `each` with every row as it arrives (a verify over millions of records does not
    /// hold them all); the first error stops the query.
    pub(crate) fn query_each(
        &mut self,
        sql: &str,
        params: &[Param],
        mut each: impl FnMut(Row) -> Result<()>,
    ) -> Result<()> {
        match self {
            Conn::Sqlite(c) => {
                let mut st = c.prepare_cached(sql)?;
                let n = st.column_count();
                let mut rows = st.query(rusqlite::params_from_iter(params))?;
                while let Some(r) = rows.next()? {
                    let mut vals = Vec::with_capacity(n);
                    for i in 0..n {
                        vals.push(sqlite_val(r.get_ref(i)?));
                    }
                    each(Row(vals))?;
                }
                Ok(())
            }
            Conn::Pg(c) => c.query_each(sql, params, each),
        }
    }

    /// Every row of a query planned for these parameters at every run: on PostgreSQL an
    /// unnamed statement, never a cached plan. For searches, whose best plan depends on the
    /// text searched: a rare token wants the trigram index, two characters a scan (the index
    /// holds nothing for them, and a full index scan is the worst plan), a common word with a
    /// limit the time index. A prepared statement turns generic after five runs, one plan for
    /// every text, which also evaluates `lower(?)` once per row instead of once. On SQLite
    /// the same as [`Conn::query`] (its planner sees the parameters at each run).
    pub(crate) fn query_replanned(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Row>> {
        match self {
            Conn::Sqlite(_) => self.query(sql, params),
            Conn::Pg(c) => {
                let mut out = Vec::new();
                c.query_each_replanned(sql, params, |r| {
                    out.push(r);
                    Ok(())
                })?;
                Ok(out)
            }
        }
    }

    /// The first row, if any.
    pub(crate) fn query_opt(&mut self, sql: &str, params: &[Param]) -> Result<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// The first row; an error when there is none.
    pub(crate) fn query_one(&mut self, sql: &str, params: &[Param]) -> Result<Row> {
        self.query_opt(sql, params)?
            .ok_or_else(|| StoreError::Invalid(format!("no row from: {sql}")))
    }

    /// Several statements without parameters (DDL, BEGIN, COMMIT).
    pub(crate) fn batch(&mut self, sql: &str) -> Result<()> {
        match self {
            Conn::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Conn::Pg(c) => c.batch(sql),
        }
    }
}

fn sqlite_val(v: rusqlite::types::ValueRef<'_>) -> Val {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => Param::Null,
        ValueRef::Integer(i) => Param::Int(i),
        ValueRef::Real(f) => Param::Real(f),
        ValueRef::Text(t) | ValueRef::Blob(t) => Param::Text(String::from_utf8_lossy(t).into()),
    }
}

impl rusqlite::ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Param::Null => ValueRef::Null,
            Param::Int(i) => ValueRef::Integer(*i),
            Param::Real(f) => ValueRef::Real(*f),
            Param::Text(s) => ValueRef::Text(s.as_bytes()),
        }))
    }
}
