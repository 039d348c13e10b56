//! The SSH connection against real OpenSSH `sshd` targets: exact output framing, one shell
//! per host, known_hosts rules, and OpenSSH-like failures.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use e2e::{KeyPair, SilentListener, TargetSshd};
use fleet_executor::connection::{connect, ConnectOptions, SshRemote};
use fleet_modules::remote::{CmdOutput, Exec, Remote, RemoteError};
use tempfile::TempDir;

/// A target, a key it trusts, and a known_hosts file that lists it.
struct World {
    dir: TempDir,
    key: KeyPair,
    target: TargetSshd,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let key = KeyPair::generate(dir.path(), "id_test");
        let target = TargetSshd::start(std::slice::from_ref(&key.public_line));
        let world = World { dir, key, target };
        world.write_known_hosts(&format!("{}\n", world.target.known_hosts_line()));
        world
    }

    fn known_hosts(&self) -> PathBuf {
        self.dir.path().join("known_hosts")
    }

    fn write_known_hosts(&self, text: &str) {
        std::fs::write(self.known_hosts(), text).unwrap();
    }

    fn options(&self) -> ConnectOptions {
        let mut o = ConnectOptions::new(self.target.addr(), "root");
        o.port = self.target.port();
        o.private_key = Some(self.key.private.clone());
        o.known_hosts = vec![self.known_hosts()];
        o.connect_timeout = Duration::from_secs(5);
        o
    }

    async fn connect(&self) -> SshRemote {
        connect(&self.options()).await.expect("connect")
    }
}

async fn sh(remote: &mut SshRemote, script: &str) -> CmdOutput {
    sh_in(remote, script, b"").await
}

async fn sh_in(remote: &mut SshRemote, script: &str, stdin: &[u8]) -> CmdOutput {
    remote
        .exec(Exec {
            script,
            stdin,
            ..Default::default()
        })
        .await
        .unwrap_or_else(|e| panic!("exec {script:?}: {e}"))
}

fn unreachable_message(result: Result<SshRemote, RemoteError>) -> String {
    match result {
        Ok(_) => panic!("connected, but should have been refused"),
        Err(RemoteError::Unreachable(msg)) => msg,
        Err(other) => panic!("expected Unreachable, got {other:?}"),
    }
}

