//! Nothing reaches a host unseen (issue 15): a shell without a terminal (`ssh bastion web1`
//! with a script on stdin, `ssh -T alice+web1@bastion`) is recorded, every line is a
//! command-log row, and `deny_commands` stops a line before any byte of it reaches the target;
//! a command run with a terminal (`ssh -t bastion web1 bash`) has its typed lines logged and
//! guarded like a menu shell.

use std::fs;

use e2e::{asciinema_cat, secs, Client, Lab};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_bastion");

const POLICY: &str = "roles:
  - name: ops
    members: [alice]
    hosts: [web1]
    logins: [root]
    require_totp: false
    record_input: true
    deny_commands: ['forbidden-word', '^shutdown']
";

/// A session's command log.
fn logged(lab: &Lab, session: &Value) -> Vec<(String, bool)> {
    lab.bastion.command_log(&session["id"])
}

/// `ssh LOGIN@bastion ARGS` with `script` on stdin: no terminal, so ssh asks for none (as `-T`).
fn piped(client: &Client, login: &str, args: &[&str], script: &str) -> (i32, String, String) {
    e2e::run_with_input(&mut client.ssh(login, args), script)
}

fn row(command: &str, blocked: bool) -> (String, bool) {
    (command.to_string(), blocked)
}

#[test]
fn a_shell_without_a_terminal_is_recorded_logged_and_guarded_line_by_line() {
    let (lab, alice) = Lab::serving(BIN, &[("web1", &[])], POLICY, "alice");
    let client = Client::new(&lab.bastion, &alice);
    let work = lab.target("web1").dir().join("work");
    fs::create_dir_all(&work).unwrap();
    let w = work.display();

    // A script piped into `ssh bastion web1`: the blocked line never runs, the others do.
    let script = format!(
        "cd {w}\necho first-$((1+1))\ntouch forbidden-word.txt; touch marker-from-blocked-line\n\
         echo to-stderr >&2\necho after-block\nprintf no-newline-at-end"
    );
    let (status, stdout, stderr) = piped(&client, "alice", &["web1"], &script);
    assert_eq!(status, 0, "stdout: {stdout}\nstderr: {stderr}");
    assert_eq!(stdout, "first-2\nafter-block\nno-newline-at-end");
    assert!(
        stderr.contains("command blocked by policy (rule forbidden-word)"),
        "{stderr}"
    );
    assert!(stderr.contains("to-stderr"), "{stderr}");
    assert!(
        !work.join("forbidden-word.txt").exists(),
        "blocked line ran"
    );
    assert!(
        !work.join("marker-from-blocked-line").exists(),
        "part of the blocked line ran"
    );

    let sessions = lab.bastion.sessions();
    let s = sessions
        .iter()
        .find(|s| s["kind"] == "shell")
        .expect("shell session");
    assert_eq!(
        logged(&lab, s),
        vec![
            row(&format!("cd {w}"), false),
            row("echo first-$((1+1))", false),
            row(
                "touch forbidden-word.txt; touch marker-from-blocked-line",
                true
            ),
            row("echo to-stderr >&2", false),
            row("echo after-block", false),
            row("printf no-newline-at-end", false),
        ]
    );
    let blocked = lab.bastion.audit_of("command_blocked");
    assert_eq!(blocked.len(), 1, "{blocked:?}");
    assert_eq!(blocked[0]["detail"]["origin"], "shell");
    assert_eq!(blocked[0]["detail"]["role"], "ops");

    // The recording: asciicast v2 that asciinema plays, output and (record_input) input lines.
    let path = s["recording"].as_str().expect("a recording").to_string();
    let cast = recordings::read_cast(std::path::Path::new(&path)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cast.header.title, "alice -> root@web1");
    let shown = cast.output_text();
    for text in [
        "first-2",
        "to-stderr",
        "after-block",
        "command blocked by policy",
    ] {
        assert!(shown.contains(text), "{text} not in the recording: {shown}");
    }
    let raw = fs::read_to_string(&path).unwrap();
    assert!(
        raw.contains("\"i\"") && raw.contains("echo first-$((1+1))"),
        "{raw}"
    );
    assert!(
        !raw.contains("\"i\", \"touch forbidden-word.txt"),
        "a blocked line is not recorded as sent input: {raw}"
    );
    let played = asciinema_cat(std::path::Path::new(&path)).expect("asciinema plays it");
    assert!(played.contains("after-block"), "{played}");

    // `ssh -T alice+web1@bastion`: the target in the login name, same rules.
    let (status, stdout, stderr) = piped(
        &client,
        "alice+web1",
        &[],
        "echo via-login-name\nshutdown-marker-not-a-command\necho still-here\n",
    );
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(stdout, "via-login-name\nstill-here\n");
    assert!(stderr.contains("rule ^shutdown"), "{stderr}");

    let out = lab.bastion.cli(&["audit", "verify"]);
    assert_eq!(out.code, Some(0), "{out}");
}

