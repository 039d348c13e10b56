//! What only PostgreSQL has to prove: several `Store` handles (several bastion nodes) on one
//! database keep one audit chain in one global order, single-use TOTP steps and first-use
//! host key pins hold across nodes, and the store works when called from inside a tokio
//! runtime (where the `postgres` crate alone would panic).

use std::sync::Arc;

use crate::testkit::{key, session, store_on, Backend};
use crate::{AuditEvent, NewCommand, PinCheck, Store};

/// A second handle ("node") on the database of `url`, with its own head file in `dir`.
fn node(url: &str, dir: &std::path::Path, name: &str, every: i64) -> Store {
    let mut s = Store::connect(url, Some(key()))
        .unwrap()
        .with_audit_head(dir.join(format!("{name}.audit-head")));
    s.checkpoint_every = every;
    s
}

fn command<'a>(sid: i64, text: &'a str) -> NewCommand<'a> {
    NewCommand {
        session_id: sid,
        user: "alice",
        host: "web1",
        login: "root",
        offset: 0.5,
        command: text,
        exit_status: None,
        blocked: false,
        origin: "exec",
    }
}

#[test]
fn two_nodes_appending_from_many_threads_keep_one_verifiable_chain() {
    let dir = tempfile::tempdir().unwrap();
    let url = pgtest::database();
    // Checkpoints every 7 records: they count command rows, which interleave across nodes.
    let nodes = [
        Arc::new(node(&url, dir.path(), "a", 7)),
        Arc::new(node(&url, dir.path(), "b", 7)),
    ];
    let sid = session(&nodes[0], None);
    let threads: Vec<_> = (0..6)
        .map(|t| {
            let s = nodes[t % 2].clone();
            std::thread::spawn(move || {
                for n in 0..25 {
                    if n % 3 == 0 {
                        s.log_command(&command(sid, &format!("thread {t} command {n}")))
                            .unwrap();
                    } else {
                        let ev = AuditEvent::PolicyReloaded { roles: n, hosts: t };
                        s.audit(Some("alice"), None, &ev).unwrap();
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let vk = key().verifying_key();
    let records = nodes[1].audit_records(None).unwrap();
    // 150 events, and a checkpoint after each record whose id is a multiple of 7.
    let checkpoints = records.iter().filter(|r| r.event == "checkpoint").count();
    assert_eq!(records.len() - checkpoints, 150);
    assert!(checkpoints >= 150 / 7, "{checkpoints}");
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r.id, i as i64 + 1);
    }
    for n in &nodes {
        let v = n.verify_all(&vk).unwrap();
        assert!(v.is_ok(), "{:?}", v.problems("TAMPERED"));
        assert_eq!(v.commands.hashed, 6 * 9);
        assert!(v.checkpoints.last.is_some());
    }
}

#[test]
fn deleting_the_newest_records_is_caught_by_the_head_row_and_each_nodes_file() {
    let (dir, a, vk) = store_on(Backend::Postgres);
    for n in 0..4 {
        let ev = AuditEvent::PolicyReloaded { roles: n, hosts: 1 };
        a.audit(None, None, &ev).unwrap();
    }
    a.conn()
        .execute("DELETE FROM audit WHERE id >= 3", &[])
        .unwrap();
    let bad = a.verify_audit(&vk).unwrap().unwrap();
    assert!(bad.1.contains("audit_head row"), "{bad:?}");
    // Someone who also moves the head row back (unsigned) is caught by its signature...
    a.conn()
        .execute(
            "UPDATE audit_head SET last_id = 2, hash = (SELECT hash FROM audit WHERE id = 2)",
            &[],
        )
        .unwrap();
    let bad = a.verify_audit(&vk).unwrap().unwrap();
    assert!(bad.1.contains("signature"), "{bad:?}");
    // ...and one who restores an old signed head row, by the node's own head file.
    a.conn().execute("DELETE FROM audit_head", &[]).unwrap();
    a.conn()
        .execute("INSERT INTO audit_head VALUES (1, 0, '', '')", &[])
        .unwrap();
    let bad = a.verify_audit(&vk).unwrap().unwrap();
    assert!(bad.1.contains("audit head file"), "{bad:?}");
    // A node without a head file of its own (a new node) is not suspicious by itself.
    std::fs::remove_file(dir.path().join("node.audit-head")).unwrap();
    assert_eq!(a.verify_audit(&vk).unwrap(), None);
}

#[test]
fn a_totp_step_is_used_once_across_nodes_even_when_they_race() {
    let dir = tempfile::tempdir().unwrap();
    let url = pgtest::database();
    let a = Arc::new(node(&url, dir.path(), "a", 1000));
    let b = Arc::new(node(&url, dir.path(), "b", 1000));
    a.add_user("alice", Some("JBSWY3DPEHPK3PXP"), &[]).unwrap();
    assert!(a.consume_totp_step("alice", 5).unwrap());
    assert!(
        !b.consume_totp_step("alice", 5).unwrap(),
        "replayed on node b"
    );
    assert!(b.consume_totp_step("alice", 6).unwrap());
    assert!(!a.consume_totp_step("alice", 6).unwrap());
    let winners: usize = (0..8)
        .map(|t| {
            let s = if t % 2 == 0 { a.clone() } else { b.clone() };
            std::thread::spawn(move || s.consume_totp_step("alice", 100).unwrap() as usize)
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .sum();
    assert_eq!(winners, 1);
}

#[test]
fn two_nodes_meeting_a_new_target_pin_one_key() {
    let dir = tempfile::tempdir().unwrap();
    let url = pgtest::database();
    let nodes: Vec<Arc<Store>> = (0..4)
        .map(|n| Arc::new(node(&url, dir.path(), &format!("n{n}"), 1000)))
        .collect();
    let results: Vec<PinCheck> = nodes
        .iter()
        .enumerate()
        .map(|(n, s)| {
            let s = s.clone();
            std::thread::spawn(move || {
                let key = format!("ssh-ed25519 KEY{n}");
                s.check_or_pin_host_key("10.0.0.1:22", "db1", &key, &format!("SHA256:{n}"))
                    .unwrap()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    let pinned = results
        .iter()
        .filter(|r| **r == PinCheck::PinnedNow)
        .count();
    let refused = results
        .iter()
        .filter(|r| matches!(r, PinCheck::Mismatch { .. }))
        .count();
    assert_eq!((pinned, refused), (1, 3), "{results:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_answers_from_inside_tokio_tasks() {
    let (_dir, s, vk) = store_on(Backend::Postgres);
    let s = Arc::new(s);
    s.add_user("carol", None, &[]).unwrap();
    let tasks: Vec<_> = (0..4)
        .map(|t| {
            let s = s.clone();
            tokio::spawn(async move {
                let sid = session(&s, None);
                s.log_command(&command(sid, &format!("task {t}"))).unwrap();
                s.audit(
                    Some("carol"),
                    None,
                    &AuditEvent::PolicyReloaded { roles: t, hosts: 0 },
                )
                .unwrap()
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(s.users().unwrap().len(), 1);
    assert!(s.verify_all(&vk).unwrap().is_ok());
    assert_eq!(s.commands(&Default::default()).unwrap().len(), 4);
}

#[test]
fn connect_opens_sqlite_for_a_path_and_hides_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let s = Store::connect(path.to_str().unwrap(), Some(key())).unwrap();
    assert!(!s.is_postgres());
    assert_eq!(s.schema_version().unwrap(), crate::SCHEMA_VERSION);
    assert_eq!(
        crate::redact("postgres://bastion:s3cret@db:5432/bastion"),
        "postgres://bastion:***@db:5432/bastion"
    );
    let err = Store::connect("postgres://nobody@127.0.0.1:1/none", None)
        .err()
        .unwrap();
    assert!(err.to_string().starts_with("database:"), "{err}");
}

#[test]
fn postgres_schema_is_at_the_same_version_and_reopens() {
    let url = pgtest::database();
    let s = Store::connect(&url, None).unwrap();
    assert!(s.is_postgres());
    assert_eq!(s.schema_version().unwrap(), crate::SCHEMA_VERSION);
    assert_eq!(s.migrations().unwrap().len(), crate::SCHEMA_VERSION);
    drop(s);
    let again = Store::connect(&url, None).unwrap();
    assert_eq!(again.schema_version().unwrap(), crate::SCHEMA_VERSION);
}

/// A database at version 12 (the search on `ILIKE` over `command`, its index with a pending
/// list) upgrades in place: the rows it holds are found through the new lower-cased column,
/// and the new index takes inserts without a pending list.
#[test]
fn the_command_search_migration_upgrades_a_version_12_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = pgtest::database();
    let old = node(&url, dir.path(), "a", 1000);
    let sid = session(&old, None);
    old.log_command(&command(sid, "tail -f /var/log/NGINX/error.log"))
        .unwrap();
    // Back to version 12's schema, as that code left it.
    old.conn()
        .batch(
            "DROP INDEX commands_folded_trgm;
             ALTER TABLE commands DROP COLUMN command_folded;
             CREATE INDEX commands_trgm ON commands USING gin (command gin_trgm_ops);
             DELETE FROM schema_migrations WHERE version = 13;",
        )
        .unwrap();
    drop(old);
    let new = node(&url, dir.path(), "a", 1000);
    assert_eq!(new.schema_version().unwrap(), 13);
    new.log_command(&command(sid, "systemctl reload nginx"))
        .unwrap();
    let found = new
        .commands(&crate::CommandFilter {
            grep: Some("Nginx".into()),
            ..Default::default()
        })
        .unwrap();
    let found: Vec<_> = found.into_iter().map(|c| c.command).collect();
    assert_eq!(
        found,
        ["tail -f /var/log/NGINX/error.log", "systemctl reload nginx"]
    );
    let index = new
        .conn()
        .query_one(
            "SELECT array_to_string(c.reloptions, ','), pg_get_indexdef(c.oid)
             FROM pg_class c WHERE c.relname = 'commands_folded_trgm'",
            &[],
        )
        .unwrap();
    assert_eq!(index.get::<String>(0).unwrap(), "fastupdate=off");
    assert!(index
        .get::<String>(1)
        .unwrap()
        .contains("gin (command_folded gin_trgm_ops)"));
    let old_index = new
        .conn()
        .query_opt(
            "SELECT 1 FROM pg_class WHERE relname = 'commands_trgm'",
            &[],
        )
        .unwrap();
    assert!(old_index.is_none(), "the old index is dropped");
}

#[test]
fn a_lost_connection_fails_one_statement_then_connects_again() {
    let dir = tempfile::tempdir().unwrap();
    let url = pgtest::database();
    let a = node(&url, dir.path(), "a", 1000);
    let b = node(&url, dir.path(), "b", 1000);
    a.add_user("alice", None, &[]).unwrap();
    let pid: i64 = a
        .conn()
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0)
        .unwrap();
    b.conn()
        .execute("SELECT pg_terminate_backend(?1)", crate::db::params![pid])
        .unwrap();
    let gone = || {
        let r = b
            .conn()
            .query_one(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = ?1",
                crate::db::params![pid],
            )
            .unwrap();
        r.get::<i64>(0).unwrap() == 0
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !gone() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // The statement that meets the dead connection may fail; the next one reconnects.
    let _ = a.users();
    assert_eq!(a.users().unwrap().len(), 1);
    a.audit(
        None,
        None,
        &AuditEvent::PolicyReloaded { roles: 1, hosts: 1 },
    )
    .unwrap();
    assert!(a.verify_all(&key().verifying_key()).unwrap().is_ok());
}

#[test]
fn a_long_query_stopped_early_leaves_the_connection_usable() {
    let (_dir, s, vk) = store_on(Backend::Postgres);
    // More records than one streamed chunk (1000), so verify stops with rows still unread.
    s.chain_tx(|tx| {
        for n in 0..2200 {
            let ev = AuditEvent::PolicyReloaded { roles: n, hosts: 0 };
            crate::audit::append(tx, &key(), None, None, &ev)?;
        }
        Ok(())
    })
    .unwrap();
    s.conn()
        .execute("UPDATE audit SET source = 'x' WHERE id = 5", &[])
        .unwrap();
    assert_eq!(s.verify_audit(&vk).unwrap().unwrap().0, 5);
    assert_eq!(s.newest_audit_id().unwrap(), 2200);
    assert_eq!(s.audit_records_after(2190, 100).unwrap().len(), 10);
}

/// A node's own end and two survivors' interrupts, each on its own connection, race for each
/// of 20 sessions: every session is sealed exactly once (one `closed` row with no
/// `session_interrupted`, or one `interrupted` row with exactly one), whoever wins.
#[test]
fn a_sessions_end_and_survivors_interrupts_racing_seal_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = pgtest::database();
    let a = Arc::new(node(&url, dir.path(), "a", 1000));
    a.set_node("node-a");
    let survivors = [
        Arc::new(node(&url, dir.path(), "b", 1000)),
        Arc::new(node(&url, dir.path(), "c", 1000)),
    ];
    let ids: Vec<i64> = (0..20).map(|_| session(&a, Some("/r/x.cast"))).collect();
    let rows: Vec<crate::SessionRow> = ids
        .iter()
        .map(|id| a.session(*id).unwrap().unwrap())
        .collect();
    let seal = crate::Seal {
        recording: Some("/r/x.cast".into()),
        recording_sha256: Some("ab".repeat(32)),
        recording_size: Some(3),
    };
    let own = {
        let (a, ids) = (a.clone(), ids.clone());
        std::thread::spawn(move || {
            ids.iter()
                .filter(|id| a.end_session(**id, &crate::SessionEnd::default()).unwrap())
                .count()
        })
    };
    let theirs: Vec<_> = survivors
        .iter()
        .map(|s| {
            let (s, rows, seal) = (s.clone(), rows.clone(), seal.clone());
            std::thread::spawn(move || {
                rows.iter()
                    .filter(|r| s.interrupt_session(r, &seal, "node-a silent", 0).unwrap())
                    .count()
            })
        })
        .collect();
    let ended = own.join().unwrap();
    let interrupted: usize = theirs.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(ended + interrupted, ids.len(), "{ended} + {interrupted}");
    let records = a.audit_records(None).unwrap();
    for id in &ids {
        let row = a.session(*id).unwrap().unwrap();
        let signed = records
            .iter()
            .filter(|r| match r.parsed().unwrap() {
                AuditEvent::SessionInterrupted { session, .. } => session == *id,
                _ => false,
            })
            .count();
        match row.status.as_str() {
            "closed" => assert_eq!(signed, 0, "session {id}"),
            "interrupted" => assert_eq!(signed, 1, "session {id}"),
            other => panic!("session {id} is {other}"),
        }
    }
}

/// Rows stream in chunks, a caller may stop reading part way, and the connection answers the
/// next statement: the checks for both ways `pg.rs` runs a job.
fn streams_stops_and_answers_again(conn: &mut crate::pg::PgConn) {
    use crate::db::Param;
    let sql = "SELECT g FROM generate_series(1, 2500) g";
    let mut all = Vec::new();
    conn.query_each(sql, &[], |r| {
        all.push(r.get::<i64>(0)?);
        Ok(())
    })
    .unwrap();
    assert_eq!(all, (1..=2500).collect::<Vec<i64>>());
    let mut seen = 0;
    let stopped = conn.query_each(sql, &[], |_| {
        seen += 1;
        match seen {
            1500 => Err(crate::StoreError::Invalid("enough".into())),
            _ => Ok(()),
        }
    });
    assert!(stopped.unwrap_err().to_string().contains("enough"));
    assert_eq!(seen, 1500);
    let mut answer = Vec::new();
    conn.query_each("SELECT 41 + ?1", &[Param::Int(1)], |r| {
        answer.push(r.get::<i64>(0)?);
        Ok(())
    })
    .unwrap();
    assert_eq!(answer, [42]);
}

/// Outside a tokio runtime the caller drives the client itself.
#[test]
fn a_caller_outside_tokio_runs_its_statements_itself() {
    let mut conn = crate::pg::PgConn::connect(&pgtest::database()).unwrap();
    streams_stops_and_answers_again(&mut conn);
}

/// Inside one, the connection's thread runs them, and the connection closes there when the
/// last handle is dropped inside the runtime (closing on this thread would panic).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_inside_tokio_is_served_by_the_connection_thread() {
    let mut conn = crate::pg::PgConn::connect(&pgtest::database()).unwrap();
    streams_stops_and_answers_again(&mut conn);
    drop(conn);
}
