//! The console's JSON API against its own OpenAPI document (issue 16 item 6): schemathesis
//! (from PyPI, in `target/schemathesis-venv`) generates requests from `/api/v1/openapi.json`,
//! logged in as an auditor with every console right, and must find no server error, no
//! response that contradicts the document, no valid request refused and no invalid one
//! accepted. CI runs a bounded number of examples per operation (`SCHEMATHESIS_EXAMPLES`,
//! default 25); `bench/console-api.sh` runs many more.

use std::process::Command;

use e2e::{pyvenv, run, secs, Client, ConsoleCurl, Lab};

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
