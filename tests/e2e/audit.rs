//! Tamper evidence and crash safety (PRODUCT.md 1.5, 1.6): `bastion audit verify` catches an
//! edited, deleted or reordered audit record and a changed or truncated recording; after a
//! `kill -9` with sessions open, the next start marks them interrupted, seals their recordings
//! (playable up to the last flushed second) and audits that, all still verifiable.

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::Duration;

use e2e::{poll, secs, Client, KeyPair, Lab, Outcome, TestUser};
use rusqlite::{params, Connection};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_bastion");

const POLICY: &str = "roles:
  - name: ops
    members: [alice]
    hosts: [\"web*\"]
    logins: [root]
    require_totp: false
";

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn lab() -> (Lab, TestUser) {
    Lab::serving(BIN, &[("web1", &[])], POLICY, "alice")
}

/// The live database, opened next to the running server (WAL mode, so a busy timeout is enough).
fn db(lab: &Lab) -> Connection {
    let conn = Connection::open(lab.bastion.data_dir().join("bastion.db")).expect("open db");
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    conn
}

fn verify(lab: &Lab) -> Outcome {
    lab.bastion.cli(&["audit", "verify"])
}

/// `audit verify` exits 1 and its output contains every one of `needles`.
fn assert_tampered(lab: &Lab, needles: &[&str]) -> Outcome {
    let out = verify(lab);
    assert_eq!(out.code, Some(1), "verify must fail:\n{out}");
    let text = format!("{}{}", out.stdout, out.stderr);
    for n in needles {
        assert!(text.contains(n), "verify output should name {n:?}:\n{out}");
    }
    out
}

fn assert_verified(lab: &Lab) {
    let out = verify(lab);
    assert_eq!(out.code, Some(0), "verify must pass:\n{out}");
}

/// A recorded shell through a real PTY: runs `echo MARK-$((6*7))`, exits, and returns the closed
/// session's `bastion sessions --json` entry.
fn recorded_shell(lab: &Lab, client: &Client) -> Value {
    let before = lab.bastion.sessions().len();
    let mut pty = client.terminal("alice", &["web1"], 80, 24);
    pty.send("echo MARK-$((6*7))\r");
    pty.expect("MARK-42", secs(20));
    pty.send("exit\r");
    assert_eq!(pty.wait(secs(20)), Some(0), "{}", pty.output());
    poll(secs(10), || {
        lab.bastion
            .sessions()
            .into_iter()
            .skip(before)
            .find(|s| s["kind"] == "shell" && s["status"] == "closed")
    })
    .unwrap_or_else(|| panic!("no closed shell session: {:?}", lab.bastion.sessions()))
}

/// Logins (ok and failed), exec sessions, a denied target, and one recorded PTY shell.
fn some_traffic(lab: &Lab, alice: &TestUser) -> Value {
    let client = Client::new(&lab.bastion, alice);
    for n in 0..3 {
        let out = client.run_ssh("alice", &["web1", &format!("echo run-{n}")]);
        out.assert_success();
        assert_eq!(out.stdout.trim(), format!("run-{n}"));
    }
    client.run_ssh("alice", &["db9", "true"]).assert_failure();
    let stranger = KeyPair::generate(client.dir(), "stranger");
    Client::with_key(&lab.bastion, &stranger.private)
        .run_ssh("alice", &["web1", "true"])
        .assert_failure();
    recorded_shell(lab, &client)
}

/// One audit row's columns after `id`, as stored.
type Row = (
    f64,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
    String,
);

fn read_row(conn: &Connection, id: i64) -> Row {
    conn.query_row(
        "SELECT ts, event, user, source, detail, prev_hash, hash, signature FROM audit WHERE id = ?1",
        [id],
        |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        },
    )
    .unwrap()
}

fn write_row(conn: &Connection, id: i64, r: &Row) {
    conn.execute(
        "INSERT OR REPLACE INTO audit(id, ts, event, user, source, detail, prev_hash, hash, signature)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![id, r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7],
    )
    .unwrap();
}

/// The audit signing key's public half, from `signing_key.pub` in the data directory.
fn audit_verifying_key(lab: &Lab) -> ed25519_dalek::VerifyingKey {
    let line = fs::read_to_string(lab.bastion.data_dir().join("signing_key.pub")).unwrap();
    let key = russh::keys::PublicKey::from_openssh(line.trim()).unwrap();
    let ed = key.key_data().ed25519().expect("ed25519 signing key");
    ed25519_dalek::VerifyingKey::from_bytes(&ed.0).unwrap()
}

fn recording_path(session: &Value) -> PathBuf {
    PathBuf::from(session["recording"].as_str().expect("recording path"))
}

