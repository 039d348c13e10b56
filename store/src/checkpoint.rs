//! Signed checkpoints in the audit chain: after every `CHECKPOINT_EVERY` records, a
//! `checkpoint { records, last_hash, commands, last_command }` event.
//!
//! What they add beyond each record's own signature and link: each record only vouches for
//! itself and its predecessor, and nothing in the chain says how big the command log was. A
//! checkpoint states, under the signature, "the log had `records` records ending in
//! `last_hash`, and the command log had `commands` rows up to row `last_command`". So
//! `verify` catches a deleted command row even when it predates command hashing (an upgraded
//! database), and an operator who ships checkpoints off the box (`bastion audit --follow`)
//! holds a short commitment to everything before it: a chain rewritten with the stolen
//! signing key no longer ends in, or passes through, the hash they kept.
//!
//! What they do not do: the newest records after the last checkpoint are vouched for only by
//! the head: on SQLite the unsigned head file (whoever can write the data directory can delete
//! them and rewrite that file); on PostgreSQL the signed head row and each node's head file
//! (`audit_head.rs` says what that catches). Only copies kept elsewhere (shipped events) show
//! the rest. A clean shutdown (SIGTERM,
//! SIGINT) writes one more checkpoint ([`Store::checkpoint_now`]) after the last session ended,
//! so a log that stopped cleanly ends in a signed statement of its size; a crash does not.

use super::{Result, Store};
use crate::db::{params, Conn};
use crate::event_kind::EventKind;
use crate::events::AuditEvent;

/// The checkpoint to append after record `id` (whose hash is `hash`), inside its transaction.
pub(crate) fn checkpoint_event(tx: &mut Conn, id: i64, hash: &str) -> Result<AuditEvent> {
    let r = tx.query_one("SELECT COUNT(*), MAX(id) FROM commands", &[])?;
    let (commands, last_command): (i64, Option<i64>) = (r.get(0)?, r.get(1)?);
    Ok(AuditEvent::Checkpoint {
        records: id,
        last_hash: hash.to_string(),
        commands,
        last_command,
    })
}

/// What [`Store::verify_checkpoints`] found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CheckpointReport {
    /// The newest checkpoint's record id and the number of records it covers.
    pub last: Option<(i64, i64)>,
    /// Records after the newest checkpoint (or all of them, without one).
    pub after: i64,
    /// The record the head file names, when it is readable.
    pub head: Option<i64>,
    /// `(checkpoint record id, why)` for each checkpoint the log no longer agrees with.
    pub problems: Vec<(i64, String)>,
}

impl Store {
    /// Appends a checkpoint for the log as it stands (at a clean shutdown); `None` when the log
    /// is empty. Returns the checkpoint's record id.
    pub fn checkpoint_now(&self) -> Result<Option<i64>> {
        let signer = self.signer()?;
        self.chain_tx(|tx| {
            let (id, hash) = tx.end();
            if id == 0 {
                return Ok(None);
            }
            let hash = hash.to_string();
            let cp = checkpoint_event(tx, id, &hash)?;
            let (cp_id, _) = crate::audit::append(tx, signer, None, None, &cp)?;
            Ok(Some(cp_id))
        })
    }

    /// Checks every checkpoint against the records before it and the command log. Trusts the
    /// chain, so run it after [`Store::verify_audit`] passed (which also checks the records
    /// after the last checkpoint against the head file).
    pub fn verify_checkpoints(&self) -> Result<CheckpointReport> {
        let mut conn = self.conn();
        let mut out = CheckpointReport::default();
        let rows = conn.query(
            "SELECT id, detail, prev_hash FROM audit WHERE event = ?1 ORDER BY id",
            params![EventKind::Checkpoint.as_str()],
        )?;
        for r in rows {
            let (id, detail, prev): (i64, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
            let parsed = serde_json::from_str(&detail)
                .ok()
                .and_then(|d| AuditEvent::parse(EventKind::Checkpoint.as_str(), &d).ok());
            let Some(AuditEvent::Checkpoint {
                records,
                last_hash,
                commands,
                last_command,
            }) = parsed
            else {
                out.problems.push((id, "unreadable checkpoint".into()));
                continue;
            };
            if records != id - 1 || last_hash != prev {
                out.problems.push((
                    id,
                    format!("names record {records}, which is not the record before it"),
                ));
            }
            let now: i64 = conn
                .query_one(
                    "SELECT COUNT(*) FROM commands WHERE id <= ?1",
                    params![last_command.unwrap_or(0)],
                )?
                .get(0)?;
            if now != commands {
                out.problems.push((
                    id,
                    format!(
                        "{commands} command rows existed up to row {}, now {now}: command rows were deleted or added",
                        last_command.unwrap_or(0)
                    ),
                ));
            }
            out.last = Some((id, records));
        }
        let last_id: i64 = conn
            .query_one("SELECT COALESCE(MAX(id), 0) FROM audit", &[])?
            .get(0)?;
        drop(conn);
        out.after = last_id - out.last.map_or(0, |l| l.0);
        out.head = self.head_file_id();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::events::AuditEvent;
    use crate::testkit::{both_backends, store_on, Backend};

    fn a_checkpoint_follows_every_nth_record_and_catches_deleted_commands(b: Backend) {
        let (_d, mut s, vk) = store_on(b);
        s.checkpoint_every = 4;
        // Command rows written before command hashing: only a checkpoint covers them.
        let sid = crate::testkit::session(&s, None);
        for n in 0..2 {
            s.conn()
                .execute(
                    "INSERT INTO commands (session_id, \"user\", host, login, ts, \"offset\", command, blocked, origin)
                     VALUES (?2, 'alice', 'web1', 'root', 1.0, 0.0, ?1, 0, 'exec')",
                    crate::db::params![format!("old {n}"), sid],
                )
                .unwrap();
        }
        for n in 0..9 {
            s.audit(
                None,
                None,
                &AuditEvent::PolicyReloaded { roles: n, hosts: 1 },
            )
            .unwrap();
        }
        // Records 1-4, checkpoint 5, 6-8 (8 is a multiple of 4), checkpoint 9, 10-11.
        let events: Vec<String> = s
            .audit_records(None)
            .unwrap()
            .into_iter()
            .map(|r| r.event)
            .collect();
        assert_eq!(events.len(), 11, "{events:?}");
        assert_eq!(
            (events[4].as_str(), events[8].as_str()),
            ("checkpoint", "checkpoint")
        );
        assert_eq!(s.verify_audit(&vk).unwrap(), None);
        let report = s.verify_checkpoints().unwrap();
        assert_eq!(report.last, Some((9, 8)), "{report:?}");
        assert_eq!((report.after, report.head), (2, Some(11)));
        assert!(report.problems.is_empty(), "{report:?}");

        s.conn()
            .execute("DELETE FROM commands WHERE id = 1", &[])
            .unwrap();
        let report = s.verify_checkpoints().unwrap();
        assert_eq!(
            report.problems.len(),
            2,
            "both checkpoints counted it: {report:?}"
        );
        assert!(report.problems[0].1.contains("deleted"), "{report:?}");
        assert_eq!(s.verify_commands().unwrap().predating, 1);
    }

    both_backends!(a_checkpoint_follows_every_nth_record_and_catches_deleted_commands,);
}
