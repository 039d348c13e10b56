//! The bastion on PostgreSQL (issue 19, item 1): an embedded store with real traffic is copied
//! by `bastion migrate --to postgres://…` into a throwaway PostgreSQL 15 cluster (`pgtest`),
//! verified there, and the bastion, pointed at it with `[store] url`, serves real ssh sessions
//! from it: new records continue the copied audit chain, `audit verify` passes, and the old
//! SQLite file is no longer written.

use std::time::Duration;

use e2e::{Client, KeyPair, Lab};
use rusqlite::Connection;

const BIN: &str = env!("CARGO_BIN_EXE_bastion");

const POLICY: &str = "roles:
  - name: ops
    members: [alice]
    hosts: [\"web*\"]
    logins: [root]
    require_totp: false
";

fn audit_rows_in_sqlite(lab: &Lab) -> i64 {
    let conn = Connection::open(lab.bastion.data_dir().join("bastion.db")).unwrap();
    conn.query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn an_embedded_store_moves_to_postgres_and_the_bastion_serves_from_it() {
    let (mut lab, alice) = Lab::serving(BIN, &[("web1", &[])], POLICY, "alice");
    let client = Client::new(&lab.bastion, &alice);
    let out = client.run_ssh("alice", &["web1", "echo before-$((6*7))"]);
    out.assert_success();
    assert_eq!(out.stdout.trim(), "before-42");
    assert!(lab.bastion.stop("TERM", Duration::from_secs(20)).is_some());
    let before = lab.bastion.sessions();
    let copied = audit_rows_in_sqlite(&lab);

    let url = pgtest::database();
    let out = lab.bastion.cli(&["migrate", "--to", &url]);
    out.assert_success();
    assert!(
        out.stdout.contains("audit chain verified on the copy"),
        "{out}"
    );
    assert!(
        out.stdout.contains(&format!("ending at record {copied}")),
        "{out}"
    );
    let next = copied + 1;
    assert!(
        out.stdout
            .contains(&format!("recorded as audit record {next} (store_migrated)")),
        "{out}"
    );
    // Into a database that already holds a store: refused, nothing changed.
    let again = lab.bastion.cli(&["migrate", "--to", &url]);
    assert_ne!(again.code, Some(0), "{again}");
    assert!(again.stderr.contains("not empty"), "{again}");

    lab.bastion.set(&format!("[store]\nurl = \"{url}\""));
    assert_eq!(lab.bastion.sessions(), before, "the listings read the copy");
    lab.serve();
    let out = client.run_ssh("alice", &["web1", "echo after-$((6*7))"]);
    out.assert_success();
    assert_eq!(out.stdout.trim(), "after-42");
    // A failed login is counted in PostgreSQL (login throttling shared by the nodes).
    let stranger = KeyPair::generate(client.dir(), "stranger");
    Client::with_key(&lab.bastion, &stranger.private)
        .run_ssh("alice", &["web1", "true"])
        .assert_failure();
    assert!(lab.bastion.stop("TERM", Duration::from_secs(20)).is_some());

    let sessions = lab.bastion.sessions();
    assert_eq!(sessions.len(), before.len() + 1, "{sessions:?}");
    let commands = lab.bastion.cli(&["commands"]);
    commands.assert_success();
    assert!(commands.stdout.contains("echo after-"), "{commands}");
    assert!(commands.stdout.contains("echo before-"), "{commands}");
    let verify = lab.bastion.cli(&["audit", "verify"]);
    assert_eq!(verify.code, Some(0), "{verify}");
    let newest = lab
        .bastion
        .audit_events()
        .last()
        .and_then(|e| e["id"].as_i64())
        .unwrap();
    assert!(newest > copied, "the chain went on from {copied}: {newest}");
    let migrated = lab.bastion.audit_of("store_migrated");
    assert_eq!(migrated.len(), 1, "{migrated:?}");
    assert_eq!(migrated[0]["id"], next);
    assert_eq!(migrated[0]["detail"]["records"], copied);
    assert_eq!(migrated[0]["detail"]["by"], "root");
    assert_eq!(
        audit_rows_in_sqlite(&lab),
        copied,
        "bastion.db is not written any more"
    );
}
