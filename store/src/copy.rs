//! Copying a whole store into another, empty one: `bastion migrate --to postgres://…` moves
//! an embedded SQLite store to PostgreSQL when a bastion becomes several nodes.
//!
//! Every row is copied as it is, ids included: the audit chain's records keep their ids,
//! times, hashes and signatures, and command rows keep the ids their `command_logged` events
//! and the checkpoints name, so the copy verifies exactly as the original did (and with the
//! same key). The copy is one transaction on the destination, holding its chain lock, so it
//! lands whole or not at all, and the source is read in one read transaction (a consistent
//! snapshot; stop the bastion first all the same, or its newest records stay behind). After
//! the rows: PostgreSQL's id sequences continue after the copied ids, and the head row is
//! signed for the copied chain's end.

use crate::db::{Conn, Param};
use crate::{Result, Store, StoreError};

/// The tables in copy order (a row's foreign keys point at tables copied before it), with
/// their columns and whether `id` is an identity whose sequence must continue.
const TABLES: &[(&str, &str, bool)] = &[
    (
        "users",
        "id, name, disabled, totp_secret, totp_last_step, created_at",
        true,
    ),
    (
        "user_keys",
        "id, user_id, fingerprint, public_key, comment, added_at",
        true,
    ),
    (
        "sessions",
        "id, \"user\", source, host, login, kind, command, started_at, ended_at, status, exit_status,
         exit_signal, recording, rec_sha256, rec_size, bytes_in, bytes_out, end_reason, node",
        true,
    ),
    (
        "commands",
        "id, session_id, \"user\", host, login, ts, \"offset\", command, exit_status, blocked, origin",
        true,
    ),
    (
        "audit",
        "id, ts, event, \"user\", source, detail, prev_hash, hash, signature",
        false,
    ),
    (
        "host_keys",
        "endpoint, host, public_key, fingerprint, pinned_at",
        false,
    ),
    (
        "console_links",
        "token_hash, \"user\", created_at, expires_at, used_at",
        false,
    ),
    (
        "console_sessions",
        "id_hash, \"user\", csrf, created_at, last_seen, expires_at, ended_at",
        false,
    ),
    // Login failures still inside their lockout window: a lockout outlives the move.
    ("auth_failures", "key, ts", false),
    (
        "requests",
        "id, kind, \"user\", host, login, text, rule, session_id, approvers, seconds, created_at,
         status, decided_by, decided_at, note, granted_until",
        true,
    ),
];

/// Rows per INSERT statement: few round trips, far below PostgreSQL's parameter limit.
const BATCH: usize = 500;

/// What was copied: each table and its row count, in copy order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyReport {
    pub tables: Vec<(&'static str, u64)>,
    /// The copied chain's newest record (0 for an empty log).
    pub audit_head: i64,
}