#[test]
fn verify_passes_on_an_untouched_log() {
    let (lab, alice) = lab();
    let shell = some_traffic(&lab, &alice);
    let out = verify(&lab);
    assert_eq!(out.code, Some(0), "{out}");
    assert!(out.stdout.contains("ok"), "{out}");

    let events = lab.bastion.audit_events();
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    for k in ["login_ok", "login_failed", "session_start", "session_end"] {
        assert!(kinds.contains(&k), "no {k} event in {kinds:?}");
    }
    // The close of the recorded shell signed its recording's SHA-256 and size.
    let path = recording_path(&shell);
    let seal = recordings::seal_file(&path).unwrap();
    let end = events
        .iter()
        .find(|e| e["event"] == "session_end" && e["detail"]["session"] == shell["id"])
        .unwrap_or_else(|| panic!("no session_end for {shell}: {events:?}"));
    assert_eq!(
        end["detail"]["recording_sha256"],
        seal.sha256_hex(),
        "{end}"
    );
    assert_eq!(end["detail"]["recording_size"], seal.size, "{end}");
    assert_eq!(shell["recording_sha256"], seal.sha256_hex());
    // Verify again later: nothing it does changes the log.
    assert_verified(&lab);
    assert_eq!(lab.bastion.audit_events().len(), events.len());
}

#[test]
fn editing_one_audit_row_is_detected() {
    let (lab, alice) = lab();
    some_traffic(&lab, &alice);
    assert_verified(&lab);

    // `audit --json`: one object per line, chained and signed with the data dir's signing key.
    let events = lab.bastion.audit_events();
    assert!(events.len() >= 10, "{events:?}");
    let vk = audit_verifying_key(&lab);
    let mut prev = GENESIS.to_string();
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["id"], i as i64 + 1, "{e}");
        assert_eq!(e["prev_hash"], prev.as_str(), "{e}");
        let hash = e["hash"].as_str().expect("hash");
        assert_eq!(hash.len(), 64, "{e}");
        let sig = hex::decode(e["signature"].as_str().expect("signature")).expect("hex");
        let sig = ed25519_dalek::Signature::from_slice(&sig).expect("64-byte signature");
        vk.verify_strict(hash.as_bytes(), &sig)
            .unwrap_or_else(|err| panic!("signature of {e} does not verify: {err}"));
        prev = hash.to_string();
    }

    let conn = db(&lab);
    let n = events.len() as i64;
    let mid = n / 2;
    let original = read_row(&conn, mid);

    // Edit the user of a middle record.
    conn.execute("UPDATE audit SET user = 'mallory' WHERE id = ?1", [mid])
        .unwrap();
    assert_tampered(&lab, &[&format!("record {mid}")]);
    write_row(&conn, mid, &original);
    assert_verified(&lab);

    // Edit its detail (e.g. hide which host a session went to).
    conn.execute(
        "UPDATE audit SET detail = '{\"note\":\"nothing happened\"}' WHERE id = ?1",
        [mid],
    )
    .unwrap();
    assert_tampered(&lab, &[&format!("record {mid}")]);
    write_row(&conn, mid, &original);
    assert_verified(&lab);

    // Edit it and recompute its hash (anyone can; the canonical form is not secret), then fix
    // the next record's link too: without the signing key the signature gives it away.
    let mut forged = original.clone();
    forged.2 = Some("mallory".into());
    forged.6 = {
        let canonical =
            serde_json::json!([mid, forged.0, forged.1, forged.2, forged.3, forged.4, forged.5])
                .to_string();
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(canonical.as_bytes()))
    };
    write_row(&conn, mid, &forged);
    let next = read_row(&conn, mid + 1);
    conn.execute(
        "UPDATE audit SET prev_hash = ?2 WHERE id = ?1",
        params![mid + 1, forged.6],
    )
    .unwrap();
    assert_tampered(&lab, &[&format!("record {mid}"), "signature"]);
    write_row(&conn, mid, &original);
    write_row(&conn, mid + 1, &next);
    assert_verified(&lab);

    // Delete it: the record after the gap is named, and so is the missing one.
    conn.execute("DELETE FROM audit WHERE id = ?1", [mid])
        .unwrap();
    assert_tampered(&lab, &[&format!("record {}", mid + 1), &mid.to_string()]);
    write_row(&conn, mid, &original);
    assert_verified(&lab);

    // Reorder: swap the contents of two records (ids stay in place).
    let (a, b) = (mid, mid + 2);
    let (row_a, row_b) = (read_row(&conn, a), read_row(&conn, b));
    write_row(&conn, a, &row_b);
    write_row(&conn, b, &row_a);
    assert_tampered(&lab, &[&format!("record {a}")]);
    write_row(&conn, a, &row_a);
    write_row(&conn, b, &row_b);
    assert_verified(&lab);

    // Reorder by renumbering: move a record to the end of the table.
    conn.execute(
        "UPDATE audit SET id = ?2 WHERE id = ?1",
        params![mid, n + 100],
    )
    .unwrap();
    assert_tampered(&lab, &[&format!("record {}", mid + 1)]);
    conn.execute(
        "UPDATE audit SET id = ?1 WHERE id = ?2",
        params![mid, n + 100],
    )
    .unwrap();
    assert_verified(&lab);

    // The first record is protected too (its link is the fixed genesis hash).
    let first = read_row(&conn, 1);
    conn.execute("UPDATE audit SET ts = ts - 3600 WHERE id = 1", [])
        .unwrap();
    assert_tampered(&lab, &["record 1"]);
    write_row(&conn, 1, &first);
    assert_verified(&lab);
}

