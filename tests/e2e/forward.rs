//! `ssh -L` through the bastion under policy (issue 15 item 4): a role with
//! `channels: [port_forward]` and `forward_ports: [P]` lets a user forward to port P of its
//! hosts; bytes go through the bastion's own SSH connection to the host; each forwarded
//! connection is audited with host, port, bytes each way and duration; any other port is
//! refused and the refusal audited.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::Stdio;
use std::time::Duration;

use e2e::net::{free_port, wait_for_port};
use e2e::{poll, secs, Client, Lab};

const BIN: &str = env!("CARGO_BIN_EXE_bastion");

/// A TCP echo service on 127.0.0.1 (where the host's sshd connects for `localhost:PORT`).
fn echo_service() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind echo");
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut s = stream;
                let mut buf = [0u8; 4096];
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 || s.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    port
}

/// alice may forward to port `echo` of web1, and nothing else.
fn dba_policy(echo: u16) -> String {
    format!(
        "roles:
  - name: dba
    members: [alice]
    hosts: [web1]
    logins: [root]
    channels: [port_forward]
    forward_ports: [{echo}]
    require_totp: false
"
    )
}

/// `ssh -N -L SPEC... alice@bastion` (failing if a forward cannot be set up), once the first
/// forward's local port listens.
fn local_forwards(client: &Client, specs: &[String]) -> std::process::Child {
    let base = client.rsync_rsh();
    let mut argv = base.split_whitespace();
    let mut cmd = std::process::Command::new(argv.next().unwrap());
    cmd.args(argv)
        .args(["-N", "-o", "ExitOnForwardFailure=yes"]);
    for spec in specs {
        cmd.arg("-L").arg(spec);
    }
    let ssh = cmd
        .arg("alice@127.0.0.1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ssh -L");
    let port: u16 = specs[0].split(':').nth(1).unwrap().parse().unwrap();
    assert!(
        wait_for_port(SocketAddr::from((Ipv4Addr::LOCALHOST, port)), secs(20)),
        "ssh -L never listened"
    );
    ssh
}

#[test]
fn a_local_forward_reaches_an_allowed_port_and_each_connection_is_audited() {
    let echo = echo_service();
    let policy = dba_policy(echo);
    let (lab, alice) = Lab::serving(BIN, &[("web1", &[])], &policy, "alice");
    let client = Client::new(&lab.bastion, &alice);
    let web1 = lab.target("web1");
    let allowed = free_port(Ipv4Addr::LOCALHOST);
    let refused = free_port(Ipv4Addr::LOCALHOST);
    // A port of web1 no role lists (its SSH port would be a ProxyJump, served by the bastion).
    let unlisted = free_port(Ipv4Addr::LOCALHOST);
    let mut ssh = local_forwards(
        &client,
        &[
            format!("127.0.0.1:{allowed}:web1:{echo}"),
            format!("127.0.0.1:{refused}:{}:{unlisted}", web1.addr()),
        ],
    );

    // The allowed port: bytes go there and back.
    let mut s = TcpStream::connect((Ipv4Addr::LOCALHOST, allowed)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(b"ping-through-the-bastion\n").unwrap();
    let mut got = vec![0u8; 25];
    s.read_exact(&mut got).unwrap();
    assert_eq!(got, b"ping-through-the-bastion\n");
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    drop(s);

    // Another port of the same host: refused, nothing comes back.
    let mut r = TcpStream::connect((Ipv4Addr::LOCALHOST, refused)).unwrap();
    r.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut buf = [0u8; 64];
    assert_eq!(
        r.read(&mut buf).unwrap_or(0),
        0,
        "a refused forward answered"
    );

    // One event per forwarded connection (the readiness probe above made one too): find ours.
    let forwarded = poll(secs(20), || {
        let evs = lab.bastion.audit_of("port_forward");
        let ours: Vec<_> = evs
            .into_iter()
            .filter(|e| e["detail"]["bytes_up"] != 0)
            .collect();
        (!ours.is_empty()).then_some(ours)
    })
    .unwrap_or_else(|| {
        panic!(
            "no port_forward audit event: {:?}",
            lab.bastion.audit_events()
        )
    });
    let _ = ssh.kill();
    let _ = ssh.wait();
    let ev = &forwarded[0];
    assert_eq!(ev["user"], "alice", "{ev}");
    let d = &ev["detail"];
    assert_eq!(d["host"], "web1", "{ev}");
    assert_eq!(d["port"], echo, "{ev}");
    assert_eq!(d["bytes_up"], 25, "{ev}");
    assert_eq!(d["bytes_down"], 25, "{ev}");
    assert!(d["error"].is_null(), "{ev}");
    assert!(d["seconds"].as_f64().unwrap() >= 0.0, "{ev}");

    let denials = lab.bastion.audit_of("policy_deny");
    assert!(
        denials
            .iter()
            .any(|e| e["detail"]["channel"] == "port_forward"
                && e["detail"]["reason"]
                    .as_str()
                    .unwrap_or_default()
                    .contains(&format!("port {unlisted} of web1 is not in forward_ports"))),
        "{denials:?}"
    );
    let out = lab.bastion.cli(&["audit", "verify"]);
    assert_eq!(out.code, Some(0), "{out}");
}

#[test]
fn a_forward_open_at_a_clean_shutdown_is_audited_with_its_bytes() {
    let echo = echo_service();
    let policy = dba_policy(echo);
    let (mut lab, alice) = Lab::serving(BIN, &[("web1", &[])], &policy, "alice");
    let client = Client::new(&lab.bastion, &alice);
    let local = free_port(Ipv4Addr::LOCALHOST);
    let mut ssh = local_forwards(&client, &[format!("127.0.0.1:{local}:web1:{echo}")]);
    let mut s = TcpStream::connect((Ipv4Addr::LOCALHOST, local)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(b"still-open\n").unwrap();
    let mut got = [0u8; 11];
    s.read_exact(&mut got).unwrap();

    // The connection stays open while the bastion stops cleanly.
    assert_eq!(lab.bastion.stop("TERM", secs(30)), Some(0));
    let _ = ssh.kill();
    let _ = ssh.wait();
    let events = lab.bastion.audit_of("port_forward");
    let ours = events
        .iter()
        .find(|e| e["detail"]["bytes_up"] == 11)
        .unwrap_or_else(|| panic!("no port_forward event for the open connection: {events:#?}"));
    assert_eq!(ours["detail"]["bytes_down"], 11, "{ours}");
    assert!(
        ours["detail"]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("shutting down"),
        "{ours}"
    );
    let out = lab.bastion.cli(&["audit", "verify"]);
    assert_eq!(out.code, Some(0), "{out}");
}
