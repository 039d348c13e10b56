//! Load (issue 5): many sessions opened, used and closed at once through the bastion, and a
//! `kill -9` of the server with all of them open. Size from `LOAD_SESSIONS` (default 40, the
//! CI size; `bench/load.sh` runs 200). Half the sessions are PTY shells whose typed command
//! must reach the command log and the recording, half are exec sessions; all are held open at
//! the same time before they end.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use e2e::load::{open_sockets, size, ABORTED};
use e2e::proc::{line_reader, wait_child};
use e2e::{asciinema_cat, poll, secs, Client, Gate, Lab, TestUser};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_bastion");

/// Bastion users the sessions are spread over (no TOTP: a code logs in once per time step).
const USERS: usize = 4;

/// Targets take many connections at once: sshd's default `MaxStartups 10:30:100` would drop
/// most of them while their key exchange is in progress. HOME is the target's own (empty of
/// dotfiles) directory, so the sessions' bash does not run this machine's root ~/.bashrc: a
/// developer's may run e.g. `pyenv rehash`, which takes a global lock that hundreds of logins
/// at once queue on for minutes.
const SSHD_CONFIG: &str = "MaxStartups 1000\nMaxSessions 100\nSetEnv HOME={dir}\n";

/// How long a worker may take for one step, and the whole crowd for getting everyone open.
const STEP: Duration = Duration::from_secs(120);
const CROWD: Duration = Duration::from_secs(600);

fn sessions_wanted() -> usize {
    size("LOAD_SESSIONS", 40)
}

/// A bastion with `n / 50` (at least 2) raised-limit targets `load1..` and [`USERS`] users.
struct LoadLab {
    lab: Lab,
    users: Vec<TestUser>,
    hosts: Vec<String>,
}

impl LoadLab {
    fn start(n: usize) -> LoadLab {
        let hosts: Vec<String> = (1..=(n / 50).max(2)).map(|i| format!("load{i}")).collect();
        let spec: Vec<(&str, &[&str])> = hosts.iter().map(|h| (h.as_str(), &[][..])).collect();
        let mut lab = Lab::with_sshd_config(BIN, &spec, SSHD_CONFIG);
        // Hundreds of key exchanges at once on a small shared machine can take longer than the
        // default 10 s per target connect; a timeout here would be a wall-clock threshold.
        lab.bastion.set("connect_timeout = \"120s\"");
        let names: Vec<String> = (0..USERS).map(|i| format!("u{i}")).collect();
        lab.bastion.write_policies(&format!(
            "roles:\n  - name: load\n    members: [{}]\n    hosts: [\"load*\"]\n    logins: [root]\n    require_totp: false\n",
            names.join(", ")
        ));
        let users = names
            .iter()
            .map(|u| lab.bastion.add_user(u, false))
            .collect();
        lab.serve();
        LoadLab { lab, users, hosts }
    }

    /// Who opens session `i` to which target, for `n` sessions (users and hosts in turn).
    fn plan(&self, n: usize) -> Vec<(String, String)> {
        (0..n)
            .map(|i| {
                let user = &self.users[i % self.users.len()];
                (user.name.clone(), self.hosts[i % self.hosts.len()].clone())
            })
            .collect()
    }

    /// One OpenSSH client set-up per user, in the order of `users`.
    fn clients(&self) -> Vec<Client> {
        self.users
            .iter()
            .map(|u| Client::new(&self.lab.bastion, u))
            .collect()
    }
}

/// Even sessions are PTY shells, odd ones exec requests.
fn is_shell(i: usize) -> bool {
    i.is_multiple_of(2)
}

/// What the shell of session `i` types, and what it prints.
fn shell_command(i: usize) -> String {
    format!("echo shell-{i}-$((6*7))")
}
fn shell_marker(i: usize) -> String {
    format!("shell-{i}-42")
}

/// The command line of exec session `i`: it stays open until a line arrives on stdin.
fn exec_command(i: usize) -> String {
    format!("echo exec-{i}-start; read line; echo exec-{i}-got-$line")
}

/// What a worker does once the gate opens.
#[derive(Clone, Copy, PartialEq)]
enum Then {
    /// End the session normally (exit / EOF) and check its exit status.
    Close,
    /// The server is killed meanwhile: just see the client end.
    SeeItDie,
}