#[test]
fn recording_changes_are_detected() {
    let (lab, alice) = lab();
    let client = Client::new(&lab.bastion, &alice);
    let shell = recorded_shell(&lab, &client);
    let id = shell["id"].to_string();
    let path = recording_path(&shell);
    let shown = path.display().to_string();
    let original = fs::read(&path).unwrap();
    assert!(
        original.len() > 100,
        "{}",
        String::from_utf8_lossy(&original)
    );
    assert_verified(&lab);

    // One byte flipped in the middle: same size, different hash.
    let mut flipped = original.clone();
    let at = flipped.len() / 2;
    flipped[at] ^= 0x01;
    fs::write(&path, &flipped).unwrap();
    assert_tampered(&lab, &[&format!("session {id}"), &shown]);

    // Put back: verifies again.
    fs::write(&path, &original).unwrap();
    assert_verified(&lab);

    // Truncated (e.g. the tail with the incriminating output cut off).
    fs::write(&path, &original[..original.len() - 20]).unwrap();
    assert_tampered(&lab, &[&format!("session {id}"), &shown]);

    // Something appended.
    let mut longer = original.clone();
    longer.extend_from_slice(b"[99.0,\"o\",\"extra\"]\n");
    fs::write(&path, &longer).unwrap();
    assert_tampered(&lab, &[&format!("session {id}"), &shown]);

    // Deleted.
    fs::remove_file(&path).unwrap();
    assert_tampered(&lab, &[&format!("session {id}"), &shown]);
    fs::write(&path, &original).unwrap();
    assert_verified(&lab);

    // Changing the file and "fixing" the unsigned sessions row to match does not help: the
    // seal that counts is the signed one in the audit log.
    fs::write(&path, &flipped).unwrap();
    let forged = recordings::seal_file(&path).unwrap();
    db(&lab)
        .execute(
            "UPDATE sessions SET rec_sha256 = ?2, rec_size = ?3 WHERE id = ?1",
            params![
                shell["id"].as_i64().unwrap(),
                forged.sha256_hex(),
                forged.size as i64
            ],
        )
        .unwrap();
    assert_tampered(&lab, &[&format!("session {id}"), &shown]);
}

