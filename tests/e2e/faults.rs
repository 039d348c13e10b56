//! Faults under way (issue 5): a target that dies mid-session, a target whose sshd never
//! answers, a recordings directory whose filesystem fills up, and an audit log that stops
//! taking records. In each the affected user gets a clean, explained end, everyone else keeps
//! being served, nothing is corrupted, and nothing reaches a host unaudited.

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Stdio};

use e2e::proc::wait_child;
use e2e::{asciinema_cat, poll, secs, Client, Lab, PtySession, SmallFs};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_bastion");

const POLICY: &str = "roles:
  - name: ops
    members: [alice, bob]
    hosts: [\"web*\", \"hung*\"]
    logins: [root]
    require_totp: false
";

/// How many users at once wait on the hung target.
const HUNG: usize = 3;

/// Adds users alice and bob (no TOTP), starts the server, and gives each a client.
fn serve_alice_and_bob(lab: &mut Lab) -> (Client, Client) {
    let alice = lab.bastion.add_user("alice", false);
    let bob = lab.bastion.add_user("bob", false);
    lab.serve();
    (
        Client::new(&lab.bastion, &alice),
        Client::new(&lab.bastion, &bob),
    )
}

fn active(lab: &Lab) -> Vec<Value> {
    lab.bastion.json_lines(&["sessions", "--active", "--json"])
}

fn assert_verified(lab: &Lab) {
    let out = lab.bastion.cli(&["audit", "verify"]);
    assert_eq!(out.code, Some(0), "audit verify must pass:\n{out}");
}

/// A shell on `host` through the bastion, past the target's prompt and one echoed marker.
fn shell(client: &Client, user: &str, host: &str, marker: &str) -> PtySession {
    let mut pty = client.terminal(user, &[host], 80, 24);
    pty.expect("# ", secs(30));
    pty.send(&format!("echo {marker}-$((6*7))\r"));
    pty.expect(&format!("{marker}-42"), secs(30));
    pty
}

fn recording(s: &Value) -> PathBuf {
    PathBuf::from(
        s["recording"]
            .as_str()
            .unwrap_or_else(|| panic!("no recording: {s}")),
    )
}

fn session_by_host(lab: &Lab, host: &str) -> Value {
    lab.bastion
        .sessions()
        .into_iter()
        .find(|s| s["host"] == host)
        .unwrap_or_else(|| panic!("no session to {host}"))
}

/// `ssh alice@bastion hung1 true`, left running.
fn spawn_exec(client: &Client, user: &str, host: &str, cmd: &str) -> Child {
    client
        .ssh(user, &[host, cmd])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ssh")
}

#[test]
fn a_dead_target_ends_its_session_cleanly_and_a_hung_one_times_out_while_others_are_served() {
    let mut lab = Lab::new(BIN, &[("web1", &[]), ("web2", &[])]);
    lab.bastion.write_policies(POLICY);
    lab.bastion.set("connect_timeout = \"10s\"");
    let _hung = lab.add_hung_host("hung1");
    let (ca, cb) = serve_alice_and_bob(&mut lab);

    let mut doomed = shell(&ca, "alice", "web1", "doomed");
    let mut other = shell(&cb, "bob", "web2", "other");
    assert_eq!(active(&lab).len(), 2);

    // web1 dies: its sshd and the session processes under it are killed.
    lab.target_mut("web1").crash();
    let code = doomed.wait(secs(30));
    assert!(
        code.is_some_and(|c| c != 0),
        "ssh must end, with a failure status: {code:?}\n{}",
        doomed.screen()
    );
    let screen = doomed.screen();
    assert!(
        screen.contains("web1"),
        "the user is told which target went away:\n{screen}"
    );
    let dead = poll(secs(10), || {
        Some(session_by_host(&lab, "web1")).filter(|s| s["status"] != "active")
    })
    .expect("the dead target's session is ended");
    assert_eq!(dead["status"], "closed", "{dead}");
    assert_eq!(
        dead["end_reason"], "connection to the target was lost",
        "{dead}"
    );

    // Users wait on a target that accepts TCP and never speaks...
    let waiting: Vec<Child> = (0..HUNG)
        .map(|_| spawn_exec(&ca, "alice", "hung1", "true"))
        .collect();
    // ...while bob's shell on web2 goes on, and new sessions to web2 open and run.
    other.send("echo still-$((1+1))\r");
    other.expect("still-2", secs(30));
    let fresh = cb.run_ssh("bob", &["web2", "echo fresh"]);
    fresh.assert_success();
    assert_eq!(fresh.stdout.trim(), "fresh");
    let mut waiting = waiting;
    let pending = waiting
        .iter_mut()
        .map(|c| c.try_wait().ok().flatten())
        .filter(Option::is_none)
        .count();
    assert_eq!(
        pending, HUNG,
        "others were served while the hung connects were pending"
    );

    // The hung connects give up at the connect timeout, each with a reason.
    for mut c in waiting {
        let code = wait_child(&mut c, secs(60));
        let _ = c.kill();
        let out = c.wait_with_output().unwrap();
        assert!(
            code.is_some_and(|code| code != 0),
            "hung exec must fail, not hang"
        );
        let err = String::from_utf8_lossy(&out.stderr).to_lowercase();
        assert!(err.contains("hung1") && err.contains("timed out"), "{err}");
    }
    assert_eq!(lab.bastion.audit_of("target_connect_failed").len(), HUNG);

    other.send("exit\r");
    assert_eq!(other.wait(secs(20)), Some(0));
    poll(secs(10), || active(&lab).is_empty().then_some(()))
        .unwrap_or_else(|| panic!("sessions left open: {:?}", active(&lab)));
    // The dead target's recording is sealed and plays up to the end.
    let path = recording(&dead);
    let seal = recordings::seal_file(&path).unwrap();
    assert_eq!(dead["recording_sha256"], seal.sha256_hex(), "{dead}");
    let shown = asciinema_cat(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        shown.contains("doomed-42") && shown.contains("connection to web1 lost"),
        "{shown}"
    );
    assert_verified(&lab);
}

#[test]
fn a_full_recordings_disk_ends_recorded_sessions_refuses_new_ones_and_corrupts_nothing() {
    // Declared before the lab so the bastion is gone before the filesystem is unmounted.
    let small = match SmallFs::mount(1024) {
        Ok(fs) => fs,
        Err(why) => {
            e2e::skip(
                "the disk-full test",
                &format!("mounting is impossible here: {why}"),
            );
            return;
        }
    };
    eprintln!(
        "recordings on a 1 MiB {} at {}",
        small.kind(),
        small.path().display()
    );
    let mut lab = Lab::new(BIN, &[("web1", &[])]);
    lab.bastion.write_policies(POLICY);
    lab.bastion
        .set(&format!("recordings = \"{}\"", small.path().display()));
    let (ca, cb) = serve_alice_and_bob(&mut lab);

    let mut open = shell(&ca, "alice", "web1", "before-full");
    let s = active(&lab).pop().expect("the open session");
    let path = recording(&s);
    assert!(path.starts_with(small.path()), "{s}");
    poll(secs(10), || {
        fs::read_to_string(&path)
            .is_ok_and(|t| t.contains("before-full-42"))
            .then_some(())
    })
    .expect("the marker is flushed to the recording");

    // The disk fills up; the open session produces output that cannot be recorded any more.
    let filled = small.fill("filler");
    assert!(filled > 0);
    open.send("seq 1 40000\r");
    open.expect("the recording can no longer be written", secs(30));
    let code = open.wait(secs(30));
    assert!(code.is_some_and(|c| c != 0), "ssh must end: {code:?}");

    // A new terminal session is refused with a clear message; the refusal is audited.
    let mut refused = cb.terminal("bob", &["web1"], 80, 24);
    refused.expect(
        "session refused: recording is unavailable on the bastion",
        secs(30),
    );
    assert_eq!(refused.wait(secs(20)), Some(1));
    let unavailable = lab.bastion.audit_of("recording_unavailable");
    assert_eq!(unavailable.len(), 1, "{unavailable:?}");
    assert_eq!(unavailable[0]["user"], "bob");
    assert_eq!(unavailable[0]["detail"]["action"], "session refused");
    // Exec sessions write no recording file (their command line goes to the command log in
    // the database, which is not on the full disk), so they are still served.
    let exec = cb.run_ssh("bob", &["web1", "echo exec-ok"]);
    exec.assert_success();

    // Nothing corrupted: the ended session's recording was cut back to its last complete
    // event, sealed and signed; it plays and holds what was shown before the disk filled.
    let ended = lab
        .bastion
        .sessions()
        .into_iter()
        .find(|x| x["id"] == s["id"])
        .unwrap();
    assert_eq!(ended["status"], "closed", "{ended}");
    assert!(
        ended["end_reason"]
            .as_str()
            .unwrap_or("")
            .contains("recording"),
        "{ended}"
    );
    let cast = recordings::read_cast(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(cast.output_text().contains("before-full-42"));
    let seal = recordings::seal_file(&path).unwrap();
    assert_eq!(ended["recording_sha256"], seal.sha256_hex(), "{ended}");
    assert_verified(&lab);
    // No half-made recording of the refused session is left behind.
    let files: Vec<String> = fs::read_dir(small.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "filler")
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");

    // Space comes back: new sessions are recorded again, without a restart.
    fs::remove_file(small.path().join("filler")).unwrap();
    let mut again = shell(&cb, "bob", "web1", "space-again");
    again.send("exit\r");
    assert_eq!(again.wait(secs(20)), Some(0));
    let last = poll(secs(10), || {
        lab.bastion.sessions().into_iter().find(|x| {
            x["kind"] == "shell"
                && x["user"] == "bob"
                && x["status"] == "closed"
                && x["recording"].is_string()
        })
    })
    .expect("bob's recorded shell");
    let shown = asciinema_cat(&recording(&last)).unwrap_or_else(|e| panic!("{e}"));
    assert!(shown.contains("space-again-42"), "{shown}");
    let shown = asciinema_cat(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(shown.contains("before-full-42"), "{shown}");
    assert_verified(&lab);
    drop(lab);
}

/// A bug in one session (a panic in its task, injected with a failpoint of the debug build)
/// costs only that session: its user is told and their client exits with 255 instead of
/// hanging; the session is sealed as interrupted, with a playable recording; the audit log
/// says what failed; the server keeps serving everyone else.
#[test]
fn a_panicking_session_task_ends_only_its_session_with_a_message_and_an_audit_trail() {
    if !cfg!(debug_assertions) {
        // Release builds (bench/load.sh) have no failpoints; the test binary and the bastion
        // are built with the same profile.
        e2e::skip(
            "the panicking-session test",
            "failpoints exist in debug builds only",
        );
        return;
    }
    let mut lab = Lab::new(BIN, &[("web1", &[])]);
    lab.bastion.write_policies(POLICY);
    let alice = lab.bastion.add_user("alice", false);
    let bob = lab.bastion.add_user("bob", false);
    lab.bastion
        .serve_with_env(&[("BASTION_FAILPOINTS", "user_input")]);
    let (ca, cb) = (
        Client::new(&lab.bastion, &alice),
        Client::new(&lab.bastion, &bob),
    );

    let mut pty = ca.terminal("alice", &["web1"], 80, 24);
    pty.expect("# ", secs(30));
    pty.send("echo typed\r"); // the first keystrokes hit the failpoint
    pty.expect(
        "internal error: this session was ended and logged",
        secs(30),
    );
    assert_eq!(
        pty.wait(secs(20)),
        Some(255),
        "the client must exit, not hang"
    );

    let failed = lab.bastion.audit_of("session_failed");
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["user"], "alice");
    let error = failed[0]["detail"]["error"].as_str().unwrap_or("");
    assert!(error.contains("failpoint user_input"), "{error}");

    let s = poll(secs(10), || {
        lab.bastion
            .sessions()
            .into_iter()
            .find(|s| s["user"] == "alice" && s["status"] != "active")
    })
    .expect("alice's session ended");
    assert_eq!(s["status"], "interrupted", "{s}");
    assert_eq!(s["end_reason"], "internal error in the bastion", "{s}");
    let path = recording(&s);
    let seal = recordings::seal_file(&path).unwrap();
    assert_eq!(s["recording_sha256"], seal.sha256_hex(), "{s}");
    let shown = asciinema_cat(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(shown.contains("# "), "the prompt was recorded: {shown:?}");
    let interrupted = lab.bastion.audit_of("session_interrupted");
    assert_eq!(interrupted.len(), 1, "{interrupted:?}");
    assert_eq!(interrupted[0]["detail"]["session"], s["id"]);
    assert!(active(&lab).is_empty(), "nothing left open");

    // Everyone else is still served (an exec sends no input, so it passes the failpoint).
    let out = cb.run_ssh("bob", &["web1", "echo still-served"]);
    out.assert_success();
    assert_eq!(out.stdout.trim(), "still-served");
    assert_verified(&lab);
}

/// The audit log becomes unwritable after a user logged in (her login was audited): a command
/// she then sends over that connection (an OpenSSH master connection, as `ControlMaster`
/// users and fleet do) must not reach the host. The access decision is refused when its
/// `policy_allow` cannot be written (`session::authorize`), and were that written, a session
/// whose `session_start` cannot be is refused too (`session::run::begin_session`). She is told
/// why, and once the audit log can be written again the same connection serves her.
#[test]
fn a_command_that_cannot_be_audited_never_reaches_the_host() {
    let mut lab = Lab::new(BIN, &[("web1", &[])]);
    lab.bastion.write_policies(POLICY);
    let (alice, _bob) = serve_alice_and_bob(&mut lab);
    let socket = alice.dir().join("cm.sock");
    let control = format!("ControlPath={}", socket.display());
    let mut master = alice
        .ssh("alice", &["-M", "-N", "-o", &control])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ssh -M");
    poll(secs(15), || socket.exists().then_some(())).expect("the master connection opened");
    let exec = |command: &str| {
        alice.run_ssh(
            "alice",
            &["-o", &control, "-o", "ControlMaster=no", "web1", command],
        )
    };
    let marker = alice.dir().join("reached-the-host");
    let touch = format!("touch {}", marker.display());

    // A trigger in the bastion's own database refuses every audit append: a real SQLite
    // failure at the append, whatever its cause (disk, lock, corruption).
    let db = rusqlite::Connection::open(lab.bastion.data_dir().join("bastion.db")).unwrap();
    db.execute_batch(
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit
         BEGIN SELECT RAISE(ABORT, 'audit refused by the test'); END;",
    )
    .unwrap();
    let refused = exec(&touch);
    refused.assert_failure();
    assert!(
        refused.stderr.contains("the audit log cannot be written"),
        "{refused}"
    );
    assert!(!marker.exists(), "the command reached the host unaudited");
    // (The CLI audits its own use too: it reads the store once appends work again.)
    db.execute_batch("DROP TRIGGER refuse_audit").unwrap();
    let sessions = lab.bastion.sessions();
    assert!(
        sessions.iter().all(|s| s["command"] != touch.as_str()),
        "a refused command has no session: {sessions:?}"
    );
    exec(&touch).assert_success();
    assert!(marker.exists());
    let starts = lab.bastion.audit_of("session_start");
    assert_eq!(starts.len(), 1, "only the command that ran: {starts:?}");
    let _ = master.kill();
    let _ = master.wait();
    assert_verified(&lab);
}