/// One session from open to end; `gate` is passed once it is open and has done its work.
fn session(
    client: &Client,
    user: &str,
    host: &str,
    i: usize,
    gate: &Gate,
    then: Then,
) -> Result<(), String> {
    let mut arrived = false;
    let r = if is_shell(i) {
        shell_session(client, user, host, i, gate, then, &mut arrived)
    } else {
        exec_session(client, user, host, i, gate, then, &mut arrived)
    };
    if r.is_err() && !arrived {
        gate.fail();
    }
    r.map_err(|e| format!("session {i} ({user} -> {host}): {e}"))
}

fn pass(gate: &Gate, arrived: &mut bool) -> Result<(), String> {
    *arrived = true;
    gate.arrive();
    gate.wait(CROWD)
        .then_some(())
        .ok_or_else(|| ABORTED.to_string())
}

fn shell_session(
    client: &Client,
    user: &str,
    host: &str,
    i: usize,
    gate: &Gate,
    then: Then,
    arrived: &mut bool,
) -> Result<(), String> {
    let mut pty = client.terminal(user, &[host], 80, 24);
    pty.try_expect("# ", STEP)?;
    pty.send(&format!("{}\r", shell_command(i)));
    pty.try_expect(&shell_marker(i), STEP)?;
    pty.try_expect("# ", STEP)?;
    pass(gate, arrived)?;
    if then == Then::Close {
        pty.send("exit\r");
    }
    match (then, pty.wait(STEP)) {
        (Then::Close, Some(0)) | (Then::SeeItDie, Some(_)) => Ok(()),
        (_, code) => Err(format!("ssh ended with {code:?}:\n{}", pty.screen())),
    }
}

fn exec_session(
    client: &Client,
    user: &str,
    host: &str,
    i: usize,
    gate: &Gate,
    then: Then,
    arrived: &mut bool,
) -> Result<(), String> {
    let mut child = client
        .ssh(user, &[host, &exec_command(i)])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawn ssh: {e}"))?;
    let lines = line_reader(&mut child);
    let result = (|| {
        let first = lines
            .recv_timeout(STEP)
            .map_err(|_| "no first line from the target".to_string())?;
        if first != format!("exec-{i}-start") {
            return Err(format!("first line {first:?}"));
        }
        pass(gate, arrived)?;
        let mut stdin = child.stdin.take().expect("stdin");
        if then == Then::Close {
            stdin
                .write_all(b"go\n")
                .map_err(|e| format!("write: {e}"))?;
        }
        drop(stdin);
        let rest: Vec<String> = lines.iter().collect();
        let code = wait_child(&mut child, STEP).ok_or("ssh did not end")?;
        match then {
            Then::Close if code == 0 && rest == [format!("exec-{i}-got-go")] => Ok(()),
            Then::Close => Err(format!("exit {code}, then printed {rest:?}")),
            Then::SeeItDie => Ok(()),
        }
    })();
    let _ = child.kill();
    let _ = child.wait();
    result
}

/// Runs the sessions of `plan` at once (session `i` with `clients[i % clients.len()]`, the
/// client of its user) through [`e2e::load::crowd`]: once all are open, `at_peak` runs (the
/// test's look at the live server), then the gate opens and the sessions end.
fn crowd<T>(
    clients: &[Client],
    plan: &[(String, String)],
    then: Then,
    at_peak: impl FnOnce() -> T,
) -> T {
    let worker = |i: usize, gate: &Gate| {
        let (user, host) = &plan[i];
        session(&clients[i % clients.len()], user, host, i, gate, then)
    };
    e2e::load::crowd(plan.len(), CROWD, worker, at_peak)
}

fn active(lab: &Lab) -> Vec<Value> {
    lab.bastion.json_lines(&["sessions", "--active", "--json"])
}

fn recording(s: &Value) -> PathBuf {
    PathBuf::from(
        s["recording"]
            .as_str()
            .unwrap_or_else(|| panic!("no recording: {s}")),
    )
}

