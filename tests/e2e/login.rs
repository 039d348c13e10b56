//! Logging in to the bastion with the real OpenSSH client: key, then TOTP, and every way that
//! must fail.

use e2e::{fresh_code, Client, Lab};

const BIN: &str = env!("CARGO_BIN_EXE_bastion");

const POLICY: &str = "roles:
  - name: ops
    members: [alice, dave]
    hosts: [\"web*\"]
    logins: [root]
  - name: robots
    members: [bob]
    hosts: [\"web*\"]
    logins: [root]
    require_totp: false
";

fn lab() -> Lab {
    let lab = Lab::new(BIN, &[("web1", &[])]);
    lab.bastion.write_policies(POLICY);
    lab
}

#[test]
fn key_and_totp_then_exec() {
    let mut lab = lab();
    let alice = lab.bastion.add_user("alice", true);
    lab.serve();
    let client = Client::new(&lab.bastion, &alice);
    let (code, _) = fresh_code(alice.totp_secret.as_ref().unwrap());
    client.set_code(&code);
    let out = client.run_ssh("alice", &["web1", "echo", "hello-from-$(hostname)"]);
    out.assert_success();
    assert!(out.stdout.starts_with("hello-from-"), "{out}");

    let ok = lab.bastion.audit_of("login_ok");
    assert_eq!(ok.len(), 1, "{ok:?}");
    assert_eq!(ok[0]["user"], "alice");
    assert_eq!(
        ok[0]["source"].as_str().unwrap().split(':').next(),
        Some("127.0.0.1")
    );
    let fp = alice.key.fingerprint();
    assert!(
        ok[0].to_string().contains(&fp),
        "fingerprint {fp} missing from {}",
        ok[0]
    );
}

#[test]
fn wrong_key_is_refused_and_audited() {
    let mut lab = lab();
    let _alice = lab.bastion.add_user("alice", true);
    let mallory = lab.bastion.add_user("mallory", false); // a real key, registered to someone else
    lab.serve();
    let client = Client::with_key(&lab.bastion, &mallory.key.private);
    let out = client.run_ssh("alice", &["web1", "true"]);
    out.assert_failure();
    assert!(out.stderr.contains("Permission denied"), "{out}");
    let failed = lab.bastion.audit_of("login_failed");
    assert!(
        failed
            .iter()
            .any(|e| e["user"] == "alice" && e.to_string().contains(&mallory.key.fingerprint())),
        "{failed:?}"
    );
    assert!(lab.bastion.audit_of("login_ok").is_empty());
}

#[test]
fn wrong_totp_is_refused() {
    let mut lab = lab();
    let alice = lab.bastion.add_user("alice", true);
    lab.serve();
    let client = Client::new(&lab.bastion, &alice);
    client.set_code(&e2e::totp::wrong_code(alice.totp_secret.as_ref().unwrap()));
    let out = client.run_ssh("alice", &["web1", "true"]);
    out.assert_failure();
    assert!(
        !lab.bastion.audit_of("totp_failed").is_empty(),
        "{:?}",
        lab.bastion.audit_events()
    );
    assert!(lab.bastion.audit_of("login_ok").is_empty());
    let report = lab.bastion.json_lines(&["report", "--json"]);
    assert!(
        report
            .iter()
            .any(|r| r["user"] == "alice" && r["failed_logins"] == 1),
        "{report:?}"
    );
}

#[test]
fn replayed_totp_code_is_refused() {
    let mut lab = lab();
    let alice = lab.bastion.add_user("alice", true);
    lab.serve();
    let client = Client::new(&lab.bastion, &alice);
    let (code, step) = fresh_code(alice.totp_secret.as_ref().unwrap());
    client.set_code(&code);
    client.run_ssh("alice", &["web1", "true"]).assert_success();
    let again = client.run_ssh("alice", &["web1", "true"]);
    let now_step = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 30;
    assert!(now_step <= step + 1, "test too slow to exercise replay");
    again.assert_failure();
    let failed = lab.bastion.audit_of("totp_failed");
    assert!(
        failed
            .iter()
            .any(|e| e.to_string().contains("replay") || e.to_string().contains("already used")),
        "{failed:?}"
    );
}

#[test]
fn unknown_and_disabled_users_are_refused() {
    let mut lab = lab();
    let bob = lab.bastion.add_user("bob", false);
    lab.bastion
        .cli(&["user", "disable", "bob"])
        .assert_success();
    lab.serve();
    let client = Client::new(&lab.bastion, &bob);
    client.run_ssh("bob", &["web1", "true"]).assert_failure();
    client
        .run_ssh("nosuchuser", &["web1", "true"])
        .assert_failure();
    let failed = lab.bastion.audit_of("login_failed");
    let text = serde_json::to_string(&failed).unwrap();
    assert!(text.contains("disabled"), "{text}");
    assert!(text.contains("unknown user"), "{text}");

    lab.bastion.cli(&["user", "enable", "bob"]).assert_success();
    let out = client.run_ssh("bob", &["web1", "echo", "back"]);
    out.assert_success();
    assert_eq!(out.stdout.trim(), "back");
}

#[test]
fn repeated_failures_are_throttled_even_with_the_right_code() {
    let mut lab = lab();
    lab.bastion.set("max_auth_failures = 2\nlockout = \"5m\"");
    let dave = lab.bastion.add_user("dave", true);
    lab.serve();
    let secret = dave.totp_secret.clone().unwrap();
    let client = Client::new(&lab.bastion, &dave);
    client.set_code(&e2e::totp::wrong_code(&secret));
    client.run_ssh("dave", &["web1", "true"]).assert_failure();
    client.run_ssh("dave", &["web1", "true"]).assert_failure();
    let (code, _) = fresh_code(&secret);
    client.set_code(&code);
    let out = client.run_ssh("dave", &["web1", "true"]);
    out.assert_failure();
    let text = serde_json::to_string(&lab.bastion.audit_events()).unwrap();
    assert!(text.contains("throttled"), "{text}");
}

#[test]
fn user_admin_commands_manage_keys_and_totp() {
    let lab = lab();
    let alice = lab.bastion.add_user("alice", true);
    let list = lab.bastion.cli(&["user", "list", "--json"]);
    list.assert_success();
    assert!(list.stdout.contains("\"alice\""), "{list}");
    let show = lab.bastion.cli(&["user", "show", "alice"]);
    show.assert_success();
    assert!(show.stdout.contains(&alice.key.fingerprint()), "{show}");
    assert!(
        show.stdout.contains("ops"),
        "roles from policies.yaml shown: {show}"
    );

    let second = e2e::KeyPair::generate(lab.bastion.data_dir(), "second");
    lab.bastion
        .cli(&["user", "key-add", "alice", second.public.to_str().unwrap()])
        .assert_success();
    lab.bastion
        .cli(&["user", "key-rm", "alice", &alice.key.fingerprint()])
        .assert_success();
    let show = lab.bastion.cli(&["user", "show", "alice"]);
    assert!(!show.stdout.contains(&alice.key.fingerprint()), "{show}");
    assert!(show.stdout.contains(&second.fingerprint()), "{show}");

    let reset = lab.bastion.cli(&["user", "totp-reset", "alice"]);
    reset.assert_success();
    assert!(reset.stdout.contains("otpauth://totp/"), "{reset}");
    assert!(
        !reset.stdout.contains(alice.totp_secret.as_ref().unwrap()),
        "secret must change"
    );

    lab.bastion.cli(&["user", "rm", "alice"]).assert_success();
    lab.bastion.cli(&["user", "show", "alice"]).assert_failure();
    // Each change is an `admin` record about alice, by the operator, with its action.
    let actions: Vec<String> = lab
        .bastion
        .audit_of("admin")
        .iter()
        .filter(|e| e["detail"]["target_user"] == "alice")
        .map(|e| {
            e["detail"]["action"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    for action in ["user_add", "key_add", "key_rm", "totp_reset", "user_rm"] {
        assert!(
            actions.iter().any(|a| a == action),
            "no {action} in {actions:?}"
        );
    }
}
