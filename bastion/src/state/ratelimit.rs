//! Login throttling per user name and per source address.
//!
//! Each failure is remembered for the lockout window; once a key (user or address) has reached the
//! limit, further attempts are refused until its oldest failure ages out. Before the limit, each
//! failure beyond the second adds a growing delay, so guessing is slow even below the limit.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failure memory shared by all connections.
pub struct RateLimiter {
    max_failures: u32,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimiter {
    pub fn new(max_failures: u32, window: Duration) -> RateLimiter {
        RateLimiter {
            max_failures: max_failures.max(1),
            window,
            failures: Mutex::new(HashMap::new()),
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
        let now = Instant::now();
        keys.iter()
            .any(|k| self.recent(k, now) >= self.max_failures as usize)
    }

    /// Extra delay before answering, growing with recent failures of any of `keys`.
    pub fn delay(&self, keys: &[&str]) -> Duration {
        let now = Instant::now();
        let n = keys.iter().map(|k| self.recent(k, now)).max().unwrap_or(0);
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
        let mut locked = Vec::new();
        for k in keys {
            if self.recent(k, now) + 1 == self.max_failures as usize {
                locked.push(k.to_string());
            }
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

    #[test]
    fn failures_expire() {
        let rl = RateLimiter::new(1, Duration::from_millis(10));
        rl.record_failure(&["k"]);
        assert!(rl.is_locked(&["k"]));
        std::thread::sleep(Duration::from_millis(20));
        assert!(!rl.is_locked(&["k"]));
    }
}