#[test]
fn a_command_run_with_a_terminal_has_its_typed_lines_logged_and_guarded() {
    let (lab, alice) = Lab::serving(BIN, &[("web1", &[])], POLICY, "alice");
    let client = Client::new(&lab.bastion, &alice);
    let work = lab.target("web1").dir().join("work");
    fs::create_dir_all(&work).unwrap();

    let mut sh = client.terminal("alice", &["web1", "bash --norc -i"], 100, 30);
    sh.expect("# ", secs(20));
    sh.send(&format!("PS1='PROM''PT$ '; cd {}\r", work.display()));
    sh.expect("PROMPT$ ", secs(20));
    sh.send("echo typed-$((3+4))\r");
    sh.expect("typed-7\r\n", secs(10));
    sh.expect("PROMPT$ ", secs(10));
    sh.send("touch forbidden-word.txt\r");
    sh.expect("command blocked by policy", secs(10));
    sh.expect("PROMPT$ ", secs(10));
    sh.send("exit\r");
    assert_eq!(sh.wait(secs(20)), Some(0), "{}", sh.output());
    assert!(
        !work.join("forbidden-word.txt").exists(),
        "blocked line ran"
    );

    let sessions = lab.bastion.sessions();
    let s = sessions
        .iter()
        .find(|s| s["kind"] == "exec")
        .expect("exec session");
    assert_eq!(
        logged(&lab, s),
        vec![
            row("bash --norc -i", false),
            row(&format!("PS1='PROM''PT$ '; cd {}", work.display()), false),
            row("echo typed-$((3+4))", false),
            row("touch forbidden-word.txt", true),
            row("exit", false),
        ]
    );
    let blocked = lab.bastion.audit_of("command_blocked");
    assert_eq!(blocked.len(), 1, "{blocked:?}");
    assert_eq!(blocked[0]["detail"]["command"], "touch forbidden-word.txt");
}

/// `ssh` with `extra` options before the destination `alice@127.0.0.1` and `rest` after it.
fn ssh_with(client: &Client, extra: &[&str], rest: &[&str]) -> e2e::Outcome {
    let base = client.rsync_rsh();
    let mut argv = base.split_whitespace();
    let mut cmd = std::process::Command::new(argv.next().unwrap());
    cmd.args(argv).args(extra).arg("alice@127.0.0.1").args(rest);
    e2e::run(&mut cmd, secs(30))
}

