//! The web console's logins: one-time links issued over SSH (`ssh bastion console`) and the
//! browser sessions they open.
//!
//! Both are secrets in a URL or a cookie, so only their SHA-256 is stored: whoever reads the
//! database (or a backup) cannot log in with it. A link is single use — redeeming it is one
//! `UPDATE … WHERE used_at IS NULL AND expires_at > now`, so two browsers racing for the same
//! link cannot both win — and expires on its own. A browser session ends at its absolute
//! expiry, after its idle limit without a request, or at logout, whichever comes first; every
//! request that finds it valid moves `last_seen`.

use sha2::{Digest, Sha256};

use super::{Result, Store};
use crate::db::params;

/// A browser session found valid.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsoleSession {
    pub user: String,
    /// The session's anti-CSRF token (sent in every state-changing form or request).
    pub csrf: String,
    pub created_at: f64,
    pub expires_at: f64,
}

/// Why a link could not be redeemed (for the audit log; the browser is told less).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefusal {
    Unknown,
    AlreadyUsed,
    Expired,
}

impl LinkRefusal {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkRefusal::Unknown => "unknown link",
            LinkRefusal::AlreadyUsed => "link already used",
            LinkRefusal::Expired => "link expired",
        }
    }
}

/// The stored form of a secret.
fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

impl Store {
    /// Stores a login link for `user`, valid until `expires_at`.
    pub fn add_console_link(
        &self,
        token: &str,
        user: &str,
        now: f64,
        expires_at: f64,
    ) -> Result<()> {
        self.conn().execute(
            "INSERT INTO console_links(token_hash, \"user\", created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
            params![digest(token), user, now, expires_at],
        )?;
        Ok(())
    }

    /// Uses a link once: the user it was issued to, or why not.
    pub fn redeem_console_link(
        &self,
        token: &str,
        now: f64,
    ) -> Result<std::result::Result<String, LinkRefusal>> {
        let mut conn = self.conn();
        let hash = digest(token);
        let won = conn.query_opt(
            "UPDATE console_links SET used_at = ?2
             WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2 RETURNING \"user\"",
            params![hash.as_str(), now],
        )?;
        if let Some(row) = won {
            return Ok(Ok(row.get(0)?));
        }
        let used: Option<Option<f64>> = conn
            .query_opt(
                "SELECT used_at FROM console_links WHERE token_hash = ?1",
                params![hash],
            )?
            .map(|r| r.get(0))
            .transpose()?;
        Ok(Err(match used {
            None => LinkRefusal::Unknown,
            Some(Some(_)) => LinkRefusal::AlreadyUsed,
            Some(None) => LinkRefusal::Expired,
        }))
    }

    /// Opens a browser session `id` for `user` with its CSRF token, ending at `expires_at`.
    pub fn open_console_session(
        &self,
        id: &str,
        user: &str,
        csrf: &str,
        now: f64,
        expires_at: f64,
    ) -> Result<()> {
        self.conn().execute(
            "INSERT INTO console_sessions(id_hash, \"user\", csrf, created_at, last_seen, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
            params![digest(id), user, csrf, now, expires_at],
        )?;
        Ok(())
    }

    /// The browser session `id` if it is still valid at `now` (not ended, before its absolute
    /// expiry, seen within `idle` seconds); marks it seen.
    pub fn console_session(&self, id: &str, now: f64, idle: f64) -> Result<Option<ConsoleSession>> {
        let row = self.conn().query_opt(
            "UPDATE console_sessions SET last_seen = ?2
             WHERE id_hash = ?1 AND ended_at IS NULL AND expires_at > ?2 AND last_seen + ?3 > ?2
             RETURNING \"user\", csrf, created_at, expires_at",
            params![digest(id), now, idle],
        )?;
        row.map(|r| {
            Ok(ConsoleSession {
                user: r.get(0)?,
                csrf: r.get(1)?,
                created_at: r.get(2)?,
                expires_at: r.get(3)?,
            })
        })
        .transpose()
    }

    /// Ends a browser session (logout); true when it was open.
    pub fn end_console_session(&self, id: &str, now: f64) -> Result<bool> {
        Ok(self.conn().execute(
            "UPDATE console_sessions SET ended_at = ?2 WHERE id_hash = ?1 AND ended_at IS NULL",
            params![digest(id), now],
        )? > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{both_backends, Backend};

    fn a_link_works_once_and_only_before_it_expires(b: Backend) {
        let (_dir, store, _) = crate::testkit::store_on(b);
        store
            .add_console_link("tok-1", "carol", 100.0, 220.0)
            .unwrap();
        store
            .add_console_link("tok-2", "carol", 100.0, 220.0)
            .unwrap();
        assert_eq!(
            store.redeem_console_link("tok-1", 150.0).unwrap(),
            Ok("carol".into())
        );
        assert_eq!(
            store.redeem_console_link("tok-1", 151.0).unwrap(),
            Err(LinkRefusal::AlreadyUsed)
        );
        assert_eq!(
            store.redeem_console_link("tok-2", 220.0).unwrap(),
            Err(LinkRefusal::Expired)
        );
        assert_eq!(
            store.redeem_console_link("nope", 150.0).unwrap(),
            Err(LinkRefusal::Unknown)
        );
    }

    fn a_browser_session_ends_idle_at_its_expiry_or_at_logout(b: Backend) {
        let (_dir, store, _) = crate::testkit::store_on(b);
        store
            .open_console_session("sid", "carol", "csrf-1", 100.0, 1000.0)
            .unwrap();
        let s = store.console_session("sid", 150.0, 60.0).unwrap().unwrap();
        assert_eq!((s.user.as_str(), s.csrf.as_str()), ("carol", "csrf-1"));
        // Seen at 150: still valid at 200, idle past 60 s at 261.
        assert!(store.console_session("sid", 200.0, 60.0).unwrap().is_some());
        assert!(store.console_session("sid", 261.0, 60.0).unwrap().is_none());
        store
            .open_console_session("sid2", "carol", "csrf-2", 100.0, 300.0)
            .unwrap();
        assert!(store.console_session("sid2", 290.0, 1e9).unwrap().is_some());
        assert!(store.console_session("sid2", 300.0, 1e9).unwrap().is_none());
        store
            .open_console_session("sid3", "carol", "csrf-3", 100.0, 1000.0)
            .unwrap();
        assert!(store.end_console_session("sid3", 120.0).unwrap());
        assert!(store.console_session("sid3", 121.0, 1e9).unwrap().is_none());
        assert!(!store.end_console_session("sid3", 122.0).unwrap());
        // Only hashes are stored.
        let stored: String = store
            .conn()
            .query_one("SELECT id_hash FROM console_sessions LIMIT 1", &[])
            .unwrap()
            .get(0)
            .unwrap();
        assert_ne!(stored, "sid");
    }

    both_backends!(
        a_link_works_once_and_only_before_it_expires,
        a_browser_session_ends_idle_at_its_expiry_or_at_logout,
    );
}
