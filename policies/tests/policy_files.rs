//! Policy files as operators write them: decisions, union over roles, and positioned errors.

use chrono::{Local, NaiveDate, TimeZone};
use policies::{AccessRequest, ChannelKind, PolicySet};

const POLICY: &str = r#"
roles:
  - name: ops
    members: [alice, bob]
    hosts: ["web*", "group:db", "!web9"]
    logins: [root, deploy]
    channels: [shell, exec, sftp]
    require_totp: true
    max_session: 8h
    idle_timeout: 30m
    deny_commands: ['^rm\s+-rf\s+/\s*$', 'shutdown']
  - name: office
    members: [carol]
    hosts: ["*"]
    logins: [carol]
    channels: [shell]
    require_totp: false
    hours: "Mon-Fri 08:00-20:00"
  - name: readers
    members: [alice]
    hosts: ["log*"]
    logins: [reader]
    channels: [exec]
"#;

fn set() -> PolicySet {
    PolicySet::parse(POLICY, "policies.yaml").unwrap()
}

fn monday_noon() -> chrono::DateTime<Local> {
    let n = NaiveDate::from_ymd_opt(2026, 11, 23)
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap();
    Local.from_local_datetime(&n).earliest().unwrap()
}

fn ask<'a>(
    user: &'a str,
    host: &'a str,
    groups: &'a [String],
    login: Option<&'a str>,
    channel: ChannelKind,
) -> AccessRequest<'a> {
    AccessRequest {
        user,
        host,
        groups,
        login,
        channel,
        at: monday_noon(),
        grants: &[],
        host_user: None,
    }
}

#[test]
fn default_login_and_limits_come_from_the_granting_role() {
    let d = set().decide(&ask("alice", "web1", &[], None, ChannelKind::Shell));
    assert!(d.allowed, "{}", d.reason);
    assert_eq!(d.login.as_deref(), Some("root"));
    assert_eq!(
        d.limits.max_session,
        Some(std::time::Duration::from_secs(8 * 3600))
    );
    assert_eq!(d.limits.deny_commands.len(), 2);
    assert!(d.reason.contains("role ops"), "{}", d.reason);
}

#[test]
fn logins_channels_hosts_and_exclusions_are_enforced() {
    let s = set();
    assert!(
        s.decide(&ask(
            "alice",
            "web1",
            &[],
            Some("deploy"),
            ChannelKind::Exec
        ))
        .allowed
    );
    let d = s.decide(&ask(
        "alice",
        "web1",
        &[],
        Some("postgres"),
        ChannelKind::Shell,
    ));
    assert!(!d.allowed);
    assert!(d.reason.contains("allowed: root, deploy"), "{}", d.reason);
    assert!(
        !s.decide(&ask("alice", "web9", &[], None, ChannelKind::Shell))
            .allowed
    );
    assert!(
        !s.decide(&ask("alice", "web1", &[], None, ChannelKind::PortForward))
            .allowed
    );
    let db = vec!["db".to_string()];
    assert!(
        s.decide(&ask("bob", "pg1", &db, None, ChannelKind::Sftp))
            .allowed
    );
    assert!(
        !s.decide(&ask("bob", "pg1", &[], None, ChannelKind::Sftp))
            .allowed
    );
    assert!(
        !s.decide(&ask("mallory", "web1", &[], None, ChannelKind::Shell))
            .allowed
    );
}

#[test]
fn access_is_the_union_of_roles() {
    let s = set();
    let d = s.decide(&ask("alice", "logs1", &[], None, ChannelKind::Exec));
    assert!(d.allowed);
    assert_eq!(d.login.as_deref(), Some("reader"));
    assert!(
        !s.decide(&ask("alice", "logs1", &[], None, ChannelKind::Shell))
            .allowed
    );
    let reach = s.reachable("alice", ("logs1", &[], None), monday_noon(), &[]);
    assert_eq!(reach.logins, vec!["reader"]);
}

