//! The web console in a real browser (issue 16): headless chromium through chromedriver, the
//! bastion's own HTTPS console, sessions made by the real `ssh` client. Login by the link
//! `ssh bastion console` prints (and refusal of a reused or expired link, and of a user with
//! no console role); the new session is listed; the player plays and clicking a command shows
//! its output on the player's screen; search finds a typed command; recorded `<script>` and
//! `onerror` payloads stay inert; an auditor scoped to `web*` cannot see a `db1` session by
//! list, search, API or guessed URL. Each test saves screenshots in `target/screenshots/`.

use std::time::Duration;

use e2e::{secs, Browser, Client, Lab, TestUser};
use rusqlite::Connection;

const BIN: &str = env!("CARGO_BIN_EXE_bastion");

const POLICY: &str = "roles:
  - name: ops
    members: [alice]
    hosts: [\"*\"]
    logins: [root]
    require_totp: false
    record_input: true
  - name: auditors
    members: [carol]
    hosts: [\"*\"]
    console: [audit, live]
    require_totp: false
  - name: web-auditors
    members: [wendy]
    hosts: [\"web*\"]
    console: [audit]
    require_totp: false
";

fn console_link(lab: &Lab, user: &TestUser) -> String {
    Client::new(&lab.bastion, user).console_link(&user.name)
}

/// A recorded terminal shell of alice on `host`, typing `lines`.
fn shell(lab: &Lab, alice: &TestUser, host: &str, lines: &[(&str, &str)]) {
    let client = Client::new(&lab.bastion, alice);
    let mut sh = client.terminal("alice", &[host], 100, 30);
    sh.expect("# ", secs(20));
    for (line, answer) in lines {
        sh.send(&format!("{line}\r"));
        sh.expect(answer, secs(10));
    }
    sh.send("exit\r");
    assert_eq!(sh.wait(secs(20)), Some(0), "{}", sh.output());
}

#[test]
fn an_auditor_logs_in_by_link_finds_the_session_and_replays_a_command() {
    let (mut lab, alice) = Lab::serving(BIN, &[("web1", &[])], POLICY, "alice");
    let carol = lab.bastion.add_user("carol", false);
    let _ = &mut lab;
    shell(
        &lab,
        &alice,
        "web1",
        &[
            ("echo first-marker", "first-marker\r\n"),
            ("echo second-$((6*7))", "second-42\r\n"),
        ],
    );

    let browser = Browser::start();
    let link = console_link(&lab, &carol);
    assert!(link.starts_with(&lab.bastion.console_url()), "{link}");
    browser.goto(&link);
    assert!(browser.url().ends_with("/sessions"), "{}", browser.url());
    browser.wait_for_text("#sessions", "web1", secs(10));
    browser.screenshot("console-sessions");

    // The session page: the recording in the player, the commands beside it.
    browser.click("#sessions tbody tr:first-child a");
    browser.wait_for_text("#commands", "echo second-$((6*7))", secs(10));
    browser.wait_for_text(".ap-player", "", secs(10));
    browser.click("#commands li:nth-child(2) a");
    browser.wait_for_text(".ap-term", "second-42", secs(15));
    browser.screenshot("console-replay");

    // The link worked once; reused, it is refused.
    browser.goto(&link);
    assert!(
        browser.text().contains("Login refused"),
        "{}",
        browser.text()
    );

    // An expired link is refused too (its expiry moved into the past, as two minutes would).
    let second = console_link(&lab, &carol);
    let db = Connection::open(lab.bastion.data_dir().join("bastion.db")).unwrap();
    db.execute(
        "UPDATE console_links SET expires_at = 0 WHERE used_at IS NULL",
        [],
    )
    .unwrap();
    let fresh = Browser::start();
    fresh.goto(&second);
    assert!(fresh.text().contains("Login refused"), "{}", fresh.text());
    fresh.goto(&format!("{}/sessions", lab.bastion.console_url()));
    assert!(fresh.text().contains("Log in over SSH"), "{}", fresh.text());

    // A user without a console role gets no link.
    let out = Client::new(&lab.bastion, &alice).run_ssh("alice", &["console"]);
    assert_ne!(out.code, Some(0), "{out}");
    assert!(
        out.stderr
            .contains("no role of yours lists a console right"),
        "{out}"
    );

    let failed: Vec<String> = lab
        .bastion
        .audit_of("console_login_failed")
        .iter()
        .map(|e| {
            e["detail"]["reason"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    for reason in [
        "link already used",
        "link expired",
        "no role gives a console right",
    ] {
        assert!(
            failed.iter().any(|r| r.contains(reason)),
            "{reason}: {failed:?}"
        );
    }
    assert_eq!(lab.bastion.audit_of("console_login").len(), 1);
    let viewed = lab.bastion.audit_of("recording_viewed");
    assert!(
        viewed
            .iter()
            .any(|e| e["user"] == "carol" && e["detail"]["host"] == "web1"),
        "{viewed:?}"
    );
    let out = lab.bastion.cli(&["audit", "verify"]);
    assert_eq!(out.code, Some(0), "{out}");
}

#[test]
fn search_finds_a_typed_command_and_opens_its_session_there() {
    let (lab, alice) = Lab::serving(BIN, &[("web1", &[])], POLICY, "alice");
    let carol = lab.bastion.add_user("carol", false);
    shell(
        &lab,
        &alice,
        "web1",
        &[
            ("echo warming-up", "warming-up\r\n"),
            (
                "echo needle-in-the-$((2*21))-haystack",
                "needle-in-the-42-haystack\r\n",
            ),
        ],
    );
    let browser = Browser::start();
    browser.goto(&console_link(&lab, &carol));
    browser.goto(&format!(
        "{}/commands?q=NEEDLE-in",
        lab.bastion.console_url()
    ));
    browser.wait_for_text(
        "#commands",
        "echo needle-in-the-$((2*21))-haystack",
        secs(10),
    );
    assert!(!browser.text().contains("warming-up"), "{}", browser.text());
    browser.screenshot("console-search");
    browser.click("#commands a.hit");
    assert!(browser.url().contains("#t="), "{}", browser.url());
    browser.wait_for_text(".ap-term", "needle-in-the-42-haystack", secs(15));

    // Reports: a bar per day of the last 30 (empty days too), today's with the session, and
    // alice at the top, drawn by the server.
    browser.goto(&format!("{}/reports", lab.bastion.console_url()));
    browser.wait_for_text("table.top", "alice", secs(10));
    let bars = browser
        .eval("return document.querySelector('figure.chart svg').querySelectorAll('rect').length");
    assert!(
        (30..=32).contains(&bars.as_u64().unwrap_or(0)),
        "a bar per day of the default 30-day range: {bars}"
    );
    let titles = browser.eval(
        "return [...document.querySelector('figure.chart svg').querySelectorAll('rect title')]\
         .map(t => t.textContent)",
    );
    let titles: Vec<&str> = titles
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(
        titles.last().unwrap().ends_with(": 1") && titles[0].ends_with(": 0"),
        "one session today, none a month ago: {titles:?}"
    );
    let range = browser.text();
    assert!(
        range.contains("days in the bastion's time zone") && !range.contains("Z to "),
        "the range reads as local times: {range}"
    );
    browser.screenshot("console-reports");
}

#[test]
fn recorded_markup_and_escape_sequences_stay_inert() {
    let (lab, alice) = Lab::serving(BIN, &[("web1", &[])], POLICY, "alice");
    let carol = lab.bastion.add_user("carol", false);
    // Output with markup, an OSC title with markup, and a typed command with markup.
    let payload = r#"printf '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">\033]0;<img src=x onerror=window.pwned=3>\007done-printing\n'"#;
    shell(&lab, &alice, "web1", &[(payload, "done-printing")]);
    shell(
        &lab,
        &alice,
        "web1",
        &[(
            "echo '<b onmouseover=window.pwned=4>bold</b>' # <svg onload=window.pwned=5>",
            "bold</b>",
        )],
    );
    let browser = Browser::start();
    browser.goto(&console_link(&lab, &carol));
    for path in ["/sessions", "/commands?q=pwned", "/audit"] {
        browser.goto(&format!("{}{path}", lab.bastion.console_url()));
        assert_eq!(
            browser.eval("return window.pwned === undefined"),
            true,
            "{path}"
        );
    }
    browser.goto(&format!("{}/sessions", lab.bastion.console_url()));
    browser.click("#sessions tbody tr:last-child a");
    browser.wait_for_text("#commands", "window.pwned=1", secs(10));
    browser.click("#commands li:first-child a");
    browser.wait_for_text(".ap-term", "done-printing", secs(15));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(browser.eval("return window.pwned === undefined"), true);
    assert_eq!(
        browser.eval("return document.querySelectorAll('img[src=x], script:not([src]), svg[onload], b[onmouseover]').length"),
        0
    );
    browser.screenshot("console-inert-payloads");
}

#[test]
fn an_auditor_scoped_to_web_hosts_cannot_see_a_db_session_any_way() {
    let (lab, alice) = Lab::serving(BIN, &[("web1", &[]), ("db1", &[])], POLICY, "alice");
    let wendy = lab.bastion.add_user("wendy", false);
    shell(
        &lab,
        &alice,
        "web1",
        &[("echo on-web-host", "on-web-host\r\n")],
    );
    shell(
        &lab,
        &alice,
        "db1",
        &[("echo secret-db-work", "secret-db-work\r\n")],
    );
    let sessions = lab.bastion.sessions();
    let db_id = sessions
        .iter()
        .find(|s| s["host"] == "db1")
        .expect("db1 session")["id"]
        .to_string();

    let browser = Browser::start();
    browser.goto(&console_link(&lab, &wendy));
    let base = lab.bastion.console_url();
    browser.wait_for_text("#sessions", "web1", secs(10));
    assert!(!browser.text_of("#sessions").unwrap().contains("db1"));
    browser.screenshot("console-scoped-list");
    browser.goto(&format!("{base}/commands?q=secret-db"));
    assert!(
        !browser.text().contains("secret-db-work"),
        "{}",
        browser.text()
    );
    for path in [
        format!("/sessions/{db_id}"),
        format!("/sessions/{db_id}/cast"),
        format!("/api/v1/sessions/{db_id}"),
    ] {
        browser.goto(&format!("{base}{path}"));
        let text = browser.text();
        assert!(
            !text.contains("secret-db-work") && !text.contains("db1"),
            "{path}: {text}"
        );
    }
    browser.goto(&format!("{base}/api/v1/sessions?host=db1"));
    assert!(browser.text().contains("\"total\":0"), "{}", browser.text());
    browser.goto(&format!("{base}/api/v1/commands?q=secret"));
    assert!(browser.text().contains("\"total\":0"), "{}", browser.text());
    browser.goto(&format!("{base}/audit"));
    assert!(!browser.text().contains("db1"), "{}", browser.text());

    let denied = lab.bastion.audit_of("console_denied");
    assert!(
        denied.iter().filter(|e| e["user"] == "wendy").count() >= 3,
        "{denied:#?}"
    );
}

#[test]
fn a_watcher_sees_typing_live_and_a_kill_ends_the_ssh_client_with_its_message() {
    let (lab, alice) = Lab::serving(BIN, &[("web1", &[])], POLICY, "alice");
    let carol = lab.bastion.add_user("carol", false);
    let client = Client::new(&lab.bastion, &alice);
    let mut sh = client.terminal("alice", &["web1"], 100, 30);
    sh.expect("# ", secs(20));
    sh.send("echo before-watching\r");
    sh.expect("before-watching\r\n", secs(10));

    let browser = Browser::start();
    browser.goto(&console_link(&lab, &carol));
    // The current screen first, then what is typed as it is typed.
    browser.watch_first_live_session(&lab.bastion.console_url(), "root@web1", "before-watching");
    sh.send("echo typed-live-$((5*5))");
    let latency = browser.wait_for_text(".ap-term", "echo typed-live-$((5*5))", secs(10));
    eprintln!("live watch: typed keys shown in the browser after {latency:?}");
    sh.send("\r");
    browser.wait_for_text(".ap-term", "typed-live-25", secs(10));
    browser.screenshot("console-live-watch");

    // Kill from the watch page, with a message the ssh user sees.
    browser.kill_watched_session("maintenance window");
    sh.expect("maintenance window", secs(10));
    sh.wait(secs(20));
    assert!(
        sh.output()
            .contains("terminated by carol (console, 127.0.0.1): maintenance window"),
        "{}",
        sh.output()
    );
    let watched = lab.bastion.audit_of("session_watched");
    assert!(
        watched.iter().any(|e| e["detail"]["by"]
            .as_str()
            .unwrap_or("")
            .starts_with("carol (console")),
        "{watched:?}"
    );
    let killed = lab.bastion.audit_of("session_killed");
    assert!(
        killed.iter().any(|e| e["detail"]["by"]
            .as_str()
            .unwrap_or("")
            .starts_with("carol (console")),
        "{killed:?}"
    );
}
