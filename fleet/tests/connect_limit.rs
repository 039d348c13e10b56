//! `--connect-limit` (issue 18, 1,000 hosts): SSH handshakes beyond the limit wait for a turn,
//! and a host's connect timeout only starts with its turn, so queued hosts are not failed for
//! time spent waiting. Hosts that accept TCP but never send a banner make the queue visible: each
//! one holds its turn for the whole timeout.

mod lab;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use lab::Lab;

const PLAYBOOK: &str = "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: 'true'\n";

#[test]
fn handshakes_queue_at_the_limit_and_each_host_gets_its_whole_timeout() {
    let lab = Lab::new(2);
    // listening, never accepted: the TCP handshake completes, no SSH banner ever comes
    let silent: Vec<TcpListener> = (0..3)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let extra: String = silent
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let port = l.local_addr().unwrap().port();
            format!("    silent{i}: {{ansible_host: 127.0.0.1, ansible_port: {port}}}\n")
        })
        .collect();
    lab.write_inventory(&extra);

    // one at a time: the three silent hosts time out one after the other (>= 3 x 2 s), each
    // after its own full timeout, and the real targets still run
    let started = Instant::now();
    let run = lab.play(PLAYBOOK, &["--timeout", "2", "--connect-limit", "1"]);
    let one_at_a_time = started.elapsed();
    assert_eq!(run.code, Some(4), "{run}");
    for i in 0..3 {
        assert_eq!(run.recap(&format!("silent{i}"))[2], 1, "unreachable: {run}");
    }
    assert_eq!(
        run.stdout
            .matches("timed out during banner exchange")
            .count(),
        3,
        "{run}"
    );
    for i in 0..2 {
        assert_eq!(run.recap(&lab.host(i))[0], 1, "ok: {run}");
    }
    assert!(
        one_at_a_time >= Duration::from_secs(6),
        "three 2 s timeouts in turn took {one_at_a_time:?}"
    );

    // with room for all of them the timeouts overlap: the same run, one timeout shorter at
    // least (compared with the run above rather than a fixed time, which a loaded machine
    // stretches for both alike)
    let started = Instant::now();
    let run = lab.play(PLAYBOOK, &["--timeout", "2", "--connect-limit", "8"]);
    let together = started.elapsed();
    assert_eq!(run.code, Some(4), "{run}");
    assert!(
        together + Duration::from_secs(2) < one_at_a_time,
        "three 2 s timeouts at once took {together:?}, one after the other {one_at_a_time:?}"
    );
}