#[tokio::test]
async fn output_status_and_stdin_come_back_byte_exact() {
    let w = World::new();
    let mut r = w.connect().await;

    let out = sh(&mut r, "echo out; echo err >&2; exit 3").await;
    assert_eq!(
        (out.rc, out.stdout_text(), out.stderr_text()),
        (3, "out\n".into(), "err\n".into())
    );

    let out = sh(&mut r, "printf 'no newline'; printf 'e' >&2").await;
    assert_eq!(
        (out.rc, &out.stdout[..], &out.stderr[..]),
        (0, &b"no newline"[..], &b"e"[..])
    );

    let out = sh(&mut r, "printf '\\000\\001\\377\\n\\n\\r'").await;
    assert_eq!(out.stdout, b"\x00\x01\xff\n\n\r");

    let out = sh(&mut r, "true").await;
    assert!(out.stdout.is_empty() && out.stderr.is_empty());

    let big = sh(
        &mut r,
        "head -c 20971520 /dev/zero | tr '\\000' x; echo tail >&2",
    )
    .await;
    assert_eq!(big.stdout.len(), 20 * 1024 * 1024);
    assert!(big.stdout.iter().all(|&b| b == b'x'));
    assert_eq!(big.stderr_text(), "tail\n");

    let payload: Vec<u8> = (0..5 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let echoed = sh_in(&mut r, "cat", &payload).await;
    assert_eq!(echoed.rc, 0);
    assert!(echoed.stdout == payload, "5 MiB stdin did not round-trip");
    let counted = sh_in(&mut r, "wc -c", &payload).await;
    assert_eq!(counted.stdout_text().trim(), (5 * 1024 * 1024).to_string());
}

#[tokio::test]
async fn one_shell_serves_every_request_and_survives_bad_scripts() {
    let w = World::new();
    let mut r = w.connect().await;
    let pid = r.shell_pid().expect("shell pid");
    for i in 0..200 {
        let out = sh(&mut r, &format!("echo $$ {i}")).await;
        assert_eq!(out.stdout_text(), format!("{pid} {i}\n"), "request {i}");
    }
    // The serving process is a plain sh, a child of the sshd session.
    let comm = sh(&mut r, "cat /proc/$$/comm").await;
    assert!(
        matches!(comm.stdout_text().trim(), "sh" | "dash" | "bash"),
        "{comm:?}"
    );

    let out = sh(&mut r, "if then fi (").await;
    assert_eq!(out.rc, 2);
    assert!(!out.stderr.is_empty());
    assert_eq!(sh(&mut r, "cd /tmp; exit 9").await.rc, 9);

    let env = vec![
        ("FLEET_A".to_string(), "it's a \"test\" $HOME".to_string()),
        ("FLEET_B".to_string(), "line1\nline2".to_string()),
    ];
    let out = r
        .exec(Exec {
            script: "printf '%s|%s' \"$FLEET_A\" \"$FLEET_B\"; pwd",
            env: &env,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        out.stdout_text(),
        "it's a \"test\" $HOME|line1\nline2/root\n"
    );
    // Nothing leaked into the serving shell: not the env, not the cd.
    let out = sh(&mut r, "echo \"[$FLEET_A]\" $$; pwd").await;
    assert_eq!(out.stdout_text(), format!("[] {pid}\n/root\n"));
}

#[tokio::test]
async fn known_hosts_rules_follow_openssh() {
    let mut w = World::new();
    // Known (plain [host]:port line): accepted.
    w.connect().await;

    // Unknown: refused, and nothing is added to the file.
    w.write_known_hosts("# nothing here\n");
    let msg = unreachable_message(connect(&w.options()).await);
    assert!(msg.contains("Host key verification failed."), "{msg}");
    assert!(
        msg.contains(&format!("[{}]:{}", w.target.addr(), w.target.port())),
        "{msg}"
    );
    assert_eq!(
        std::fs::read_to_string(w.known_hosts()).unwrap(),
        "# nothing here\n"
    );

    // Hashed by OpenSSH itself (ssh-keygen -H): accepted.
    w.write_known_hosts(&format!("{}\n", w.target.known_hosts_line()));
    let hashed = std::process::Command::new("ssh-keygen")
        .arg("-H")
        .arg("-f")
        .arg(w.known_hosts())
        .output()
        .unwrap();
    assert!(hashed.status.success());
    let text = std::fs::read_to_string(w.known_hosts()).unwrap();
    assert!(text.starts_with("|1|"), "{text}");
    w.connect().await;

    // Checking off: anything goes.
    w.write_known_hosts("");
    let mut off = w.options();
    off.host_key_checking = false;
    connect(&off).await.expect("connect without checking");

    // Changed key: refused, naming the host and the offered fingerprint.
    w.write_known_hosts(&format!("{}\n", w.target.known_hosts_line()));
    w.target.restart_with_new_host_key();
    let offered = host_fingerprint(w.target.dir());
    let msg = unreachable_message(connect(&w.options()).await);
    assert!(
        msg.contains("REMOTE HOST IDENTIFICATION HAS CHANGED"),
        "{msg}"
    );
    assert!(msg.contains(&offered), "{msg} should name {offered}");
    assert!(msg.contains("Host key verification failed."), "{msg}");

    // Revoked: refused even though another line lists the key.
    let line = w.target.known_hosts_line();
    let key_part = line.split_once(' ').unwrap().1;
    w.write_known_hosts(&format!("{line}\n@revoked * {key_part}\n"));
    let msg = unreachable_message(connect(&w.options()).await);
    assert!(msg.contains("REVOKED"), "{msg}");
}

fn host_fingerprint(dir: &Path) -> String {
    let out = std::process::Command::new("ssh-keygen")
        .arg("-lf")
        .arg(dir.join("host_ed25519.pub"))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn network_and_login_failures_are_unreachable_and_quick() {
    let mut w = World::new();

    let mut stranger = w.options();
    stranger.private_key = Some(KeyPair::generate(w.dir.path(), "id_other").private);
    let msg = unreachable_message(connect(&stranger).await);
    assert!(
        msg.contains("root@") && msg.contains("Permission denied (publickey"),
        "{msg}"
    );

    w.target.stop();
    let started = Instant::now();
    let msg = unreachable_message(connect(&w.options()).await);
    assert!(
        msg.starts_with("Failed to connect to the host via ssh: "),
        "{msg}"
    );
    assert!(msg.ends_with("Connection refused"), "{msg}");
    assert!(started.elapsed() < Duration::from_secs(2));

    let silent = SilentListener::start();
    let mut hung = w.options();
    hung.address = silent.ip();
    hung.port = silent.port();
    hung.connect_timeout = Duration::from_secs(1);
    let started = Instant::now();
    let msg = unreachable_message(connect(&hung).await);
    assert!(msg.contains("timed out"), "{msg}");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(3),
        "{took:?}"
    );
}

#[tokio::test]
async fn command_timeout_kills_the_command_and_a_new_shell_takes_over() {
    let w = World::new();
    let mut opts = w.options();
    opts.command_timeout = Some(Duration::from_secs(1));
    let mut r = connect(&opts).await.unwrap();
    let first_pid = r.shell_pid().unwrap();
    let started = Instant::now();
    let result = r
        .exec(Exec {
            script: "sleep 37; echo late",
            ..Default::default()
        })
        .await;
    assert!(matches!(result, Err(RemoteError::Timeout(_))), "{result:?}");
    assert!(started.elapsed() < Duration::from_secs(5));

    let out = sh(&mut r, "echo $$").await;
    assert_ne!(out.stdout_text().trim(), first_pid.to_string());
    assert!(out.stdout_text().trim().parse::<u32>().is_ok());
    let procs = sh(
        &mut r,
        "for p in /proc/[0-9]*; do tr '\\000' ' ' < $p/cmdline 2>/dev/null; echo; done",
    )
    .await;
    assert!(
        !procs.stdout_text().lines().any(|l| l.trim() == "sleep 37"),
        "the timed-out command is still running"
    );
}

#[tokio::test]
async fn latency_of_the_long_lived_shell_versus_fresh_ssh() {
    let w = World::new();
    let mut r = w.connect().await;
    let runs = 200;
    let started = Instant::now();
    for _ in 0..runs {
        assert_eq!(sh(&mut r, "true").await.rc, 0);
    }
    let shell = started.elapsed() / runs;

    let fresh_runs = 20;
    let started = Instant::now();
    for _ in 0..fresh_runs {
        let status = std::process::Command::new("ssh")
            .args([
                "-q",
                "-o",
                "BatchMode=yes",
                "-o",
                "StrictHostKeyChecking=yes",
            ])
            .arg("-o")
            .arg(format!("UserKnownHostsFile={}", w.known_hosts().display()))
            .arg("-i")
            .arg(&w.key.private)
            .arg("-p")
            .arg(w.target.port().to_string())
            .arg(format!("root@{}", w.target.addr()))
            .arg("true")
            .status()
            .unwrap();
        assert!(status.success());
    }
    let fresh = started.elapsed() / fresh_runs;
    println!(
        "per-exec latency of `true`: long-lived shell {shell:?}, fresh `ssh host true` {fresh:?} ({:.0}x)",
        fresh.as_secs_f64() / shell.as_secs_f64()
    );
}

#[tokio::test]
async fn via_bastion_one_login_many_execs_each_logged() {
    use fleet_executor::connection::{BastionLink, CodeSource};

    let bin = e2e::workspace_binary("bastion");
    let mut lab = e2e::Lab::new(&bin, &[("web1", &["web"])]);
    lab.bastion.write_policies(
        "roles:\n  - name: ops\n    members: [alice]\n    hosts: [web1]\n    logins: [root]\n    channels: [exec]\n",
    );
    let alice = lab.bastion.add_user("alice", true);
    lab.serve();

    let dir = tempfile::tempdir().unwrap();
    let host_pub = std::process::Command::new("ssh-keygen")
        .arg("-y")
        .arg("-f")
        .arg(lab.bastion.data_dir().join("host_key"))
        .output()
        .unwrap();
    assert!(host_pub.status.success());
    let known = dir.path().join("known_hosts");
    std::fs::write(
        &known,
        format!(
            "[127.0.0.1]:{} {}",
            lab.bastion.port(),
            String::from_utf8_lossy(&host_pub.stdout)
        ),
    )
    .unwrap();

    // The code comes from SSH_ASKPASS, as OpenSSH would ask it, and only once.
    let (code, _) = e2e::fresh_code(alice.totp_secret.as_deref().unwrap());
    let askpass = dir.path().join("askpass.sh");
    let asked = dir.path().join("asked");
    std::fs::write(
        &askpass,
        format!(
            "#!/bin/sh\necho \"$1\" >> '{}'\necho {code}\n",
            asked.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &askpass,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    std::env::set_var("SSH_ASKPASS", &askpass);
    std::env::set_var("SSH_ASKPASS_REQUIRE", "force");

    let mut opts = ConnectOptions::new("127.0.0.1", "alice");
    opts.port = lab.bastion.port();
    opts.private_key = Some(alice.key.private.clone());
    opts.known_hosts = vec![known];
    let link = BastionLink::connect(&opts, CodeSource::Prompt)
        .await
        .expect("bastion login");
    let prompts = std::fs::read_to_string(&asked).unwrap();
    assert_eq!(prompts.lines().count(), 1, "{prompts}");
    assert!(prompts.contains("Verification code:"), "{prompts}");

    let mut web1 = link.open(Some("root"), "web1");
    let out = web1
        .exec(Exec {
            script: "echo out; printf 'no-nl' >&2; exit 5",
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        (out.rc, out.stdout_text(), out.stderr_text()),
        (5, "out\n".into(), "no-nl".into())
    );
    let payload: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let out = web1
        .exec(Exec {
            script: "cat",
            stdin: &payload,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(out.rc == 0 && out.stdout == payload);

    let logged = lab.bastion.json_lines(&["commands", "--json"]);
    let texts: Vec<&str> = logged
        .iter()
        .filter_map(|c| c["command"].as_str())
        .collect();
    assert!(
        texts.contains(&"echo out; printf 'no-nl' >&2; exit 5"),
        "{texts:?}"
    );
    assert!(texts.contains(&"cat"), "{texts:?}");
    // Still one code asked for after several tasks.
    assert_eq!(std::fs::read_to_string(&asked).unwrap().lines().count(), 1);

    // A host the policy does not grant is unreachable, not a failed task.
    let mut other = link.open(Some("root"), "db9");
    let err = other
        .exec(Exec {
            script: "true",
            ..Default::default()
        })
        .await;
    assert!(matches!(err, Err(RemoteError::Unreachable(_))), "{err:?}");
}
