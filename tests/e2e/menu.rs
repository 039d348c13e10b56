//! The interactive host menu (PRODUCT.md 1.3): `ssh -tt alice@bastion` with no target shows
//! the hosts alice may reach; filter, number or arrows pick one, Enter connects, the menu
//! comes back when the target shell ends, `q` leaves. Driven through a real PTY and the real
//! OpenSSH client, asserting on the vt100-rendered screen.

use e2e::{fresh_code, secs, Client, Lab, PtySession, TestUser};

const BIN: &str = env!("CARGO_BIN_EXE_bastion");

const POLICY: &str = "roles:
  - name: ops
    members: [alice]
    hosts: [\"web*\", \"group:db\", \"host*\"]
    logins: [root]
    require_totp: false
";

/// `ssh -tt ... alice@127.0.0.1` (no target, so the bastion shows the menu) on a PTY.
fn menu_session(client: &Client, login: &str, cols: u16, rows: u16) -> PtySession {
    client.terminal(login, &[], cols, rows)
}

fn lab_with(hosts: &[(&str, &[&str])]) -> (Lab, TestUser) {
    Lab::serving(BIN, hosts, POLICY, "alice")
}

/// Once the menu has handed the terminal to a target shell, runs `cmd` there and waits for
/// `needle` in its output. The command is re-sent a few times in case the first keystrokes
/// arrived before the remote shell was reading.
fn run_in_target(pty: &mut PtySession, cmd: &str, needle: &str) {
    // The menu leaves the alternate screen before connecting.
    pty.expect("\x1b[?1049l", secs(15));
    let mut last = String::new();
    for _ in 0..8 {
        pty.send(&format!("{cmd}\r"));
        match pty.try_expect(needle, secs(3)) {
            Ok(()) => return,
            Err(e) => last = e,
        }
    }
    panic!("target never answered {cmd:?} with {needle:?}: {last}");
}

/// Lines of the rendered screen that are table rows naming a host `PREFIX` + digits.
fn rows_with(screen: &str, prefix: &str) -> Vec<String> {
    screen
        .lines()
        .filter(|l| {
            l.split_whitespace().any(|w| {
                w.strip_prefix(prefix).is_some_and(|rest| {
                    !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit())
                })
            })
        })
        .map(str::to_string)
        .collect()
}

/// The screen line naming `host` as a whole word.
fn line_of(screen: &str, host: &str) -> Option<String> {
    screen
        .lines()
        .find(|l| l.split_whitespace().any(|w| w == host))
        .map(str::to_string)
}

#[test]
fn menu_pick_connects_and_menu_returns_after_shell_ends() {
    let (lab, alice) = lab_with(&[("web1", &["web"]), ("db1", &["db"])]);
    let client = Client::new(&lab.bastion, &alice);
    let mut pty = menu_session(&client, "alice", 80, 24);

    pty.expect_screen("db1", secs(20));
    let screen = pty.screen();
    assert!(screen.contains("hosts for alice"), "{screen}");
    assert!(screen.contains("2 of 2"), "{screen}");
    let web = line_of(&screen, "web1").unwrap_or_else(|| panic!("web1 row missing:\n{screen}"));
    let db = line_of(&screen, "db1").unwrap_or_else(|| panic!("db1 row missing:\n{screen}"));
    for (line, group, addr) in [
        (&web, "web", lab.target("web1").addr()),
        (&db, "db", lab.target("db1").addr()),
    ] {
        assert!(line.contains("root"), "login missing: {line:?}\n{screen}");
        assert!(
            line.split_whitespace().any(|w| w == group),
            "group {group} missing: {line:?}\n{screen}"
        );
        assert!(
            line.contains(&addr),
            "address {addr} missing: {line:?}\n{screen}"
        );
        assert!(
            line.trim_start().starts_with(|c: char| c.is_ascii_digit()),
            "row not numbered: {line:?}"
        );
    }

    // Typing filters: only db1 is left.
    pty.send("db");
    pty.expect_screen("1 of 2", secs(10));
    let screen = pty.screen();
    assert!(screen.contains("Filter: db"), "{screen}");
    assert!(
        line_of(&screen, "web1").is_none(),
        "web1 should be filtered out:\n{screen}"
    );
    assert!(line_of(&screen, "db1").is_some(), "{screen}");

    pty.send("\r");
    run_in_target(&mut pty, "echo MARK-$((6*7))", "MARK-42");
    let db_port = lab.target("db1").port();
    run_in_target_again(
        &mut pty,
        "echo \"C:$SSH_CONNECTION:E\"",
        &format!(" {db_port}:E"),
    );

    // The shell ends: the menu comes back, saying so, with the full list again.
    pty.send("exit\r");
    pty.expect_screen("session on root@db1 ended", secs(15));
    pty.expect_screen("2 of 2", secs(5));
    let screen = pty.screen();
    assert!(
        line_of(&screen, "web1").is_some() && line_of(&screen, "db1").is_some(),
        "{screen}"
    );

    // `q` leaves; ssh exits 0.
    pty.send("q");
    assert_eq!(
        pty.wait(secs(15)),
        Some(0),
        "ssh should exit 0 after q; output tail:\n{}",
        pty.screen()
    );
}

