//! Target host keys pinned on first use (trust on first use, like OpenSSH's known_hosts).

use super::{now_ts, Result, Store};
use crate::db::params;

/// Outcome of checking a presented target key against the pin.
#[derive(Debug, PartialEq, Eq)]
pub enum PinCheck {
    /// Same key as pinned.
    Match,
    /// Nothing pinned yet; the key has now been pinned.
    PinnedNow,
    /// A different key is pinned: refuse.
    Mismatch { pinned_fingerprint: String },
}

/// The key under which a target's host key is pinned: `address:port`, as connected to.
pub fn endpoint(address: &str, port: u16) -> String {
    format!("{address}:{port}")
}

impl Store {
    /// Compares `key` (authorized_keys line) for `endpoint` ("addr:port") with the pin, pinning it
    /// when none exists.
    pub fn check_or_pin_host_key(
        &self,
        endpoint: &str,
        host: &str,
        key: &str,
        fingerprint: &str,
    ) -> Result<PinCheck> {
        // Pin first, then compare: two nodes meeting a new target at once cannot both pin
        // (the second insert does nothing and compares with the first's key).
        let mut conn = self.conn();
        let pinned_now = conn.execute(
            "INSERT INTO host_keys(endpoint, host, public_key, fingerprint, pinned_at)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (endpoint) DO NOTHING",
            params![endpoint, host, key, fingerprint, now_ts()],
        )?;
        if pinned_now == 1 {
            return Ok(PinCheck::PinnedNow);
        }
        let r = conn.query_one(
            "SELECT public_key, fingerprint FROM host_keys WHERE endpoint = ?1",
            params![endpoint],
        )?;
        let (k, fp): (String, String) = (r.get(0)?, r.get(1)?);
        if k == key {
            Ok(PinCheck::Match)
        } else {
            Ok(PinCheck::Mismatch {
                pinned_fingerprint: fp,
            })
        }
    }

    /// Forgets the pin of an endpoint (after an intended key rotation).
    pub fn forget_host_key(&self, endpoint: &str) -> Result<bool> {
        Ok(self.conn().execute(
            "DELETE FROM host_keys WHERE endpoint = ?1",
            params![endpoint],
        )? == 1)
    }
}
