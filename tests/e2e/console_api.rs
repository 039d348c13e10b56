//! The console's JSON API against its own OpenAPI document (issue 16 item 6): schemathesis
//! (from PyPI, in `target/schemathesis-venv`) generates requests from `/api/v1/openapi.json`,
//! logged in as an auditor with every console right, and must find no server error, no
//! response that contradicts the document, no valid request refused and no invalid one
//! accepted. CI runs a bounded number of examples per operation (`SCHEMATHESIS_EXAMPLES`,
//! default 25); `bench/console-api.sh` runs many more.

use std::process::Command;

use std::process::Stdio;

use e2e::console_http::curl;
use e2e::proc::wait_child;
use e2e::{poll, pyvenv, run, secs, Client, ConsoleCurl, Lab};

const BIN: &str = env!("CARGO_BIN_EXE_bastion");

const POLICY: &str = "roles:
  - name: ops
    members: [alice]
    hosts: [\"*\"]
    logins: [root]
    require_totp: false
  - name: auditors
    members: [carol]
    hosts: [\"*\"]
    console: [audit, live]
    require_totp: false
";

#[test]
fn schemathesis_finds_no_server_error_or_schema_violation() {
    let venv = pyvenv::make("schemathesis-venv", "schemathesis==4.*", "schemathesis")
        .unwrap_or_else(|e| panic!("{e}"));
    let (lab, alice) = Lab::serving(BIN, &[("web1", &[])], POLICY, "alice");
    let carol = lab.bastion.add_user("carol", false);
    Client::new(&lab.bastion, &alice)
        .run_ssh("alice", &["web1", "echo api-test-data"])
        .assert_success();

    let ConsoleCurl { base, cookie, csrf } =
        ConsoleCurl::login(&lab.bastion, &Client::new(&lab.bastion, &carol), "carol");

    let examples = std::env::var("SCHEMATHESIS_EXAMPLES").unwrap_or_else(|_| "25".into());
    let result = run(
        Command::new(venv.join("bin/schemathesis"))
            .args(["run", &format!("{base}/api/v1/openapi.json")])
            .args(["--tls-verify", "false", "--checks", "all", "-n", &examples])
            .args(["-H", &format!("Cookie: {cookie}")])
            .args(["-H", &format!("X-CSRF-Token: {csrf}")])
            .env("SCHEMATHESIS_HOOKS", "")
            .env("NO_COLOR", "1"),
        secs(900),
    );
    eprintln!("{}", result.stdout);
    assert!(result.success(), "schemathesis found problems:\n{result}");
    assert!(result.stdout.contains("passed"), "{result}");
    // Every request was made as carol: the API's own audit trail shows no failure to audit.
    let out = lab.bastion.cli(&["audit", "verify"]);
    assert_eq!(out.code, Some(0), "{out}");
}

/// The HTTP status of `curl -sk ARGS` (body and headers discarded).
fn status(args: &[&str]) -> u16 {
    let out = run(
        Command::new("curl")
            .args(["-sk", "-o", "/dev/null", "-w", "%{http_code}"])
            .args(args),
        secs(30),
    );
    out.assert_success();
    out.stdout
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{out}"))
}

/// Item 4 on the wire: every state-changing request (kill, audit verify as form and as API,
/// logout) is refused without the session's CSRF token or with another one, and done with it;
/// every page carries the strict Content-Security-Policy; the session cookie is HttpOnly,
/// Secure and SameSite=Strict.
#[test]
fn state_changing_requests_need_the_sessions_csrf_token_and_pages_carry_a_strict_csp() {
    let (lab, alice) = Lab::serving(BIN, &[("web1", &[])], POLICY, "alice");
    let carol = lab.bastion.add_user("carol", false);
    let mut running = Client::new(&lab.bastion, &alice)
        .ssh("alice", &["web1", "sleep 120"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ssh");
    let id = poll(secs(30), || {
        lab.bastion
            .sessions()
            .into_iter()
            .find(|s| s["status"] == "active")
            .and_then(|s| s["id"].as_i64())
    })
    .expect("the ssh session is active");

    // The cookie, as the login link sets it.
    let login = curl(&[
        &Client::new(&lab.bastion, &carol).console_link("carol"),
        "-o",
        "/dev/null",
    ]);
    let cookie_line = login
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap_or_else(|| panic!("no cookie: {login}"));
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict"] {
        assert!(cookie_line.contains(attribute), "{cookie_line}");
    }

    let c = ConsoleCurl::login(&lab.bastion, &Client::new(&lab.bastion, &carol), "carol");
    let page = curl(&["-b", &c.cookie, &format!("{}/sessions", c.base)]);
    let csp = page
        .lines()
        .find_map(|l| l.strip_prefix("content-security-policy: "))
        .unwrap_or_else(|| panic!("no CSP: {page}"));
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");

    let url = |path: &str| format!("{}{path}", c.base);
    let kill = url(&format!("/live/{id}/kill"));
    let form = |token: &str| format!("csrf={token}&message=csrf-test");
    for bad in ["", "not-the-token"] {
        assert_eq!(
            status(&["-b", &c.cookie, "--data", &form(bad), &kill]),
            403,
            "kill with token {bad:?}"
        );
        assert_eq!(
            status(&[
                "-b",
                &c.cookie,
                "--data",
                &format!("csrf={bad}"),
                &url("/audit/verify")
            ]),
            403,
            "audit verify form with token {bad:?}"
        );
        assert_eq!(
            status(&[
                "-b",
                &c.cookie,
                "-X",
                "POST",
                "-H",
                &format!("X-CSRF-Token: {bad}"),
                &url("/api/v1/audit/verify"),
            ]),
            403,
            "API audit verify with token {bad:?}"
        );
        assert_eq!(
            status(&[
                "-b",
                &c.cookie,
                "--data",
                &format!("csrf={bad}"),
                &url("/logout")
            ]),
            403,
            "logout with token {bad:?}"
        );
    }
    // Without a token nothing changed: the session still runs, the console session is valid.
    let still = lab.bastion.sessions();
    assert!(
        still
            .iter()
            .any(|s| s["id"].as_i64() == Some(id) && s["status"] == "active"),
        "{still:?}"
    );
    assert_eq!(status(&["-b", &c.cookie, &url("/sessions")]), 200);

    // With it, each is done.
    assert_eq!(
        status(&[
            "-b",
            &c.cookie,
            "-X",
            "POST",
            "-H",
            &format!("X-CSRF-Token: {}", c.csrf),
            &url("/api/v1/audit/verify"),
        ]),
        200
    );
    assert_eq!(
        status(&["-b", &c.cookie, "--data", &form(&c.csrf), &kill]),
        303
    );
    // Killed, not ended by its `sleep 120`: the client is gone well before that.
    let gone = wait_child(&mut running, secs(30));
    assert!(gone.is_some(), "the killed session's ssh client ends");
    let killed = lab.bastion.audit_of("session_killed");
    assert!(
        killed
            .iter()
            .any(|e| e["detail"]["session"].as_i64() == Some(id)),
        "{killed:?}"
    );
    let refused = lab.bastion.audit_of("console_denied");
    assert!(
        refused.len() >= 8,
        "every refused request is audited: {refused:?}"
    );
}
