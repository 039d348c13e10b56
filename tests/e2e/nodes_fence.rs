//! Several nodes on one PostgreSQL database (issue 19, item 4), a node that did not die: one
//! stopped (SIGSTOP) past `node_timeout` is taken for dead and its sessions sealed by a
//! survivor, so when it resumes it fences itself (ends its sessions, sets its unsealed
//! recordings aside, serves again only once it is a node in good standing); one stopped for
//! less than `node_timeout` keeps its sessions. `nodes.rs` has the node that dies.

use std::path::Path;
use std::time::Duration;

use e2e::cluster::{interrupted_records, Cluster};
use e2e::{poll, secs, Client, Lab};

const BIN: &str = env!("CARGO_BIN_EXE_bastion");

const POLICY: &str = "roles:
  - name: ops
    members: [alice]
    hosts: [web1]
    logins: [root]
    require_totp: false
";

#[test]
fn a_node_taken_for_dead_while_stopped_fences_itself_when_it_resumes() {
    let Cluster {
        lab,
        user: alice,
        b,
        c,
        shared,
    } = Cluster::start_with_env(
        Lab::new(BIN, &[("web1", &[])]),
        POLICY,
        "alice",
        "",
        &[("BASTION_FAULT_DELAYS", "heartbeat_after_gap=3000")],
    );
    let via_a = Client::new(&lab.bastion, &alice);
    // The user waits the stop out (the tests' ssh otherwise gives up on a silent server
    // after 15 s): the session must be ended by the node, not by the client.
    let mut argv = via_a.ssh_argv("alice", &["web1"]);
    argv.splice(
        1..1,
        ["-tt", "-o", "ServerAliveInterval=120"].map(String::from),
    );
    let mut pty = e2e::pty::PtySession::spawn(&argv, &via_a.env(), 80, 24);
    pty.send("echo BEFORE-$((6*7))\r");
    pty.expect("BEFORE-42", secs(20));
    let session = poll(secs(10), || {
        b.sessions()
            .into_iter()
            .find(|s| s["status"] == "active" && s["node"] == "node-a")
    })
    .expect("node-b lists node-a's active session");
    let id = session["id"].as_i64().unwrap();
    let recorded = session["recording"].as_str().unwrap().to_string();
    let name = Path::new(&recorded).file_name().unwrap().to_owned();
    let shipped = || -> String {
        let Ok(parts) = std::fs::read_dir(shared.path().join(&name)) else {
            return String::new();
        };
        let mut parts: Vec<_> = parts.filter_map(|p| Some(p.ok()?.path())).collect();
        parts.sort();
        parts
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "part"))
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect()
    };
    poll(secs(15), || shipped().contains("BEFORE-42").then_some(()))
        .expect("the live recording reached shared storage");

    // The host writes all the time, so node-a always holds output it has not shipped yet.
    pty.send("(while :; do echo TICK-$((2+3)); sleep 0.2; done) &\r");
    pty.expect("TICK-5", secs(10));
    std::thread::sleep(Duration::from_millis(1500));
    // node-a freezes (process alive, connections open); its user types meanwhile.
    lab.bastion.signal("STOP");
    std::thread::sleep(Duration::from_secs(1));
    // The target is a real sshd on this machine: a file it creates is a command that ran.
    let scratch = tempfile::tempdir().unwrap();
    let ran = scratch.path().join("typed-while-stopped");
    pty.send(&format!(
        "echo DURING-$((7*7))-STOP; touch {}\r",
        ran.display()
    ));
    let sealed = poll(secs(40), || {
        b.sessions()
            .into_iter()
            .find(|s| s["id"] == id && s["status"] == "interrupted")
    });
    let Some(sealed) = sealed else {
        lab.bastion.signal("CONT");
        panic!("node-a's session was never sealed; node-b: {}", b.log());
    };
    assert!(
        sealed["end_reason"]
            .as_str()
            .unwrap()
            .contains("node node-a stopped answering"),
        "{sealed}"
    );
    poll(secs(10), || {
        shared
            .path()
            .join(&name)
            .join("sealed")
            .exists()
            .then_some(())
    })
    .expect("the survivor wrote the sealed object");
    let at_seal = shipped();
    lab.bastion.signal("CONT");

    // The resumed node ends the session, saying why.
    pty.expect("lost contact with the cluster", secs(20));
    assert!(pty.wait(secs(20)).is_some(), "{}", pty.output());
    let said = pty.output();
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        !said.contains("DURING-49-STOP") && !ran.exists(),
        "input typed while the node was stopped reached the host: {said}"
    );
    // Fenced once, audited; one seal (the survivor's), no session_end.
    let fenced = poll(secs(10), || {
        let f = c.audit_of("node_fenced");
        (!f.is_empty()).then_some(f)
    })
    .expect("node-a audits that it fenced itself");
    assert_eq!(fenced.len(), 1, "{fenced:?}");
    assert_eq!(fenced[0]["detail"]["node"], "node-a");
    assert_eq!(fenced[0]["detail"]["sessions"], serde_json::json!([id]));
    assert_eq!(interrupted_records(&c, id), 1, "{:?}", c.audit_events());
    let ends = c.audit_of("session_end");
    assert!(
        !ends.iter().any(|e| e["detail"]["session"] == id),
        "a second seal: {ends:?}"
    );
    let row = c
        .sessions()
        .into_iter()
        .find(|s| s["id"] == id)
        .expect("the session row");
    assert_eq!(row["status"], "interrupted", "{row}");
    // Nothing more reached the sealed recording in shared storage (give a stray round time).
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(shipped(), at_seal, "the sealed recording grew");
    // node-a's own copy, with what it recorded past the seal, is kept aside.
    let aside = format!("{recorded}.unsealed");
    assert!(Path::new(&aside).exists(), "{}", lab.bastion.log());
    assert_eq!(
        fenced[0]["detail"]["unsealed"],
        serde_json::json!([aside.clone()])
    );

    // The audit chain and every seal verify, on the resumed node as on the others.
    for node in [&lab.bastion, &b, &c] {
        let verify = node.cli(&["audit", "verify"]);
        assert_eq!(verify.code, Some(0), "{verify}");
    }

    // verify still calls a sealed-at-interrupt recording that changed afterwards what it is.
    let sealed_copy = std::fs::read(&recorded).expect("node-a fetched the sealed copy");
    let mut grown = sealed_copy.clone();
    grown.extend_from_slice(b"[99.0, \"o\", \"appended after the seal\"]\n");
    std::fs::write(&recorded, &grown).unwrap();
    let verify = c.cli(&["audit", "verify"]);
    assert_ne!(verify.code, Some(0), "{verify}");
    assert!(verify.to_string().contains("grown"), "{verify}");
    std::fs::write(&recorded, &sealed_copy).unwrap();

    // A new session through the resumed node works, served and sealed by node-a.
    let out = via_a.run_ssh("alice", &["web1", "echo after-$((6*7))"]);
    out.assert_success();
    assert_eq!(out.stdout.trim(), "after-42");
    let last = poll(secs(10), || {
        let last = c.sessions().into_iter().max_by_key(|s| s["id"].as_i64())?;
        (last["status"] == "closed").then_some(last)
    })
    .expect("the new session is closed");
    assert_eq!(last["node"], "node-a", "{last}");
    assert!(last["id"].as_i64() > Some(id), "{last}");
    let mut sh = via_a.terminal("alice", &["web1"], 80, 24);
    sh.send("echo AGAIN-$((6*7))\r");
    sh.expect("AGAIN-42", secs(20));
    sh.send("exit\r");
    assert!(sh.wait(secs(20)).is_some());
    let verify = b.cli(&["audit", "verify"]);
    assert_eq!(verify.code, Some(0), "{verify}");
}

