//! The store opens a database written by older code (tests/fixtures/bastion-data-v2, schema
//! version 2, commit 8b8a941): it migrates in place, records its history, and every audit record
//! of the old chain reads back as a typed event, so the names and fields are still the ones
//! old code wrote. `tests/e2e/migrate.rs` checks the same directory through the bastion's CLI
//! (`audit verify`, listings, a chain that goes on).

use std::path::Path;

use store::{AuditEvent, EventKind, Store, SCHEMA_VERSION};

fn copy_of_fixture() -> (tempfile::TempDir, std::path::PathBuf) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/bastion-data-v2");
    let dir = tempfile::tempdir().unwrap();
    for name in ["bastion.db", "bastion.audit-head"] {
        std::fs::copy(fixture.join(name), dir.path().join(name)).unwrap();
    }
    let db = dir.path().join("bastion.db");
    (dir, db)
}

#[test]
fn an_old_database_migrates_and_every_record_parses_as_a_typed_event() {
    let (_dir, db) = copy_of_fixture();
    let store = Store::open(&db, None).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let history = store.migrations().unwrap();
    let versions: Vec<usize> = history.iter().map(|m| m.version).collect();
    assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>());
    assert!(history[0].applied_at.is_none(), "{history:?}");
    assert!(
        history[SCHEMA_VERSION - 1].applied_at.is_some(),
        "{history:?}"
    );

    let records = store.audit_records(None).unwrap();
    assert_eq!(records.len(), 42);
    let mut kinds = std::collections::BTreeSet::new();
    for r in &records {
        let ev = r
            .parsed()
            .unwrap_or_else(|e| panic!("record {} ({}): {e}: {}", r.id, r.event, r.detail));
        assert_eq!(ev.kind().as_str(), r.event);
        kinds.insert(r.event.clone());
    }
    for kind in [
        EventKind::LoginOk,
        EventKind::LoginFailed,
        EventKind::PolicyAllow,
        EventKind::PolicyDeny,
        EventKind::SessionStart,
        EventKind::SessionEnd,
        EventKind::SessionInterrupted,
        EventKind::CommandBlocked,
        EventKind::FileTransfer,
        EventKind::HostKeyPinned,
        EventKind::Admin,
    ] {
        assert!(kinds.contains(kind.as_str()), "no {kind} in {kinds:?}");
    }

    // The old crash-recovery seal (`sha256`/`size`) reads as the one seal shape.
    let interrupted: Vec<AuditEvent> = records
        .iter()
        .filter(|r| r.event == "session_interrupted")
        .map(|r| r.parsed().unwrap())
        .collect();
    let sealed = interrupted
        .iter()
        .filter_map(|e| e.seal())
        .find(|(_, s)| s.recording.is_some())
        .expect("a recorded interrupted session");
    assert_eq!(
        sealed.1.recording_sha256.as_ref().map(String::len),
        Some(64)
    );
    assert!(sealed.1.recording_size.unwrap() > 0);
    assert_eq!(store.recording_seals().unwrap().len(), 2);
}

#[test]
fn migrating_twice_changes_nothing() {
    let (_dir, db) = copy_of_fixture();
    drop(Store::open(&db, None).unwrap());
    let store = Store::open(&db, None).unwrap();
    assert_eq!(store.migrations().unwrap().len(), SCHEMA_VERSION);
}
