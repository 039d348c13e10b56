//! Approving in the console (issue 17 item 3), in headless Chromium: an approver's requests
//! page shows a new request by itself, approving it (for less time than asked) sends the
//! waiting ssh user straight to the host, denying ends the wait with the reason, and a held
//! command line is approved from the same page; an approver scoped to other hosts sees none.

use std::io::{Read, Write};
use std::process::{Child, Stdio};

use e2e::{poll, secs, Browser, Client, Lab, TestUser};

const BIN: &str = env!("CARGO_BIN_EXE_bastion");

const POLICY: &str = r#"roles:
  - name: db-oncall
    members: [alice]
    hosts: [web1]
    logins: [root]
    require_totp: false
    request: {approvers: [carol], max_duration: 2h, reason_required: true}
  - name: ops
    members: [alice]
    hosts: [web2]
    logins: [root]
    require_totp: false
    deny_commands: [{pattern: 'review-me', action: review, approvers: [carol]}]
  - name: approvers
    members: [carol]
    hosts: ["*"]
    console: [approve]
    require_totp: false
  - name: db-approvers
    members: [wendy]
    hosts: ["db*"]
    console: [approve]
    require_totp: false
"#;

fn console_link(lab: &Lab, user: &TestUser) -> String {
    Client::new(&lab.bastion, user).console_link(&user.name)
}

/// `ssh alice@bastion ARGS` running, stdin open.
fn spawn(client: &Client, args: &[&str]) -> Child {
    client
        .ssh("alice", args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Closes stdin after `input` and returns (stdout, stderr, success).
fn finish(mut child: Child, input: &str) -> (String, String, bool) {
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).unwrap();
    drop(stdin);
    let (mut out, mut err) = (String::new(), String::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let ok = child.wait().unwrap().success();
    (out, err, ok)
}

fn pending_ids(lab: &Lab) -> Vec<i64> {
    lab.bastion
        .pending_requests()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

fn one_pending(lab: &Lab) -> i64 {
    poll(secs(20), || pending_ids(lab).first().copied()).expect("no pending request")
}

#[test]
fn an_approver_decides_access_and_held_lines_in_the_browser() {
    let (lab, alice) = Lab::serving(BIN, &[("web1", &[]), ("web2", &[])], POLICY, "alice");
    let carol = lab.bastion.add_user("carol", false);
    let wendy = lab.bastion.add_user("wendy", false);
    let alice = Client::new(&lab.bastion, &alice);
    let base = lab.bastion.console_url();

    let browser = Browser::start();
    browser.goto(&console_link(&lab, &carol));
    browser.goto(&format!("{base}/requests"));
    browser.wait_for_text("main", "Nothing waits for a decision", secs(10));

    // A request made while the page is open appears on it by itself.
    let waiting = spawn(
        &alice,
        &[
            "request",
            "web1",
            "--for",
            "1h",
            "--reason",
            "INC-9 <script>alert(1)</script>",
        ],
    );
    let id = one_pending(&lab);
    let row = format!("tr[data-request=\"{id}\"]");
    browser.wait_for_text("#requests", "INC-9 <script>alert(1)</script>", secs(15));
    assert_eq!(
        browser.eval("return document.querySelectorAll('#requests script').length"),
        0
    );
    browser.screenshot("console-requests-pending");

    // Approve for less than asked: the waiting user goes straight to the host.
    browser.fill(&format!("{row} form.approve input[name=duration]"), "20m");
    browser.click(&format!("{row} form.approve button"));
    browser.wait_for_text(
        &format!("{row} td.status"),
        "approved by carol until",
        secs(10),
    );
    let (out, err, ok) = finish(waiting, "echo in-by-console-$((7*6))\nexit\n");
    assert!(ok && out.contains("in-by-console-42"), "{out} {err}");
    assert!(err.contains("approved by carol until"), "{err}");
    let approved = lab.bastion.audit_of("request_approved");
    let until = approved[0]["detail"]["until"].as_str().unwrap().to_string();
    let granted = lab.bastion.json_lines(&["requests", "--json"]);
    let row0 = granted.iter().find(|r| r["id"] == id).unwrap();
    let minutes =
        (row0["granted_until"].as_f64().unwrap() - row0["decided_at"].as_f64().unwrap()) / 60.0;
    assert!(
        (19.9..20.1).contains(&minutes),
        "{minutes} min until {until}"
    );

    // Deny with a reason: the wait ends with it (the grant revoked first, so there is something
    // to ask for again).
    lab.bastion
        .cli(&["revoke", &id.to_string()])
        .assert_success();
    let waiting = spawn(
        &alice,
        &["request", "web1", "--for", "30m", "--reason", "again"],
    );
    let id = poll(secs(20), || pending_ids(&lab).first().copied()).unwrap();
    let row = format!("tr[data-request=\"{id}\"]");
    browser.wait_for_text("#requests", "again", secs(15));
    browser.fill(
        &format!("{row} form.deny input[name=reason]"),
        "use the read replica",
    );
    browser.click(&format!("{row} form.deny button"));
    let (_, err, ok) = finish(waiting, "");
    assert!(
        !ok && err.contains("denied by carol: use the read replica"),
        "{err}"
    );

    // A held command line, approved from the same page.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("made-review-me");
    let cmd = format!("touch {}", file.display());
    let held = spawn(&alice, &["web2", &cmd]);
    let id = one_pending(&lab);
    let row = format!("tr[data-request=\"{id}\"]");
    browser.wait_for_text("#requests", &cmd, secs(15));
    browser.screenshot("console-requests-review");
    browser.click(&format!("{row} form.approve button"));
    let (_, err, ok) = finish(held, "");
    assert!(ok && file.exists(), "{err}");

    // An approver scoped to db* hosts sees none of these.
    let other = Browser::start();
    other.goto(&console_link(&lab, &wendy));
    other.goto(&format!("{base}/api/v1/requests"));
    let text = other.text();
    assert!(text.contains("\"items\":[]"), "{text}");
    let verify = lab.bastion.cli(&["audit", "verify"]);
    assert_eq!(verify.code, Some(0), "{verify}");
}