/// A node out of contact for less than `node_timeout` (stopped past its heartbeat lease, half
/// of that) is not taken for dead: what its user typed meanwhile is held, not lost, and
/// reaches the host once a heartbeat is accepted; the session goes on and ends normally with
/// its one `session_end` seal, and nothing is fenced.
#[test]
fn a_node_stopped_for_less_than_node_timeout_keeps_its_sessions() {
    let Cluster {
        lab,
        user: alice,
        b,
        ..
    } = Cluster::start(Lab::new(BIN, &[("web1", &[])]), POLICY, "alice");
    let via_a = Client::new(&lab.bastion, &alice);
    let mut pty = via_a.terminal("alice", &["web1"], 80, 24);
    pty.send("echo BEFORE-$((6*7))\r");
    pty.expect("BEFORE-42", secs(20));
    let id = poll(secs(10), || {
        b.sessions()
            .into_iter()
            .find(|s| s["status"] == "active" && s["node"] == "node-a")
    })
    .expect("node-b lists node-a's session")["id"]
        .as_i64()
        .unwrap();
    // 7 s: past the lease (5 s), short of node_timeout (10 s) and of the client's patience.
    lab.bastion.signal("STOP");
    pty.send("echo HELD-$((7*7))\r");
    std::thread::sleep(Duration::from_secs(7));
    lab.bastion.signal("CONT");
    pty.expect("HELD-49", secs(15));
    pty.send("exit\r");
    assert!(pty.wait(secs(20)).is_some(), "{}", pty.output());
    let row = poll(secs(10), || {
        b.sessions()
            .into_iter()
            .find(|s| s["id"] == id && s["status"] != "active")
    })
    .expect("the session ended");
    assert_eq!(row["status"], "closed", "{row}");
    assert!(b.audit_of("node_fenced").is_empty());
    assert_eq!(interrupted_records(&b, id), 0);
    let ends = b.audit_of("session_end");
    assert_eq!(
        ends.iter().filter(|e| e["detail"]["session"] == id).count(),
        1,
        "{ends:?}"
    );
    let verify = b.cli(&["audit", "verify"]);
    assert_eq!(verify.code, Some(0), "{verify}");
}