/// `ssh alice@bastion web1 sleep 300`, left running (no PTY, so not recorded).
fn background_exec(client: &Client) -> Child {
    client
        .ssh("alice", &["web1", "sleep 300"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ssh")
}

#[test]
fn crash_mid_session_leaves_a_playable_recording() {
    let (mut lab, alice) = lab();
    let client = Client::new(&lab.bastion, &alice);
    let mut exec = background_exec(&client);

    let mut pty = client.terminal("alice", &["web1"], 80, 24);
    pty.send("echo MARK-$((6*7))\r");
    pty.expect("MARK-42", secs(20));
    let active = poll(secs(10), || {
        let s = lab.bastion.sessions();
        (s.iter().filter(|s| s["status"] == "active").count() == 2).then_some(s)
    })
    .unwrap_or_else(|| panic!("two active sessions expected: {:?}", lab.bastion.sessions()));
    let shell = active
        .iter()
        .find(|s| s["kind"] == "shell")
        .expect("shell session")
        .clone();
    let path = recording_path(&shell);
    // Recordings are flushed at least once a second: wait past that before the crash.
    std::thread::sleep(Duration::from_millis(2500));

    lab.bastion.crash();
    assert!(
        pty.wait(secs(20)).is_some(),
        "ssh should end with the bastion gone"
    );
    let _ = exec.kill();
    let _ = exec.wait();

    // What was flushed before the crash is on disk; simulate a crash mid-write on top of it.
    let flushed = fs::read(&path).unwrap();
    assert!(
        String::from_utf8_lossy(&flushed).contains("MARK-42"),
        "MARK-42 was not flushed within 2.5 s:\n{}",
        String::from_utf8_lossy(&flushed)
    );
    let torn = b"[2.75,\"o\",\"half a li";
    let mut with_torn_tail = flushed.clone();
    with_torn_tail.extend_from_slice(torn);
    fs::write(&path, &with_torn_tail).unwrap();

    lab.bastion.serve();

    let sessions = lab.bastion.sessions();
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    assert!(
        sessions.iter().all(|s| s["status"] == "interrupted"),
        "{sessions:?}"
    );
    let after = sessions.iter().find(|s| s["id"] == shell["id"]).unwrap();

    // The recording was cut back to its last complete event, parses, and holds the marker.
    assert_eq!(fs::read(&path).unwrap(), flushed);
    let cast = recordings::read_cast(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cast.header.title, "alice -> root@web1");
    assert!(cast.output_text().contains("MARK-42"), "{cast:?}");
    let seal = recordings::seal_file(&path).unwrap();
    assert_eq!(after["recording_sha256"], seal.sha256_hex(), "{after}");

    // The recovery is audited, with the seal, for both sessions.
    let interrupted = lab.bastion.audit_of("session_interrupted");
    assert_eq!(interrupted.len(), 2, "{interrupted:?}");
    let ev = interrupted
        .iter()
        .find(|e| e["detail"]["session"] == shell["id"])
        .unwrap_or_else(|| panic!("{interrupted:?}"));
    assert_eq!(ev["user"], "alice", "{ev}");
    assert_eq!(ev["detail"]["recording_sha256"], seal.sha256_hex(), "{ev}");
    assert_eq!(ev["detail"]["recording_size"], seal.size, "{ev}");
    assert_eq!(ev["detail"]["bytes_dropped"], torn.len(), "{ev}");

    // And it is all signed: the chain and the sealed recording verify.
    assert_verified(&lab);
    // A second restart finds nothing left to recover.
    lab.bastion.crash();
    lab.bastion.serve();
    assert_eq!(lab.bastion.audit_of("session_interrupted").len(), 2);
    assert_verified(&lab);
    // Tampering with the recovered recording is caught like any other.
    fs::write(&path, &flushed[..flushed.len() - 5]).unwrap();
    assert_tampered(
        &lab,
        &[
            &format!("session {}", shell["id"]),
            &path.display().to_string(),
        ],
    );
}

#[test]
fn sessions_are_refused_when_recordings_cannot_be_written_unless_fail_open_is_set() {
    let (mut lab, alice) = lab();
    let client = Client::new(&lab.bastion, &alice);
    // The recordings directory breaks while the server runs (here: replaced by a file, which
    // even root cannot create files in).
    let rec_dir = lab.bastion.data_dir().join("recordings");
    fs::remove_dir_all(&rec_dir).unwrap();
    fs::write(&rec_dir, "not a directory").unwrap();

    let mut sh = client.terminal("alice", &["web1"], 80, 24);
    sh.expect(
        "session refused: recording is unavailable on the bastion",
        secs(20),
    );
    assert_eq!(sh.wait(secs(20)), Some(1));
    let events = lab.bastion.audit_of("recording_unavailable");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["detail"]["action"], "session refused");

    // Fail open, by explicit choice: the server starts despite the broken directory and the
    // session goes ahead unrecorded, audited.
    lab.bastion.crash();
    lab.bastion.set("recording_required = false");
    lab.bastion.serve();
    let mut sh = client.terminal("alice", &["web1"], 80, 24);
    sh.expect("# ", secs(20));
    sh.send("echo fail-open-$((6*7))\r");
    sh.expect("fail-open-42", secs(10));
    sh.send("exit\r");
    assert_eq!(sh.wait(secs(20)), Some(0));
    let events = lab.bastion.audit_of("recording_unavailable");
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(
        events[1]["detail"]["action"],
        "session continues unrecorded"
    );

    // With recording required, a server does not even start on a broken directory.
    lab.bastion.crash();
    let toml = lab.bastion.data_dir().join("bastion.toml");
    let text = fs::read_to_string(&toml).unwrap();
    fs::write(
        &toml,
        text.replace("recording_required = false", "recording_required = true"),
    )
    .unwrap();
    let out = lab.bastion.cli(&["serve", "--listen", "127.0.0.1:1"]);
    out.assert_failure();
    assert!(out.stderr.contains("recordings"), "{out}");
}
