//! Access requests with approval (issue 17), end to end with real ssh clients: a `request:`
//! role grants nothing until a request is approved; asking by the exec word waits and then goes
//! straight to the host; approvers decide by `ssh bastion approve|deny` or `bastion approve`;
//! nobody approves their own request; grants end on time or when revoked, ending the sessions
//! under them with a message; every step is in the audit log, which still verifies. (Lines held
//! for review by `deny_commands` are `command_review.rs`.)

use std::io::{Read, Write};
use std::process::Stdio;

use e2e::{poll, secs, Client, Lab};

const BIN: &str = env!("CARGO_BIN_EXE_bastion");

const POLICY: &str = r#"roles:
  - name: db-oncall
    members: [alice]
    hosts: [web1]
    logins: [root]
    require_totp: false
    request:
      approvers: [bob, "role:leads"]
      max_duration: 4h
      reason_required: true
  - name: leads
    members: [carol]
    hosts: [web1]
    console: [approve]
    require_totp: false
  - name: bobs
    members: [bob]
    hosts: [web1]
    console: [approve]
    require_totp: false
"#;

struct World {
    lab: Lab,
    alice: Client,
    bob: Client,
    carol: Client,
}

fn world() -> World {
    let (lab, alice) = Lab::serving(BIN, &[("web1", &[])], POLICY, "alice");
    let bob = lab.bastion.add_user("bob", false);
    let carol = lab.bastion.add_user("carol", false);
    World {
        alice: Client::new(&lab.bastion, &alice),
        bob: Client::new(&lab.bastion, &bob),
        carol: Client::new(&lab.bastion, &carol),
        lab,
    }
}

/// Waits for exactly one pending request and returns its id.
fn one_pending(lab: &Lab) -> i64 {
    let rows = poll(secs(20), || {
        let rows = lab.bastion.pending_requests();
        (!rows.is_empty()).then_some(rows)
    })
    .expect("no pending request appeared");
    assert_eq!(rows.len(), 1, "{rows:?}");
    rows[0]["id"].as_i64().unwrap()
}

/// alice asks for `target` with `--no-wait`; returns the pending request's id.
fn ask_no_wait(w: &World, target: &str, duration: &str, reason: &str) -> i64 {
    let args = [
        "request",
        target,
        "--for",
        duration,
        "--reason",
        reason,
        "--no-wait",
    ];
    let out = w.alice.run_ssh("alice", &args);
    assert_eq!(out.code, Some(0), "{out}");
    assert!(out.stderr.contains("not waiting"), "{out}");
    one_pending(&w.lab)
}

