//! Command review (issue 17): a `deny_commands` rule with `action: review` holds the line until an
//! approver decides, in every kind of session (exec, a terminal shell, a shell without a
//! terminal); an approved line runs, a denied or unanswered one never reaches the host, and the
//! audit log says so and still verifies. Access requests themselves are `requests.rs`.

use std::io::Write;
use std::process::Stdio;

use e2e::{poll, secs, Client, Lab};

const BIN: &str = env!("CARGO_BIN_EXE_bastion");

const REVIEW_POLICY: &str = r#"roles:
  - name: ops
    members: [alice]
    hosts: [web1]
    logins: [root]
    require_totp: false
    deny_commands:
      - 'forbidden-word'
      - {pattern: 'review-me', action: review, approvers: [bob], timeout: 2m}
      - {pattern: 'nobody-answers', action: review, approvers: [bob], timeout: 3s}
  - name: bobs
    members: [bob]
    hosts: [web1]
    console: [approve]
    require_totp: false
"#;

/// The pending command review's id, once there is one, checking the held line.
fn held_line(lab: &Lab, line: &str) -> i64 {
    let rows = poll(secs(30), || {
        let rows = lab.bastion.pending_requests();
        (!rows.is_empty()).then_some(rows)
    })
    .expect("no held line appeared");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["kind"], "command", "{rows:?}");
    assert_eq!(rows[0]["text"], line, "{rows:?}");
    assert_eq!(rows[0]["rule"], "review-me", "{rows:?}");
    rows[0]["id"].as_i64().unwrap()
}

#[test]
fn held_command_lines_run_only_when_approved_in_every_kind_of_session() {
    let (lab, alice) = Lab::serving(BIN, &[("web1", &[])], REVIEW_POLICY, "alice");
    let bob = Client::new(&lab.bastion, &lab.bastion.add_user("bob", false));
    let alice = Client::new(&lab.bastion, &alice);
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str| dir.path().join(name).display().to_string();
    let decide = |args: &[&str]| {
        let out = bob.run_ssh("bob", args);
        assert_eq!(out.code, Some(0), "{out}");
    };

    // Exec: approved runs, denied never reaches the host.
    for (name, approve) in [("exec-ok-review-me", true), ("exec-no-review-me", false)] {
        let cmd = format!("touch {}", file(name));
        let run = alice
            .ssh("alice", &["web1", &cmd])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let id = held_line(&lab, &cmd);
        if approve {
            decide(&["approve", &id.to_string()]);
        } else {
            decide(&["deny", &id.to_string(), "--reason", "not now"]);
        }
        let out = run.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("waiting for review (request {id}) by bob")),
            "{err}"
        );
        assert_eq!(out.status.success(), approve, "{err}");
        assert_eq!(std::path::Path::new(&file(name)).exists(), approve, "{err}");
        if !approve {
            assert!(
                err.contains("refused on review: request") && err.contains("not now"),
                "{err}"
            );
        }
    }

    // A shell without a terminal: line by line.
    let mut shell = alice
        .ssh("alice", &["web1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = shell.stdin.take().unwrap();
    let ok_line = format!("touch {}", file("line-ok-review-me"));
    writeln!(stdin, "{ok_line}").unwrap();
    decide(&["approve", &held_line(&lab, &ok_line).to_string()]);
    let no_line = format!("touch {}", file("line-no-review-me"));
    writeln!(stdin, "{no_line}").unwrap();
    decide(&[
        "deny",
        &held_line(&lab, &no_line).to_string(),
        "--reason",
        "no",
    ]);
    writeln!(stdin, "echo still-here").unwrap();
    drop(stdin);
    let out = shell.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("still-here"), "{stdout}");
    assert!(std::path::Path::new(&file("line-ok-review-me")).exists());
    assert!(!std::path::Path::new(&file("line-no-review-me")).exists());

    // A terminal shell: the Enter key is held.
    let mut term = alice.terminal("alice", &["web1"], 120, 30);
    term.send("echo ready-$((3*3))\r");
    term.expect("ready-9", secs(20));
    let ok_line = format!("touch {}", file("pty-ok-review-me"));
    term.send(&format!("{ok_line}\r"));
    term.expect("waiting for review", secs(20));
    decide(&["approve", &held_line(&lab, &ok_line).to_string()]);
    let made = poll(secs(20), || {
        std::path::Path::new(&file("pty-ok-review-me"))
            .exists()
            .then_some(())
    });
    assert!(
        made.is_some(),
        "approved line did not run:\n{}",
        term.screen()
    );
    let no_line = format!("touch {}", file("pty-no-review-me"));
    term.send(&format!("{no_line}\r"));
    decide(&[
        "deny",
        &held_line(&lab, &no_line).to_string(),
        "--reason",
        "no",
    ]);
    term.expect("command blocked by policy (rule review-me)", secs(20));
    term.send("exit\r");
    assert!(term.wait(secs(20)).is_some());
    assert!(!std::path::Path::new(&file("pty-no-review-me")).exists());

    // Nobody answers: refused at the rule's timeout, and a late approval cannot release it.
    let late = format!("touch {}", file("late-nobody-answers"));
    let out = alice.run_ssh("alice", &["web1", &late]);
    assert_eq!(out.code, Some(126), "{out}");
    assert!(out.stderr.contains("no decision within 3s"), "{out}");
    assert!(!std::path::Path::new(&file("late-nobody-answers")).exists());

    let blocked = lab.bastion.audit_of("command_blocked");
    assert_eq!(blocked.len(), 4, "{blocked:?}");
    assert_eq!(lab.bastion.audit_of("request_approved").len(), 3);
    assert_eq!(lab.bastion.audit_of("request_denied").len(), 3);
    assert_eq!(lab.bastion.audit_of("request_expired").len(), 1);
    let verify = lab.bastion.cli(&["audit", "verify"]);
    assert_eq!(verify.code, Some(0), "{verify}");
}
