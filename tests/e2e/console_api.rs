//! The console's JSON API against its own OpenAPI document (issue 16 item 6): schemathesis
//! (from PyPI, in `target/schemathesis-venv`) generates requests from `/api/v1/openapi.json`,
//! logged in as an auditor with every console right, and must find no server error, no
//! response that contradicts the document, no valid request refused and no invalid one
//! accepted. CI runs a bounded number of examples per operation (`SCHEMATHESIS_EXAMPLES`,
//! default 25); `bench/console-api.sh` runs many more.

use std::process::Command;

use e2e::{pyvenv, run, secs, Client, Lab};

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

/// `curl -sk ARGS` (the console's certificate is self-signed) with its headers and body.
fn curl(args: &[&str]) -> String {
    let out = run(
        Command::new("curl").args(["-sk", "-D", "-"]).args(args),
        secs(30),
    );
    out.assert_success();
    out.stdout
}

#[test]
fn schemathesis_finds_no_server_error_or_schema_violation() {
    let venv = pyvenv::make("schemathesis-venv", "schemathesis==4.*", "schemathesis")
        .unwrap_or_else(|e| panic!("{e}"));
    let (lab, alice) = Lab::serving(BIN, &[("web1", &[])], POLICY, "alice");
    let carol = lab.bastion.add_user("carol", false);
    Client::new(&lab.bastion, &alice)
        .run_ssh("alice", &["web1", "echo api-test-data"])
        .assert_success();

    let out = Client::new(&lab.bastion, &carol).run_ssh("carol", &["console"]);
    out.assert_success();
    let link = out
        .stdout
        .lines()
        .find(|l| l.starts_with("https://"))
        .expect("link");
    let headers = curl(&[link.trim(), "-o", "/dev/null"]);
    let cookie = headers
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .unwrap_or_else(|| panic!("no session cookie: {headers}"))
        .to_string();
    let base = lab.bastion.console_url();
    let page = curl(&["-b", &cookie, &format!("{base}/sessions")]);
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no CSRF token in {page}"))
        .to_string();

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
