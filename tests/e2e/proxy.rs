//! Proxying through the bastion with unmodified OpenSSH tools: exec, PTY shells, scp, sftp,
//! rsync; pass-through of streams and statuses; target host-key pinning; unreachable targets;
//! and the recording of terminal sessions.

use std::fs;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use e2e::{poll, run, secs, Client, Lab, PtySession, TestUser, Watcher};

const BIN: &str = env!("CARGO_BIN_EXE_bastion");

const POLICY: &str = "roles:
  - name: ops
    members: [alice]
    hosts: [\"web*\", \"hung*\"]
    logins: [root]
    require_totp: false
";

fn lab() -> (Lab, TestUser) {
    Lab::serving(BIN, &[("web1", &[])], POLICY, "alice")
}

/// The same command straight to the target with the bastion's own client key (the reference).
fn direct(lab: &Lab, cmd: &str) -> e2e::Outcome {
    let t = lab.target("web1");
    let key = lab.bastion.data_dir().join("client_key");
    run(
        Command::new("ssh")
            .args([
                "-F",
                "/dev/null",
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
            ])
            .args(["-o", "LogLevel=ERROR", "-o", "IdentitiesOnly=yes", "-i"])
            .arg(key)
            .args([
                "-p",
                &t.port().to_string(),
                &format!("root@{}", t.addr()),
                cmd,
            ])
            .stdin(Stdio::null()),
        secs(30),
    )
}

#[test]
fn exec_passes_stdout_stderr_and_exit_status_unchanged() {
    let (lab, alice) = lab();
    let client = Client::new(&lab.bastion, &alice);
    let cmd = "echo out; echo err >&2; exit 7";
    let via = client.run_ssh("alice", &["web1", cmd]);
    let reference = direct(&lab, cmd);
    assert_eq!(via.code, Some(7), "{via}");
    assert_eq!(
        (via.code, &via.stdout, &via.stderr),
        (reference.code, &reference.stdout, &reference.stderr)
    );

    // Exit by signal: same client-visible outcome as direct, and the bastion records the signal.
    let sig = "kill -TERM $$";
    let via = client.run_ssh("alice", &["web1", sig]);
    assert_eq!(via.code, direct(&lab, sig).code, "{via}");
    let sessions = lab.bastion.sessions();
    assert!(
        sessions.iter().any(|s| s["exit_signal"]
            .as_str()
            .is_some_and(|x| x.contains("TERM"))),
        "{sessions:?}"
    );
}

#[test]
fn every_target_syntax_reaches_the_target() {
    let (lab, alice) = lab();
    let client = Client::new(&lab.bastion, &alice);
    for (login, args) in [
        ("alice", vec!["web1", "id", "-un"]),
        ("alice", vec!["root@web1", "id", "-un"]),
        ("alice+web1", vec!["id", "-un"]),
        ("alice+root@web1", vec!["id", "-un"]),
    ] {
        let out = client.run_ssh(login, &args);
        out.assert_success();
        assert_eq!(out.stdout.trim(), "root", "{out}");
    }
    let sessions = lab.bastion.sessions();
    assert_eq!(sessions.len(), 4, "{sessions:?}");
    assert!(sessions
        .iter()
        .all(|s| s["host"] == "web1" && s["login"] == "root" && s["exit_status"] == 0));
    assert!(
        sessions.iter().all(|s| s["command"] == "id -un"),
        "{sessions:?}"
    );
}

#[test]
fn exec_streams_stdin_and_eof_and_has_no_pty() {
    let (lab, alice) = lab();
    let client = Client::new(&lab.bastion, &alice);
    let mut child = client
        .ssh("alice", &["web1", "tty; wc -c"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..5 {
            stdin.write_all(&chunk).unwrap();
        }
        // dropping stdin sends EOF; wc only prints once EOF has passed through the bastion
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        vec!["not a tty", "5242880"]
    );
}

#[test]
fn scp_sftp_and_rsync_work_unchanged() {
    let (lab, alice) = lab();
    let client = Client::new(&lab.bastion, &alice);
    let scratch = client.dir().to_path_buf();
    let remote_dir = lab.target("web1").dir().join("files");
    fs::create_dir_all(&remote_dir).unwrap();
    let payload: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let local = scratch.join("up.bin");
    fs::write(&local, &payload).unwrap();

    // scp up (login-name target) and down (LOGIN@HOST in the login name).
    let up = remote_dir.join("scp.bin");
    client
        .scp(&[
            local.to_str().unwrap(),
            &format!("alice+web1@127.0.0.1:{}", up.display()),
        ])
        .assert_success();
    assert_eq!(fs::read(&up).unwrap(), payload);
    let down = scratch.join("down.bin");
    client
        .scp(&[
            &format!("alice+root@web1@127.0.0.1:{}", up.display()),
            down.to_str().unwrap(),
        ])
        .assert_success();
    assert_eq!(fs::read(&down).unwrap(), payload);

    // sftp batch: put, ls, get.
    let sftp_remote = remote_dir.join("sftp.bin");
    let sftp_back = scratch.join("sftp-back.bin");
    let out = client.sftp(
        "alice+web1",
        &format!(
            "put {} {}\nls -l {}\nget {} {}\n",
            local.display(),
            sftp_remote.display(),
            sftp_remote.display(),
            sftp_remote.display(),
            sftp_back.display()
        ),
    );
    out.assert_success();
    assert!(out.stdout.contains("3000000"), "{out}");
    assert_eq!(fs::read(&sftp_back).unwrap(), payload);

    // rsync over the bastion.
    let rs = remote_dir.join("rsync.bin");
    run(
        Command::new("rsync")
            .args(["-a", "-e", &client.rsync_rsh()])
            .arg(&local)
            .arg(format!("alice+web1@127.0.0.1:{}", rs.display())),
        secs(60),
    )
    .assert_success();
    assert_eq!(fs::read(&rs).unwrap(), payload);

    // Transfers are audited with their size.
    // Transfers are audited per file with their size (scp speaks SFTP; rsync's command line
    // names the path).
    let transfers = lab.bastion.audit_of("file_transfer");
    let has = |op: &str, path: &std::path::Path| {
        transfers.iter().any(|e| {
            e["detail"]["op"] == op
                && e["detail"]["path"] == path.to_str().unwrap()
                && e["detail"]["bytes"] == 3_000_000
        })
    };
    assert!(
        has("write", &up)
            && has("read", &up)
            && has("write", &sftp_remote)
            && has("read", &sftp_remote),
        "{transfers:#?}"
    );
    assert!(
        transfers
            .iter()
            .any(|e| e["detail"]["kind"] == "rsync" && e.to_string().contains("rsync.bin")),
        "{transfers:#?}"
    );
    let kinds: Vec<String> = lab
        .bastion
        .sessions()
        .iter()
        .map(|s| s["kind"].as_str().unwrap_or("").to_string())
        .collect();
    for k in ["sftp", "rsync"] {
        assert!(kinds.iter().any(|x| x == k), "{kinds:?}");
    }
}

#[test]
fn changed_target_host_key_is_refused_and_audited() {
    let (mut lab, alice) = lab();
    let client = Client::new(&lab.bastion, &alice);
    client.run_ssh("alice", &["web1", "true"]).assert_success();
    assert_eq!(lab.bastion.audit_of("host_key_pinned").len(), 1);
    lab.target_mut("web1").restart_with_new_host_key();
    let out = client.run_ssh("alice", &["web1", "echo", "SHOULD-NOT-RUN"]);
    out.assert_failure();
    assert!(!out.stdout.contains("SHOULD-NOT-RUN"), "{out}");
    assert!(out.stderr.to_lowercase().contains("host key"), "{out}");
    assert_eq!(
        lab.bastion.audit_of("host_key_mismatch").len(),
        1,
        "{:?}",
        lab.bastion.audit_events()
    );
}

#[test]
fn unreachable_targets_fail_fast_with_a_reason() {
    let mut lab = Lab::new(BIN, &[("web1", &[])]);
    lab.bastion.write_policies(POLICY);
    lab.bastion.set("connect_timeout = \"2s\"");
    let _hung = lab.add_hung_host("hung1");
    let alice = lab.bastion.add_user("alice", false);
    lab.serve();
    let client = Client::new(&lab.bastion, &alice);

    lab.target_mut("web1").stop();
    let down = client.run_ssh("alice", &["web1", "true"]);
    down.assert_failure();
    assert!(
        down.stderr.contains("web1") && down.stderr.to_lowercase().contains("refused"),
        "{down}"
    );

    let silent = client.run_ssh("alice", &["hung1", "true"]);
    silent.assert_failure();
    assert!(
        silent.stderr.contains("hung1") && silent.stderr.to_lowercase().contains("timed out"),
        "{silent}"
    );
    assert!(
        silent.elapsed < Duration::from_secs(30),
        "must not hang: {silent}"
    );
    assert!(lab.bastion.audit_of("target_connect_failed").len() >= 2);
}

/// A shell through a real PTY: window changes pass through, and the recording holds what the
/// target printed and is valid asciicast v2 (our reader and `asciinema cat` both accept it).
#[test]
fn pty_session_is_recorded_as_asciicast() {
    let (lab, alice) = lab();
    let client = Client::new(&lab.bastion, &alice);
    let mut pty = client.terminal("alice", &["web1"], 80, 24);
    pty.send("stty size; echo MARK-$((6*7))\r");
    pty.expect("24 80", secs(20));
    pty.expect("MARK-42", secs(10));
    pty.resize(120, 40);
    std::thread::sleep(Duration::from_millis(300));
    pty.send("stty size\r");
    pty.expect("40 120", secs(10));
    pty.send("exit 3\r");
    assert_eq!(pty.wait(secs(20)), Some(3));

    let sessions = lab.bastion.sessions();
    let s = poll(secs(10), || {
        lab.bastion
            .sessions()
            .into_iter()
            .find(|s| s["status"] != "active")
    })
    .unwrap_or_else(|| panic!("{sessions:?}"));
    assert_eq!(s["kind"], "shell");
    assert_eq!(s["exit_status"], 3);
    let path = s["recording"].as_str().expect("recording path").to_string();
    let cast = recordings::read_cast(std::path::Path::new(&path)).unwrap();
    assert_eq!(cast.header.title, "alice -> root@web1");
    assert_eq!((cast.header.width, cast.header.height), (80, 24));
    assert!(cast.output_text().contains("MARK-42"));
    assert!(cast
        .events
        .iter()
        .any(|e| e.kind == recordings::EventKind::Resize && e.data == "120x40"));
    assert!(
        !cast
            .events
            .iter()
            .any(|e| e.kind == recordings::EventKind::Input),
        "input is not recorded by default"
    );
    let seal = recordings::seal_file(std::path::Path::new(&path)).unwrap();
    assert_eq!(s["recording_sha256"], seal.sha256_hex());

    let id = s["id"].to_string();
    let exported = client.dir().join("export.cast");
    lab.bastion
        .cli(&["export", &id, "-o", exported.to_str().unwrap()])
        .assert_success();
    let replay = lab
        .bastion
        .cli(&["replay", &id, "--speed", "1000", "--idle-limit", "0.01"]);
    replay.assert_success();
    assert!(replay.stdout.contains("MARK-42"), "{replay}");

    // asciinema wants a terminal even to print a recording.
    let argv: Vec<String> = vec![
        "asciinema".into(),
        "cat".into(),
        exported.display().to_string(),
    ];
    let mut cat = PtySession::spawn(&argv, &[], 80, 24);
    cat.expect("MARK-42", secs(30));
    assert_eq!(cat.wait(secs(30)), Some(0));
}

/// Large downloads stream with backpressure: the bastion's memory stays bounded.
#[test]
fn large_transfers_use_bounded_memory() {
    let (lab, alice) = lab();
    let client = Client::new(&lab.bastion, &alice);
    let pid = poll(secs(5), || {
        let out = run(
            Command::new("pgrep").args([
                "-f",
                &format!("serve --listen 127.0.0.1:{}", lab.bastion.port()),
            ]),
            secs(5),
        );
        out.stdout.lines().next().map(str::to_string)
    })
    .expect("bastion pid");
    // The client reads slowly at first (a pipe nobody drains for a moment) so the bastion has
    // to hold back instead of buffering the whole stream.
    let mut child = client
        .ssh("alice", &["web1", "head -c 268435456 /dev/zero"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let mut stdout = child.stdout.take().unwrap();
    let total = std::io::copy(&mut stdout, &mut std::io::sink()).unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(total, 268_435_456);
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let hwm_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    assert!(
        hwm_kb < 96 * 1024,
        "bastion peak RSS {hwm_kb} kB for a 256 MiB transfer: not streaming"
    );
}

/// The inventory may be Ansible INI (here in its own file named by `bastion.toml`), with
/// group selectors in policies resolving against INI groups.
#[test]
fn ini_inventory_is_honoured() {
    let mut lab = Lab::new(BIN, &[("web1", &[])]);
    let t = lab.target("web1");
    let ini = format!(
        "[app]\napp1 ansible_host={} ansible_port={}\n",
        t.addr(),
        t.port()
    );
    fs::write(lab.bastion.data_dir().join("hosts.ini"), ini).unwrap();
    lab.bastion.set("inventory = \"hosts.ini\"");
    lab.bastion.write_policies(
        "roles:\n  - name: app\n    members: [alice]\n    hosts: [\"group:app\"]\n    logins: [root]\n    require_totp: false\n",
    );
    let alice = lab.bastion.add_user("alice", false);
    lab.serve();
    let client = Client::new(&lab.bastion, &alice);
    let out = client.run_ssh("alice", &["app1", "echo", "via-ini"]);
    out.assert_success();
    assert_eq!(out.stdout.trim(), "via-ini");
    client.run_ssh("alice", &["web1", "true"]).assert_failure();
}

/// An auditor joins a running shell with `bastion watch` (seeing the current screen first, then
/// live output) and ends it with `bastion kill`; the user is told and both acts are audited.
/// The first screen is the terminal as it is now (rebuilt from the recording so far), not the
/// session's whole history: lines that scrolled off are not in it.
#[test]
fn watch_shows_the_live_screen_and_kill_ends_the_session() {
    let (lab, alice) = lab();
    let client = Client::new(&lab.bastion, &alice);
    let mut pty = client.terminal("alice", &["web1"], 80, 24);
    pty.send("seq -f OLD-%g 1 60; echo BEFORE-$((20+1))\r");
    pty.expect("BEFORE-21", secs(20));
    let active = lab.bastion.json_lines(&["sessions", "--active", "--json"]);
    assert_eq!(active.len(), 1, "{active:?}");
    let id = active[0]["id"].to_string();

    let mut watcher = Watcher::start(&lab.bastion, active[0]["id"].as_i64().unwrap());
    watcher.expect("BEFORE-21", secs(10));
    assert!(watcher.text().contains("OLD-60"), "{:?}", watcher.text());
    assert!(
        !watcher.text().contains("OLD-20"),
        "scrolled off: {:?}",
        watcher.text()
    );
    pty.send("echo LIVE-$((40+2))\r");
    watcher.expect("LIVE-42", secs(10));

    lab.bastion.cli(&["kill", &id]).assert_success();
    // The operator by name (the sudo caller, else the account: root here), never "unknown".
    pty.expect("terminated by an administrator (root)", secs(10));
    assert!(pty.wait(secs(20)).is_some(), "ssh must exit after kill");
    assert!(watcher.wait(secs(20)));
    let killed = lab.bastion.audit_of("session_killed");
    assert_eq!(killed.len(), 1);
    assert_eq!(killed[0]["detail"]["by"], "root (uid 0)", "{killed:?}");
    assert_eq!(lab.bastion.audit_of("session_watched").len(), 1);
    let s = poll(secs(10), || {
        lab.bastion
            .sessions()
            .into_iter()
            .find(|s| s["status"] != "active")
    })
    .unwrap();
    assert!(
        s["end_reason"].as_str().unwrap().contains("terminated"),
        "{s}"
    );
    lab.bastion.cli(&["kill", &id]).assert_failure();
    let sock = lab.bastion.data_dir().join("control.sock");
    let mode = std::os::unix::fs::PermissionsExt::mode(&fs::metadata(&sock).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
}
