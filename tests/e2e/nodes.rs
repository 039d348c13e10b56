//! Several nodes on one PostgreSQL database (issue 19, items 3 and 4): each session names the
//! node that serves it, `bastion watch` and `bastion kill` on any node reach it (the watch
//! relayed through the database, and ended when the serving node dies); when a node dies
//! (`kill -9`), a surviving node seals its sessions as `interrupted` exactly once (two
//! survivors race for it here), from the recording as far as it reached shared storage, and
//! `audit verify` on a survivor passes; new logins go to a survivor. A TOTP code is single-use
//! across nodes and a lockout on one holds on all. The console on one node watches (in a real
//! browser) and kills a session another node serves. A node that was only stopped, past
//! `node_timeout` or not, is `nodes_fence.rs`.

use std::path::Path;
use std::time::Duration;

use e2e::cluster::{interrupted_records, Cluster};
use e2e::{fresh_code, poll, secs, Client, ConsoleCurl, Lab, Watcher};

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
