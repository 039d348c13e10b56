//! The command log under the audit chain. `bastion commands` reads the `commands` table, which
//! is plain rows: without this module, whoever can write the database could change what a
//! user is shown to have typed, and `audit verify` would still pass.
//!
//! So [`Store::log_command`](crate::Store::log_command) appends a `command_logged` audit event
//! in the same transaction as the row (a row never exists without its event, nor the event
//! without its row): the event names the row's id and the SHA-256 of its content. The hash
//! covers what the row says happened and never changes: session, user, host, login, ts,
//! offset, command, origin, blocked. It leaves out `exit_status`, which
//! `set_command_exit` fills in later, when the command ends: hashing it would need a second
//! event per command (doubling the audit cost of busy shells) for a value that is also in
//! the session's recording. An edited exit status is therefore not caught here.
//!
//! [`Store::verify_commands`] recomputes every row's hash against its event: an edited row,
//! a deleted row (an event without its row), and a row added outside the bastion (no event,
//! newer than the first hashed row) are each reported. Rows older than the first hashed one
//! were written before command hashing existed (an upgraded database): they are counted, not
//! failed; the checkpoints (`checkpoint.rs`) still catch their deletion.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::{Result, Store};
use crate::db::params;
use crate::event_kind::EventKind;
use crate::events::AuditEvent;

/// The content of a command row that its audit event hashes.
pub(crate) struct HashedCommand<'a> {
    pub session_id: i64,
    pub user: &'a str,
    pub host: &'a str,
    pub login: &'a str,
    pub ts: f64,
    pub offset: f64,
    pub command: &'a str,
    pub origin: &'a str,
    pub blocked: bool,
}

impl HashedCommand<'_> {
    /// SHA-256 (hex) of the fields as one canonical JSON array. SQLite keeps an f64 exactly
    /// and serde_json prints the shortest round-tripping form, so a re-read row hashes the same.
    pub(crate) fn sha256(&self) -> String {
        let canonical = serde_json::json!([
            self.session_id,
            self.user,
            self.host,
            self.login,
            self.ts,
            self.offset,
            self.command,
            self.origin,
            self.blocked,
        ])
        .to_string();
        hex::encode(Sha256::digest(canonical.as_bytes()))
    }
}

/// What [`Store::verify_commands`] found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CommandAudit {
    /// Rows whose content matches their audited hash.
    pub hashed: usize,
    /// Rows written before command hashing (older than the first hashed row).
    pub predating: usize,
    /// `(command row id, why)` for each edited, deleted or unaudited row, by row id.
    pub problems: Vec<(i64, String)>,
}

