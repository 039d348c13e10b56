//! The append-only audit log: each record carries the hash of the previous one and an ed25519
//! signature over its own hash, so edits, deletions and reorders are detectable.

use std::collections::{BTreeMap, BTreeSet};

use ed25519_dalek::{Signer, Verifier};
use rusqlite::{params, OptionalExtension};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{now_ts, Result, Store, StoreError};

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An event to append; `detail` is a JSON object with event-specific fields.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub event: &'a str,
    pub user: Option<&'a str>,
    pub source: Option<&'a str>,
    pub detail: Value,
}

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

impl Store {
    /// Appends one event to the chain. Never fails silently: an error here must deny the action
    /// that caused it at the caller.
    pub fn audit(&self, ev: NewEvent<'_>) -> Result<i64> {
        let signer = self
            .signer
            .as_ref()
            .ok_or_else(|| StoreError::Invalid("audit log opened without signing key".into()))?;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let last: Option<(i64, String)> = tx
            .query_row(
                "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (id, prev) = match last {
            Some((id, h)) => (id + 1, h),
            None => (1, GENESIS.to_string()),
        };
        let ts = now_ts();
        let detail = ev.detail.to_string();
        let hash = record_hash(id, ts, ev.event, ev.user, ev.source, &detail, &prev);
        let sig = hex::encode(signer.sign(hash.as_bytes()).to_bytes());
        tx.execute(
            "INSERT INTO audit(id, ts, event, user, source, detail, prev_hash, hash, signature)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![id, ts, ev.event, ev.user, ev.source, detail, prev, hash, sig],
        )?;
        tx.commit()?;
        self.write_audit_head(id, &hash);
        Ok(id)
    }

