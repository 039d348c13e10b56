//! Several nodes on one PostgreSQL database (issue 19, items 3 and 4): each session names the
//! node that serves it, `bastion watch` and `bastion kill` on any node reach it (the watch
//! relayed through the database, and ended when the serving node dies); when a node dies (`kill -9`), a surviving node seals its sessions as
//! `interrupted` exactly once (two survivors race for it here), from the recording as far as
//! it reached shared storage, and `audit verify` on a survivor passes; new logins go to a
//! survivor. A node that was only stopped past `node_timeout` fences itself when it resumes
//! (one stopped for less goes on). A TOTP code is single-use across nodes and a lockout on one
//! holds on all. The console on one node watches (in a real browser) and kills a session
//! another node serves.

use std::path::Path;
use std::time::Duration;

use e2e::cluster::Cluster;
use e2e::{fresh_code, poll, secs, BastionHome, Client, ConsoleCurl, Lab, Watcher};

const BIN: &str = env!("CARGO_BIN_EXE_bastion");

const POLICY: &str = "roles:
  - name: ops
    members: [alice]
    hosts: [web1]
    logins: [root]
    require_totp: false
  - name: auditors
    members: [carol]
    hosts: [web1]
    console: [audit, live]
    require_totp: false
";

fn interrupted_records(node: &BastionHome, session: i64) -> usize {
    node.audit_of("session_interrupted")
        .iter()
        .filter(|e| e["detail"]["session"] == session)
        .count()
}