impl Store {
    /// Checks every command row against its `command_logged` event. Trusts the events, so
    /// run it after [`Store::verify_audit`] passed.
    pub fn verify_commands(&self) -> Result<CommandAudit> {
        let mut conn = self.conn();
        // command row id -> (audit record id, audited sha256)
        let mut audited: BTreeMap<i64, (i64, String)> = BTreeMap::new();
        let mut out = CommandAudit::default();
        let sql = "SELECT id, detail FROM audit WHERE event = ?1 ORDER BY id";
        conn.query_each(sql, params![EventKind::CommandLogged.as_str()], |r| {
            let record: i64 = r.get(0)?;
            let detail: String = r.get(1)?;
            let parsed = serde_json::from_str(&detail)
                .ok()
                .and_then(|d| AuditEvent::parse(EventKind::CommandLogged.as_str(), &d).ok());
            match parsed {
                Some(AuditEvent::CommandLogged {
                    command_id, sha256, ..
                }) => {
                    audited.insert(command_id, (record, sha256));
                }
                _ => out.problems.push((
                    0,
                    format!("audit record {record}: unreadable command_logged event"),
                )),
            }
            Ok(())
        })?;
        let first_hashed = audited.keys().next().copied();
        let sql =
            "SELECT id, session_id, \"user\", host, login, ts, \"offset\", command, origin, blocked
             FROM commands ORDER BY id";
        conn.query_each(sql, &[], |r| {
            let id: i64 = r.get(0)?;
            let (user, host, login): (String, String, String) = (r.get(2)?, r.get(3)?, r.get(4)?);
            let (command, origin): (String, String) = (r.get(7)?, r.get(8)?);
            let row = HashedCommand {
                session_id: r.get(1)?,
                user: &user,
                host: &host,
                login: &login,
                ts: r.get(5)?,
                offset: r.get(6)?,
                command: &command,
                origin: &origin,
                blocked: r.get(9)?,
            };
            match audited.remove(&id) {
                Some((record, sha)) if sha == row.sha256() => {
                    let _ = record;
                    out.hashed += 1;
                }
                Some((record, _)) => out.problems.push((
                    id,
                    format!("content does not match the audited hash (audit record {record})"),
                )),
                None if first_hashed.is_none_or(|first| id < first) => out.predating += 1,
                None => out.problems.push((
                    id,
                    "not in the audit log: added outside the bastion".to_string(),
                )),
            }
            Ok(())
        })?;
        for (id, (record, _)) in audited {
            out.problems.push((
                id,
                format!("deleted (audit record {record} hashed its content)"),
            ));
        }
        out.problems.sort_by_key(|p| p.0);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::testkit::{both_backends, store_on, Backend};
    use crate::{NewCommand, Store};

    fn log(s: &Store, cmd: &str) -> i64 {
        let sid = crate::testkit::session(s, None);
        s.log_command(&NewCommand {
            session_id: sid,
            user: "alice",
            host: "web1",
            login: "root",
            offset: 0.25,
            command: cmd,
            exit_status: None,
            blocked: false,
            origin: "shell",
        })
        .unwrap()
    }

    fn each_command_row_is_hashed_into_the_chain(b: Backend) {
        let (_d, s, vk) = store_on(b);
        let a = log(&s, "uptime");
        log(&s, "id");
        assert_eq!(s.verify_audit(&vk).unwrap(), None);
        let check = s.verify_commands().unwrap();
        assert_eq!((check.hashed, check.predating), (2, 0), "{check:?}");
        assert!(check.problems.is_empty(), "{check:?}");
        // The exit status is filled in later and is not part of the hash.
        s.set_command_exit(a, Some(3)).unwrap();
        assert!(s.verify_commands().unwrap().problems.is_empty());
    }

    fn edited_deleted_and_added_rows_are_reported(b: Backend) {
        let (_d, s, vk) = store_on(b);
        let a = log(&s, "uptime");
        let b = log(&s, "rm -rf /tmp/x");
        let c = log(&s, "id");
        s.conn()
            .execute(
                "UPDATE commands SET command = 'ls' WHERE id = ?1",
                crate::db::params![b],
            )
            .unwrap();
        s.conn()
            .execute("DELETE FROM commands WHERE id = ?1", crate::db::params![c])
            .unwrap();
        s.conn()
            .execute(
                "INSERT INTO commands (id, session_id, \"user\", host, login, ts, \"offset\", command, blocked, origin)
                 SELECT 99, session_id, \"user\", host, login, ts, \"offset\", 'forged', blocked, origin FROM commands WHERE id = ?1",
                crate::db::params![a],
            )
            .unwrap();
        assert_eq!(
            s.verify_audit(&vk).unwrap(),
            None,
            "the chain itself is intact"
        );
        let check = s.verify_commands().unwrap();
        let ids: Vec<i64> = check.problems.iter().map(|p| p.0).collect();
        assert_eq!(ids, vec![b, c, 99], "{check:?}");
        assert!(check.problems[0]
            .1
            .contains("does not match the audited hash"));
        assert!(check.problems[1].1.contains("deleted"));
        assert!(check.problems[2].1.contains("outside the bastion"));
        assert_eq!(check.hashed, 1);
    }

    fn rows_older_than_command_hashing_are_counted_not_failed(b: Backend) {
        let (_d, s, _vk) = store_on(b);
        log(&s, "old one");
        // What an upgraded database looks like: rows without events.
        s.conn()
            .execute("DELETE FROM audit WHERE event = 'command_logged'", &[])
            .unwrap();
        let check = s.verify_commands().unwrap();
        assert_eq!((check.hashed, check.predating), (0, 1), "{check:?}");
        log(&s, "new one");
        let check = s.verify_commands().unwrap();
        assert_eq!((check.hashed, check.predating), (1, 1), "{check:?}");
        assert!(check.problems.is_empty(), "{check:?}");
    }

    both_backends!(
        each_command_row_is_hashed_into_the_chain,
        edited_deleted_and_added_rows_are_reported,
        rows_older_than_command_hashing_are_counted_not_failed,
    );
}
