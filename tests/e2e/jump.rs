//! ProxyJump, recorded (issue 15 item 3): `ssh -J alice@bastion root@web1`, `scp -J`,
//! `sftp -J` and `rsync -e 'ssh -J …'` with the real OpenSSH clients, `StrictHostKeyChecking
//! yes` and a known_hosts holding exactly what `bastion known-hosts` prints. The bastion
//! terminates the inner SSH connection (host certificate from its host CA, inner login by the
//! user's own key) and serves each channel as a direct session: recorded, logged, guarded,
//! audited with `via: proxyjump`.

use std::fs;
use std::process::{Command, Stdio};

use e2e::{asciinema_cat, run, secs, Client, Lab, PtySession, TestUser};
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

/// A client whose known_hosts holds exactly `bastion known-hosts`' lines.
fn trusting_client(lab: &Lab, alice: &TestUser) -> Client {
    let client = Client::new(&lab.bastion, alice);
    let port = lab.bastion.port().to_string();
    let out = lab
        .bastion
        .cli(&["known-hosts", "--name", "127.0.0.1", "--port", &port]);
    out.assert_success();
    let web1 = lab.target("web1");
    let ca = out
        .stdout
        .lines()
        .find(|l| l.starts_with("@cert-authority "))
        .unwrap_or_else(|| panic!("no @cert-authority line: {out}"));
    let patterns: Vec<&str> = ca.split(' ').nth(1).unwrap().split(',').collect();
    for expected in [
        "web1".to_string(),
        web1.addr(),
        format!("[web1]:{}", web1.port()),
        format!("[{}]:{}", web1.addr(), web1.port()),
    ] {
        assert!(patterns.contains(&expected.as_str()), "{expected}: {ca}");
    }
    assert!(
        patterns
            .iter()
            .all(|p| !p.contains('*') && !p.contains('?')),
        "{ca}"
    );
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with(&format!("[127.0.0.1]:{port} ssh-ed25519 "))),
        "{out}"
    );
    fs::write(client.known_hosts(), &out.stdout).unwrap();
    client
}

fn logged(lab: &Lab, session: &Value) -> Vec<(String, bool)> {
    lab.bastion.command_log(&session["id"])
}

fn piped(mut cmd: Command, script: &str) -> (i32, String, String) {
    e2e::run_with_input(&mut cmd, script)
}

fn row(command: &str, blocked: bool) -> (String, bool) {
    (command.to_string(), blocked)
}