#[test]
fn a_dead_nodes_sessions_are_sealed_once_by_a_survivor_from_shared_storage() {
    let Cluster {
        mut lab,
        user: alice,
        b,
        c,
        shared,
    } = Cluster::start(Lab::new(BIN, &[("web1", &[])]), POLICY, "alice");

    let via_a = Client::new(&lab.bastion, &alice);
    let mut pty = via_a.terminal("alice", &["web1"], 80, 24);
    pty.send("echo BEFORE-$((6*7))\r");
    pty.expect("BEFORE-42", secs(20));
    // Every node lists the session, served by node-a.
    let session = poll(secs(10), || {
        b.sessions().into_iter().find(|s| s["status"] == "active")
    })
    .expect("node-b lists node-a's active session");
    assert_eq!(session["node"], "node-a");
    let table = b.cli(&["sessions", "--active"]);
    table.assert_success();
    assert!(
        table.stdout.contains("NODE") && table.stdout.contains("node-a"),
        "{table}"
    );
    let id = session["id"].as_i64().unwrap();
    let recorded = session["recording"].as_str().unwrap().to_string();

    // `bastion watch` on node-b: the screen so far, then what the user does next, live.
    let mut watcher = Watcher::start(&b, id);
    watcher.expect("BEFORE-42", secs(15));
    pty.send("echo RELAYED-$((6*7))-LIVE\r");
    pty.expect("RELAYED-42-LIVE", secs(10));
    watcher.expect("RELAYED-42-LIVE", secs(10));
    let watched = b.audit_of("session_watched");
    assert_eq!(watched.len(), 1, "{watched:?}");
    assert_eq!(watched[0]["detail"]["session"], id);
    assert_eq!(watched[0]["detail"]["target"], "root@web1");
    // The console on node-c lists it as a live session of node-a, and its page names node-a.
    let carol = lab.bastion.add_user("carol", false);
    let console = ConsoleCurl::login(&c, &Client::new(&c, &carol), "carol");
    let live = console.json("/api/v1/live");
    let listed = live["items"].as_array().unwrap();
    assert!(
        listed
            .iter()
            .any(|s| s["id"] == id && s["node"] == "node-a"),
        "{live}"
    );
    assert!(console.get("/live").contains("node-a"));
    assert!(console.get(&format!("/sessions/{id}")).contains("node-a"));
    let name = Path::new(&recorded).file_name().unwrap().to_owned();
    // Shipped in parts, one per interval with new output.
    poll(secs(15), || {
        let parts = std::fs::read_dir(shared.path().join(&name)).ok()?;
        let shipped: String = parts
            .filter_map(|p| std::fs::read_to_string(p.ok()?.path()).ok())
            .collect();
        shipped.contains("BEFORE-42").then_some(())
    })
    .expect("the live recording reached shared storage");

    // `bastion kill` on node-c ends a session node-a serves (a kill order node-a carries out).
    let held = via_a
        .ssh("alice", &["web1", "sleep 60"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let other = poll(secs(10), || {
        c.sessions()
            .into_iter()
            .find(|s| s["status"] == "active" && s["kind"] == "exec")
    })
    .expect("the exec session is listed on node-c");
    let other_id = other["id"].to_string();
    let killed = c.cli(&["kill", &other_id]);
    killed.assert_success();
    assert!(
        killed
            .stdout
            .contains("node node-a, which serves it, ends it"),
        "{killed}"
    );
    let out = held.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("terminated by an administrator"), "{said}");
    let kills = c.audit_of("session_killed");
    assert!(
        kills.iter().any(|e| e["detail"]["session"] == other["id"]),
        "{kills:?}"
    );

    // node-a dies with its disk; the users' connection to it breaks.
    lab.bastion.crash();
    std::fs::remove_file(&recorded).unwrap();
    drop(pty);
    let sealed = poll(secs(30), || {
        b.sessions()
            .into_iter()
            .find(|s| s["id"] == id && s["status"] == "interrupted")
    })
    .unwrap_or_else(|| panic!("node-a's session was never sealed; node-b: {}", b.log()));
    assert!(
        sealed["end_reason"]
            .as_str()
            .unwrap()
            .contains("node node-a stopped answering"),
        "{sealed}"
    );
    // Two survivors watched; one record. (Give the slower one time to try.)
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(interrupted_records(&b, id), 1, "{:?}", b.audit_events());
    assert!(shared.path().join(&name).join("sealed").exists());
    // The watch on node-b ended with the session it followed.
    assert!(watcher.wait(secs(15)), "{}", watcher.text());

    // The recording, as far as it was shipped, verifies and replays on a survivor.
    let verify = c.cli(&["audit", "verify"]);
    assert_eq!(verify.code, Some(0), "{verify}");
    let export = c.cli(&["export", &id.to_string()]);
    export.assert_success();
    assert!(export.stdout.contains("BEFORE-42"), "{export}");

    // New logins land on a survivor.
    let via_b = Client::new(&b, &alice);
    let out = via_b.run_ssh("alice", &["web1", "echo after-$((6*7))"]);
    out.assert_success();
    assert_eq!(out.stdout.trim(), "after-42");
    let last = b
        .sessions()
        .into_iter()
        .max_by_key(|s| s["id"].as_i64())
        .unwrap();
    assert_eq!(last["node"], "node-b");
}

/// A node that was only out of contact, not dead: `SIGSTOP` past `node_timeout` with a real
/// ssh session open through it, so a survivor seals the session as interrupted; `SIGCONT`, and
/// the node fences itself: the user is told the node lost contact with the cluster and the
/// session ends; what they typed meanwhile never reaches the host; no second seal, no
/// `session_end`, nothing more in the sealed recording; one `node_fenced` record; `audit verify`
/// passes on every node (the resumed one included); and a new session through it works.
/// node-a's first heartbeat after the stop is slowed by 3 s (a fault point): the typed input
/// and the host's output arrive well before the node learns where it stands, so what holds
/// them back is the lease, not a lucky ordering.
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

const TOTP_POLICY: &str = "roles:
  - name: ops
    members: [alice, dave, erin]
    hosts: [web1]
    logins: [root]
    require_totp: true
";

/// The step (30 s) a code belongs to now; a replay check means nothing once it has passed.
fn step_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 30
}