/// [`run_in_target`] with a command proving which target the shell is on: the target's port
/// ends `$SSH_CONNECTION`.
fn run_in_target_on_port(pty: &mut PtySession, port: u16) {
    run_in_target(pty, "echo \"C:$SSH_CONNECTION:E\"", &format!(" {port}:E"));
}

/// Like [`run_in_target`] for a shell already known to be reading.
fn run_in_target_again(pty: &mut PtySession, cmd: &str, needle: &str) {
    pty.send(&format!("{cmd}\r"));
    pty.expect(needle, secs(10));
}

#[test]
fn pick_by_number_and_arrows() {
    let (lab, alice) = lab_with(&[("web1", &["web"]), ("web2", &["web"]), ("db1", &["db"])]);
    let client = Client::new(&lab.bastion, &alice);
    let mut pty = menu_session(&client, "alice", 80, 24);
    pty.expect_screen("3 of 3", secs(20));
    let screen = pty.screen();

    // Which host carries which number, as shown.
    let number_of = |host: &str| -> usize {
        let line = line_of(&screen, host).unwrap_or_else(|| panic!("{host} missing:\n{screen}"));
        line.split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap_or_else(|_| panic!("no number in {line:?}"))
    };
    let mut order: Vec<(usize, &str)> = ["web1", "web2", "db1"]
        .iter()
        .map(|h| (number_of(h), *h))
        .collect();
    order.sort();
    assert_eq!(
        order.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        vec![1, 2, 3],
        "{screen}"
    );

    // By number: the last one.
    let (n, host) = order[2];
    pty.send(&n.to_string());
    pty.expect_screen(&format!("Pick number: {n}"), secs(10));
    pty.send("\r");
    let port = lab.target(host).port();
    run_in_target_on_port(&mut pty, port);
    pty.send("exit\r");
    pty.expect_screen(&format!("session on root@{host} ended"), secs(15));

    // By arrow: one down from the first row is number 2.
    pty.send("\x1b[B");
    // The selection bar moves; give the bastion a moment by waiting for the help line to return
    // (the "session ended" message is cleared by the key).
    pty.expect_screen("Enter connect", secs(10));
    pty.send("\r");
    let host = order[1].1;
    let port = lab.target(host).port();
    run_in_target_on_port(&mut pty, port);
    pty.send("exit\r");
    pty.expect_screen(&format!("session on root@{host} ended"), secs(15));

    // Down twice then up once also lands on number 2; a bad number is refused with a message.
    pty.send("9\r");
    pty.expect_screen("No host number 9", secs(10));
    pty.send("\x1b[B\x1b[B\x1b[A\r");
    run_in_target_on_port(&mut pty, port);
    pty.send("exit\r");
    pty.expect_screen(&format!("session on root@{host} ended"), secs(15));

    pty.send("q");
    assert_eq!(pty.wait(secs(15)), Some(0));
}

#[test]
fn user_without_role_sees_empty_menu() {
    let mut lab = Lab::new(BIN, &[("web1", &["web"])]);
    lab.bastion.write_policies(POLICY);
    let carol = lab.bastion.add_user("carol", true);
    lab.serve();
    let secret = carol.totp_secret.clone().unwrap();
    let client = Client::new(&lab.bastion, &carol);
    let (code, step) = fresh_code(&secret);
    client.set_code(&code);

    let mut pty = menu_session(&client, "carol", 80, 24);
    pty.expect_screen("No hosts available for carol", secs(20));
    let screen = pty.screen();
    assert!(screen.contains("0 of 0"), "{screen}");
    assert!(line_of(&screen, "web1").is_none(), "{screen}");
    // Typing a filter or Enter does nothing; q leaves with status 0.
    pty.send("web1\r");
    pty.send("q");
    assert_eq!(pty.wait(secs(15)), Some(0), "{}", pty.screen());

    // The next step's code (one step of skew is accepted; the used one would be a replay).
    client.set_code(&e2e::code_at(&secret, step + 1));
    let out = client.run_ssh("carol", &["web1", "true"]);
    out.assert_failure();
    assert!(out.stderr.to_lowercase().contains("access denied"), "{out}");
}