#[test]
fn a_jumped_exec_and_shell_are_recorded_logged_and_guarded_like_direct_sessions() {
    let (lab, alice) = Lab::serving(BIN, &[("web1", &[])], POLICY, "alice");
    let client = trusting_client(&lab, &alice);
    let work = lab.target("web1").dir().join("work");
    fs::create_dir_all(&work).unwrap();
    let w = work.display();

    // An exec: runs on web1, through the bastion's own connection.
    let cmd = format!("cd {w} && echo jumped-$((2+3)) && touch exec-ran");
    let out = run(
        client
            .jump_ssh("alice", "root@web1", &[&cmd])
            .stdin(Stdio::null()),
        secs(60),
    );
    out.assert_success();
    assert_eq!(out.stdout, "jumped-5\n", "{out}");
    assert!(work.join("exec-ran").exists());

    // `ProxyJump` in the ssh config, as people who live by it write it.
    let config = client.dir().join("proxyjump_config");
    fs::write(
        &config,
        format!(
            "Host web1\n  User root\n  ProxyJump {}\n{}",
            client.jump_host("alice"),
            fs::read_to_string(client.jump_config()).unwrap()
        ),
    )
    .unwrap();
    let out = run(
        Command::new("ssh")
            .arg("-F")
            .arg(&config)
            .args(["web1", "echo via-config-$((6*7))"])
            .stdin(Stdio::null()),
        secs(60),
    );
    out.assert_success();
    assert_eq!(out.stdout, "via-config-42\n", "{out}");

    // A blocked exec never reaches web1.
    let blocked = format!("touch {w}/forbidden-word.txt");
    let out = run(
        client
            .jump_ssh("alice", "root@web1", &[&blocked])
            .stdin(Stdio::null()),
        secs(60),
    );
    assert_ne!(out.code, Some(0), "{out}");
    assert!(out.stderr.contains("command blocked by policy"), "{out}");
    assert!(
        !work.join("forbidden-word.txt").exists(),
        "blocked exec ran"
    );

    // A shell without a terminal, a script piped in: the blocked line never runs.
    let script = format!(
        "cd {w}\necho piped-$((1+1))\ntouch forbidden-word.txt; touch marker-from-blocked-line\n\
         echo after-block\n"
    );
    let (status, stdout, stderr) = piped(client.jump_ssh("alice", "root@web1", &[]), &script);
    assert_eq!(status, 0, "stdout: {stdout}\nstderr: {stderr}");
    assert_eq!(stdout, "piped-2\nafter-block\n", "{stderr}");
    assert!(stderr.contains("rule forbidden-word"), "{stderr}");
    assert!(!work.join("marker-from-blocked-line").exists());

    // An interactive shell on a terminal (`ssh -J alice@bastion root@web1`).
    let mut argv: Vec<String> = vec!["ssh".into(), "-tt".into()];
    argv.extend(
        client
            .jump_ssh("alice", "root@web1", &[])
            .get_args()
            .map(|a| a.to_string_lossy().into_owned()),
    );
    let mut sh = PtySession::spawn(&argv, &client.env(), 100, 30);
    sh.expect("# ", secs(30));
    sh.send(&format!("PS1='PROM''PT$ '; cd {w}\r"));
    sh.expect("PROMPT$ ", secs(20));
    sh.send("echo typed-$((3+4))\r");
    sh.expect("typed-7\r\n", secs(10));
    sh.expect("PROMPT$ ", secs(10));
    // A blocked line typed ahead while a command runs: no prompt marks where it starts, the
    // keys themselves are checked.
    sh.send("sleep 1\r");
    sh.send("touch typed-ahead-forbidden-word\r");
    sh.expect("command blocked by policy", secs(10));
    sh.expect("PROMPT$ ", secs(10));
    // Whatever the wipe could not reach (keys that arrived while readline had the terminal
    // raw) is shown at the prompt, unsubmitted; the user clears it.
    sh.send("\x15echo after-typeahead\r");
    sh.expect("after-typeahead\r\n", secs(10));
    sh.send("exit\r");
    assert_eq!(sh.wait(secs(20)), Some(0), "{}", sh.output());
    assert!(
        !work.join("typed-ahead-forbidden-word").exists(),
        "a line typed ahead ran: {:?}",
        sh.output()
    );

    // Every session says how the user came in; the inner login is audited with its key.
    let starts = lab.bastion.audit_of("session_start");
    assert_eq!(starts.len(), 5, "{starts:#?}");
    assert!(
        starts.iter().all(|e| e["detail"]["via"] == "proxyjump"
            && e["detail"]["host"] == "web1"
            && e["detail"]["login"] == "root"
            && e["detail"]["key"] == alice.key.fingerprint()),
        "{starts:#?}"
    );
    let logins = lab.bastion.audit_of("jump_login");
    assert_eq!(logins.len(), 5, "{logins:#?}");
    assert!(logins.iter().all(|e| e["user"] == "alice"
        && e["detail"]["host"] == "web1"
        && e["detail"]["login"] == "root"));

    let sessions = lab.bastion.sessions();
    let shells: Vec<&Value> = sessions.iter().filter(|s| s["kind"] == "shell").collect();
    assert_eq!(shells.len(), 2, "{sessions:#?}");
    let piped_shell = shells
        .iter()
        .find(|s| logged(&lab, s).first() == Some(&row(&format!("cd {w}"), false)))
        .and_then(|s| (logged(&lab, s).len() == 4).then_some(*s))
        .unwrap_or_else(|| panic!("the piped shell's command log: {sessions:#?}"));
    assert_eq!(
        logged(&lab, piped_shell),
        vec![
            row(&format!("cd {w}"), false),
            row("echo piped-$((1+1))", false),
            row(
                "touch forbidden-word.txt; touch marker-from-blocked-line",
                true
            ),
            row("echo after-block", false),
        ]
    );
    let terminal_shell = shells
        .iter()
        .find(|s| s["id"] != piped_shell["id"])
        .unwrap();
    let typed = logged(&lab, terminal_shell);
    assert!(
        typed.contains(&row("echo typed-$((3+4))", false))
            && typed.contains(&row("touch typed-ahead-forbidden-word", true)),
        "{typed:?}"
    );
    let path = terminal_shell["recording"].as_str().expect("a recording");
    let played = asciinema_cat(std::path::Path::new(path)).expect("asciinema plays it");
    assert!(played.contains("typed-7"), "{played}");
    let exec_logged: Vec<_> = sessions
        .iter()
        .filter(|s| s["kind"] == "exec")
        .flat_map(|s| logged(&lab, s))
        .collect();
    assert!(
        exec_logged.contains(&row(&cmd, false)) && exec_logged.contains(&row(&blocked, true)),
        "{exec_logged:?}"
    );
    let out = lab.bastion.cli(&["audit", "verify"]);
    assert_eq!(out.code, Some(0), "{out}");
}