#[test]
fn every_refused_request_is_audited_with_its_kind() {
    let (lab, alice) = Lab::serving(BIN, &[("web1", &[])], POLICY, "alice");
    let client = Client::new(&lab.bastion, &alice);
    let web1 = lab.target("web1");
    // A port of web1 that is not its SSH service (that would be a ProxyJump, tests/e2e/jump.rs).
    let target = format!("{}:9", web1.addr());

    // An environment variable: refused, the session still runs; its value is never logged.
    let env = ssh_with(
        &client,
        &["-o", "SetEnv=SECRET_TOKEN=hunter2-value"],
        &["web1", "echo env-ok"],
    );
    assert_eq!(env.code, Some(0), "{env}");
    assert!(env.stdout.contains("env-ok"), "{env}");
    // Remote forwarding is never offered.
    let remote = ssh_with(
        &client,
        &[
            "-N",
            "-o",
            "ExitOnForwardFailure=yes",
            "-R",
            "0:127.0.0.1:9",
        ],
        &[],
    );
    assert_ne!(remote.code, Some(0), "{remote}");
    // A TCP forward (`ssh -W`) that no role allows: a policy denial of the port_forward
    // channel.
    let forward = ssh_with(&client, &["-W", &target], &[]);
    assert_ne!(forward.code, Some(0), "{forward}");
    // An unknown subsystem.
    let subsystem = ssh_with(&client, &["-s"], &["nosuch"]);
    assert_ne!(subsystem.code, Some(0), "{subsystem}");

    let refused = lab.bastion.audit_of("request_refused");
    let kinds: Vec<(String, String)> = refused
        .iter()
        .map(|e| {
            (
                e["detail"]["request"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                e["detail"]["detail"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    for (kind, detail) in [
        ("env", "SECRET_TOKEN".to_string()),
        ("remote_forward", "localhost:0".to_string()),
        ("subsystem", "nosuch".to_string()),
    ] {
        assert!(
            kinds.iter().any(|(k, d)| k == kind && d.contains(&detail)),
            "no {kind} refusal ({detail}) in {kinds:?}"
        );
    }
    assert!(refused.iter().all(|e| e["user"] == "alice"), "{refused:?}");
    let denied = lab.bastion.audit_of("policy_deny");
    assert!(
        denied
            .iter()
            .any(|e| e["detail"]["channel"] == "port_forward" && e["detail"]["host"] == web1.addr()),
        "{denied:?}"
    );
    let all = lab.bastion.cli(&["audit", "--json"]);
    assert!(
        !all.stdout.contains("hunter2-value"),
        "an env value was logged"
    );
    let out = lab.bastion.cli(&["audit", "verify"]);
    assert_eq!(out.code, Some(0), "{out}");
}

#[test]
fn legacy_scp_transfers_are_audited_file_by_file() {
    let (lab, alice) = Lab::serving(BIN, &[("web1", &[])], POLICY, "alice");
    let client = Client::new(&lab.bastion, &alice);
    let remote = lab.target("web1").dir().join("inbox");
    fs::create_dir_all(&remote).unwrap();
    let local = client.dir().join("outbox");
    fs::create_dir_all(local.join("sub")).unwrap();
    fs::write(local.join("one.txt"), "first file\n").unwrap();
    fs::write(local.join("sub").join("two.bin"), vec![7u8; 3000]).unwrap();
    let dest = |p: &std::path::Path| format!("alice+root@web1@127.0.0.1:{}", p.display());

    // Upload a directory tree with the scp protocol (-O), then download one file back.
    let up = client.scp(&["-O", "-r", &local.display().to_string(), &dest(&remote)]);
    up.assert_success();
    assert_eq!(
        fs::read(remote.join("outbox").join("sub").join("two.bin")).unwrap(),
        vec![7u8; 3000]
    );
    let back = client.dir().join("back.txt");
    let down = client.scp(&[
        "-O",
        &dest(&remote.join("outbox").join("one.txt")),
        &back.display().to_string(),
    ]);
    down.assert_success();
    assert_eq!(fs::read_to_string(&back).unwrap(), "first file\n");

    let files: Vec<(String, String, u64)> = lab
        .bastion
        .audit_of("file_transfer")
        .iter()
        .filter(|e| e["detail"]["kind"] == "scp" && e["detail"]["path"].is_string())
        .map(|e| {
            let d = &e["detail"];
            (
                d["op"].as_str().unwrap().to_string(),
                d["path"].as_str().unwrap().to_string(),
                d["bytes"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut uploaded: Vec<_> = files.iter().filter(|f| f.0 == "write").cloned().collect();
    uploaded.sort();
    assert_eq!(
        uploaded,
        vec![
            ("write".to_string(), "outbox/one.txt".to_string(), 11),
            ("write".to_string(), "outbox/sub/two.bin".to_string(), 3000),
        ],
        "{files:?}"
    );
    assert!(
        files.contains(&("read".to_string(), "one.txt".to_string(), 11)),
        "{files:?}"
    );
    let out = lab.bastion.cli(&["audit", "verify"]);
    assert_eq!(out.code, Some(0), "{out}");
}