/// web1 plus `n` more inventory hosts (host001...) that all point at web1's sshd.
fn lab_with_many_hosts(n: usize) -> (Lab, e2e::TestUser) {
    let mut lab = Lab::new(BIN, &[("web1", &["web"])]);
    lab.bastion.write_policies(POLICY);
    let alice = lab.bastion.add_user("alice", false);
    let (addr, port) = (lab.target("web1").addr(), lab.target("web1").port());
    let extra: String = (1..=n)
        .map(|i| {
            format!("    host{i:03}:\n      ansible_host: {addr}\n      ansible_port: {port}\n")
        })
        .collect();
    lab.bastion.write_inventory(&lab.inventory_yaml(&extra));
    lab.serve();
    (lab, alice)
}

#[test]
fn many_hosts_scroll_and_resize_redraws() {
    let (lab, alice) = lab_with_many_hosts(200);
    let client = Client::new(&lab.bastion, &alice);
    let mut pty = menu_session(&client, "alice", 80, 24);

    pty.expect_screen("201 of 201", secs(20));
    pty.expect_screen("host001", secs(5));
    let screen = pty.screen();
    let shown = rows_with(&screen, "host").len();
    // 24 rows minus title, filter, header and status line.
    assert!(
        (15..=20).contains(&shown),
        "expected ~20 host rows in 80x24, got {shown}:\n{screen}"
    );
    assert!(line_of(&screen, "host200").is_none(), "{screen}");
    assert!(screen.lines().count() <= 24);
    assert!(screen.lines().all(|l| l.chars().count() <= 80), "{screen}");

    // End jumps to the last host.
    pty.send("\x1b[F");
    pty.expect_screen("host200", secs(10));
    let screen = pty.screen();
    assert!(line_of(&screen, "host001").is_none(), "{screen}");
    assert!(
        line_of(&screen, "201").is_some() || screen.contains("201  host200"),
        "{screen}"
    );

    // Home then PageDown pages through.
    pty.send("\x1b[H");
    pty.expect_screen("host001", secs(10));
    pty.send("\x1b[6~\x1b[6~\x1b[6~");
    pty.expect_screen("host060", secs(10));
    let screen = pty.screen();
    assert!(line_of(&screen, "host001").is_none(), "{screen}");

    // Many arrow downs scroll too.
    pty.send("\x1b[H");
    pty.expect_screen("host001", secs(10));
    pty.send(&"\x1b[B".repeat(30));
    pty.expect_screen("host030", secs(10));
    let screen = pty.screen();
    assert!(line_of(&screen, "host005").is_none(), "{screen}");

    // A bigger window: a full redraw with more rows.
    pty.send("\x1b[H");
    pty.expect_screen("host001", secs(10));
    pty.resize(100, 40);
    pty.expect_screen("host030", secs(10));
    let screen = pty.screen();
    let more = rows_with(&screen, "host").len();
    assert!(
        more > shown && more >= 30,
        "expected more rows after resize ({shown} -> {more}):\n{screen}"
    );
    assert!(line_of(&screen, "host001").is_some(), "{screen}");

    // And a smaller one again.
    pty.resize(80, 12);
    let ok = e2e::poll(secs(10), || {
        let s = pty.screen();
        let n = rows_with(&s, "host").len();
        (n > 0 && n <= 8 && s.contains("host001")).then_some(())
    });
    assert!(
        ok.is_some(),
        "menu did not shrink to 80x12:\n{}",
        pty.screen()
    );

    pty.send("q");
    assert_eq!(pty.wait(secs(15)), Some(0));
}

#[test]
fn menu_comes_back_at_the_size_the_window_has_after_the_session() {
    let (lab, alice) = lab_with_many_hosts(60);
    let client = Client::new(&lab.bastion, &alice);
    let mut pty = menu_session(&client, "alice", 80, 24);
    pty.expect_screen("61 of 61", secs(20));
    let before = rows_with(&pty.screen(), "host").len();

    pty.send("\r");
    run_in_target(&mut pty, "echo MARK-$((6*7))", "MARK-42");
    // The window grows while the target shell runs; the target sees it...
    pty.resize(100, 40);
    run_in_target_again(&mut pty, "echo SIZE-$(stty size | tr ' ' x)", "SIZE-40x100");
    pty.send("exit\r");
    pty.expect_screen("session on root@web1 ended", secs(15));
    // ...and so must the menu that comes back: 40 rows, not the 24 it was started with.
    let ok = e2e::poll(secs(5), || {
        (rows_with(&pty.screen(), "host").len() > before + 10).then_some(())
    });
    assert!(
        ok.is_some(),
        "menu redrawn at the old size after the session ({before} rows before):\n{}",
        pty.screen()
    );
    pty.send("q");
    assert_eq!(pty.wait(secs(15)), Some(0));
}
