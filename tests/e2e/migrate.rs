//! A data directory written by older code (tests/fixtures/bastion-data-v2, schema version 2,
//! commit 8b8a941) opens with today's bastion: the database migrates in place, the signed
//! audit chain and the sealed recordings still verify, the listings still read it, and new
//! records continue the old chain.

use std::path::Path;

use e2e::{BastionHome, KeyPair};
use rusqlite::Connection;

const BIN: &str = env!("CARGO_BIN_EXE_bastion");

fn fixture() -> BastionHome {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/bastion-data-v2");
    let home = BastionHome::from_fixture(BIN, &dir);
    // The sessions table names recordings by the absolute paths of the run that wrote them.
    let recordings = home.data_dir().join("recordings");
    let conn = Connection::open(home.data_dir().join("bastion.db")).unwrap();
    let rows: Vec<(i64, String)> = conn
        .prepare("SELECT id, recording FROM sessions WHERE recording IS NOT NULL")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    for (id, old) in rows {
        let name = Path::new(&old).file_name().unwrap();
        let new = recordings.join(name).to_string_lossy().into_owned();
        conn.execute(
            "UPDATE sessions SET recording = ?2 WHERE id = ?1",
            rusqlite::params![id, new],
        )
        .unwrap();
    }
    home
}

fn schema_version(home: &BastionHome) -> i64 {
    let conn = Connection::open(home.data_dir().join("bastion.db")).unwrap();
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap()
}

#[test]
fn an_old_database_migrates_and_its_audit_chain_still_verifies() {
    let home = fixture();
    assert_eq!(
        schema_version(&home),
        2,
        "the fixture is a version 2 database"
    );

    let out = home.cli(&["audit", "verify"]);
    assert_eq!(out.code, Some(0), "{out}");
    assert!(
        out.stdout.contains("42 records") && out.stdout.contains("2 sealed recordings match"),
        "{out}"
    );
    // Its commands were logged before command hashing: counted, not failed.
    assert!(
        out.stdout
            .contains("7 command rows predate command hashing"),
        "{out}"
    );
    assert_eq!(
        schema_version(&home),
        store::SCHEMA_VERSION as i64,
        "opening migrated the database"
    );

    // Every listing reads the old rows.
    assert_eq!(home.json_lines(&["sessions", "--json"]).len(), 8);
    assert_eq!(home.json_lines(&["commands", "--json"]).len(), 7);
    let interrupted = home.audit_of("session_interrupted");
    assert_eq!(interrupted.len(), 2, "{interrupted:?}");
    let report = home.cli(&["report"]);
    assert_eq!(report.code, Some(0), "{report}");
    assert!(report.stdout.contains("alice"), "{report}");

    // `bastion audit` reads old records through the typed events.
    let table = home.cli(&["audit"]);
    assert_eq!(table.code, Some(0), "{table}");
    for line in [
        r#"command blocked in session 3 on web1: "shutdown -h now" (role ops, rule ^shutdown)"#,
        "session 8 interrupted: bastion stopped unexpectedly; recording sealed, 332 bytes",
        "user alice disabled",
    ] {
        assert!(table.stdout.contains(line), "{line:?} missing:\n{table}");
    }
    assert!(!table.stdout.contains("unreadable"), "{table}");

    // New records continue the old chain, and the whole chain verifies.
    let bob = KeyPair::generate(home.data_dir(), "bob");
    home.cli(&[
        "user",
        "add",
        "bob",
        "--key",
        bob.public.to_str().unwrap(),
        "--no-totp",
    ])
    .assert_success();
    let out = home.cli(&["audit", "verify"]);
    assert_eq!(out.code, Some(0), "{out}");
    assert!(out.stdout.contains("43 records"), "{out}");
    let added = home.audit_of("admin");
    assert_eq!(added.last().unwrap()["detail"]["action"], "user_add");

    // And a migrated database still catches tampering with an old record.
    let conn = Connection::open(home.data_dir().join("bastion.db")).unwrap();
    conn.execute("UPDATE audit SET user = 'mallory' WHERE id = 5", [])
        .unwrap();
    let out = home.cli(&["audit", "verify"]);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stdout.contains("record 5"), "{out}");
}

#[test]
fn a_database_newer_than_the_bastion_is_refused_with_its_path() {
    let home = fixture();
    let conn = Connection::open(home.data_dir().join("bastion.db")).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let out = home.cli(&["audit", "verify"]);
    assert_ne!(out.code, Some(0), "{out}");
    assert!(
        out.stderr.contains("bastion.db") && out.stderr.contains("schema version 99"),
        "{out}"
    );
    assert_eq!(schema_version(&home), 99, "nothing was written");
}
