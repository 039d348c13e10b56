//! An audit log you can verify from outside the box (issue 15, item 6): `bastion init` prints
//! the signing key's fingerprint; `audit verify --key FILE` / `--fingerprint` fail when the
//! data directory signs with another key; every logged command is bound into the chain, so an
//! edited or deleted command row is caught; `audit --follow --json --after ID` ships records
//! as they are committed, and resuming after the last id seen gives exactly the rest.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use e2e::{poll, secs, BastionHome, Client, KeyPair, Lab, Outcome};
use rusqlite::Connection;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_bastion");

const POLICY: &str = "roles:
  - name: ops
    members: [alice]
    hosts: [\"web*\"]
    logins: [root]
    require_totp: false
";

fn verify(home: &BastionHome, extra: &[&str]) -> Outcome {
    let mut args = vec!["audit", "verify"];
    args.extend_from_slice(extra);
    home.cli(&args)
}

/// What `ssh-keygen -lf` says a public key file's fingerprint is.
fn keygen_fingerprint(path: &std::path::Path) -> String {
    let out = std::process::Command::new("ssh-keygen")
        .arg("-lf")
        .arg(path)
        .output()
        .expect("ssh-keygen");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.split_whitespace()
        .nth(1)
        .expect("fingerprint")
        .to_string()
}

fn add_user(home: &BastionHome, name: &str) {
    let key = KeyPair::generate(home.data_dir(), name);
    home.cli(&[
        "user",
        "add",
        name,
        "--key",
        key.public.to_str().unwrap(),
        "--no-totp",
    ])
    .assert_success();
}

#[test]
fn verify_checks_the_signing_key_against_a_copy_kept_elsewhere() {
    let home = BastionHome::init(BIN);
    let pubkey = home.data_dir().join("signing_key.pub");
    let fp = keygen_fingerprint(&pubkey);
    assert!(fp.starts_with("SHA256:"), "{fp}");
    let init = home.cli(&["init"]);
    init.assert_success();
    assert!(init.stdout.contains(&fp), "init prints {fp}:\n{init}");
    add_user(&home, "bob");

    // The right key, as a file kept elsewhere and as a fingerprint.
    let kept = tempfile::tempdir().unwrap();
    let copy = kept.path().join("audit.pub");
    std::fs::copy(&pubkey, &copy).unwrap();
    let out = verify(&home, &["--key", copy.to_str().unwrap()]);
    assert_eq!(out.code, Some(0), "{out}");
    assert!(out.stdout.contains(&format!("signed by {fp}")), "{out}");
    assert!(
        out.stdout.contains("no checkpoint yet")
            && out.stdout.contains("consistent with the head file"),
        "{out}"
    );
    let out = verify(&home, &["--fingerprint", &fp]);
    assert_eq!(out.code, Some(0), "{out}");

    // Another key: the chain verifies with the local key, but not with the one kept elsewhere.
    let other = KeyPair::generate(kept.path(), "other");
    let other_fp = keygen_fingerprint(&other.public);
    let out = verify(&home, &["--key", other.public.to_str().unwrap()]);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        out.stdout.contains("audit key MISMATCH")
            && out.stdout.contains(&other_fp)
            && out.stdout.contains(&fp),
        "{out}"
    );
    let out = verify(&home, &["--fingerprint", &other_fp]);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stdout.contains("audit key MISMATCH"), "{out}");
    assert!(
        !out.stdout.contains("TAMPERED"),
        "the chain itself is fine:\n{out}"
    );
    assert_eq!(
        verify(&home, &[]).code,
        Some(0),
        "the local key alone still verifies"
    );
}

#[test]
fn an_edited_or_deleted_command_row_is_caught() {
    let (lab, alice) = Lab::serving(BIN, &[("web1", &[])], POLICY, "alice");
    let client = Client::new(&lab.bastion, &alice);
    for n in 0..3 {
        let out = client.run_ssh("alice", &["web1", &format!("echo run-{n}")]);
        out.assert_success();
    }
    let rows = poll(secs(10), || {
        let rows = lab.bastion.json_lines(&["commands", "--json"]);
        (rows.len() == 3).then_some(rows)
    })
    .expect("three logged commands");
    let out = verify(&lab.bastion, &[]);
    assert_eq!(out.code, Some(0), "{out}");
    assert!(out.stdout.contains("commands: 3 rows match"), "{out}");
    assert_eq!(lab.bastion.audit_of("command_logged").len(), 3);

    let (edited, deleted) = (
        rows[0]["id"].as_i64().unwrap(),
        rows[2]["id"].as_i64().unwrap(),
    );
    let conn = Connection::open(lab.bastion.data_dir().join("bastion.db")).unwrap();
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    conn.execute(
        "UPDATE commands SET command = 'echo harmless' WHERE id = ?1",
        [edited],
    )
    .unwrap();
    let out = verify(&lab.bastion, &[]);
    assert_eq!(out.code, Some(1), "{out}");
    let needle = format!("command row {edited}: content does not match the audited hash");
    assert!(out.stdout.contains(&needle), "{out}");

    conn.execute("DELETE FROM commands WHERE id = ?1", [deleted])
        .unwrap();
    let out = verify(&lab.bastion, &[]);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stdout.contains(&needle), "{out}");
    assert!(
        out.stdout
            .contains(&format!("command row {deleted}: deleted")),
        "{out}"
    );
}

