//! Login throttling's memory in the database: the failed logins of each key (`user:NAME`,
//! `addr:IP`) with their times, so that when several bastion nodes share one PostgreSQL
//! database a lockout earned on one node holds on every other, and failures spread over the
//! nodes add up. The policy (limit, window, delays) stays with the caller; this module only
//! counts. Times are wall-clock seconds (`now_ts`), the one clock the nodes share.

use crate::db::params;
use crate::{Result, Store};

impl Store {
    /// Failures of each of `keys` at or after `since`, in the order of `keys`: one statement
    /// (a login checks its user and its address twice, and on PostgreSQL each statement is a
    /// round trip on the node's one connection).
    pub fn auth_failure_counts(&self, keys: &[&str], since: f64) -> Result<Vec<i64>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        // ?1 is `since`; key i is ?(i + 2).
        let counts: Vec<String> = (2..keys.len() + 2)
            .map(|i| format!("COALESCE(SUM(CASE WHEN key = ?{i} THEN 1 ELSE 0 END), 0)"))
            .collect();
        let wanted: Vec<String> = (2..keys.len() + 2).map(|i| format!("?{i}")).collect();
        let sql = format!(
            "SELECT {} FROM auth_failures WHERE ts >= ?1 AND key IN ({})",
            counts.join(", "),
            wanted.join(", ")
        );
        let mut args = vec![crate::db::Param::from(since)];
        args.extend(keys.iter().map(|k| crate::db::Param::from(*k)));
        let row = self.conn().query_one(&sql, &args)?;
        (0..keys.len()).map(|i| row.get(i)).collect()
    }

    /// Records one failure at `now` for each of `keys`, and forgets every failure older than
    /// `forget_before` (the window has passed: they count for nothing any more).
    pub fn record_auth_failure(&self, keys: &[&str], now: f64, forget_before: f64) -> Result<()> {
        self.tx(|tx| {
            tx.execute(
                "DELETE FROM auth_failures WHERE ts < ?1",
                params![forget_before],
            )?;
            for k in keys {
                tx.execute(
                    "INSERT INTO auth_failures(key, ts) VALUES (?1, ?2)",
                    params![*k, now],
                )?;
            }
            Ok(())
        })
    }

    /// Forgets the failures of `key` (a user who logged in).
    pub fn clear_auth_failures(&self, key: &str) -> Result<()> {
        self.conn()
            .execute("DELETE FROM auth_failures WHERE key = ?1", params![key])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::{both_backends, store_on, Backend};

    fn failures_are_counted_per_key_in_the_window_and_forgotten(b: Backend) {
        let (_d, s, _) = store_on(b);
        s.record_auth_failure(&["user:a", "addr:1"], 100.0, 0.0)
            .unwrap();
        s.record_auth_failure(&["user:b", "addr:1"], 110.0, 0.0)
            .unwrap();
        let counts = |since| s.auth_failure_counts(&["user:a", "addr:1", "user:c"], since);
        assert_eq!(counts(0.0).unwrap(), vec![1, 2, 0]);
        assert_eq!(counts(105.0).unwrap(), vec![0, 1, 0]);
        s.clear_auth_failures("user:a").unwrap();
        assert_eq!(counts(0.0).unwrap(), vec![0, 2, 0]);
        // A failure at 200 with a 60 s window forgets the ones before 140.
        s.record_auth_failure(&["addr:1"], 200.0, 140.0).unwrap();
        assert_eq!(counts(0.0).unwrap(), vec![0, 1, 0]);
    }

    both_backends!(failures_are_counted_per_key_in_the_window_and_forgotten);
}
