//! The append-only audit log: each record carries the hash of the previous one and an ed25519
//! signature over its own hash, so edits, deletions and reorders are detectable.

use ed25519_dalek::{Signer, Verifier};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{now_ts, Result, Store, StoreError};
use crate::db::{params, Conn, Param, Row};
use crate::events::AuditEvent;

pub(crate) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A stored audit record.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditRecord {
    pub id: i64,
    pub ts: f64,
    pub event: String,
    pub user: Option<String>,
    pub source: Option<String>,
    pub detail: Value,
    #[serde(skip)]
    pub prev_hash: String,
    #[serde(skip)]
    pub hash: String,
    #[serde(skip)]
    pub signature: String,
}

impl AuditRecord {
    /// The typed event this record holds; an error for a name or field this version does not
    /// know (a record from a newer bastion, or an edited one: `verify_audit` says which).
    pub fn parsed(&self) -> std::result::Result<AuditEvent, serde_json::Error> {
        AuditEvent::parse(&self.event, &self.detail)
    }
}

fn record_hash(
    id: i64,
    ts: f64,
    event: &str,
    user: Option<&str>,
    source: Option<&str>,
    detail: &str,
    prev: &str,
) -> String {
    let canonical = serde_json::json!([id, ts, event, user, source, detail, prev]).to_string();
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

/// An audit `checkpoint` is appended after every this many records (see `checkpoint.rs`):
/// rare enough to cost nothing, often enough that a shipped checkpoint is never far behind.
pub const CHECKPOINT_EVERY: i64 = 1000;

/// The newest record's id and hash, or 0 and the genesis hash for an empty log.
pub(crate) fn newest(tx: &mut Conn) -> Result<(i64, String)> {
    match tx.query_opt("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1", &[])? {
        Some(r) => Ok((r.get(0)?, r.get(1)?)),
        None => Ok((0, GENESIS.to_string())),
    }
}

/// The chain inside one [`Store::chain_tx`] transaction: the connection, and where the chain
/// ends, kept up to date by [`append`] so that no append reads the end from the database again
/// (on PostgreSQL each read is a round trip, under the lock every node's appends wait for).
pub(crate) struct Chain<'c> {
    conn: &'c mut Conn,
    end: (i64, String),
}

impl<'c> Chain<'c> {
    /// The chain on `conn` (in a transaction holding the chain's lock) ending at `end`.
    pub(crate) fn new(conn: &'c mut Conn, end: (i64, String)) -> Chain<'c> {
        Chain { conn, end }
    }

    /// The newest record's id and hash (0 and the genesis hash for an empty log).
    pub(crate) fn end(&self) -> (i64, &str) {
        (self.end.0, &self.end.1)
    }

    /// Reads the end from the audit table again, after rows were written around [`append`]
    /// (a migration copying a whole chain).
    pub(crate) fn reread_end(&mut self) -> Result<()> {
        self.end = newest(self.conn)?;
        Ok(())
    }
}

impl std::ops::Deref for Chain<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn
    }
}

impl std::ops::DerefMut for Chain<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn
    }
}

/// Appends one signed record inside the caller's transaction; returns its id and hash. The
/// caller runs it inside [`Store::chain_tx`], which serialises appends and keeps the head.
pub(crate) fn append(
    tx: &mut Chain,
    signer: &ed25519_dalek::SigningKey,
    user: Option<&str>,
    source: Option<&str>,
    event: &AuditEvent,
) -> Result<(i64, String)> {
    let id = tx.end.0 + 1;
    let ts = now_ts();
    let name = event.kind().as_str();
    let detail = event.detail().to_string();
    let hash = record_hash(id, ts, name, user, source, &detail, &tx.end.1);
    let sig = hex::encode(signer.sign(hash.as_bytes()).to_bytes());
    tx.conn.execute(
        "INSERT INTO audit(id, ts, event, \"user\", source, detail, prev_hash, hash, signature)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            id,
            ts,
            name,
            user,
            source,
            detail,
            tx.end.1.as_str(),
            hash.as_str(),
            sig
        ],
    )?;
    tx.end = (id, hash.clone());
    Ok((id, hash))
}

/// [`append`], then a signed `checkpoint` when the record's id is a multiple of `every`
/// ([`CHECKPOINT_EVERY`] outside tests); returns the event's own id and hash.
pub(crate) fn append_checkpointed(
    tx: &mut Chain,
    signer: &ed25519_dalek::SigningKey,
    every: i64,
    user: Option<&str>,
    source: Option<&str>,
    event: &AuditEvent,
) -> Result<(i64, String)> {
    let (id, hash) = append(tx, signer, user, source, event)?;
    if every > 0 && id % every == 0 {
        let cp = crate::checkpoint::checkpoint_event(tx, id, &hash)?;
        append(tx, signer, None, None, &cp)?;
    }
    Ok((id, hash))
}