    /// Records the newest audit record outside the database (write to a temp file, then rename,
    /// so a crash never leaves a torn head). Failing here is logged, not fatal: the record is
    /// already committed, and verify reports a head that lags behind as fine.
    fn write_audit_head(&self, id: i64, hash: &str) {
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
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT id, ts, event, user, source, detail, prev_hash, hash, signature
             FROM audit WHERE ts >= ?1 ORDER BY id",
        )?;
        let rows = st.query_map([since.unwrap_or(0.0)], |r| {
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

/// A recording's seal (SHA-256 and size) as `audit verify` must find it on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingSeal {
    pub session: i64,
    /// The file, as the sessions row (or else the sealing event) names it.
    pub path: Option<String>,
    pub sha256: String,
    pub size: u64,
    /// The audit record that signed the seal (`session_end` or `session_interrupted`); `None`
    /// when only the unsigned sessions row holds one.
    pub audit_id: Option<i64>,
    /// The sessions row's own copy of the seal when it differs from the signed one.
    pub row_mismatch: Option<(Option<String>, Option<u64>)>,
}

impl RecordingSeal {
    /// Compares the seal with the file on disk: `None` if they match, else the path and why.
    pub fn check(&self) -> Option<(String, String)> {
        let Some(path) = &self.path else {
            return Some((
                "?".into(),
                "sealed, but no session row names its recording file".into(),
            ));
        };
        let source = match self.audit_id {
            Some(id) => format!("sealed in audit record {id}"),
            None => "sealed in the sessions table only (no signed seal)".to_string(),
        };
        let why = match recordings::seal_file(std::path::Path::new(path)) {
            Err(_) if !std::path::Path::new(path).exists() => format!("file missing; {source}"),
            Err(e) => format!("unreadable ({e}); {source}"),
            Ok(disk) if disk.size != self.size => format!(
                "{} to {} bytes, sealed with {}; {source}",
                if disk.size < self.size { "truncated" } else { "grown" },
                disk.size,
                self.size
            ),
            Ok(disk) if disk.sha256_hex() != self.sha256 => format!(
                "content changed: sha256 {} but sealed {}; {source}",
                disk.sha256_hex(),
                self.sha256
            ),
            Ok(_) => match &self.row_mismatch {
                Some((sha, size)) => format!(
                    "the sessions row's seal (sha256 {}, size {}) differs from the signed one; {source}",
                    sha.as_deref().unwrap_or("none"),
                    size.map(|v| v.to_string()).unwrap_or_else(|| "none".into())
                ),
                None => return None,
            },
        };
        Some((path.clone(), why))
    }
}

/// A sessions row's recording path and its own (unsigned) copy of the seal.
type RowSeal = (Option<String>, Option<String>, Option<u64>);

impl Store {
    /// Every sealed recording: the seals signed into the audit log (`session_end` carries
    /// `recording_sha256`/`recording_size`, `session_interrupted` carries `sha256`/`size`), plus
    /// seals only the sessions table holds. Active sessions (still being written) have none.
    pub fn recording_seals(&self) -> Result<Vec<RecordingSeal>> {
        let conn = self.conn();
        let mut rows: BTreeMap<i64, RowSeal> = BTreeMap::new();
        {
            let mut st = conn.prepare(
                "SELECT id, recording, rec_sha256, rec_size FROM sessions WHERE recording IS NOT NULL",
            )?;
            let mut q = st.query([])?;
            while let Some(r) = q.next()? {
                let size: Option<i64> = r.get(3)?;
                rows.insert(
                    r.get(0)?,
                    (
                        r.get(1)?,
                        r.get(2)?,
                        size.and_then(|v| u64::try_from(v).ok()),
                    ),
                );
            }
        }
        let mut out = Vec::new();
        let mut signed = BTreeSet::new();
        let mut st = conn.prepare(
            "SELECT id, event, detail FROM audit
             WHERE event IN ('session_end', 'session_interrupted') ORDER BY id",
        )?;
        let mut q = st.query([])?;
        while let Some(r) = q.next()? {
            let audit_id: i64 = r.get(0)?;
            let event: String = r.get(1)?;
            let detail: String = r.get(2)?;
            let Ok(detail) = serde_json::from_str::<Value>(&detail) else {
                continue;
            };
            let (sha_key, size_key) = if event == "session_end" {
                ("recording_sha256", "recording_size")
            } else {
                ("sha256", "size")
            };
            let (Some(session), Some(sha256)) =
                (detail["session"].as_i64(), detail[sha_key].as_str())
            else {
                continue;
            };
            let size = detail[size_key].as_u64().unwrap_or(0);
            let row = rows.get(&session);
            let path = row
                .and_then(|r| r.0.clone())
                .or_else(|| detail["recording"].as_str().map(str::to_string));
            let row_mismatch = row
                .filter(|r| r.1.as_deref() != Some(sha256) || r.2 != Some(size))
                .map(|r| (r.1.clone(), r.2));
            signed.insert(session);
            out.push(RecordingSeal {
                session,
                path,
                sha256: sha256.to_string(),
                size,
                audit_id: Some(audit_id),
                row_mismatch,
            });
        }
        for (session, (path, sha, size)) in rows {
            if let (false, Some(sha256)) = (signed.contains(&session), sha) {
                out.push(RecordingSeal {
                    session,
                    path,
                    sha256,
                    size: size.unwrap_or(0),
                    audit_id: None,
                    row_mismatch: None,
                });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store, ed25519_dalek::VerifyingKey) {
        let dir = tempfile::tempdir().unwrap();
        let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let vk = key.verifying_key();
        let s = Store::open(&dir.path().join("db"), Some(key)).unwrap();
        (dir, s, vk)
    }

    fn ev(name: &str) -> NewEvent<'_> {
        NewEvent {
            event: name,
            user: Some("alice"),
            source: Some("127.0.0.1"),
            detail: serde_json::json!({"k": 1}),
        }
    }

    #[test]
    fn chain_verifies_and_detects_edit_and_delete() {
        let (_d, s, vk) = store();
        for n in ["a", "b", "c"] {
            s.audit(ev(n)).unwrap();
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
        for n in ["a", "b", "c", "d"] {
            s.audit(ev(n)).unwrap();
        }
        assert_eq!(s.verify_audit(&vk).unwrap(), None);
        s.conn()
            .execute("DELETE FROM audit WHERE id >= 3", [])
            .unwrap();
        let bad = s.verify_audit(&vk).unwrap().unwrap();
        assert_eq!(bad.0, 3, "{bad:?}");
        assert!(bad.1.contains("missing"), "{bad:?}");
        s.audit(ev("e")).unwrap(); // the log goes on from 3; head now names the new record 3
        assert_eq!(s.verify_audit(&vk).unwrap(), None);
        std::fs::remove_file(&s.audit_head).unwrap();
        assert!(
            s.verify_audit(&vk).unwrap().is_some(),
            "a missing head with records is suspicious"
        );
    }

    #[test]
    fn recording_seals_come_from_the_signed_events() {
        let (d, s, _vk) = store();
        let path = d.path().join("1.cast");
        std::fs::write(&path, "recording\n").unwrap();
        let seal = recordings::seal_file(&path).unwrap();
        let id = s
            .start_session(&crate::store::NewSession {
                user: "alice",
                source: "127.0.0.1",
                host: "web1",
                login: "root",
                kind: "shell",
                command: None,
                recording: Some(&path.to_string_lossy()),
            })
            .unwrap();
        s.end_session(
            id,
            &crate::store::SessionEnd {
                rec_sha256: Some(seal.sha256_hex()),
                rec_size: Some(seal.size),
                ..Default::default()
            },
        )
        .unwrap();
        s.audit(NewEvent {
            event: "session_end",
            user: Some("alice"),
            source: None,
            detail: serde_json::json!({"session": id, "recording_sha256": seal.sha256_hex(),
                                       "recording_size": seal.size}),
        })
        .unwrap();
        let seals = s.recording_seals().unwrap();
        assert_eq!(seals.len(), 1);
        assert_eq!(seals[0].audit_id, Some(1));
        assert_eq!(seals[0].check(), None);
        std::fs::write(&path, "recordinG\n").unwrap();
        assert!(seals[0].check().unwrap().1.contains("content changed"));
        std::fs::write(&path, "rec").unwrap();
        assert!(seals[0].check().unwrap().1.contains("truncated"));
        std::fs::remove_file(&path).unwrap();
        assert!(seals[0].check().unwrap().1.contains("missing"));
        // The unsigned sessions row cannot vouch for a changed file.
        s.conn()
            .execute("UPDATE sessions SET rec_sha256 = 'x'", [])
            .unwrap();
        std::fs::write(&path, "recording\n").unwrap();
        let seals = s.recording_seals().unwrap();
        assert!(seals[0].check().unwrap().1.contains("sessions row"));
    }
}
