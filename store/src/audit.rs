//! The append-only audit log: each record carries the hash of the previous one and an ed25519
//! signature over its own hash, so edits, deletions and reorders are detectable.

use ed25519_dalek::{Signer, Verifier};
use rusqlite::{params, OptionalExtension};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{now_ts, Result, Store, StoreError};
use crate::events::AuditEvent;

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

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
pub(crate) fn newest(tx: &rusqlite::Connection) -> Result<(i64, String)> {
    let last: Option<(i64, String)> = tx
        .query_row(
            "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(last.unwrap_or_else(|| (0, GENESIS.to_string())))
}

/// Appends one signed record inside the caller's transaction; returns its id and hash. The
/// caller commits, then writes the head file (`Store::write_audit_head`).
pub(crate) fn append(
    tx: &rusqlite::Connection,
    signer: &ed25519_dalek::SigningKey,
    user: Option<&str>,
    source: Option<&str>,
    event: &AuditEvent,
) -> Result<(i64, String)> {
    let (last, prev) = newest(tx)?;
    let id = last + 1;
    let ts = now_ts();
    let name = event.kind().as_str();
    let detail = event.detail().to_string();
    let hash = record_hash(id, ts, name, user, source, &detail, &prev);
    let sig = hex::encode(signer.sign(hash.as_bytes()).to_bytes());
    tx.execute(
        "INSERT INTO audit(id, ts, event, user, source, detail, prev_hash, hash, signature)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![id, ts, name, user, source, detail, prev, hash, sig],
    )?;
    Ok((id, hash))
}

/// [`append`], then a signed `checkpoint` when the record's id is a multiple of `every`
/// ([`CHECKPOINT_EVERY`] outside tests); returns the event's own id and hash.
pub(crate) fn append_checkpointed(
    tx: &rusqlite::Connection,
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
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let (id, _) = append_checkpointed(&tx, signer, self.checkpoint_every, user, source, event)?;
        let (head_id, head_hash) = newest(&tx)?;
        tx.commit()?;
        self.write_audit_head(head_id, &head_hash);
        Ok(id)
    }

    /// Runs `change` and appends the events it returns in one transaction: a state change
    /// (a request decided, a grant revoked) and its audit records commit together or not at
    /// all. `user` is the bastion user the events concern.
    pub(crate) fn audited_change<T>(
        &self,
        user: Option<&str>,
        source: Option<&str>,
        change: impl FnOnce(&rusqlite::Connection) -> Result<(T, Vec<AuditEvent>)>,
    ) -> Result<T> {
        let signer = self.signer()?;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let (out, events) = change(&tx)?;
        for event in &events {
            append_checkpointed(&tx, signer, self.checkpoint_every, user, source, event)?;
        }
        let (head_id, head_hash) = newest(&tx)?;
        tx.commit()?;
        if !events.is_empty() {
            self.write_audit_head(head_id, &head_hash);
        }
        Ok(out)
    }

    /// Records the newest audit record outside the database (write to a temp file, then rename,
    /// so a crash never leaves a torn head). Failing here is logged, not fatal: the record is
    /// already committed, and verify reports a head that lags behind as fine.
    pub(crate) fn write_audit_head(&self, id: i64, hash: &str) {
        let tmp = self.audit_head.with_extension("audit-head.tmp");
        let text = format!("{}\n", serde_json::json!({"id": id, "hash": hash}));
        if let Err(e) =
            std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, &self.audit_head))
        {
            tracing::error!("cannot write {}: {e}", self.audit_head.display());
        }
    }

    /// Compares the database's newest records with the head file: the record it names must be
    /// there with the same hash (the head may lag, never lead). `last_id` is the newest id seen.
    fn check_audit_head(
        &self,
        last_id: i64,
        hash_of: impl Fn(i64) -> Option<String>,
    ) -> Option<(i64, String)> {
        let text = match std::fs::read_to_string(&self.audit_head) {
            Ok(t) => t,
            Err(_) if last_id == 0 => return None,
            Err(e) => {
                return Some((
                    last_id + 1,
                    format!(
                        "audit head file {} unreadable ({e}): newest records may have been deleted",
                        self.audit_head.display()
                    ),
                ))
            }
        };
        let head: Value = serde_json::from_str(text.trim()).unwrap_or(Value::Null);
        let (Some(id), Some(hash)) = (head["id"].as_i64(), head["hash"].as_str()) else {
            return Some((
                last_id + 1,
                format!("audit head file {} is corrupt", self.audit_head.display()),
            ));
        };
        if id > last_id {
            return Some((last_id + 1, format!("records {}..={id} are missing: the log ends at {last_id} but the audit head names record {id}", last_id + 1)));
        }
        match hash_of(id) {
            Some(h) if h == hash => None,
            _ => Some((id, "does not match the audit head file's hash".into())),
        }
    }

    /// Audit records since `since` (Unix seconds), oldest first.
    pub fn audit_records(&self, since: Option<f64>) -> Result<Vec<AuditRecord>> {
        self.select_records("ts >= ?1 ORDER BY id", since.unwrap_or(0.0))
    }

    /// The id of the newest audit record (0 for an empty log).
    pub fn newest_audit_id(&self) -> Result<i64> {
        let conn = self.conn();
        Ok(conn.query_row("SELECT COALESCE(MAX(id), 0) FROM audit", [], |r| r.get(0))?)
    }

    /// At most `limit` audit records with an id above `after`, oldest first: `bastion audit
    /// --follow` resumes from the last id it printed, so a record is never shown twice or skipped.
    pub fn audit_records_after(&self, after: i64, limit: usize) -> Result<Vec<AuditRecord>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.select_records(&format!("id > ?1 ORDER BY id LIMIT {limit}"), after)
    }

    fn select_records(&self, filter: &str, arg: impl rusqlite::ToSql) -> Result<Vec<AuditRecord>> {
        self.select_records_where(filter, &[&arg as &dyn rusqlite::ToSql])
    }

    /// Records of `audit a WHERE filter` (the table aliased `a`), with `args` in order.
    pub(crate) fn select_records_where<P: rusqlite::ToSql>(
        &self,
        filter: &str,
        args: &[P],
    ) -> Result<Vec<AuditRecord>> {
        let conn = self.conn();
        let mut st = conn.prepare(&format!(
            "SELECT a.id, a.ts, a.event, a.user, a.source, a.detail, a.prev_hash, a.hash, a.signature
             FROM audit a WHERE {filter}"
        ))?;
        let rows = st.query_map(rusqlite::params_from_iter(args), |r| {
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
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Checks every link and signature; returns the first bad record's id and why.
    pub fn verify_audit(&self, key: &ed25519_dalek::VerifyingKey) -> Result<Option<(i64, String)>> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT id, ts, event, user, source, detail, prev_hash, hash, signature FROM audit ORDER BY id",
        )?;
        let mut rows = st.query([])?;
        let mut expected_prev = GENESIS.to_string();
        let mut expected_id = 1i64;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let ts: f64 = r.get(1)?;
            let event: String = r.get(2)?;
            let user: Option<String> = r.get(3)?;
            let source: Option<String> = r.get(4)?;
            let detail: String = r.get(5)?;
            let prev: String = r.get(6)?;
            let hash: String = r.get(7)?;
            let sig: String = r.get(8)?;
            if id != expected_id {
                return Ok(Some((id, format!("record {expected_id} is missing"))));
            }
            if prev != expected_prev {
                return Ok(Some((id, "previous-hash link broken".into())));
            }
            let computed = record_hash(
                id,
                ts,
                &event,
                user.as_deref(),
                source.as_deref(),
                &detail,
                &prev,
            );
            if computed != hash {
                return Ok(Some((id, "content does not match its hash".into())));
            }
            let ok = hex::decode(&sig)
                .ok()
                .and_then(|b| ed25519_dalek::Signature::from_slice(&b).ok())
                .map(|s| key.verify(hash.as_bytes(), &s).is_ok())
                .unwrap_or(false);
            if !ok {
                return Ok(Some((id, "bad signature".into())));
            }
            expected_prev = hash;
            expected_id += 1;
        }
        drop(rows);
        drop(st);
        let last_id = expected_id - 1;
        let hash_of = |id: i64| -> Option<String> {
            conn.query_row("SELECT hash FROM audit WHERE id = ?1", [id], |r| r.get(0))
                .ok()
        };
        Ok(self.check_audit_head(last_id, hash_of))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testkit::store;

    /// Appends one event; `n` makes each record's content differ.
    fn append(s: &Store, n: usize) {
        let ev = AuditEvent::PolicyReloaded { roles: n, hosts: 1 };
        s.audit(Some("alice"), Some("127.0.0.1"), &ev).unwrap();
    }

    #[test]
    fn chain_verifies_and_detects_edit_and_delete() {
        let (_d, s, vk) = store();
        for n in 0..3 {
            append(&s, n);
        }
        assert_eq!(s.verify_audit(&vk).unwrap(), None);
        s.conn()
            .execute("UPDATE audit SET user = 'mallory' WHERE id = 2", [])
            .unwrap();
        assert_eq!(s.verify_audit(&vk).unwrap().unwrap().0, 2);
        s.conn()
            .execute("DELETE FROM audit WHERE id = 2", [])
            .unwrap();
        let bad = s.verify_audit(&vk).unwrap().unwrap();
        assert_eq!(bad.0, 3, "{bad:?}");
    }

    #[test]
    fn deleting_the_newest_records_is_detected_through_the_head_file() {
        let (_d, s, vk) = store();
        for n in 0..4 {
            append(&s, n);
        }
        assert_eq!(s.verify_audit(&vk).unwrap(), None);
        s.conn()
            .execute("DELETE FROM audit WHERE id >= 3", [])
            .unwrap();
        let bad = s.verify_audit(&vk).unwrap().unwrap();
        assert_eq!(bad.0, 3, "{bad:?}");
        assert!(bad.1.contains("missing"), "{bad:?}");
        append(&s, 4); // the log goes on from 3; head now names the new record 3
        assert_eq!(s.verify_audit(&vk).unwrap(), None);
        std::fs::remove_file(&s.audit_head).unwrap();
        assert!(
            s.verify_audit(&vk).unwrap().is_some(),
            "a missing head with records is suspicious"
        );
    }
}