#[test]
fn hours_deny_outside_the_window() {
    let s = set();
    let mut req = ask("carol", "web1", &[], None, ChannelKind::Shell);
    assert!(s.decide(&req).allowed);
    let saturday = NaiveDate::from_ymd_opt(2026, 11, 28)
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap();
    req.at = Local.from_local_datetime(&saturday).earliest().unwrap();
    let d = s.decide(&req);
    assert!(!d.allowed);
    assert!(d.reason.contains("outside access hours"), "{}", d.reason);
    assert!(
        !s.reachable("carol", ("web1", &[], None), req.at, &[])
            .within_hours
    );
}

#[test]
fn totp_is_required_unless_every_role_waives_it() {
    let s = set();
    assert!(s.requires_totp("alice"));
    assert!(!s.requires_totp("carol"));
    assert!(s.requires_totp("nobody"));
}

#[test]
fn errors_name_file_line_column_and_field() {
    let cases = [
        ("roles:\n  - name: a\n    members: [x]\n    hosts: [w]\n    logins: [r]\n    max_session: 8 hours\n", "policies.yaml:6:18: roles[0].max_session: "),
        ("roles:\n  - name: a\n    members: [x]\n    hosts: [w]\n    logins: [r]\n    chanels: [shell]\n", "policies.yaml:6:14: roles[0].chanels: unknown key"),
        ("roles:\n  - name: a\n    members: [x]\n    hosts: [w]\n    logins: [r]\n    channels: [shel]\n", "policies.yaml:6:16: roles[0].channels: unknown channel"),
        ("roles:\n  - name: a\n    members: [x]\n    hosts: [w]\n    logins: [r]\n    deny_commands: ['(']\n", "policies.yaml:6:21: roles[0].deny_commands: bad regex"),
        ("roles:\n  - name: a\n    members: [x]\n    hosts: [w]\n    logins: [r]\n    hours: Mon-Fry 08:00-10:00\n", "policies.yaml:6:12: roles[0].hours: unknown day"),
        ("roles:\n  - name: a\n    members: [x\n", "policies.yaml:"),
    ];
    for (text, want) in cases {
        let e = PolicySet::parse(text, "policies.yaml")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with(want), "got {e:?}, want prefix {want:?}");
    }
}

#[test]
fn duplicate_role_names_are_refused() {
    let text = "roles:\n  - {name: a, members: [x], hosts: [w], logins: [r]}\n  - {name: a, members: [y], hosts: [w], logins: [r]}\n";
    let e = PolicySet::parse(text, "p.yaml").unwrap_err().to_string();
    assert!(e.contains("duplicate role name"), "{e}");
}

#[test]
fn empty_files_deny_everything() {
    for text in ["", "roles: []\n", "roles:\n"] {
        let s = PolicySet::parse(text, "p.yaml").unwrap();
        assert!(
            !s.decide(&ask("alice", "web1", &[], None, ChannelKind::Shell))
                .allowed
        );
    }
}

#[test]
fn agent_forwarding_is_refused_with_the_reason_not_accepted_and_ignored() {
    let text = "roles:\n  - name: a\n    members: [x]\n    hosts: [w]\n    logins: [r]\n    channels: [shell, agent_forward]\n";
    let e = PolicySet::parse(text, "policies.yaml")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("policies.yaml:6:23: roles[0].channels: agent_forward is not supported"),
        "{e}"
    );
    assert!(e.contains("never forwards"), "{e}");
}