/// Which shell (by its marker) a recording belongs to; checks it parses, is titled for its
/// user and host and matches its signed seal.
fn check_recording(s: &Value) -> usize {
    let path = recording(s);
    let cast = recordings::read_cast(&path).unwrap_or_else(|e| panic!("{s}: {e}"));
    assert_eq!(
        cast.header.title,
        format!(
            "{} -> root@{}",
            s["user"].as_str().unwrap(),
            s["host"].as_str().unwrap()
        ),
        "{s}"
    );
    let seal = recordings::seal_file(&path).unwrap();
    assert_eq!(s["recording_sha256"], seal.sha256_hex(), "{s}");
    let text = cast.output_text();
    marker_index(&text).unwrap_or_else(|| panic!("no shell marker in recording of {s}:\n{text}"))
}

/// `I` of the first `shell-I-42` in `text`.
fn marker_index(text: &str) -> Option<usize> {
    text.split("shell-").skip(1).find_map(|rest| {
        let (num, after) = rest.split_once('-')?;
        after.starts_with("42").then(|| num.parse().ok()).flatten()
    })
}

/// `asciinema cat` accepts a spread of the recordings (the first, the last, some between) and
/// prints each one's marker.
/// One recording per shell in `shells`, each parsing, sealed and holding its marker; some play.
/// Returns each shell's number with its recording.
fn check_shell_recordings(sessions: &[Value], shells: &BTreeSet<usize>) -> Vec<(usize, PathBuf)> {
    let mut recs: Vec<(usize, PathBuf)> = sessions
        .iter()
        .filter(|s| s["kind"] == "shell")
        .map(|s| (check_recording(s), recording(s)))
        .collect();
    recs.sort();
    let recorded: BTreeSet<usize> = recs.iter().map(|(i, _)| *i).collect();
    assert_eq!(&recorded, shells, "one recording per shell session");
    play_some(&recs);
    recs
}

fn play_some(recs: &[(usize, PathBuf)]) {
    let step = (recs.len() / 4).max(1);
    for (i, path) in recs.iter().step_by(step).chain(recs.last()) {
        let shown = asciinema_cat(path).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            shown.contains(&shell_marker(*i)),
            "{}: {shown}",
            path.display()
        );
    }
}

fn assert_verified(lab: &Lab) {
    let out = lab.bastion.cli(&["audit", "verify"]);
    assert_eq!(out.code, Some(0), "audit verify must pass:\n{out}");
}

fn shells_and_execs(n: usize) -> (BTreeSet<usize>, BTreeSet<usize>) {
    (0..n).partition(|i| is_shell(*i))
}

