//! Fleet under load (issue 5): one run over a large inventory where 10% of the hosts are
//! unreachable (half a stopped sshd, half a port nobody listens on) and 10% fail a task. The
//! run must end (the harness kills it after a bounded time and fails the test), every host's
//! PLAY RECAP line must be exact, the exit status 4 (a host unreachable), and each reachable
//! host must have run exactly the tasks it should have. Size from `LOAD_HOSTS` (default 40, the
//! CI size; `bench/load.sh` runs 200).

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use e2e::fleet::{diff_recaps, parse_recap, FleetLab, Recap, SAMPLES_ROOT};
use e2e::net::{free_port, loopback_ip};
use e2e::TargetSshd;

const PLAYBOOK: &str = "- name: load
  hosts: all
  gather_facts: false
  tasks:
    - name: mark the host
      shell: mkdir -p {{ root }}/{{ inventory_hostname }} && echo ran > {{ root }}/{{ inventory_hostname }}/ran
    - name: fail where told to
      fail:
        msg: '{{ inventory_hostname }} was told to fail'
      when: should_fail | default(false)
    - name: after the failure
      command: touch {{ root }}/{{ inventory_hostname }}/after
";

/// What each host should end as.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Fate {
    Healthy,
    Fails,
    Unreachable,
}

impl Fate {
    /// The recap line ansible-playbook prints for a host of this fate with [`PLAYBOOK`].
    fn recap(self) -> Recap {
        match self {
            // shell and command report changed (counted in ok too); the fail task is skipped.
            Fate::Healthy => Recap {
                ok: 2,
                changed: 2,
                skipped: 1,
                ..Recap::default()
            },
            Fate::Fails => Recap {
                ok: 1,
                changed: 1,
                failed: 1,
                ..Recap::default()
            },
            Fate::Unreachable => Recap {
                unreachable: 1,
                ..Recap::default()
            },
        }
    }
}

#[test]
fn a_large_run_with_unreachable_and_failing_hosts_ends_with_an_exact_recap() {
    let n = e2e::load::size("LOAD_HOSTS", 40);
    let down = (n / 10).max(2);
    let failing = (n / 10).max(1);
    let lab = FleetLab::new(n - down).with_fleet_bin(env!("CARGO_BIN_EXE_fleet"));

    let mut fates: BTreeMap<String, Fate> = BTreeMap::new();
    let mut inv = String::from("all:\n  hosts:\n");
    // Failing hosts spread evenly over the reachable ones.
    let step = (n - down) / failing;
    for (i, name) in lab.host_names().into_iter().enumerate() {
        let t = lab.target(name);
        let fate = if i % step == step / 2 && i / step < failing {
            Fate::Fails
        } else {
            Fate::Healthy
        };
        inv.push_str(&format!(
            "    {name}: {{ansible_host: '{}', ansible_port: {}, should_fail: {}}}\n",
            t.addr(),
            t.port(),
            fate == Fate::Fails
        ));
        fates.insert(name.to_string(), fate);
    }
    // Unreachable: half were sshd hosts that are now stopped, half a port nobody listens on.
    let mut stopped: Vec<TargetSshd> = Vec::new();
    for i in 0..down {
        let name = format!("down{}-{i}", std::process::id());
        let (ip, port) = if i % 2 == 0 {
            let mut t = TargetSshd::start(std::slice::from_ref(&lab.key().public_line));
            t.stop();
            let at = (t.addr(), t.port());
            stopped.push(t);
            at
        } else {
            let ip = loopback_ip();
            (ip.to_string(), free_port(ip))
        };
        inv.push_str(&format!(
            "    {name}: {{ansible_host: '{ip}', ansible_port: {port}}}\n"
        ));
        fates.insert(name, Fate::Unreachable);
    }
    inv.push_str(&format!(
        "  vars:\n    ansible_user: root\n    ansible_ssh_private_key_file: {}\n    root: {SAMPLES_ROOT}\n",
        lab.key().private.display()
    ));
    let inventory = lab.dir().join("load-inventory.yml");
    fs::write(&inventory, inv).unwrap();
    let playbook = lab.dir().join("load.yml");
    fs::write(&playbook, PLAYBOOK).unwrap();
    let count = |f: Fate| fates.values().filter(|x| **x == f).count();
    assert_eq!(
        (count(Fate::Unreachable), count(Fate::Fails), fates.len()),
        (down, failing, n)
    );

    // Default forks (50): fewer than the hosts at full size, so batches follow one another.
    let started = std::time::Instant::now();
    let out = lab.run_fleet(&[
        "run",
        playbook.to_str().unwrap(),
        "-i",
        inventory.to_str().unwrap(),
    ]);
    eprintln!(
        "fleet run over {n} hosts ({down} unreachable, {failing} failing) took {:.1?}",
        started.elapsed()
    );
    assert_eq!(out.code, Some(4), "a host unreachable: exit 4\n{out}");

    let want: BTreeMap<String, Recap> = fates.iter().map(|(h, f)| (h.clone(), f.recap())).collect();
    let got = parse_recap(&out.stdout);
    let diff = diff_recaps(&want, &got);
    assert!(
        diff.is_empty(),
        "recap differs:\n{}\n{out}",
        diff.join("\n")
    );

    // Every reachable host ran the first task; only healthy ones got past the failure.
    for (host, fate) in &fates {
        let dir = Path::new(SAMPLES_ROOT).join(host);
        let ran = dir.join("ran").is_file();
        let after = dir.join("after").is_file();
        let expected = match fate {
            Fate::Healthy => (true, true),
            Fate::Fails => (true, false),
            Fate::Unreachable => (false, false),
        };
        assert_eq!((ran, after), expected, "{host} ({fate:?})");
    }
    // The failures and unreachable hosts are reported as such, once each.
    let failed_lines = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("fatal: ["))
        .count();
    assert_eq!(failed_lines, down + failing, "{out}");
    drop(stopped);
}