/// A running `bastion audit --follow --json`, its lines arriving on a channel.
struct Follower {
    child: Child,
    lines: Receiver<String>,
}

impl Follower {
    fn start(home: &BastionHome, after: i64) -> Follower {
        let mut child = home
            .command(&["audit", "--follow", "--json", "--after", &after.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn follow");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Follower { child, lines }
    }

    /// Ids of the records printed until `last` arrives (panics after 20 s).
    fn ids_until(&self, last: i64) -> Vec<i64> {
        let deadline = Instant::now() + secs(20);
        let mut ids = Vec::new();
        while ids.last() != Some(&last) {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("record {last} not followed; got {ids:?}"));
            let v: Value = serde_json::from_str(&line).expect("a JSON line");
            ids.push(v["id"].as_i64().unwrap());
        }
        ids
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn last_id(home: &BastionHome) -> i64 {
    home.audit_events()
        .last()
        .map_or(0, |e| e["id"].as_i64().unwrap())
}

#[test]
fn follow_prints_new_records_as_committed_and_resumes_after_an_id() {
    let home = BastionHome::init(BIN);
    add_user(&home, "u0");
    let start = last_id(&home);
    assert!(start > 0);

    let first = Follower::start(&home, start);
    add_user(&home, "u1");
    add_user(&home, "u2");
    let seen = last_id(&home);
    let ids = first.ids_until(seen);
    assert_eq!(
        ids,
        ((start + 1)..=seen).collect::<Vec<_>>(),
        "no gap, no duplicate"
    );
    drop(first);

    // Records written while nobody follows; a new follower resumes after the last id seen.
    add_user(&home, "u3");
    let second = Follower::start(&home, seen);
    add_user(&home, "u4");
    let end = last_id(&home);
    assert!(end > seen + 1);
    assert_eq!(
        second.ids_until(end),
        ((seen + 1)..=end).collect::<Vec<_>>()
    );
    // Same lines as `bastion audit --json`.
    let listed: Vec<Value> = home.json_lines(&["audit", "--json", "--after", &seen.to_string()]);
    assert_eq!(listed.len() as i64, end - seen);

    drop(second);

    // Closing its standard output ends a follower cleanly, even with nothing new to print.
    let mut child = home
        .command(&[
            "audit",
            "--follow",
            "--json",
            "--after",
            &(end - 1).to_string(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn follow");
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.contains(&format!("\"id\":{end}")), "{line}");
    drop(reader);
    let done = poll(secs(10), || child.try_wait().unwrap());
    let Some(status) = done else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("follow kept running after its reader went away");
    };
    assert!(status.success(), "{status:?}");
}

/// `systemctl stop` sends SIGTERM: live sessions end with a message and are sealed as closed
/// (not left for crash recovery), and the log ends in a signed checkpoint that verifies.
#[test]
fn a_clean_shutdown_ends_sessions_sealed_and_closes_the_log_with_a_checkpoint() {
    let (mut lab, alice) = Lab::serving(BIN, &[("web1", &[])], POLICY, "alice");
    let client = Client::new(&lab.bastion, &alice);
    let mut sh = client.terminal("alice", &["web1"], 80, 24);
    sh.send("echo BEFORE-$((20+22))\r");
    sh.expect("BEFORE-42", secs(20));

    assert_eq!(
        lab.bastion.stop("TERM", secs(30)),
        Some(0),
        "{}",
        lab.bastion.log()
    );
    sh.expect("the bastion is shutting down", secs(10));
    assert!(sh.wait(secs(20)).is_some(), "the client was left hanging");

    let sessions = lab.bastion.sessions();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    let s = &sessions[0];
    assert_eq!(s["status"], "closed", "{s}");
    assert!(
        s["recording_sha256"].is_string(),
        "recording not sealed: {s}"
    );
    let events = lab.bastion.audit_events();
    let names: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    assert_eq!(names.last(), Some(&"checkpoint"), "{names:?}");
    assert!(names.contains(&"session_end"), "{names:?}");
    assert!(!names.contains(&"session_interrupted"), "{names:?}");
    let out = verify(&lab.bastion, &[]);
    assert_eq!(out.code, Some(0), "{out}");
}

#[test]
fn the_first_serve_prints_the_audit_fingerprint_and_makes_a_private_host_ca() {
    use std::os::unix::fs::PermissionsExt;
    let mut home = BastionHome::empty(BIN);
    home.serve();
    let fp = keygen_fingerprint(&home.data_dir().join("signing_key.pub"));
    let log = poll(secs(10), || {
        let log = home.log();
        log.contains("audit signing key fingerprint").then_some(log)
    })
    .unwrap_or_else(|| panic!("no fingerprint in the first serve's log: {}", home.log()));
    assert!(
        log.contains(&format!("audit signing key fingerprint: {fp}")),
        "{log}"
    );
    let ca = home.data_dir().join("host_ca");
    let mode = std::fs::metadata(&ca)
        .expect("host_ca")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "host_ca mode {mode:o}");
    // A second start is not a first start: the fingerprint is not repeated.
    home.stop("TERM", secs(20));
    std::fs::remove_file(home.data_dir().join("serve.log")).ok();
    home.serve();
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        !home.log().contains("audit signing key fingerprint"),
        "{}",
        home.log()
    );
}