#[test]
fn concurrent_sessions_are_all_recorded_logged_and_closed() {
    let n = sessions_wanted();
    let ll = LoadLab::start(n);
    let lab = &ll.lab;
    let pid = lab.bastion.pid().expect("serving");
    let sockets_before = open_sockets(pid);

    let started = std::time::Instant::now();
    let peak = crowd(&ll.clients(), &ll.plan(n), Then::Close, || {
        active(lab).len()
    });
    eprintln!(
        "{n} concurrent sessions opened, used and closed in {:.1?}",
        started.elapsed()
    );
    assert_eq!(peak, n, "all {n} sessions should have been open at once");

    // Every session stored, ended normally, exit status 0.
    let sessions = poll(secs(60), || {
        let s = lab.bastion.sessions();
        (s.len() == n && s.iter().all(|s| s["status"] == "closed")).then_some(s)
    })
    .unwrap_or_else(|| {
        panic!(
            "{n} closed sessions expected: {:#?}",
            lab.bastion.sessions()
        )
    });
    assert!(
        sessions.iter().all(|s| s["exit_status"] == 0),
        "{sessions:#?}"
    );
    let (shells, execs) = shells_and_execs(n);

    // Every shell recorded: one recording per shell, each parses, is sealed, plays.
    let recs = check_shell_recordings(&sessions, &shells);

    // Every command logged: each exec's command line with its exit status, each shell's typed
    // command in its own session.
    let commands = lab.bastion.json_lines(&["commands", "--json"]);
    let session_of = |c: &Value| sessions.iter().find(|s| s["id"] == c["session"]).cloned();
    for i in &execs {
        let c = commands
            .iter()
            .find(|c| c["command"] == exec_command(*i).as_str())
            .unwrap_or_else(|| panic!("exec {i} not in the command log"));
        assert_eq!(
            (c["origin"].as_str(), c["exit_status"].as_i64()),
            (Some("exec"), Some(0)),
            "{c}"
        );
        let s = session_of(c).expect("its session");
        assert_eq!(
            (s["kind"].as_str(), &s["command"]),
            (Some("exec"), &c["command"]),
            "{s}"
        );
    }
    for (i, path) in &recs {
        let c = commands
            .iter()
            .find(|c| c["command"] == shell_command(*i).as_str())
            .unwrap_or_else(|| panic!("shell {i}'s command not in the command log"));
        assert_eq!(c["origin"], "shell", "{c}");
        let s = session_of(c).expect("its session");
        assert_eq!(
            recording(&s),
            *path,
            "shell {i}'s command logged in another session: {c}"
        );
    }
    assert_eq!(
        commands
            .iter()
            .filter(|c| c["origin"] == "shell" && c["command"] == "exit")
            .count(),
        shells.len()
    );

    // The audit chain holds every login and session, and verifies.
    assert_verified(lab);
    for (kind, want) in [("login_ok", n), ("session_start", n), ("session_end", n)] {
        assert_eq!(lab.bastion.audit_of(kind).len(), want, "{kind} events");
    }

    // Nothing left open: no active session, the bastion's sockets back to what they were, no
    // session process left on any target.
    assert!(active(lab).is_empty());
    poll(secs(30), || {
        (open_sockets(pid) <= sockets_before).then_some(())
    })
    .unwrap_or_else(|| {
        panic!(
            "bastion holds {} sockets, {sockets_before} before",
            open_sockets(pid)
        )
    });
    for h in &ll.hosts {
        poll(secs(30), || {
            (lab.target(h).session_processes() == 0).then_some(())
        })
        .unwrap_or_else(|| {
            panic!(
                "{h} still has {} session processes",
                lab.target(h).session_processes()
            )
        });
    }
}

#[test]
fn kill_9_under_load_then_restart_marks_every_session_interrupted() {
    let n = sessions_wanted();
    let mut ll = LoadLab::start(n);

    let (clients, plan) = (ll.clients(), ll.plan(n));
    let recs = crowd(&clients, &plan, Then::SeeItDie, || {
        let open = active(&ll.lab);
        assert_eq!(open.len(), n, "all {n} sessions open before the crash");
        // Recordings are flushed at least once a second: every shell's marker reaches its file.
        let shells: Vec<&Value> = open.iter().filter(|s| s["kind"] == "shell").collect();
        let flushed = poll(secs(30), || {
            shells
                .iter()
                .all(|s| std::fs::read_to_string(recording(s)).is_ok_and(|t| t.contains("-42")))
                .then_some(())
        });
        assert!(
            flushed.is_some(),
            "shell markers not flushed to the recordings"
        );
        ll.lab.bastion.crash();
        open
    });
    assert_eq!(recs.len(), n);

    ll.lab.serve();
    let sessions = ll.lab.bastion.sessions();
    assert_eq!(sessions.len(), n, "{sessions:#?}");
    let not_interrupted: Vec<&Value> = sessions
        .iter()
        .filter(|s| s["status"] != "interrupted")
        .collect();
    assert!(not_interrupted.is_empty(), "{not_interrupted:#?}");
    assert!(active(&ll.lab).is_empty());

    // Each recovery audited once, with the seal of the repaired recording.
    let events = ll.lab.bastion.audit_of("session_interrupted");
    let ids: BTreeSet<i64> = events
        .iter()
        .map(|e| e["detail"]["session"].as_i64().unwrap())
        .collect();
    assert_eq!((events.len(), ids.len()), (n, n), "{events:#?}");

    // Every shell's recording is playable and holds what its shell printed before the crash.
    let (shells, _) = shells_and_execs(n);
    check_shell_recordings(&sessions, &shells);
    assert_verified(&ll.lab);

    // And the restarted server serves.
    let client = Client::new(&ll.lab.bastion, &ll.users[0]);
    let out = client.run_ssh("u0", &[&ll.hosts[0], "echo after-restart"]);
    out.assert_success();
    assert_eq!(out.stdout.trim(), "after-restart");
}
