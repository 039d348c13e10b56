//! Where the audit chain ends, and who may extend it.
//!
//! Every append runs in [`Store::chain_tx`]: one transaction that takes the chain's lock,
//! appends, and moves the head. On SQLite the lock is the database's own write lock (`BEGIN
//! IMMEDIATE`). On PostgreSQL, where several bastion nodes append to one chain, it is the row
//! lock of the single `audit_head` row (`SELECT … FOR UPDATE`): a second node's append waits
//! there until the first commits, then reads the chain's new end, so ids and `prev_hash`
//! links follow one global order. Command rows are inserted under the same lock, so command
//! ids also grow in commit order, which keeps checkpoints' "rows up to id N" counts true.
//!
//! Truncation (deleting the newest records leaves a chain that still verifies) is what the
//! head guards against:
//! - SQLite: the head file `<db>.audit-head` (the newest id and hash, written after every
//!   commit). It may lag, never lead; a missing file beside a non-empty log is reported.
//! - PostgreSQL: the `audit_head` row, updated in the same transaction as each append and
//!   signed (`audit-head <id> <hash>`), so deleting the newest records without moving the row
//!   back is detected, and the row cannot be set to an id and hash that were never signed.
//!   Someone who can write the database AND saved an older signed head row can roll both back
//!   together; that is caught only by a node's own head file (each node that names one with
//!   [`Store::with_audit_head`] records the newest id it appended, on its own disk) or by
//!   checkpoints shipped off the box. A node's missing head file is not reported on
//!   PostgreSQL: a new node has none until its first append.

use ed25519_dalek::Signer;
use serde_json::Value;

use crate::audit::{newest, signed, Chain, GENESIS};
use crate::db::{params, Conn};
use crate::{Result, Store, StoreError};

/// The text the head row's signature covers.
fn head_message(id: i64, hash: &str) -> String {
    format!("audit-head {id} {hash}")
}

impl Store {
    /// Runs `f` (which appends audit records) in one transaction holding the chain's lock;
    /// then moves the head (the PostgreSQL row inside the transaction, this node's head file
    /// after the commit) when the chain grew.
    pub(crate) fn chain_tx<T>(&self, f: impl FnOnce(&mut Chain) -> Result<T>) -> Result<T> {
        let signer = self.signer()?;
        let mut conn = self.conn();
        let (out, grew) = if self.pg {
            pg_chain_tx(&mut conn, signer, f)?
        } else {
            crate::in_tx(&mut conn, |tx| {
                let end = newest(tx)?;
                let before = end.0;
                let mut chain = Chain::new(tx, end);
                let out = f(&mut chain)?;
                let (id, hash) = chain.end();
                Ok((out, (id != before).then(|| (id, hash.to_string()))))
            })?
        };
        drop(conn);
        if let Some((id, hash)) = grew {
            self.write_audit_head(id, &hash);
        }
        Ok(out)
    }

