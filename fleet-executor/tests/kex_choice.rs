//! Which key exchange fleet's connections end up with on a real OpenSSH `sshd`.
//!
//! Why a test: the choice is a cost decision made on the controller and paid on every target
//! (OpenSSH's curve25519 is portable reference code, its P-256 is OpenSSL's assembly), so a
//! dependency update that quietly changes the order would make every run slower without
//! failing anything else. The target's own debug log says what was negotiated. A target that
//! refuses P-256 must still be reachable, with curve25519.

use std::time::Duration;

use e2e::{KeyPair, TargetSshd};
use fleet_executor::connection::{connect, ConnectOptions};
use fleet_modules::remote::{Exec, Remote};

/// Connects to a target started with `extra` sshd_config lines, runs one command, and returns
/// the key exchange the target logged.
async fn negotiated_kex(extra: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let key = KeyPair::generate(dir.path(), "id_test");
    let target = TargetSshd::start_with(
        std::slice::from_ref(&key.public_line),
        &format!("LogLevel DEBUG1\n{extra}"),
    );
    let known_hosts = dir.path().join("known_hosts");
    std::fs::write(&known_hosts, format!("{}\n", target.known_hosts_line())).unwrap();
    let mut opts = ConnectOptions::new(target.addr(), "root");
    opts.port = target.port();
    opts.private_key = Some(key.private.clone());
    opts.known_hosts = vec![known_hosts];
    opts.connect_timeout = Duration::from_secs(5);
    let mut remote = connect(&opts).await.expect("connect");
    let out = remote
        .exec(Exec {
            script: "echo ok",
            ..Default::default()
        })
        .await
        .expect("exec");
    assert_eq!(out.stdout_text(), "ok\n");
    let log = target.log();
    log.lines()
        .find_map(|l| l.split("kex: algorithm: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("sshd did not log the key exchange:\n{log}"))
        .to_string()
}

#[tokio::test]
async fn openssh_targets_get_p256_and_curve25519_only_targets_still_connect() {
    let offered = fleet_executor::connection::preferred_algorithms().kex;
    let names: Vec<&str> = offered.iter().map(|k| k.as_ref()).collect();
    let p256 = names.iter().position(|n| *n == "ecdh-sha2-nistp256");
    let x25519 = names.iter().position(|n| *n == "curve25519-sha256");
    assert!(p256.is_some() && p256 < x25519, "order: {names:?}");
    assert_eq!(
        names.iter().filter(|n| **n == "ecdh-sha2-nistp256").count(),
        1
    );

    // This machine's OpenSSH (9.2) has no ML-KEM hybrid: P-256 is the first common choice.
    // (Where sshd has mlkem768x25519-sha256, that post-quantum hybrid stays first.)
    let kex = negotiated_kex("").await;
    assert!(
        kex == "ecdh-sha2-nistp256" || kex == "mlkem768x25519-sha256",
        "negotiated {kex}"
    );
    let kex = negotiated_kex("KexAlgorithms curve25519-sha256\n").await;
    assert_eq!(kex, "curve25519-sha256");
}