#[test]
fn console_rights_are_a_union_scoped_by_hosts_and_need_no_logins() {
    use policies::ConsoleRight;
    let set = PolicySet::parse(
        "roles:
  - name: web-auditors
    members: [carol]
    hosts: [\"web*\"]
    console: [audit]
  - name: night-watch
    members: [carol, dave]
    hosts: [\"group:db\"]
    console: [live, audit, live]
  - name: ops
    members: [dave]
    hosts: [\"*\"]
    logins: [root]
",
        "policies.yaml",
    )
    .unwrap();
    let carol = set.console_rights("carol");
    assert_eq!(carol.rights, [ConsoleRight::Audit, ConsoleRight::Live]);
    assert_eq!(carol.roles, ["night-watch", "web-auditors"]);
    assert!(set.console_covers("carol", ConsoleRight::Audit, "web1", &[]));
    assert!(!set.console_covers("carol", ConsoleRight::Audit, "db1", &[]));
    assert!(set.console_covers("carol", ConsoleRight::Audit, "db1", &["db".into()]));
    assert!(!set.console_covers("carol", ConsoleRight::Live, "web1", &[]));
    // ops gives dave SSH access but no console right beyond night-watch's.
    assert_eq!(set.console_rights("dave").roles, ["night-watch"]);
    assert!(set.console_rights("erin").rights.is_empty());
    assert!(!set.console_everywhere("carol", ConsoleRight::Audit));
    let everywhere = PolicySet::parse(
        "roles:\n  - name: a\n    members: [x]\n    hosts: [\"*\"]\n    console: [audit]\n  - name: b\n    members: [y]\n    hosts: [\"*\", \"!db1\"]\n    console: [audit]\n",
        "p.yaml",
    )
    .unwrap();
    assert!(everywhere.console_everywhere("x", ConsoleRight::Audit));
    assert!(!everywhere.console_everywhere("x", ConsoleRight::Live));
    assert!(!everywhere.console_everywhere("y", ConsoleRight::Audit));
    // A console-only role grants no SSH access.
    let d = set.decide(&AccessRequest {
        user: "carol",
        host: "web1",
        groups: &[],
        login: None,
        channel: ChannelKind::Shell,
        at: Local::now(),
        grants: &[],
        host_user: None,
    });
    assert!(!d.allowed, "{}", d.reason);

    // Errors name the field: an unknown right, an empty list, logins still required without it.
    let err = |text: &str| PolicySet::parse(text, "p.yaml").unwrap_err().to_string();
    let e = err("roles:\n  - name: a\n    members: [x]\n    hosts: [h]\n    console: [watch]\n");
    assert!(
        e.contains("p.yaml:5:15") && e.contains("unknown console right \"watch\""),
        "{e}"
    );
    let e = err("roles:\n  - name: a\n    members: [x]\n    hosts: [h]\n    console: []\n");
    assert!(
        e.contains("roles[0].console") && e.contains("at least one"),
        "{e}"
    );
    let e = err("roles:\n  - name: a\n    members: [x]\n    hosts: [h]\n    logins: []\n");
    assert!(
        e.contains("roles[0].logins") && e.contains("at least one"),
        "{e}"
    );
}

#[test]
fn a_role_without_logins_logs_in_as_the_hosts_ansible_user() {
    let set = PolicySet::parse(
        "roles:\n  - name: ops\n    members: [alice]\n    hosts: [\"*\"]\n",
        "p.yaml",
    )
    .unwrap();
    assert!(set.roles()[0].logins_from_host);
    let ask = |host_user: Option<&'static str>, login: Option<&'static str>| {
        set.decide(&AccessRequest {
            user: "alice",
            host: "web1",
            groups: &[],
            login,
            channel: ChannelKind::Shell,
            at: Local::now(),
            grants: &[],
            host_user,
        })
    };
    let d = ask(Some("deploy"), None);
    assert!(d.allowed, "{}", d.reason);
    assert_eq!(d.login.as_deref(), Some("deploy"));
    assert!(!ask(Some("deploy"), Some("root")).allowed);
    let none = ask(None, None);
    assert!(!none.allowed);
    assert!(none.reason.contains("ansible_user"), "{}", none.reason);
    let reach = set.reachable("alice", ("web1", &[], Some("deploy")), Local::now(), &[]);
    assert_eq!(reach.logins, ["deploy"]);
}