#[test]
fn scp_sftp_and_rsync_work_through_a_jump_and_are_audited() {
    let (lab, alice) = Lab::serving(BIN, &[("web1", &[])], POLICY, "alice");
    let client = trusting_client(&lab, &alice);
    let remote = lab.target("web1").dir().join("files");
    fs::create_dir_all(&remote).unwrap();
    let payload: Vec<u8> = (0..1_500_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let local = client.dir().join("up.bin");
    fs::write(&local, &payload).unwrap();
    let at = |p: &std::path::Path| format!("root@web1:{}", p.display());

    // scp (SFTP protocol) up and down, and the legacy scp protocol (-O).
    let up = remote.join("scp.bin");
    client
        .jump_scp("alice", &[local.to_str().unwrap(), &at(&up)])
        .assert_success();
    assert_eq!(fs::read(&up).unwrap(), payload);
    let legacy = remote.join("legacy.bin");
    client
        .jump_scp("alice", &["-O", local.to_str().unwrap(), &at(&legacy)])
        .assert_success();
    assert_eq!(fs::read(&legacy).unwrap(), payload);
    let down = client.dir().join("down.bin");
    client
        .jump_scp("alice", &[&at(&up), down.to_str().unwrap()])
        .assert_success();
    assert_eq!(fs::read(&down).unwrap(), payload);

    // sftp batch.
    let put = remote.join("sftp.bin");
    let out = client.jump_sftp(
        "alice",
        "root@web1",
        &format!(
            "put {} {}\nls -l {}\n",
            local.display(),
            put.display(),
            put.display()
        ),
    );
    out.assert_success();
    assert_eq!(fs::read(&put).unwrap(), payload);

    // rsync -e 'ssh -J alice@bastion'.
    let rs = remote.join("rsync.bin");
    run(
        Command::new("rsync")
            .args(["-a", "-e", &client.jump_rsh("alice")])
            .arg(&local)
            .arg(at(&rs)),
        secs(60),
    )
    .assert_success();
    assert_eq!(fs::read(&rs).unwrap(), payload);

    let transfers = lab.bastion.audit_of("file_transfer");
    let has = |kind: &str, op: &str, path: &std::path::Path| {
        transfers.iter().any(|e| {
            e["detail"]["kind"] == kind
                && e["detail"]["op"] == op
                && e["detail"]["path"] == path.to_str().unwrap()
                && e["detail"]["bytes"] == payload.len()
        })
    };
    assert!(
        has("sftp", "write", &up)
            && has("sftp", "read", &up)
            // the legacy protocol names the file as sent; its command line the destination
            && has("scp", "write", std::path::Path::new("up.bin"))
            && has("sftp", "write", &put),
        "{transfers:#?}"
    );
    assert!(
        transfers
            .iter()
            .any(|e| e["detail"]["kind"] == "rsync" && e.to_string().contains("rsync.bin")),
        "{transfers:#?}"
    );
    let starts = lab.bastion.audit_of("session_start");
    assert!(
        starts.iter().all(|e| e["detail"]["via"] == "proxyjump"),
        "{starts:#?}"
    );
    let out = lab.bastion.cli(&["audit", "verify"]);
    assert_eq!(out.code, Some(0), "{out}");
}

#[test]
fn jumps_are_refused_and_audited_when_policy_or_trust_says_no() {
    let (lab, alice) = Lab::serving(BIN, &[("web1", &[]), ("web2", &[])], POLICY, "alice");
    let client = trusting_client(&lab, &alice);
    let marker = lab.target("web2").dir().join("web2-ran");

    // A host no role of alice covers: the jump itself is refused, nothing reaches web2.
    let cmd = format!("touch {}", marker.display());
    let out = run(
        client
            .jump_ssh("alice", "root@web2", &[&cmd])
            .stdin(Stdio::null()),
        secs(60),
    );
    assert_ne!(out.code, Some(0), "{out}");
    assert!(!marker.exists());
    let denied = lab.bastion.audit_of("policy_deny");
    assert!(
        denied.iter().any(|e| e["detail"]["channel"] == "proxyjump"
            && e["detail"]["host"] == "web2"
            && e["detail"]["reason"]
                .as_str()
                .unwrap_or_default()
                .contains("no role grants alice any login on web2")),
        "{denied:#?}"
    );

    // A login the role does not allow: the inner login succeeds, the session is denied.
    let out = run(
        client
            .jump_ssh("alice", "nobody@web1", &["true"])
            .stdin(Stdio::null()),
        secs(60),
    );
    assert_ne!(out.code, Some(0), "{out}");
    assert!(out.stderr.contains("access denied"), "{out}");

    // Without the @cert-authority line the client refuses the host: what it is shown for web1
    // is checked, not trusted on first use.
    let bastion_only: String = fs::read_to_string(client.known_hosts())
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("@cert-authority"))
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(client.known_hosts(), bastion_only).unwrap();
    let out = run(
        client
            .jump_ssh("alice", "root@web1", &["echo SHOULD-NOT-RUN"])
            .stdin(Stdio::null()),
        secs(60),
    );
    assert_ne!(out.code, Some(0), "{out}");
    assert!(!out.stdout.contains("SHOULD-NOT-RUN"), "{out}");
    assert!(out.stderr.contains("Host key verification failed"), "{out}");
    let sessions = lab.bastion.sessions();
    assert!(
        sessions.iter().all(|s| s["host"] != "web2"),
        "{sessions:#?}"
    );
    let out = lab.bastion.cli(&["audit", "verify"]);
    assert_eq!(out.code, Some(0), "{out}");
}