impl Store {
    /// The signing key, which every writer of the audit log needs.
    pub(crate) fn signer(&self) -> Result<&ed25519_dalek::SigningKey> {
        self.signer
            .as_ref()
            .ok_or_else(|| StoreError::Invalid("audit log opened without signing key".into()))
    }

    /// Appends one event to the chain, by `user` (the bastion user it concerns) from `source`
    /// (an address, or `cli`). Never fails silently: an error here must deny the action that
    /// caused it at the caller.
    pub fn audit(
        &self,
        user: Option<&str>,
        source: Option<&str>,
        event: &AuditEvent,
    ) -> Result<i64> {
        let signer = self.signer()?;
        let every = self.checkpoint_every;
        self.chain_tx(|tx| Ok(append_checkpointed(tx, signer, every, user, source, event)?.0))
    }

    /// Runs `change` and appends the events it returns in one transaction: a state change
    /// (a request decided, a grant revoked) and its audit records commit together or not at
    /// all. `user` is the bastion user the events concern.
    pub(crate) fn audited_change<T>(
        &self,
        user: Option<&str>,
        source: Option<&str>,
        change: impl FnOnce(&mut Conn) -> Result<(T, Vec<AuditEvent>)>,
    ) -> Result<T> {
        let signer = self.signer()?;
        let every = self.checkpoint_every;
        self.chain_tx(|tx| {
            let (out, events) = change(tx)?;
            for event in &events {
                append_checkpointed(tx, signer, every, user, source, event)?;
            }
            Ok(out)
        })
    }

    /// Audit records since `since` (Unix seconds), oldest first.
    pub fn audit_records(&self, since: Option<f64>) -> Result<Vec<AuditRecord>> {
        self.select_records("ts >= ?1 ORDER BY id", since.unwrap_or(0.0))
    }

    /// The id of the newest audit record (0 for an empty log).
    pub fn newest_audit_id(&self) -> Result<i64> {
        self.conn()
            .query_one("SELECT COALESCE(MAX(id), 0) FROM audit", &[])?
            .get(0)
    }

    /// At most `limit` audit records with an id above `after`, oldest first: `bastion audit
    /// --follow` resumes from the last id it printed, so a record is never shown twice or skipped.
    pub fn audit_records_after(&self, after: i64, limit: usize) -> Result<Vec<AuditRecord>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.select_records(&format!("id > ?1 ORDER BY id LIMIT {limit}"), after)
    }

    fn select_records(&self, filter: &str, arg: impl Into<Param>) -> Result<Vec<AuditRecord>> {
        self.select_records_where(filter, &[arg.into()])
    }

    /// Records of `audit a WHERE filter` (the table aliased `a`), with `args` in order.
    pub(crate) fn select_records_where(
        &self,
        filter: &str,
        args: &[Param],
    ) -> Result<Vec<AuditRecord>> {
        let sql = format!(
            "SELECT a.id, a.ts, a.event, a.\"user\", a.source, a.detail, a.prev_hash, a.hash, a.signature
             FROM audit a WHERE {filter}"
        );
        let rows = self.conn().query(&sql, args)?;
        rows.iter().map(record).collect()
    }

    /// Checks every link and signature, then the head (`audit_head.rs`); returns the first
    /// bad record's id and why.
    pub fn verify_audit(&self, key: &ed25519_dalek::VerifyingKey) -> Result<Option<(i64, String)>> {
        let mut expected_prev = GENESIS.to_string();
        let mut expected_id = 1i64;
        let mut bad: Option<(i64, String)> = None;
        self.conn().query_each(
            "SELECT id, ts, event, \"user\", source, detail, prev_hash, hash, signature FROM audit ORDER BY id",
            &[],
            |r| {
                let rec = record(&r)?;
                let detail: String = r.get(5)?;
                let why = check_record(&rec, &detail, expected_id, &expected_prev, key);
                if let Some(why) = why {
                    bad = Some((rec.id, why));
                    // Stop reading: the first break is the answer.
                    return Err(StoreError::Invalid(String::new()));
                }
                expected_prev = rec.hash;
                expected_id += 1;
                Ok(())
            },
        ).or_else(|e| if bad.is_some() { Ok(()) } else { Err(e) })?;
        if bad.is_some() {
            return Ok(bad);
        }
        self.check_audit_head(expected_id - 1, key)
    }
}

