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
        let mut conn = self.conn();
        let pinned = |conn: &mut crate::db::Conn| -> Result<Option<(String, String)>> {
            conn.query_opt(
                "SELECT public_key, fingerprint FROM host_keys WHERE endpoint = ?1",
                params![endpoint],
            )?
            .map(|r| Ok((r.get(0)?, r.get(1)?)))
            .transpose()
        };
        let mut found = pinned(&mut conn)?;
        if found.is_none() {
            // Two nodes meeting a new target at once cannot both pin: the second insert does
            // nothing, and that node compares with the first one's key.
            let inserted = conn.execute(
                "INSERT INTO host_keys(endpoint, host, public_key, fingerprint, pinned_at)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (endpoint) DO NOTHING",
                params![endpoint, host, key, fingerprint, now_ts()],
            )?;
            if inserted == 1 {
                return Ok(PinCheck::PinnedNow);
            }
            found = pinned(&mut conn)?;
        }
        match found {
            Some((k, _)) if k == key => Ok(PinCheck::Match),
            Some((_, fp)) => Ok(PinCheck::Mismatch {
                pinned_fingerprint: fp,
            }),
            None => Err(crate::StoreError::Invalid(format!(
                "the pin of {endpoint} vanished while it was being read"
            ))),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{both_backends, store_on, Backend};

    fn first_use_pins_then_only_that_key_matches(b: Backend) {
        let (_d, s, _) = store_on(b);
        let check = |key: &str| {
            s.check_or_pin_host_key("10.0.0.1:22", "web1", key, &format!("FP-{key}"))
                .unwrap()
        };
        assert_eq!(check("K1"), PinCheck::PinnedNow);
        assert_eq!(check("K1"), PinCheck::Match);
        assert_eq!(
            check("K2"),
            PinCheck::Mismatch {
                pinned_fingerprint: "FP-K1".into()
            }
        );
        assert!(s.forget_host_key("10.0.0.1:22").unwrap());
        assert!(!s.forget_host_key("10.0.0.1:22").unwrap());
        assert_eq!(check("K2"), PinCheck::PinnedNow);
    }

    both_backends!(first_use_pins_then_only_that_key_matches);
}
