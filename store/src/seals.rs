//! Recording seals: the SHA-256 and size of each closed session's recording, signed into the
//! audit log by `session_end` or `session_interrupted`, compared with the file on disk by
//! `bastion audit verify`.

use std::collections::{BTreeMap, BTreeSet};

use crate::db::params;
use crate::event_kind::EventKind;
use crate::events::AuditEvent;
use crate::{Result, Store};

/// Where a recorded path can be read on this node.
pub type Locate<'a> = &'a dyn Fn(&str) -> Option<std::path::PathBuf>;

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
        self.check_with(&|_| None)
    }

    /// [`check`](Self::check) reading the file where `locate` finds it (a copy fetched from
    /// shared storage when another node wrote it); `None` from `locate`: the path as recorded.
    pub fn check_with(&self, locate: Locate<'_>) -> Option<(String, String)> {
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
        let file = locate(path).unwrap_or_else(|| std::path::PathBuf::from(path));
        let why = match recordings::seal_file(&file) {
            Err(_) if !file.exists() => format!("file missing; {source}"),
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
    /// Every sealed recording: the seals signed into the audit log (by `session_end` and
    /// `session_interrupted`, see [`crate::Seal`]), plus seals only the sessions table holds. Active sessions (still being written) have none.
    pub fn recording_seals(&self) -> Result<Vec<RecordingSeal>> {
        let mut conn = self.conn();
        let mut rows: BTreeMap<i64, RowSeal> = BTreeMap::new();
        conn.query_each(
            "SELECT id, recording, rec_sha256, rec_size FROM sessions WHERE recording IS NOT NULL",
            &[],
            |r| {
                let size: Option<i64> = r.get(3)?;
                rows.insert(
                    r.get(0)?,
                    (
                        r.get(1)?,
                        r.get(2)?,
                        size.and_then(|v| u64::try_from(v).ok()),
                    ),
                );
                Ok(())
            },
        )?;
        let mut out = Vec::new();
        let mut signed = BTreeSet::new();
        let audit = conn.query(
            "SELECT id, event, detail FROM audit WHERE event IN (?1, ?2) ORDER BY id",
            params![
                EventKind::SessionEnd.as_str(),
                EventKind::SessionInterrupted.as_str()
            ],
        )?;
        for r in audit {
            let audit_id: i64 = r.get(0)?;
            let event: String = r.get(1)?;
            let detail: String = r.get(2)?;
            // A record that does not parse cannot vouch for a file; `verify_audit` judges the
            // record itself.
            let Ok(parsed) =
                serde_json::from_str(&detail).and_then(|d| AuditEvent::parse(&event, &d))
            else {
                continue;
            };
            let Some((session, seal)) = parsed.seal() else {
                continue;
            };
            let Some(sha256) = seal.recording_sha256.clone() else {
                continue;
            };
            let size = seal.recording_size.unwrap_or(0);
            let row = rows.get(&session);
            let path = row
                .and_then(|r| r.0.clone())
                .or_else(|| seal.recording.clone());
            let row_mismatch = row
                .filter(|r| r.1.as_deref() != Some(sha256.as_str()) || r.2 != Some(size))
                .map(|r| (r.1.clone(), r.2));
            signed.insert(session);
            out.push(RecordingSeal {
                session,
                path,
                sha256,
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
    use crate::testkit::{both_backends, store_on, Backend};

    fn recording_seals_come_from_the_signed_events(b: Backend) {
        let (d, s, _vk) = store_on(b);
        let path = d.path().join("1.cast");
        std::fs::write(&path, "recording\n").unwrap();
        let seal = recordings::seal_file(&path).unwrap();
        let id = crate::testkit::session(&s, Some(&path.to_string_lossy()));
        s.end_session(
            id,
            &crate::SessionEnd {
                seal: crate::Seal {
                    recording: None,
                    recording_sha256: Some(seal.sha256_hex()),
                    recording_size: Some(seal.size),
                },
                ..Default::default()
            },
        )
        .unwrap();
        let end = AuditEvent::SessionEnd {
            session: id,
            host: "web1".into(),
            login: "root".into(),
            kind: "shell".into(),
            exit_status: Some(0),
            exit_signal: None,
            bytes_in: 0,
            bytes_out: 0,
            reason: String::new(),
            seal: crate::Seal {
                recording: None,
                recording_sha256: Some(seal.sha256_hex()),
                recording_size: Some(seal.size),
            },
        };
        s.audit(Some("alice"), None, &end).unwrap();
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
            .execute("UPDATE sessions SET rec_sha256 = 'x'", &[])
            .unwrap();
        std::fs::write(&path, "recording\n").unwrap();
        let seals = s.recording_seals().unwrap();
        assert!(seals[0].check().unwrap().1.contains("sessions row"));
    }

    both_backends!(recording_seals_come_from_the_signed_events,);
}