fn record(r: &Row) -> Result<AuditRecord> {
    let detail: String = r.get(5)?;
    Ok(AuditRecord {
        id: r.get(0)?,
        ts: r.get(1)?,
        event: r.get(2)?,
        user: r.get(3)?,
        source: r.get(4)?,
        detail: serde_json::from_str(&detail).unwrap_or(Value::String(detail)),
        prev_hash: r.get(6)?,
        hash: r.get(7)?,
        signature: r.get(8)?,
    })
}

/// Why `rec` (whose stored detail text is `detail`) breaks the chain, if it does.
fn check_record(
    rec: &AuditRecord,
    detail: &str,
    expected_id: i64,
    expected_prev: &str,
    key: &ed25519_dalek::VerifyingKey,
) -> Option<String> {
    if rec.id != expected_id {
        return Some(format!("record {expected_id} is missing"));
    }
    if rec.prev_hash != expected_prev {
        return Some("previous-hash link broken".into());
    }
    let computed = record_hash(
        rec.id,
        rec.ts,
        &rec.event,
        rec.user.as_deref(),
        rec.source.as_deref(),
        detail,
        &rec.prev_hash,
    );
    if computed != rec.hash {
        return Some("content does not match its hash".into());
    }
    if !signed(key, &rec.hash, &rec.signature) {
        return Some("bad signature".into());
    }
    None
}

/// True when `signature` (hex) is `key`'s signature of `message`.
pub(crate) fn signed(key: &ed25519_dalek::VerifyingKey, message: &str, signature: &str) -> bool {
    hex::decode(signature)
        .ok()
        .and_then(|b| ed25519_dalek::Signature::from_slice(&b).ok())
        .is_some_and(|s| key.verify(message.as_bytes(), &s).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testkit::{both_backends, store_on, Backend};

    /// Appends one event; `n` makes each record's content differ.
    fn append(s: &Store, n: usize) {
        let ev = AuditEvent::PolicyReloaded { roles: n, hosts: 1 };
        s.audit(Some("alice"), Some("127.0.0.1"), &ev).unwrap();
    }

    fn chain_verifies_and_detects_edit_and_delete(b: Backend) {
        let (_d, s, vk) = store_on(b);
        for n in 0..3 {
            append(&s, n);
        }
        assert_eq!(s.verify_audit(&vk).unwrap(), None);
        s.conn()
            .execute("UPDATE audit SET \"user\" = 'mallory' WHERE id = 2", &[])
            .unwrap();
        assert_eq!(s.verify_audit(&vk).unwrap().unwrap().0, 2);
        s.conn()
            .execute("DELETE FROM audit WHERE id = 2", &[])
            .unwrap();
        let bad = s.verify_audit(&vk).unwrap().unwrap();
        assert_eq!(bad.0, 3, "{bad:?}");
    }

    fn deleting_the_newest_records_is_detected_through_the_head_file(b: Backend) {
        let (_d, s, vk) = store_on(b);
        for n in 0..4 {
            append(&s, n);
        }
        assert_eq!(s.verify_audit(&vk).unwrap(), None);
        s.conn()
            .execute("DELETE FROM audit WHERE id >= 3", &[])
            .unwrap();
        let bad = s.verify_audit(&vk).unwrap().unwrap();
        assert_eq!(bad.0, 3, "{bad:?}");
        assert!(bad.1.contains("missing"), "{bad:?}");
        append(&s, 4);
        if b == Backend::Sqlite {
            // The log goes on from 3; the head file now names the new record 3.
            assert_eq!(s.verify_audit(&vk).unwrap(), None);
            std::fs::remove_file(s.audit_head.as_ref().unwrap()).unwrap();
            // A missing head with records is suspicious.
            assert!(
                s.verify_audit(&vk).unwrap().is_some(),
                "a missing head file"
            );
        } else {
            // The signed head row gives the next id (`audit_head.rs`): the log goes on from 5
            // and the deleted records stay missing, whatever is appended after.
            let bad = s.verify_audit(&vk).unwrap().unwrap();
            assert_eq!(bad, (5, "record 3 is missing".into()));
            assert_eq!(s.newest_audit_id().unwrap(), 5);
            // A node may be new (no head file yet): that alone is not reported.
            std::fs::remove_file(s.audit_head.as_ref().unwrap()).unwrap();
            assert_eq!(s.verify_audit(&vk).unwrap().unwrap().0, 5);
        }
    }

    both_backends!(
        chain_verifies_and_detects_edit_and_delete,
        deleting_the_newest_records_is_detected_through_the_head_file,
    );
}
