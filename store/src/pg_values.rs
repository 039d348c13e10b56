//! How values and SQL text cross to PostgreSQL: the store's [`Param`]s as the types the
//! server inferred for each placeholder, result columns back as [`Param`]s, SQLite's `?N`
//! placeholders as `$N`, and the server's own words for an error.

use std::error::Error as StdError;

use postgres::types::{private::BytesMut, IsNull, ToSql, Type};

use crate::db::{Param, Row};
use crate::Result;

impl Param {
    /// The type an unnamed statement declares for this parameter.
    pub(crate) fn pg_type(&self) -> Type {
        match self {
            Param::Int(_) => Type::INT8,
            Param::Real(_) => Type::FLOAT8,
            Param::Text(_) | Param::Null => Type::TEXT,
        }
    }
}

pub(crate) fn refs(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

/// A result row's columns as [`Val`]s, by the column's PostgreSQL type.
pub(crate) fn row(r: &postgres::Row) -> Result<Row> {
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