    /// Records the newest audit record in this node's head file (write to a temp file, then
    /// rename, so a crash never leaves a torn head). Failing here is logged, not fatal: the
    /// record is already committed, and verify reports a head that lags behind as fine.
    pub(crate) fn write_audit_head(&self, id: i64, hash: &str) {
        let Some(path) = &self.audit_head else { return };
        let tmp = path.with_extension("audit-head.tmp");
        let text = format!("{}\n", serde_json::json!({"id": id, "hash": hash}));
        if let Err(e) = std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, path)) {
            tracing::error!("cannot write {}: {e}", path.display());
        }
    }

    /// The record this node's head file names, when it is readable.
    pub(crate) fn head_file_id(&self) -> Option<i64> {
        let path = self.audit_head.as_ref()?;
        std::fs::read_to_string(path)
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(t.trim()).ok())
            .and_then(|v| v["id"].as_i64())
    }

    /// Compares the chain's end (`last_id`, after the chain itself verified) with the head
    /// row (PostgreSQL) and this node's head file: each may lag, never lead, and the record it
    /// names must have the hash it names.
    pub(crate) fn check_audit_head(
        &self,
        last_id: i64,
        key: &ed25519_dalek::VerifyingKey,
    ) -> Result<Option<(i64, String)>> {
        if self.pg {
            let row = self.conn().query_one(
                "SELECT last_id, hash, signature FROM audit_head WHERE one = 1",
                &[],
            )?;
            let (id, hash, sig): (i64, String, String) = (row.get(0)?, row.get(1)?, row.get(2)?);
            if id > 0 && !signed(key, &head_message(id, &hash), &sig) {
                return Ok(Some((id, "the audit_head row's signature is bad".into())));
            }
            if let Some(bad) = self.against_head(last_id, id, &hash, "the audit_head row")? {
                return Ok(Some(bad));
            }
        }
        let Some(path) = &self.audit_head else {
            return Ok(None);
        };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(_) if last_id == 0 || self.pg => return Ok(None),
            Err(e) => {
                return Ok(Some((
                    last_id + 1,
                    format!(
                        "audit head file {} unreadable ({e}): newest records may have been deleted",
                        path.display()
                    ),
                )))
            }
        };
        let head: Value = serde_json::from_str(text.trim()).unwrap_or(Value::Null);
        let (Some(id), Some(hash)) = (head["id"].as_i64(), head["hash"].as_str()) else {
            return Ok(Some((
                last_id + 1,
                format!("audit head file {} is corrupt", path.display()),
            )));
        };
        self.against_head(last_id, id, hash, "the audit head file")
    }

    /// One head (`id`, `hash`, described as `what`) against a log ending at `last_id`.
    fn against_head(
        &self,
        last_id: i64,
        id: i64,
        hash: &str,
        what: &str,
    ) -> Result<Option<(i64, String)>> {
        if id == 0 {
            return Ok(None);
        }
        if id > last_id {
            return Ok(Some((last_id + 1, format!("records {}..={id} are missing: the log ends at {last_id} but {what} names record {id}", last_id + 1))));
        }
        let stored = self
            .conn()
            .query_opt("SELECT hash FROM audit WHERE id = ?1", params![id])?
            .map(|r| r.get::<String>(0))
            .transpose()?;
        Ok(match stored {
            Some(h) if h == hash => None,
            _ => Some((id, format!("does not match {what}'s hash"))),
        })
    }
}

/// Locks the head row, and says where the chain ends.
const HEAD_LOCK: &str = "SELECT last_id, hash FROM audit_head WHERE one = 1 FOR UPDATE";

/// [`Store::chain_tx`] on PostgreSQL, in as few round trips as the lock allows: BEGIN and the
/// head row's lock in one, the caller's statements, then the head's update and COMMIT in one.
///
/// The locked head row says where the chain ends: it moves in the same transaction as every
/// append, and locking it returns its newest committed version (a node that waited for the
/// lock reads what the node before it committed), so no append reads the audit table. Should
/// the row ever lag the table, the next record's id is already taken and the append fails on
/// the audit table's primary key rather than fork the chain.
fn pg_chain_tx<T>(
    conn: &mut Conn,
    signer: &ed25519_dalek::SigningKey,
    f: impl FnOnce(&mut Chain) -> Result<T>,
) -> Result<(T, Option<(i64, String)>)> {
    let done = (|| {
        let pg = conn
            .pg()
            .ok_or_else(|| StoreError::Invalid("not PostgreSQL".into()))?;
        let head = pg.begin_with(HEAD_LOCK)?;
        let text = |i: usize| head.get(i).cloned().flatten().unwrap_or_default();
        let before: i64 = text(0)
            .parse()
            .map_err(|_| StoreError::Invalid(format!("audit_head.last_id: {:?}", text(0))))?;
        let end = match before {
            0 => (0, GENESIS.to_string()),
            id => (id, text(1)),
        };
        let mut chain = Chain::new(conn, end);
        let out = f(&mut chain)?;
        let (id, hash) = chain.end();
        let hash = hash.to_string();
        if id == before {
            conn.batch("COMMIT")?;
            return Ok((out, None));
        }
        let sig = hex::encode(signer.sign(head_message(id, &hash).as_bytes()).to_bytes());
        // Written into the statement (the simple protocol has no parameters): an integer and
        // two hex strings this function made, checked to be nothing else.
        if !(is_hex(&hash) && is_hex(&sig)) {
            return Err(StoreError::Invalid(format!(
                "audit hash {hash:?} is not hex"
            )));
        }
        let update = format!(
            "UPDATE audit_head SET last_id = {id}, hash = '{hash}', signature = '{sig}' WHERE one = 1"
        );
        let pg = conn
            .pg()
            .ok_or_else(|| StoreError::Invalid("not PostgreSQL".into()))?;
        pg.commit_with(&update)?;
        Ok((out, Some((id, hash))))
    })();
    if done.is_err() {
        let _ = conn.batch("ROLLBACK");
    }
    done
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}
