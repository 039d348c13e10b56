//! Notifications (issue 17 item 6): `[notify]` webhooks in every format receive new requests,
//! decisions, held commands and blocked commands, each linking to the console; the generic
//! format is signed; a webhook that answers 500 is retried and its failure audited; one that
//! hangs delays nothing.

use e2e::webhook::{generic_signature, Answer, Receiver};
use e2e::{poll, secs, Client, Lab};

const BIN: &str = env!("CARGO_BIN_EXE_bastion");

const POLICY: &str = r#"roles:
  - name: db-oncall
    members: [alice]
    hosts: [web1]
    logins: [root]
    require_totp: false
    request: {approvers: [bob], max_duration: 1h}
    deny_commands: ['forbidden-word']
  - name: bobs
    members: [bob]
    hosts: [web1]
    console: [approve]
    require_totp: false
"#;

#[test]
fn every_format_is_told_and_a_failing_webhook_delays_nothing() {
    let ok = Receiver::start(Answer::Ok);
    let failing = Receiver::start(Answer::ServerError);
    let hanging = Receiver::start(Answer::Hang);
    let mut lab = Lab::new(BIN, &[("web1", &[])]);
    lab.bastion.write_policies(POLICY);
    let alice = lab.bastion.add_user("alice", false);
    let bob = lab.bastion.add_user("bob", false);
    let dave = lab.bastion.add_user("dave", true);
    let hook = |name: &str, format: &str, url: String, extra: &str| {
        format!("[[notify.webhook]]\nname = \"{name}\"\nformat = \"{format}\"\nurl = \"{url}\"\n{extra}\n")
    };
    let toml = [
        "[notify]\nconsole_url = \"https://bastion.example:8443\"\n".to_string(),
        hook(
            "generic",
            "generic",
            ok.url("generic"),
            "secret = \"s3cret\"",
        ),
        hook("slack", "slack", ok.url("slack"), ""),
        hook(
            "dingtalk",
            "dingtalk",
            ok.url("dingtalk?access_token=t"),
            "secret = \"d1ng\"",
        ),
        hook("feishu", "feishu", ok.url("feishu"), "secret = \"fe1\""),
        hook("wecom", "wecom", ok.url("wecom?key=k"), ""),
        hook(
            "broken",
            "generic",
            failing.url("x"),
            "tries = 2\nbackoff = \"100ms\"",
        ),
        hook(
            "stuck",
            "slack",
            hanging.url("y"),
            "timeout = \"30s\"\ntries = 1",
        ),
    ]
    .concat();
    lab.bastion.set("max_auth_failures = 2");
    let path = lab.bastion.data_dir().join("bastion.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{text}\n{toml}")).unwrap();
    lab.serve();
    let alice = Client::new(&lab.bastion, &alice);
    let bob = Client::new(&lab.bastion, &bob);

    // Asking returns at once although one webhook never answers.
    let out = alice.run_ssh(
        "alice",
        &[
            "request",
            "web1",
            "--for",
            "30m",
            "--reason",
            "INC-7 <b>x</b>",
            "--no-wait",
        ],
    );
    assert_eq!(out.code, Some(0), "{out}");
    let id = lab.bastion.pending_requests()[0]["id"].as_i64().unwrap();
    let arrived = |path: &str, n: usize| {
        poll(secs(30), || {
            let got: Vec<_> = ok
                .received()
                .into_iter()
                .filter(|r| r.target.starts_with(&format!("/{path}")))
                .collect();
            (got.len() >= n).then_some(got)
        })
        .unwrap_or_else(|| {
            let got: Vec<String> = ok
                .received()
                .iter()
                .map(|r| format!("{} {}", r.target, r.json()["event"]))
                .collect();
            panic!(
                "{path}: not enough arrived; got {got:?}; audit {:?}",
                lab.bastion.audit_events()
            )
        })
    };
    // generic: the event's fields, the console link, and a signature a receiver can check.
    let g = &arrived("generic", 1)[0];
    let body = g.json();
    assert_eq!(body["event"], "request_created", "{body}");
    assert_eq!(body["user"], "alice", "{body}");
    assert_eq!(
        body["url"],
        format!("https://bastion.example:8443/requests/{id}"),
        "{body}"
    );
    let ts = g.header("x-bastion-timestamp").unwrap();
    let want = generic_signature("s3cret", ts, &g.body);
    assert_eq!(g.header("x-bastion-signature"), Some(want.as_str()));
    // The chat formats, each in its documented shape.
    let slack = arrived("slack", 1)[0].json();
    assert!(slack["text"].as_str().unwrap().contains("alice"), "{slack}");
    let whole = slack.to_string();
    assert!(
        whole.contains("&lt;b&gt;") && !whole.contains("<b>"),
        "{slack}"
    );
    let ding = &arrived("dingtalk", 1)[0];
    assert!(
        ding.target.contains("timestamp=") && ding.target.contains("sign="),
        "{}",
        ding.target
    );
    assert_eq!(ding.json()["msgtype"], "text");
    let feishu = arrived("feishu", 1)[0].json();
    assert_eq!(feishu["msg_type"], "post", "{feishu}");
    assert!(
        feishu["sign"].is_string() && feishu["timestamp"].is_string(),
        "{feishu}"
    );
    assert_eq!(arrived("wecom", 1)[0].json()["msgtype"], "markdown");
    assert!(
        hanging.received().len() == 1,
        "the stuck webhook got its one try"
    );

    // A decision and a blocked command are announced too.
    let decided = bob.run_ssh("bob", &["approve", &id.to_string()]);
    assert_eq!(decided.code, Some(0), "{decided}");
    let blocked = alice.run_ssh("alice", &["web1", "echo", "forbidden-word"]);
    assert_eq!(blocked.code, Some(126), "{blocked}");
    let events = |got: Vec<e2e::webhook::Received>| -> Vec<String> {
        got.iter()
            .map(|r| r.json()["event"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let generic = arrived("generic", 3);
    assert_eq!(
        events(generic),
        ["request_created", "request_decided", "command_blocked"]
    );

    // Two wrong codes lock dave out: announced once, as it begins.
    let wrong = Client::new(&lab.bastion, &dave);
    wrong.set_code(&e2e::totp::wrong_code(dave.totp_secret.as_ref().unwrap()));
    for _ in 0..3 {
        wrong.run_ssh("dave", &["web1", "true"]).assert_failure();
    }
    let generic = arrived("generic", 4);
    let lockout = generic[3].json();
    assert_eq!(lockout["event"], "login_lockout", "{lockout}");
    assert_eq!(lockout["user"], "dave", "{lockout}");
    assert_eq!(lab.bastion.audit_of("login_lockout").len(), 1);

    // The 500 webhook was tried twice per notification, and its failures are audited.
    let failed = poll(secs(30), || {
        let f = lab.bastion.audit_of("notify_failed");
        (f.len() >= 3).then_some(f)
    })
    .expect("no notify_failed records");
    assert!(
        failed.iter().all(|f| f["detail"]["webhook"] == "broken"),
        "{failed:?}"
    );
    assert!(failing.received().len() >= 6);
    let verify = lab.bastion.cli(&["audit", "verify"]);
    assert_eq!(verify.code, Some(0), "{verify}");
}
