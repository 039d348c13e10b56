//! Several nodes behind a load balancer (issue 19, "how it is checked"): HAProxy from Debian in
//! TCP mode in front of three bastions on one PostgreSQL database; 200 real ssh sessions through
//! it, spread over the nodes; `kill -9` of one node mid-session. The sessions on the other nodes
//! finish untouched, new logins land on the survivors, the dead node's sessions are sealed
//! `interrupted` once each, `audit verify` passes, and no session or command-log row is lost.
//! `E2E_LB_SESSIONS` sets another number of sessions (the figure is the default).

use std::process::{Child, Stdio};

use e2e::cluster::{Cluster, Haproxy};
use e2e::{poll, secs, Client, Lab};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_bastion");

const POLICY: &str = "roles:
  - name: ops
    members: [alice]
    hosts: [web1]
    logins: [root]
    require_totp: false
";

/// 200 logins and target handshakes at once on a debug build on 2 cores can take longer than
/// the default 10 s per target connect; a timeout here would be a wall-clock threshold.
const CONNECT_TIMEOUT: &str = "connect_timeout = \"120s\"";

/// What the ssh clients that have already ended printed (the first few), for a failure.
fn early_exits(children: &mut [Child]) -> String {
    let mut out = String::new();
    let mut shown = 0;
    for (i, child) in children.iter_mut().enumerate() {
        let Ok(Some(status)) = child.try_wait() else {
            continue;
        };
        shown += 1;
        if shown > 5 {
            continue;
        }
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        out += &format!("\nssh #{i} ended ({status}): {}", err.trim());
    }
    format!("{shown} ssh clients ended early:{out}")
}

fn sessions_of(rows: &[Value], node: &str) -> Vec<i64> {
    rows.iter()
        .filter(|s| s["node"] == node)
        .filter_map(|s| s["id"].as_i64())
        .collect()
}

#[test]
fn sessions_through_haproxy_survive_the_loss_of_one_node() {
    let n: usize = std::env::var("E2E_LB_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let lab = Lab::with_sshd_config(
        BIN,
        &[("web1", &[])],
        "MaxStartups 2000\nMaxSessions 2000\n",
    );
    let Cluster {
        mut lab,
        user: alice,
        b,
        c,
        shared: _shared,
    } = Cluster::start_with(lab, POLICY, "alice", CONNECT_TIMEOUT);
    let Some(lb) = Haproxy::start(&[lab.bastion.port(), b.port(), c.port()]) else {
        return;
    };
    let client = Client::new(&lab.bastion, &alice).at_port(lb.port());

    // Each session waits on the target for a file the test creates after the kill.
    let gate = tempfile::tempdir().unwrap();
    let release = gate.path().join("release");
    let script = format!(
        "echo started; while [ ! -e {} ]; do sleep 1; done; echo finished",
        release.display()
    );
    let mut children: Vec<Child> = Vec::with_capacity(n);
    for _ in 0..n {
        children.push(
            client
                .ssh("alice", &["web1", &script])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn ssh"),
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let mut statuses = std::collections::BTreeMap::<String, usize>::new();
    let active = poll(secs(180), || {
        let all = b.sessions();
        statuses.clear();
        for s in &all {
            let status = s["status"].as_str().unwrap_or("?").to_string();
            *statuses.entry(status).or_default() += 1;
        }
        let rows: Vec<Value> = all
            .into_iter()
            .filter(|s| s["status"] == "active")
            .collect();
        (rows.len() == n).then_some(rows)
    })
    .unwrap_or_else(|| {
        panic!(
            "{} of {n} sessions became active (stored: {statuses:?}); {}\nhaproxy: {}",
            statuses.get("active").unwrap_or(&0),
            early_exits(&mut children),
            lb.log()
        )
    });
    let on_a = sessions_of(&active, "node-a");
    for node in ["node-a", "node-b", "node-c"] {
        let here = sessions_of(&active, node).len();
        assert!(here >= n / 6, "{node} serves {here} of {n}: not spread");
    }

    lab.bastion.crash();
    std::fs::write(&release, "").unwrap();
    let (mut finished, mut broken) = (0, 0);
    for child in children {
        let out = child.wait_with_output().expect("wait for ssh");
        let stdout = String::from_utf8_lossy(&out.stdout);
        if out.status.success() && stdout.contains("finished") {
            finished += 1;
        } else {
            broken += 1;
        }
    }
    assert_eq!(broken, on_a.len(), "only node-a's sessions break");
    assert_eq!(finished, n - on_a.len());

    // node-a's sessions are sealed once each by a survivor.
    poll(secs(60), || {
        let rows = b.sessions();
        on_a.iter()
            .all(|id| {
                rows.iter()
                    .any(|s| s["id"] == *id && s["status"] == "interrupted")
            })
            .then_some(())
    })
    .unwrap_or_else(|| panic!("node-a's sessions were not all sealed; node-b: {}", b.log()));
    let interrupted = b.audit_of("session_interrupted");
    for id in &on_a {
        let records = interrupted
            .iter()
            .filter(|e| e["detail"]["session"] == *id)
            .count();
        assert_eq!(records, 1, "session {id}");
    }

    // New logins land on the survivors.
    for i in 0..6 {
        let out = client.run_ssh("alice", &["web1", &format!("echo after-{i}")]);
        out.assert_success();
        assert_eq!(out.stdout.trim(), format!("after-{i}"));
    }

    // Nothing lost: every session and its command-log row, one chain that verifies.
    let all = c.sessions();
    assert_eq!(all.len(), n + 6, "sessions");
    assert!(
        all.iter().all(|s| s["status"] != "active"),
        "none left active"
    );
    let commands = c.json_lines(&["commands", "--json"]);
    assert_eq!(commands.len(), n + 6, "command-log rows");
    assert_eq!(c.audit_of("session_start").len(), n + 6);
    let verify = c.cli(&["audit", "verify"]);
    assert_eq!(verify.code, Some(0), "{verify}");
}
