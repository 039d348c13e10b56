//! `request:` roles and `action: review` entries: parsing with positioned errors, and the
//! decision with and without an approved request.

use chrono::{Local, TimeZone};
use policies::{AccessRequest, ChannelKind, HeldGrant, PolicySet};

const FILE: &str = r#"roles:
  - name: ops
    members: [alice]
    hosts: [web1]
    logins: [root]
    deny_commands: ['shutdown', {pattern: '^DROP ', action: review, approvers: [carol], timeout: 2m}]
  - name: db-oncall
    members: [alice, bob]
    hosts: [db1]
    logins: [postgres, root]
    request:
      approvers: [bob, "role:leads"]
      max_duration: 4h
      reason_required: true
    deny_commands: [{pattern: '^TRUNCATE', action: review}]
  - name: db-slow
    members: [alice]
    hosts: [db1]
    logins: [postgres]
    request: {approvers: [dave], max_duration: 2h}
  - name: leads
    members: [carol]
    hosts: [web1]
    console: [approve]
"#;

fn set() -> PolicySet {
    PolicySet::parse(FILE, "policies.yaml").unwrap()
}

fn ask<'a>(host: &'a str, login: Option<&'a str>, grants: &'a [HeldGrant]) -> AccessRequest<'a> {
    AccessRequest {
        user: "alice",
        host,
        groups: &[],
        login,
        channel: ChannelKind::Shell,
        at: Local.with_ymd_and_hms(2026, 12, 7, 12, 0, 0).unwrap(),
        grants,
        host_user: None,
    }
}

#[test]
fn a_request_role_is_inert_until_a_request_is_approved() {
    let set = set();
    let d = set.decide(&ask("db1", None, &[]));
    assert!(!d.allowed);
    assert!(
        d.reason.starts_with("needs an approved request"),
        "{}",
        d.reason
    );
    assert!(d.reason.contains("bob, role:leads or dave"), "{}", d.reason);
    let need = d.needs_request.unwrap();
    assert_eq!(need.login, "postgres");
    assert_eq!(need.roles, ["db-oncall", "db-slow"]);
    assert_eq!(
        need.max_duration.as_secs(),
        2 * 3600,
        "the shortest maximum"
    );
    assert!(need.reason_required);
    assert_eq!(need.approvers, ["bob", "role:leads", "dave"]);
    // A standing role is not affected.
    assert!(set.decide(&ask("web1", None, &[])).allowed);
}

#[test]
fn an_approved_request_grants_its_host_and_login_until_it_ends() {
    let set = set();
    let noon = ask("db1", None, &[]).at.timestamp();
    let grant = |login: &str, until: i64| HeldGrant {
        id: 7,
        host: "db1".into(),
        login: login.into(),
        until,
    };
    let held = [grant("postgres", noon + 60)];
    let d = set.decide(&ask("db1", None, &held));
    assert!(d.allowed, "{}", d.reason);
    assert_eq!(d.login.as_deref(), Some("postgres"));
    assert_eq!(d.grant.as_ref().map(|g| g.id), Some(7));
    assert!(
        d.reason.contains("through approved request 7"),
        "{}",
        d.reason
    );
    assert_eq!(
        d.limits.review_commands.len(),
        1,
        "the role's review rule applies"
    );
    // Another login of the same role is not granted by it.
    let d = set.decide(&ask("db1", Some("root"), &held));
    assert!(!d.allowed);
    assert!(d.needs_request.is_some());
    // Nor another host, nor after the end.
    let other = [HeldGrant {
        host: "web1".into(),
        ..grant("postgres", noon + 60)
    }];
    assert!(!set.decide(&ask("db1", None, &other)).allowed);
    assert!(
        !set.decide(&ask("db1", None, &[grant("postgres", noon)]))
            .allowed
    );
}

#[test]
fn the_menu_sees_hosts_that_need_a_request() {
    let set = set();
    let at = ask("db1", None, &[]).at;
    let reach = set.reachable("alice", ("db1", &[], None), at, &[]);
    assert_eq!(reach.logins, ["postgres", "root"]);
    assert_eq!(reach.needs_request, ["postgres", "root"]);
    let held = [HeldGrant {
        id: 1,
        host: "db1".into(),
        login: "root".into(),
        until: at.timestamp() + 10,
    }];
    let reach = set.reachable("alice", ("db1", &[], None), at, &held);
    assert_eq!(reach.needs_request, ["postgres"]);
    assert!(set
        .reachable("alice", ("web1", &[], None), at, &[])
        .needs_request
        .is_empty());
}

#[test]
fn review_rules_hold_lines_blocking_rules_do_not_reach() {
    let set = set();
    let d = set.decide(&ask("web1", None, &[]));
    let rule = d.limits.review_for("DROP TABLE t").unwrap();
    assert_eq!(rule.timeout.as_secs(), 120);
    assert_eq!(rule.approvers[0].text(), "carol");
    assert!(d.limits.review_for("select 1").is_none());
    assert!(d.limits.review_for("shutdown now").is_none());
    assert!(d
        .limits
        .deny_commands
        .iter()
        .any(|r| r.is_match("shutdown")));
    // An entry without approvers takes the role's request approvers.
    let held = [HeldGrant {
        id: 1,
        host: "db1".into(),
        login: "postgres".into(),
        until: i64::MAX,
    }];
    let d = set.decide(&ask("db1", None, &held));
    let texts: Vec<String> = d
        .limits
        .review_for("TRUNCATE x")
        .unwrap()
        .approvers
        .iter()
        .map(|a| a.text())
        .collect();
    assert_eq!(texts, ["bob", "role:leads"]);
}

#[test]
fn mistakes_are_reported_at_their_node() {
    let bad = |text: &str| PolicySet::parse(text, "p.yaml").unwrap_err().to_string();
    let e = bad("roles:\n  - name: r\n    members: [a]\n    hosts: [h]\n    logins: [x]\n    request:\n      approvers: [\"role:nobody\"]\n");
    assert!(e.starts_with("p.yaml:7:19:"), "{e}");
    assert!(e.contains("names no role"), "{e}");
    let e = bad("roles:\n  - {name: r, members: [a], hosts: [h], logins: [x], deny_commands: [{pattern: x, action: review}]}\n");
    assert!(e.contains("action: review needs approvers"), "{e}");
    let e = bad("roles:\n  - {name: r, members: [a], hosts: [h], logins: [x], deny_commands: [{pattern: x, action: ask}]}\n");
    assert!(e.contains("unknown action \"ask\""), "{e}");
    let e = bad("roles:\n  - {name: r, members: [a], hosts: [h], logins: [x], request: {approvers: [b], max_duration: soon}}\n");
    assert!(e.contains("request.max_duration"), "{e}");
    let e = bad(
        "roles:\n  - {name: r, members: [a], hosts: [h], logins: [x], request: {approver: [b]}}\n",
    );
    assert!(e.contains("unknown key"), "{e}");
    let e = bad("roles:\n  - {name: r, members: [a], hosts: [h], logins: [x], request: {max_duration: 1h}}\n");
    assert!(e.contains("needs someone to approve"), "{e}");
}
