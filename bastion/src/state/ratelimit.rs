//! Login throttling per user name and per source address.
//!
//! Each failure is remembered for the lockout window; once a key (user or address) has reached the
//! limit, further attempts are refused until its oldest failure ages out. Before the limit, each
//! failure beyond the second adds a growing delay, so guessing is slow even below the limit.
//!
//! One bastion remembers failures in memory. Several nodes on one PostgreSQL database count
//! them in the database instead ([`RateLimiter::shared`], `store::throttle`), so failures spread
//! over the nodes add up and a lockout earned on one node holds on all. If the database cannot
//! be asked, a login is refused (fail closed): without it nothing could be audited either.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failure memory shared by all connections.
pub struct RateLimiter {
    max_failures: u32,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
    /// Several nodes on one database: failures are counted there.
    shared: Option<store::Store>,
}

impl RateLimiter {
    pub fn new(max_failures: u32, window: Duration) -> RateLimiter {
        RateLimiter {
            max_failures: max_failures.max(1),
            window,
            failures: Mutex::new(HashMap::new()),
            shared: None,
        }
    }

    /// Counts failures in `store` (the database several nodes share; its own connection, so
    /// a check never waits behind audit appends) instead of in memory.
    pub fn shared(max_failures: u32, window: Duration, store: store::Store) -> RateLimiter {
        RateLimiter {
            shared: Some(store),
            ..RateLimiter::new(max_failures, window)
        }
    }

    /// Recent failures of each of `keys`; on a database error, the limit (refuse).
    fn counts(&self, keys: &[&str]) -> Vec<usize> {
        let now = Instant::now();
        let Some(db) = &self.shared else {
            return keys.iter().map(|k| self.recent(k, now)).collect();
        };
        let since = store::now_ts() - self.window.as_secs_f64();
        match db.auth_failure_counts(keys, since) {
            Ok(c) => c.into_iter().map(|n| n.max(0) as usize).collect(),
            Err(e) => {
                tracing::error!("login throttling cannot read the database: {e}");
                vec![self.max_failures as usize; keys.len()]
            }
        }
    }

    fn recent(&self, key: &str, now: Instant) -> usize {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        match map.get_mut(key) {
            Some(q) => {
                while q
                    .front()
                    .is_some_and(|t| now.duration_since(*t) > self.window)
                {
                    q.pop_front();
                }
                q.len()
            }
            None => 0,
        }
    }

    /// True when any of `keys` has hit the limit: refuse without checking credentials.
    pub fn is_locked(&self, keys: &[&str]) -> bool {
        self.counts(keys)
            .into_iter()
            .any(|n| n >= self.max_failures as usize)
    }

    /// Extra delay before answering, growing with recent failures of any of `keys`.
    pub fn delay(&self, keys: &[&str]) -> Duration {
        let n = self.counts(keys).into_iter().max().unwrap_or(0);
        if n < 2 {
            Duration::ZERO
        } else {
            Duration::from_millis(250u64 << (n - 2).min(6))
        }
    }

    /// Remembers one failure for each of `keys`; returns those this failure locked (they
    /// reached the limit just now), so the lockout is reported once, when it begins.
    pub fn record_failure(&self, keys: &[&str]) -> Vec<String> {
        let now = Instant::now();
        let locked = keys
            .iter()
            .zip(self.counts(keys))
            .filter(|(_, n)| n + 1 == self.max_failures as usize)
            .map(|(k, _)| k.to_string())
            .collect();
        if let Some(db) = &self.shared {
            let t = store::now_ts();
            if let Err(e) = db.record_auth_failure(keys, t, t - self.window.as_secs_f64()) {
                tracing::error!("login throttling cannot record a failure: {e}");
            }
            return locked;
        }
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for k in keys {
            map.entry(k.to_string()).or_default().push_back(now);
        }
        // Bound memory under a flood of distinct keys: drop keys whose failures all expired.
        if map.len() > 10_000 {
            map.retain(|_, q| {
                q.back()
                    .is_some_and(|t| now.duration_since(*t) <= self.window)
            });
        }
        locked
    }

    /// The limit and the window, for lockout reports.
    pub fn limits(&self) -> (u32, Duration) {
        (self.max_failures, self.window)
    }

    /// A successful login clears the user's own failures (not the address's).
    pub fn record_success(&self, user_key: &str) {
        if let Some(db) = &self.shared {
            if let Err(e) = db.clear_auth_failures(user_key) {
                tracing::error!("login throttling cannot clear failures: {e}");
            }
            return;
        }
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(user_key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_limit_and_delays_grow() {
        let rl = RateLimiter::new(3, Duration::from_secs(60));
        assert!(!rl.is_locked(&["u:a", "ip:1"]));
        assert_eq!(rl.delay(&["u:a"]), Duration::ZERO);
        rl.record_failure(&["u:a", "ip:1"]);
        rl.record_failure(&["u:a", "ip:1"]);
        assert!(rl.delay(&["u:a"]) > Duration::ZERO);
        assert!(!rl.is_locked(&["u:a"]));
        rl.record_failure(&["u:b", "ip:1"]);
        assert!(
            rl.is_locked(&["u:c", "ip:1"]),
            "address limit applies to other users"
        );
        assert!(!rl.is_locked(&["u:a", "ip:2"]));
        rl.record_success("u:a");
        assert!(!rl.is_locked(&["u:a", "ip:2"]));
    }

    /// Two nodes (two limiters, each with its own connection) on one PostgreSQL database.
    #[test]
    fn on_a_shared_database_a_lockout_on_one_node_holds_on_the_other() {
        let url = pgtest::database();
        let node = || {
            let s = store::Store::connect(&url, None).unwrap();
            RateLimiter::shared(3, Duration::from_secs(60), s)
        };
        let (a, b) = (node(), node());
        assert!(a.record_failure(&["user:x", "addr:1"]).is_empty());
        assert!(b.record_failure(&["user:x", "addr:2"]).is_empty());
        assert!(b.delay(&["user:x"]) > Duration::ZERO, "failures add up");
        assert_eq!(a.record_failure(&["user:x", "addr:3"]), vec!["user:x"]);
        assert!(
            b.is_locked(&["user:x", "addr:9"]),
            "locked on the other node"
        );
        assert!(!b.is_locked(&["user:y", "addr:1"]));
        b.record_success("user:x");
        assert!(!a.is_locked(&["user:x", "addr:9"]));
    }

    #[test]
    fn failures_expire() {
        let rl = RateLimiter::new(1, Duration::from_millis(10));
        rl.record_failure(&["k"]);
        assert!(rl.is_locked(&["k"]));
        std::thread::sleep(Duration::from_millis(20));
        assert!(!rl.is_locked(&["k"]));
    }
}