#[test]
fn a_request_by_exec_word_waits_for_approval_then_goes_to_the_host() {
    let w = world();
    // Without a request, the role grants nothing, and says what to do.
    let denied = w.alice.run_ssh("alice", &["web1", "hostname"]);
    assert_eq!(denied.code, Some(1), "{denied}");
    assert!(
        denied.stderr.contains("needs an approved request"),
        "{denied}"
    );
    assert!(denied.stderr.contains("bob or role:leads"), "{denied}");
    let explain = w.lab.bastion.cli(&["policy", "explain", "alice", "web1"]);
    assert!(
        explain.stdout.contains("needs an approved request"),
        "{explain}"
    );
    // `bastion hosts --user` says so too, as the menu's `(request)` mark does.
    let hosts = w.lab.bastion.cli(&["hosts", "--user", "alice"]);
    assert!(hosts.stdout.contains("request needed: root"), "{hosts}");
    let rows = w
        .lab
        .bastion
        .json_lines(&["hosts", "--user", "alice", "--json"]);
    assert_eq!(
        rows[0]["request_logins"],
        serde_json::json!(["root"]),
        "{rows:?}"
    );

    // Bad asks are refused with the reason, and nothing is stored.
    let long = w.alice.run_ssh(
        "alice",
        &["request", "web1", "--for", "9h", "--reason", "x"],
    );
    assert_eq!(long.code, Some(1), "{long}");
    assert!(
        long.stderr.contains("longer than the maximum of 4h"),
        "{long}"
    );
    let bare = w
        .alice
        .run_ssh("alice", &["request", "web1", "--for", "1h"]);
    assert!(bare.stderr.contains("requires a reason"), "{bare}");
    assert!(w.lab.bastion.pending_requests().is_empty());

    // Ask and wait; stdin stays open for the shell that follows the approval.
    let mut asking = w
        .alice
        .ssh(
            "alice",
            &[
                "request",
                "web1",
                "--for",
                "2h",
                "--reason",
                "INC-4521 db is down",
            ],
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let id = one_pending(&w.lab);
    let row = &w.lab.bastion.pending_requests()[0];
    assert_eq!(row["user"], "alice");
    assert_eq!(row["host"], "web1");
    assert_eq!(row["login"], "root");
    assert_eq!(row["text"], "INC-4521 db is down");
    assert_eq!(row["seconds"], 7200);

    // Nobody approves their own request (an approver not listed is refused too: policies/tests/requests.rs).
    let own = w.alice.run_ssh("alice", &["approve", &id.to_string()]);
    assert_eq!(own.code, Some(1), "{own}");
    assert!(
        own.stderr.contains("cannot approve their own request"),
        "{own}"
    );
    let longer = w
        .lab
        .bastion
        .cli(&["approve", &id.to_string(), "--for", "3h"]);
    assert!(
        longer.stderr.contains("longer than the 2h asked for"),
        "{longer}"
    );

    // An administrator approves for less time than asked.
    let ok = w
        .lab
        .bastion
        .cli(&["approve", &id.to_string(), "--for", "1h"]);
    assert_eq!(ok.code, Some(0), "{ok}");
    let rows = w
        .lab
        .bastion
        .json_lines(&["hosts", "--user", "alice", "--json"]);
    assert_eq!(rows[0]["request_logins"], serde_json::json!([]), "{rows:?}");
    let mut stdin = asking.stdin.take().unwrap();
    stdin.write_all(b"echo granted-$((6*7))\nexit\n").unwrap();
    drop(stdin);
    let mut out = String::new();
    asking
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let mut err = String::new();
    asking
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = asking.wait().unwrap();
    assert!(
        out.contains("granted-42"),
        "stdout {out:?} stderr {err:?} log {}",
        w.lab.bastion.log()
    );
    assert!(
        err.contains(&format!(
            "request {id} for root@web1 (2h): waiting for bob or role:leads"
        )),
        "{err}"
    );
    assert!(
        err.contains("approved by root (administrator) until"),
        "{err}"
    );
    assert!(status.success(), "{err}");

    // Later logins within the grant need no new request, and name their grant.
    let again = w.alice.run_ssh("alice", &["web1", "echo", "again"]);
    again.assert_success();
    let starts = w.lab.bastion.audit_of("session_start");
    assert!(
        starts.iter().all(|e| e["detail"]["grant"] == id),
        "{starts:?}"
    );
    assert_eq!(starts.len(), 2, "{starts:?}");
    let approved = w.lab.bastion.audit_of("request_approved");
    assert_eq!(approved.len(), 1, "{approved:?}");
    assert_eq!(approved[0]["detail"]["by"], "root (administrator)");
    assert_eq!(w.lab.bastion.audit_of("request_created").len(), 1);
    let verify = w.lab.bastion.cli(&["audit", "verify"]);
    assert_eq!(verify.code, Some(0), "{verify}");
}

#[test]
fn approvers_decide_over_ssh_by_name_and_by_role() {
    let w = world();
    let ask = |reason: &str| ask_no_wait(&w, "root@web1", "30m", reason);
    let first = ask("first");
    // bob denies, with a reason.
    let denied = w.bob.run_ssh(
        "bob",
        &[
            "deny",
            &first.to_string(),
            "--reason",
            "not during the freeze",
        ],
    );
    assert_eq!(denied.code, Some(0), "{denied}");
    assert!(
        denied
            .stderr
            .contains("denied by bob: not during the freeze"),
        "{denied}"
    );
    let still = w.alice.run_ssh("alice", &["web1", "true"]);
    assert_eq!(still.code, Some(1), "{still}");
    // A decided request cannot be decided again.
    let twice = w.carol.run_ssh("carol", &["approve", &first.to_string()]);
    assert!(twice.stderr.contains("denied, not pending"), "{twice}");

    // carol approves as a member of role:leads.
    let second = ask("second");
    let ok = w.carol.run_ssh("carol", &["approve", &second.to_string()]);
    assert_eq!(ok.code, Some(0), "{ok}");
    w.alice.run_ssh("alice", &["web1", "true"]).assert_success();
    let denials = w.lab.bastion.audit_of("request_denied");
    assert_eq!(denials[0]["detail"]["reason"], "not during the freeze");
    assert_eq!(
        w.lab.bastion.audit_of("request_approved")[0]["detail"]["by"],
        "carol"
    );
}

#[test]
fn a_grant_that_expires_or_is_revoked_ends_the_sessions_under_it() {
    let w = world();
    let grant = |secs_for: &str| {
        let id = ask_no_wait(&w, "web1", "1h", "drill");
        let ok = w
            .lab
            .bastion
            .cli(&["approve", &id.to_string(), "--for", secs_for]);
        assert_eq!(ok.code, Some(0), "{ok}");
        id
    };
    // Expiry: a shell open under a short grant is ended with the message.
    let id = grant("6s");
    let mut shell = w.alice.terminal("alice", &["web1"], 100, 30);
    shell.send("echo inside-$((1+1))\r");
    shell.expect("inside-2", secs(20));
    shell.expect(&format!("access grant (request {id}) has ended"), secs(30));
    assert!(shell.wait(secs(20)).is_some(), "the session did not end");
    let expired = w.lab.bastion.audit_of("request_expired");
    assert_eq!(expired.len(), 1, "{expired:?}");
    assert_eq!(expired[0]["detail"]["request"], id);
    let again = w.alice.run_ssh("alice", &["web1", "true"]);
    assert!(
        again.stderr.contains("needs an approved request"),
        "{again}"
    );

    let listed = w.lab.bastion.cli(&["requests", "--limit", "1"]);
    assert!(
        listed
            .stdout
            .contains("expired: the grant reached its end; approved by root (administrator)"),
        "{listed}"
    );

    // Revocation from the command line, while a session runs; bob approved this one, so the
    // listing must not name him as the one who revoked it.
    let id = ask_no_wait(&w, "web1", "1h", "drill");
    let ok = w.bob.run_ssh("bob", &["approve", &id.to_string()]);
    assert_eq!(ok.code, Some(0), "{ok}");
    let mut shell = w.alice.terminal("alice", &["web1"], 100, 30);
    shell.send("echo second-$((2+2))\r");
    shell.expect("second-4", secs(20));
    let out = w.lab.bastion.cli(&["revoke", &id.to_string()]);
    assert_eq!(out.code, Some(0), "{out}");
    shell.expect("was revoked by root (administrator)", secs(20));
    assert!(shell.wait(secs(20)).is_some(), "the session did not end");
    let ends = w.lab.bastion.audit_of("session_end");
    assert!(
        ends.iter().any(|e| e["detail"]["reason"]
            .as_str()
            .unwrap_or("")
            .contains("revoked")),
        "{ends:?}"
    );
    assert_eq!(w.lab.bastion.audit_of("request_revoked").len(), 1);
    let listed = w.lab.bastion.cli(&["requests", "--limit", "1"]);
    assert!(
        listed
            .stdout
            .contains("revoked by root (administrator); approved by bob"),
        "{listed}"
    );
    let verify = w.lab.bastion.cli(&["audit", "verify"]);
    assert_eq!(verify.code, Some(0), "{verify}");
}

#[test]
fn the_host_menu_marks_request_hosts_asks_and_waits_then_connects() {
    let w = world();
    let mut menu = w.alice.terminal("alice", &[], 120, 30);
    menu.expect_screen("web1 (request)", secs(20));
    menu.send("\r");
    menu.expect("Reason: ", secs(10));
    menu.send("from-the-menu\r");
    menu.expect("For how long", secs(10));
    menu.send("30m\r");
    menu.expect("waiting for bob or role:leads", secs(10));
    let id = one_pending(&w.lab);
    let row = &w.lab.bastion.pending_requests()[0];
    assert_eq!(row["text"], "from-the-menu");
    assert_eq!(row["seconds"], 1800);
    let ok = w.lab.bastion.cli(&["approve", &id.to_string()]);
    assert_eq!(ok.code, Some(0), "{ok}");
    menu.expect("approved by root (administrator)", secs(10));
    menu.expect("# ", secs(20));
    menu.send("echo via-menu-$((2*21))\r");
    menu.expect("via-menu-42", secs(20));
    menu.send("exit\r");
    menu.expect_screen("session on root@web1 ended", secs(15));
    // Now held, the host is no longer marked.
    assert!(!menu.screen().contains("(request)"), "{}", menu.screen());
    menu.send("q");
    assert!(menu.wait(secs(20)).is_some());
}