impl Store {
    /// Copies every row of this store into `dest`, which must be empty (no users, sessions
    /// or audit records) and opened with the signing key (it signs the head row).
    pub fn copy_to(&self, dest: &Store) -> Result<CopyReport> {
        let mut src = self.conn();
        src.batch("BEGIN")?;
        let copied = dest.chain_tx(|d| {
            let used: i64 = d
                .query_one(
                    "SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM sessions)
                        + (SELECT COUNT(*) FROM audit)",
                    &[],
                )?
                .get(0)?;
            if used > 0 {
                return Err(StoreError::Invalid(
                    "the destination store is not empty: migrate into a new database".into(),
                ));
            }
            let mut report = CopyReport::default();
            for (table, columns, identity) in TABLES {
                let n = copy_table(&mut src, d, table, columns)?;
                if *identity && d.is_pg() {
                    d.query_one(
                        &format!(
                            "SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                                COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                        ),
                        &[],
                    )?;
                }
                report.tables.push((table, n));
            }
            // The chain came in as rows, not through appends.
            d.reread_end()?;
            report.audit_head = d.end().0;
            Ok(report)
        });
        let _ = src.batch("COMMIT");
        copied
    }
}

/// Copies one table's rows in batches of multi-row INSERTs; returns how many.
fn copy_table(src: &mut Conn, dest: &mut Conn, table: &str, columns: &str) -> Result<u64> {
    let width = columns.split(',').count();
    let mut rows: Vec<Param> = Vec::with_capacity(BATCH * width);
    let mut total = 0u64;
    let select = format!("SELECT {columns} FROM {table}");
    src.query_each(&select, &[], |r| {
        if r.0.len() != width {
            return Err(StoreError::Invalid(format!(
                "{table}: unexpected row {r:?}"
            )));
        }
        rows.extend(r.0);
        if rows.len() == BATCH * width {
            total += insert(dest, table, columns, width, &rows)?;
            rows.clear();
        }
        Ok(())
    })?;
    if !rows.is_empty() {
        total += insert(dest, table, columns, width, &rows)?;
    }
    Ok(total)
}

fn insert(
    dest: &mut Conn,
    table: &str,
    columns: &str,
    width: usize,
    rows: &[Param],
) -> Result<u64> {
    let tuples: Vec<String> = rows
        .chunks(width)
        .enumerate()
        .map(|(i, _)| {
            let marks: Vec<String> = (1..=width).map(|c| format!("?{}", i * width + c)).collect();
            format!("({})", marks.join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO {table} ({columns}) VALUES {}",
        tuples.join(", ")
    );
    dest.execute(&sql, rows)
        .map_err(|e| StoreError::Invalid(format!("copying {table}: {e}")))
}

#[cfg(test)]
mod tests {
    use crate::testkit::{session, store_on, Backend};
    use crate::{AuditEvent, NewCommand, UserKey};

    #[test]
    fn a_sqlite_store_copied_into_postgres_verifies_and_goes_on() {
        let (_d, mut src, vk) = store_on(Backend::Sqlite);
        src.checkpoint_every = 5;
        let key = UserKey {
            fingerprint: "SHA256:abc".into(),
            public_key: "ssh-ed25519 AAAA alice".into(),
            comment: "laptop".into(),
        };
        src.add_user("alice", Some("JBSWY3DPEHPK3PXP"), &[key])
            .unwrap();
        src.consume_totp_step("alice", 42).unwrap();
        let sid = session(&src, None);
        for n in 0..12 {
            src.log_command(&NewCommand {
                session_id: sid,
                user: "alice",
                host: "web1",
                login: "root",
                offset: n as f64 / 3.0,
                command: &format!("command {n}"),
                exit_status: Some(n),
                blocked: n == 3,
                origin: "shell",
            })
            .unwrap();
        }
        src.check_or_pin_host_key("10.0.0.1:22", "web1", "ssh-ed25519 K", "SHA256:k")
            .unwrap();
        src.add_console_link("tok", "alice", 1.0, 2.0).unwrap();
        src.record_auth_failure(&["user:alice", "addr:10.0.0.9"], 100.0, 0.0)
            .unwrap();
        src.end_session(sid, &Default::default()).unwrap();

        let (_d2, dst, _) = store_on(Backend::Postgres);
        let report = src.copy_to(&dst).unwrap();
        assert_eq!(report.audit_head, src.newest_audit_id().unwrap());
        assert!(report.tables.contains(&("commands", 12)), "{report:?}");
        let v = dst.verify_all(&vk).unwrap();
        assert!(v.is_ok(), "{:?}", v.problems("TAMPERED"));
        assert!(v.checkpoints.last.is_some());
        let hashes = |s: &crate::Store| -> Vec<String> {
            s.audit_records(None)
                .unwrap()
                .into_iter()
                .map(|r| r.hash)
                .collect()
        };
        assert_eq!(hashes(&src), hashes(&dst));
        assert_eq!(dst.session_hosts().unwrap(), vec!["web1".to_string()]);
        assert!(
            !dst.consume_totp_step("alice", 42).unwrap(),
            "used steps come along"
        );
        assert_eq!(dst.user_keys("alice").unwrap().len(), 1);
        assert_eq!(
            dst.auth_failure_counts(&["user:alice", "addr:10.0.0.9"], 50.0)
                .unwrap(),
            vec![1, 1],
            "a lockout in progress comes along"
        );
        // The copy goes on: the chain, and every id sequence, after the copied rows.
        let next = dst
            .audit(
                None,
                None,
                &AuditEvent::PolicyReloaded { roles: 1, hosts: 1 },
            )
            .unwrap();
        assert_eq!(next, report.audit_head + 1);
        assert_eq!(session(&dst, None), sid + 1);
        dst.add_user("bob", None, &[]).unwrap();
        assert!(dst.verify_all(&vk).unwrap().is_ok());
        let again = src.copy_to(&dst).unwrap_err();
        assert!(again.to_string().contains("not empty"), "{again}");
    }
}
