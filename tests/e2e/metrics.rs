//! Prometheus `/metrics` (issue 19): a real Prometheus from Debian's package scrapes a running
//! bastion, and a query through its HTTP API returns the number of sessions the test holds
//! open; the counters say what the test did (logins, a blocked command, logged commands,
//! bytes, a policy denial, the upstream connect time).

use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Child, Stdio};

use e2e::net::free_port;
use e2e::prometheus::{http_get, Prometheus};
use e2e::{poll, secs, Client, Lab};

const BIN: &str = env!("CARGO_BIN_EXE_bastion");

const POLICY: &str = "roles:
  - name: ops
    members: [alice]
    hosts: [web1]
    logins: [root]
    require_totp: false
    deny_commands: [forbidden-word]
";

/// `ssh alice@bastion web1 sleep 120`, killed when dropped.
struct Held(Child);

impl Drop for Held {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn metric(text: &str, line_start: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(line_start))
        .and_then(|v| v.trim().parse().ok())
}

#[test]
fn prometheus_scrapes_the_sessions_and_counters_the_bastion_serves() {
    let mut lab = Lab::new(BIN, &[("web1", &[]), ("db1", &[])]);
    lab.bastion.write_policies(POLICY);
    let ip = Ipv4Addr::LOCALHOST;
    let metrics = SocketAddr::from((ip, free_port(ip)));
    lab.bastion.set(&format!(
        "node = \"node-a\"\n[metrics]\nlisten = \"{metrics}\""
    ));
    let alice = lab.bastion.add_user("alice", false);
    lab.serve();
    let Some(prometheus) = Prometheus::start(&metrics.to_string()) else {
        return;
    };
    let client = Client::new(&lab.bastion, &alice);

    assert_eq!(client.run_ssh("alice", &["web1", "echo hi"]).code, Some(0));
    let blocked = client.run_ssh("alice", &["web1", "echo forbidden-word"]);
    assert_eq!(blocked.code, Some(126), "{blocked}");
    let denied = client.run_ssh("alice", &["db1", "true"]);
    assert_ne!(denied.code, Some(0), "{denied}");
    let held: Vec<Held> = (0..3)
        .map(|_| {
            Held(
                client
                    .ssh("alice", &["web1", "sleep 120"])
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("spawn ssh"),
            )
        })
        .collect();
    let active = "bastion_sessions_active{kind=\"exec\",node=\"node-a\"} ";
    let page = poll(secs(30), || {
        let (status, body) = http_get(metrics, "/metrics").ok()?;
        assert_eq!(status, 200, "{body}");
        // A session starts before its target connection is made: wait for both.
        let connected = metric(&body, "bastion_upstream_connect_seconds_count ");
        (metric(&body, active) == Some(3.0) && connected == Some(4.0)).then_some(body)
    })
    .expect("the bastion's /metrics never showed the 3 held sessions connected");
    let count = |line: &str| metric(&page, line).unwrap_or_else(|| panic!("no {line}in {page}"));
    assert_eq!(count("bastion_sessions_started_total{kind=\"exec\"} "), 5.0);
    assert_eq!(count("bastion_commands_total{result=\"blocked\"} "), 1.0);
    assert_eq!(count("bastion_commands_total{result=\"logged\"} "), 4.0);
    assert_eq!(
        count("bastion_policy_denials_total{channel=\"exec\"} "),
        1.0
    );
    assert_eq!(
        count("bastion_logins_total{method=\"publickey\",result=\"success\"} "),
        6.0
    );
    assert!(count("bastion_proxied_bytes_total{direction=\"from_target\"} ") >= 3.0);
    // Every upstream login was timed (the 4 commands that reached web1).
    assert_eq!(
        count("bastion_upstream_connect_seconds_bucket{le=\"+Inf\"} "),
        4.0
    );
    assert!(count("bastion_audit_chain_length ") > 10.0);
    assert_eq!(count("bastion_requests_pending "), 0.0);

    // Prometheus itself, through its HTTP API, sees the sessions the test holds.
    let seen = poll(secs(60), || {
        prometheus
            .query_value("sum(bastion_sessions_active)")
            .filter(|v| *v == 3.0)
    });
    assert_eq!(
        seen,
        Some(3.0),
        "prometheus never saw 3 active sessions; its log: {}",
        prometheus.log()
    );
    drop(held);
    let gone = poll(secs(60), || {
        prometheus
            .query_value("sum(bastion_sessions_active) or vector(0)")
            .filter(|v| *v == 0.0)
    });
    assert_eq!(
        gone,
        Some(0.0),
        "the ended sessions stayed active in prometheus"
    );
}