#[test]
fn a_totp_code_used_on_one_node_is_refused_on_another_and_a_lockout_holds_on_every_node() {
    let Cluster { lab, b, c, .. } = Cluster::start_with(
        Lab::new(BIN, &[("web1", &[])]),
        TOTP_POLICY,
        "alice",
        "max_auth_failures = 2\nlockout = \"5m\"",
    );
    // A code accepted by node-a is spent on node-b too (one last-used step in the database).
    let dave = lab.bastion.add_user("dave", true);
    let secret = dave.totp_secret.clone().unwrap();
    let (code, step) = fresh_code(&secret);
    let on_a = Client::new(&lab.bastion, &dave);
    on_a.set_code(&code);
    on_a.run_ssh("dave", &["web1", "true"]).assert_success();
    let on_b = Client::new(&b, &dave);
    on_b.set_code(&code);
    let replayed = on_b.run_ssh("dave", &["web1", "true"]);
    assert!(step_now() <= step + 1, "test too slow to exercise replay");
    replayed.assert_failure();
    let failed = b.audit_of("totp_failed");
    assert!(
        failed.iter().any(|e| e["user"] == "dave"
            && (e.to_string().contains("replay") || e.to_string().contains("already used"))),
        "{failed:?}"
    );

    // Two wrong codes on node-a lock erin out on node-c, even with the right code there.
    let erin = lab.bastion.add_user("erin", true);
    let secret = erin.totp_secret.clone().unwrap();
    let on_a = Client::new(&lab.bastion, &erin);
    on_a.set_code(&e2e::totp::wrong_code(&secret));
    on_a.run_ssh("erin", &["web1", "true"]).assert_failure();
    on_a.run_ssh("erin", &["web1", "true"]).assert_failure();
    let on_c = Client::new(&c, &erin);
    let (code, _) = fresh_code(&secret);
    on_c.set_code(&code);
    on_c.run_ssh("erin", &["web1", "true"]).assert_failure();
    let events = c.audit_events();
    let throttled = events
        .iter()
        .filter(|e| e["user"] == "erin" && e.to_string().contains("throttled"))
        .count();
    assert!(
        throttled >= 1,
        "node-c did not hold the lockout: {events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e["user"] == "dave" && e["event"] == "login_ok"),
        "dave's login on node-a is audited as login_ok: {events:?}"
    );
    // The right code itself was never checked (so it is still unused): the lockout refused first.
    assert!(
        !events
            .iter()
            .any(|e| e["user"] == "erin" && e["event"] == "login_ok"),
        "{events:?}"
    );
}

/// The console of one node watches, in a real browser, a session another node serves (the
/// screen so far, then typing as it happens, relayed through the database), and kills it with
/// a message the ssh user sees.
#[test]
fn the_console_on_one_node_watches_and_kills_a_session_another_node_serves() {
    let Cluster {
        lab,
        user: alice,
        c,
        ..
    } = Cluster::start(Lab::new(BIN, &[("web1", &[])]), POLICY, "alice");
    let carol = lab.bastion.add_user("carol", false);
    let mut sh = Client::new(&lab.bastion, &alice).terminal("alice", &["web1"], 100, 30);
    sh.expect("# ", secs(20));
    sh.send("echo before-watching-$((3*3))\r");
    sh.expect("before-watching-9", secs(10));

    let browser = e2e::Browser::start();
    browser.goto(&Client::new(&c, &carol).console_link("carol"));
    browser.watch_first_live_session(&c.console_url(), "node-a", "before-watching-9");
    sh.send("echo typed-on-node-a-$((5*5))\r");
    browser.wait_for_text(".ap-term", "typed-on-node-a-25", secs(10));
    browser.screenshot("console-watch-across-nodes");

    browser.kill_watched_session("moved to node-c's console");
    sh.expect("moved to node-c's console", secs(10));
    sh.wait(secs(20));
    let watched = c.audit_of("session_watched");
    assert!(
        watched.iter().any(|e| e["detail"]["by"]
            .as_str()
            .unwrap_or("")
            .starts_with("carol (console")),
        "{watched:?}"
    );
}
