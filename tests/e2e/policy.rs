//! Role policies enforced end to end: deny by default, logins and channels, access hours,
//! session limits on live sessions, hot reload (and refusal of invalid edits), and the
//! `policy check` / `policy explain` / `hosts --user` admin commands.

use std::time::Duration;

use chrono::Timelike;
use e2e::{poll, secs, Client, Lab};

const BIN: &str = env!("CARGO_BIN_EXE_bastion");

fn policy(extra: &str) -> String {
    format!(
        "roles:
  - name: ops
    members: [alice]
    hosts: [\"web*\"]
    logins: [root, deploy]
    channels: [shell, exec]
    require_totp: false
{extra}"
    )
}

#[test]
fn allowed_and_denied_logins_and_channels_on_the_same_host() {
    let (lab, alice) = Lab::serving(BIN, &[("web1", &[])], &policy(""), "alice");
    let client = Client::new(&lab.bastion, &alice);

    let ok = client.run_ssh("alice", &["root@web1", "id", "-un"]);
    ok.assert_success();
    assert_eq!(ok.stdout.trim(), "root");

    let denied = client.run_ssh("alice", &["postgres@web1", "id", "-un"]);
    denied.assert_failure();
    assert!(
        denied.stderr.contains("access denied") && denied.stderr.contains("postgres"),
        "{denied}"
    );
    assert!(denied.stdout.is_empty(), "{denied}");

    // The role allows shell and exec only: sftp is refused.
    let sftp = client.sftp("alice+web1", "ls /\n");
    sftp.assert_failure();

    let denies = lab.bastion.audit_of("policy_deny");
    let text = serde_json::to_string(&denies).unwrap();
    assert!(text.contains("postgres") && text.contains("sftp"), "{text}");
    let allows = lab.bastion.audit_of("policy_allow");
    assert!(
        allows.iter().any(|e| e["detail"]["login"] == "root"),
        "{allows:?}"
    );
    // Nothing denied ever reached the target as a session.
    assert_eq!(lab.bastion.sessions().len(), 1);
}

#[test]
fn user_without_a_role_is_denied_everything() {
    let mut lab = Lab::new(BIN, &[("web1", &[])]);
    lab.bastion.write_policies(&policy(""));
    let carol = lab.bastion.add_user("carol", true);
    lab.serve();
    let client = Client::new(&lab.bastion, &carol);
    client.set_code(&e2e::fresh_code(carol.totp_secret.as_ref().unwrap()).0);
    let out = client.run_ssh("carol", &["web1", "true"]);
    out.assert_failure();
    assert!(out.stderr.contains("access denied"), "{out}");
    let hosts = lab.bastion.cli(&["hosts", "--user", "carol", "--json"]);
    hosts.assert_success();
    assert!(hosts.stdout.trim().is_empty(), "{hosts}");
    let hosts = lab.bastion.cli(&["hosts", "--user", "alice", "--json"]);
    assert!(hosts.stdout.contains("\"web1\""), "{hosts}");
}

#[test]
fn policy_check_and_explain() {
    let lab = Lab::new(BIN, &[("web1", &[])]);
    lab.bastion.write_policies(&policy(""));
    let ok = lab.bastion.cli(&["policy", "check"]);
    ok.assert_success();

    let bad = lab.bastion.data_dir().join("bad.yaml");
    std::fs::write(&bad, policy("    idle_timeout: soon\n")).unwrap();
    let out = lab.bastion.cli(&["policy", "check", bad.to_str().unwrap()]);
    assert_eq!(out.code, Some(1), "{out}");
    let want = format!("{}:8:19: roles[0].idle_timeout:", bad.display());
    assert!(out.stderr.starts_with(&want), "want {want:?}: {out}");

    let yes = lab
        .bastion
        .cli(&["policy", "explain", "alice", "web1", "--login", "deploy"]);
    yes.assert_success();
    assert!(
        yes.stdout.starts_with("allowed") && yes.stdout.contains("role ops"),
        "{yes}"
    );
    let no = lab
        .bastion
        .cli(&["policy", "explain", "alice", "web1", "--login", "postgres"]);
    assert!(
        no.stdout.starts_with("denied") && no.stdout.contains("allowed: root, deploy"),
        "{no}"
    );
    let no = lab.bastion.cli(&["policy", "explain", "mallory", "web1"]);
    assert!(
        no.stdout.starts_with("denied") && no.stdout.contains("holds no role"),
        "{no}"
    );
}

/// Editing policies.yaml while a session is open: new requests follow the new file at once,
/// the open session carries on, and an invalid edit is refused with the old rules kept.
#[test]
fn policy_reload_keeps_open_sessions_and_refuses_invalid_edits() {
    let (lab, alice) = Lab::serving(BIN, &[("web1", &[]), ("web2", &[])], &policy(""), "alice");
    let client = Client::new(&lab.bastion, &alice);
    let mut shell = client.terminal("alice", &["web1"], 80, 24);
    shell.send("echo ONE-$((1+1))\r");
    shell.expect("ONE-2", secs(20));

    // An invalid edit: refused, audited with its position, old policy still in force.
    lab.bastion
        .write_policies(&policy("    max_session: forever\n"));
    let failed = poll(secs(15), || {
        lab.bastion
            .audit_of("policy_reload_failed")
            .into_iter()
            .next()
    })
    .expect("reload failure audited");
    assert!(
        failed["detail"]["error"]
            .as_str()
            .unwrap()
            .contains("policies.yaml:8:18"),
        "{failed}"
    );
    client.run_ssh("alice", &["web2", "true"]).assert_success();

    // A valid edit that removes web2: new requests are denied, the open shell still works.
    lab.bastion
        .write_policies(&policy("").replace("\"web*\"", "\"web1\""));
    let denied = poll(secs(15), || {
        let out = client.run_ssh("alice", &["web2", "true"]);
        (!out.success()).then_some(out)
    })
    .expect("new policy applied");
    assert!(denied.stderr.contains("access denied"), "{denied}");
    shell.send("echo TWO-$((1+1))\r");
    shell.expect("TWO-2", secs(10));
    shell.send("exit\r");
    assert_eq!(shell.wait(secs(20)), Some(0));
    assert!(!lab.bastion.audit_of("policy_reloaded").is_empty());
}

#[test]
fn idle_timeout_and_max_session_end_live_sessions_with_a_message() {
    let mut lab = Lab::new(BIN, &[("web1", &[]), ("web2", &[])]);
    let text = "roles:
  - name: idle
    members: [alice]
    hosts: [web1]
    logins: [root]
    require_totp: false
    idle_timeout: 2s
  - name: short
    members: [alice]
    hosts: [web2]
    logins: [root]
    require_totp: false
    max_session: 3s
";
    lab.bastion.write_policies(text);
    let alice = lab.bastion.add_user("alice", false);
    lab.serve();
    let client = Client::new(&lab.bastion, &alice);

    let mut idle = client.terminal("alice", &["web1"], 80, 24);
    idle.send("echo READY\r");
    idle.expect("READY", secs(20));
    idle.expect("idle for 2s", secs(20));
    assert!(idle.wait(secs(20)).is_some(), "session must end");

    let long = client.run_ssh("alice", &["web2", "sleep 60; echo SHOULD-NOT-PRINT"]);
    long.assert_failure();
    assert!(long.stderr.contains("maximum session length 3s"), "{long}");
    assert!(!long.stdout.contains("SHOULD-NOT-PRINT"));
    assert!(long.elapsed < Duration::from_secs(50), "{long}");
    let sessions = lab.bastion.sessions();
    assert!(
        sessions
            .iter()
            .any(|s| s["end_reason"].as_str().unwrap_or("").contains("idle")),
        "{sessions:?}"
    );
}

/// Access hours: outside the window the request is denied; a live session is ended when its
/// window closes (the window here closes at the next full minute).
#[test]
fn access_hours_deny_outside_and_end_sessions_at_the_close() {
    let mut lab = Lab::new(BIN, &[("web1", &[]), ("web2", &[])]);
    // Leave at least 5 s before the minute turns so the session starts inside the window, and
    // start no earlier than second 15, so the window closes well within the client's 60 s limit
    // (started at second 0, the close raced that limit).
    let now = loop {
        let n = chrono::Local::now();
        if (15..55).contains(&n.second()) {
            break n;
        }
        std::thread::sleep(Duration::from_secs(1));
    };
    let closes = now + chrono::Duration::minutes(1);
    let open_window = format!(
        "{:02}:{:02}-{:02}:{:02}",
        now.hour(),
        now.minute(),
        closes.hour(),
        closes.minute()
    );
    let later = now + chrono::Duration::hours(3);
    let closed_window = format!("{:02}:00-{:02}:30", later.hour(), later.hour());
    let text = format!(
        "roles:
  - name: now
    members: [alice]
    hosts: [web1]
    logins: [root]
    require_totp: false
    hours: \"{open_window}\"
  - name: later
    members: [alice]
    hosts: [web2]
    logins: [root]
    require_totp: false
    hours: \"{closed_window}\"
"
    );
    lab.bastion.write_policies(&text);
    let alice = lab.bastion.add_user("alice", false);
    lab.serve();
    let client = Client::new(&lab.bastion, &alice);

    let out = client.run_ssh("alice", &["web2", "true"]);
    out.assert_failure();
    assert!(out.stderr.contains("outside access hours"), "{out}");

    let ended = client.run_ssh("alice", &["web1", "sleep 90; echo SHOULD-NOT-PRINT"]);
    ended.assert_failure();
    assert!(
        ended.stderr.contains("access hours") && ended.stderr.contains("over"),
        "{ended}"
    );
    assert!(!ended.stdout.contains("SHOULD-NOT-PRINT"));
}

/// `deny_commands` refuses a matching exec request before it reaches the target; every exec
/// lands in the command log with its exit status, searchable with `bastion commands`.
#[test]
fn denied_exec_commands_never_run_and_the_command_log_is_searchable() {
    let policy = policy("    deny_commands: ['^rm\\s+-rf\\s+/\\s*$', 'shutdown']\n");
    let (lab, alice) = Lab::serving(BIN, &[("web1", &[])], &policy, "alice");
    let client = Client::new(&lab.bastion, &alice);
    let flag = lab.target("web1").dir().join("ran");
    let blocked = client.run_ssh(
        "alice",
        &[
            "web1",
            &format!("touch {}; shutdown -h now", flag.display()),
        ],
    );
    blocked.assert_failure();
    assert!(
        blocked.stderr.contains("command blocked by policy"),
        "{blocked}"
    );
    assert!(!flag.exists(), "a blocked command reached the target");
    client
        .run_ssh("alice", &["web1", "echo", "fine"])
        .assert_success();
    client
        .run_ssh("alice", &["web1", "exit 5"])
        .assert_failure();

    let events = lab.bastion.audit_of("command_blocked");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["detail"]["rule"], "shutdown");

    let all = lab.bastion.json_lines(&["commands", "--json"]);
    let texts: Vec<&str> = all.iter().map(|c| c["command"].as_str().unwrap()).collect();
    assert_eq!(texts.len(), 3, "{all:?}");
    assert!(
        all[0]["blocked"] == true && all[1]["exit_status"] == 0 && all[2]["exit_status"] == 5,
        "{all:?}"
    );
    let found = lab.bastion.json_lines(&[
        "commands", "--grep", "SHUTDOWN", "--user", "alice", "--host", "web1", "--json",
    ]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(lab
        .bastion
        .json_lines(&["commands", "--grep", "shutdown", "--user", "bob", "--json"])
        .is_empty());
    let report = lab
        .bastion
        .json_lines(&["report", "--since", "1h", "--json"]);
    let alice_row = report
        .iter()
        .find(|r| r["user"] == "alice")
        .expect("alice in report");
    assert_eq!(
        (
            alice_row["sessions"].as_i64(),
            alice_row["commands"].as_i64(),
            alice_row["blocked_commands"].as_i64()
        ),
        (Some(3), Some(3), Some(1)),
        "{report:?}"
    );
    let web1 = report
        .iter()
        .find(|r| r["host"] == "web1")
        .expect("web1 in report");
    assert_eq!(web1["commands"], 3);
    let table = lab.bastion.cli(&["commands", "--grep", "echo"]);
    assert!(
        table.stdout.contains("echo fine") && table.stdout.contains("root@web1"),
        "{table}"
    );
}

/// Several roles combine as a union: an unrestricted role listed first does not lift another
/// granting role's `deny_commands`, and `policy explain` names every contributing role, the
/// same for either role order.
#[test]
fn every_granting_roles_deny_rules_apply_whatever_the_role_order() {
    let free = "  - name: free
    members: [alice]
    hosts: [\"web*\"]
    logins: [root]
    channels: [shell, exec]
    require_totp: false
";
    let careful = "  - name: careful
    members: [alice]
    hosts: [web1]
    logins: [root]
    channels: [exec]
    require_totp: false
    max_session: 1h
    deny_commands: ['shutdown']
";
    let (lab, alice) = Lab::serving(
        BIN,
        &[("web1", &[])],
        &format!("roles:\n{free}{careful}"),
        "alice",
    );
    let client = Client::new(&lab.bastion, &alice);
    let flag = lab.target("web1").dir().join("ran");
    let blocked = client.run_ssh(
        "alice",
        &[
            "web1",
            &format!("touch {}; shutdown -h now", flag.display()),
        ],
    );
    blocked.assert_failure();
    assert!(
        blocked
            .stderr
            .contains("command blocked by policy (role careful, rule shutdown)"),
        "{blocked}"
    );
    assert!(!flag.exists(), "a blocked command reached the target");
    client
        .run_ssh("alice", &["web1", "echo", "fine"])
        .assert_success();

    let events = lab.bastion.audit_of("command_blocked");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["detail"]["role"], "careful");
    let allows = lab.bastion.audit_of("policy_allow");
    assert!(
        allows
            .iter()
            .all(|e| e["detail"]["roles"] == serde_json::json!(["careful", "free"])),
        "{allows:?}"
    );

    let explain = |policy: &str| {
        lab.bastion.write_policies(policy);
        let out = lab
            .bastion
            .cli(&["policy", "explain", "alice", "web1", "--channel", "exec"]);
        out.assert_success();
        out.stdout
    };
    let listed_first = explain(&format!("roles:\n{free}{careful}"));
    let listed_second = explain(&format!("roles:\n{careful}{free}"));
    for out in [&listed_first, &listed_second] {
        assert!(
            out.starts_with("allowed: role careful (line ")
                && out.contains(", role free (line ")
                && out.contains("\nroles: careful, free\n")
                && out.contains("deny_commands 1,")
                && out.contains("max_session 1h"),
            "{out}"
        );
    }
    // Only the line numbers differ.
    let strip = |s: &str| s.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(strip(&listed_first), strip(&listed_second));
}

#[test]
fn a_role_without_logins_uses_the_inventorys_ansible_user() {
    let mut lab = Lab::new(BIN, &[("web1", &[]), ("web2", &[])]);
    let inv = lab.inventory_yaml("");
    let port_line = format!("      ansible_port: {}\n", lab.target("web1").port());
    let inv = inv.replacen(
        &port_line,
        &format!("{port_line}      ansible_user: root\n"),
        1,
    );
    lab.bastion.write_inventory(&inv);
    lab.bastion.write_policies(
        "roles:\n  - name: ops\n    members: [alice]\n    hosts: [\"web*\"]\n    require_totp: false\n",
    );
    let alice = lab.bastion.add_user("alice", false);
    lab.serve();
    let client = Client::new(&lab.bastion, &alice);
    let ok = client.run_ssh("alice", &["web1", "id", "-un"]);
    ok.assert_success();
    assert_eq!(ok.stdout.trim(), "root");
    // web2 has no ansible_user: nothing to log in as, and the denial says so.
    let no = client.run_ssh("alice", &["web2", "id", "-un"]);
    assert_eq!(no.code, Some(1), "{no}");
    assert!(no.stderr.contains("ansible_user"), "{no}");
    let hosts = lab.bastion.cli(&["hosts", "--user", "alice"]);
    assert!(
        hosts.stdout.contains("web1") && !hosts.stdout.contains("web2"),
        "{hosts}"
    );
}
