//! Users, their public keys and TOTP state.

use super::{now_ts, Result, Store, StoreError};
use crate::db::{params, Row};

/// A bastion user as stored.
#[derive(Clone, Debug)]
pub struct UserRow {
    pub id: i64,
    pub name: String,
    pub disabled: bool,
    pub totp_secret: Option<String>,
    pub created_at: f64,
}

/// One authorised public key of a user.
#[derive(Clone, Debug)]
pub struct UserKey {
    pub fingerprint: String,
    pub public_key: String,
    pub comment: String,
}

impl Store {
    /// Creates a user with its first keys; fails if the name is taken.
    pub fn add_user(&self, name: &str, totp_secret: Option<&str>, keys: &[UserKey]) -> Result<()> {
        self.tx(|tx| {
            let exists = tx.query_opt("SELECT id FROM users WHERE name = ?1", params![name])?;
            if exists.is_some() {
                return Err(StoreError::Invalid(format!("user {name} already exists")));
            }
            let id: i64 = tx
                .query_one(
                    "INSERT INTO users(name, totp_secret, created_at) VALUES (?1, ?2, ?3) RETURNING id",
                    params![name, totp_secret, now_ts()],
                )?
                .get(0)?;
            for k in keys {
                tx.execute(
                    "INSERT INTO user_keys(user_id, fingerprint, public_key, comment, added_at)
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                    params![id, &k.fingerprint, &k.public_key, &k.comment, now_ts()],
                )?;
            }
            Ok(())
        })
    }

    pub fn user(&self, name: &str) -> Result<Option<UserRow>> {
        self.conn()
            .query_opt(
                "SELECT id, name, disabled, totp_secret, created_at FROM users WHERE name = ?1",
                params![name],
            )?
            .as_ref()
            .map(row_to_user)
            .transpose()
    }

    pub fn users(&self) -> Result<Vec<UserRow>> {
        let rows = self.conn().query(
            "SELECT id, name, disabled, totp_secret, created_at FROM users ORDER BY name",
            &[],
        )?;
        rows.iter().map(row_to_user).collect()
    }

    pub fn user_keys(&self, name: &str) -> Result<Vec<UserKey>> {
        let rows = self.conn().query(
            "SELECT k.fingerprint, k.public_key, k.comment FROM user_keys k
             JOIN users u ON u.id = k.user_id WHERE u.name = ?1 ORDER BY k.id",
            params![name],
        )?;
        rows.iter()
            .map(|r| {
                Ok(UserKey {
                    fingerprint: r.get(0)?,
                    public_key: r.get(1)?,
                    comment: r.get(2)?,
                })
            })
            .collect()
    }

    pub fn set_disabled(&self, name: &str, disabled: bool) -> Result<()> {
        self.expect_one(
            self.conn().execute(
                "UPDATE users SET disabled = ?2 WHERE name = ?1",
                params![name, disabled],
            )?,
            name,
        )
    }

    pub fn remove_user(&self, name: &str) -> Result<()> {
        self.expect_one(
            self.conn()
                .execute("DELETE FROM users WHERE name = ?1", params![name])?,
            name,
        )
    }

    pub fn add_key(&self, name: &str, key: &UserKey) -> Result<()> {
        let user = self
            .user(name)?
            .ok_or_else(|| StoreError::Invalid(format!("no such user: {name}")))?;
        let n = self.conn().execute(
            "INSERT INTO user_keys(user_id, fingerprint, public_key, comment, added_at)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
            params![
                user.id,
                &key.fingerprint,
                &key.public_key,
                &key.comment,
                now_ts()
            ],
        )?;
        if n == 0 {
            return Err(StoreError::Invalid(format!(
                "user {name} already has key {}",
                key.fingerprint
            )));
        }
        Ok(())
    }

    pub fn remove_key(&self, name: &str, fingerprint: &str) -> Result<()> {
        let n = self.conn().execute(
            "DELETE FROM user_keys WHERE fingerprint = ?2
             AND user_id = (SELECT id FROM users WHERE name = ?1)",
            params![name, fingerprint],
        )?;
        if n == 0 {
            return Err(StoreError::Invalid(format!(
                "user {name} has no key {fingerprint}"
            )));
        }
        Ok(())
    }

    /// Replaces the TOTP secret (None disables TOTP for this user) and forgets used steps.
    pub fn set_totp_secret(&self, name: &str, secret: Option<&str>) -> Result<()> {
        self.expect_one(
            self.conn().execute(
                "UPDATE users SET totp_secret = ?2, totp_last_step = 0 WHERE name = ?1",
                params![name, secret],
            )?,
            name,
        )
    }

    /// Marks a TOTP time step as used, atomically: returns false when this or a later step was
    /// already used (a replayed code), so each code logs in at most once, on every node of a
    /// shared PostgreSQL too: the second UPDATE waits for the first's row lock, then finds
    /// the step used.
    pub fn consume_totp_step(&self, name: &str, step: u64) -> Result<bool> {
        let n = self.conn().execute(
            "UPDATE users SET totp_last_step = ?2 WHERE name = ?1 AND totp_last_step < ?2",
            params![name, step as i64],
        )?;
        Ok(n == 1)
    }

    fn expect_one(&self, changed: u64, name: &str) -> Result<()> {
        if changed == 0 {
            Err(StoreError::Invalid(format!("no such user: {name}")))
        } else {
            Ok(())
        }
    }
}

fn row_to_user(r: &Row) -> Result<UserRow> {
    Ok(UserRow {
        id: r.get(0)?,
        name: r.get(1)?,
        disabled: r.get(2)?,
        totp_secret: r.get(3)?,
        created_at: r.get(4)?,
    })
}
