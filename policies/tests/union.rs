//! Several roles combine as a union (PRODUCT.md 1.4): any granting role lets a request in, the
//! limits of every granting role apply, and the order roles are written in never matters.
//! Before, the first granting role in file order decided alone, so an unrestricted role listed
//! first let its members escape another role's `deny_commands`.

use std::time::Duration;

use chrono::{DateTime, Local, NaiveDate, TimeZone};
use policies::{AccessRequest, ChannelKind, Decision, PolicySet};

/// Overlapping roles: different defaults, logins, channels, hours and limits on shared hosts.
const ROLES: [&str; 5] = [
    "  - name: admin
    members: [alice]
    hosts: [\"*\"]
    logins: [root, deploy]
    channels: [shell, exec, sftp]
    require_totp: false
",
    "  - name: restricted
    members: [alice, bob]
    hosts: [\"web*\"]
    logins: [deploy, root]
    channels: [shell, exec]
    require_totp: true
    max_session: 1h
    idle_timeout: 10m
    record_input: true
    deny_commands: ['shutdown', '^rm\\s+-rf']
",
    "  - name: office
    members: [\"*\"]
    hosts: [\"web1\", \"db*\"]
    logins: [app]
    channels: [shell]
    require_totp: false
    hours: \"Mon-Fri 08:00-20:00\"
    max_session: 2h
    deny_commands: ['shutdown', 'reboot']
",
    "  - name: dbas
    members: [bob, carol]
    hosts: [\"db*\", \"!db9\"]
    logins: [postgres, root]
    channels: [shell, exec, sftp]
    require_totp: false
    idle_timeout: 5m
    hours: \"Sat-Sun 00:00-24:00\"
",
    "  - name: auditors
    members: [carol, alice]
    hosts: [\"web*\", \"db1\"]
    logins: [auditor]
    channels: [exec]
    require_totp: false
    record_input: true
",
];

fn policy(order: &[usize]) -> PolicySet {
    let mut text = String::from("roles:\n");
    for &i in order {
        text.push_str(ROLES[i]);
    }
    PolicySet::parse(&text, "policies.yaml").unwrap()
}

fn at(day: u32, hour: u32) -> DateTime<Local> {
    let n = NaiveDate::from_ymd_opt(2026, 11, day)
        .unwrap()
        .and_hms_opt(hour, 0, 0)
        .unwrap();
    Local.from_local_datetime(&n).earliest().unwrap()
}

/// Everything of a decision except role line numbers (which move when roles move).
fn summary(d: &Decision) -> String {
    let l = &d.limits;
    let rules: Vec<&str> = l.deny_commands.iter().map(|r| r.as_str()).collect();
    let reason: String = d
        .reason
        .split("(line ")
        .enumerate()
        .map(|(i, part)| match i {
            0 => part.to_string(),
            _ => format!(
                "(line N{}",
                part.trim_start_matches(|c: char| c.is_ascii_digit())
            ),
        })
        .collect();
    format!(
        "{} {:?} {:?} {reason} | {:?} {:?} {:?} {} {} {rules:?} {:?} {:?}",
        d.allowed,
        d.login,
        d.roles,
        l.max_session,
        l.idle_timeout,
        l.hours,
        l.record_input,
        l.require_totp,
        l.deny_roles,
        l.roles
    )
}

fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![Vec::new()];
    }
    let mut out = Vec::new();
    for p in permutations(n - 1) {
        for i in 0..=p.len() {
            let mut q = p.clone();
            q.insert(i, n - 1);
            out.push(q);
        }
    }
    out
}

/// Every decision of a grid of requests, as text.
fn decisions(set: &PolicySet) -> Vec<String> {
    let db = vec!["db".to_string()];
    let mut out = Vec::new();
    for user in ["alice", "bob", "carol", "mallory"] {
        for host in ["web1", "web2", "db1", "db9", "mail"] {
            for login in [
                None,
                Some("root"),
                Some("deploy"),
                Some("app"),
                Some("postgres"),
                Some("auditor"),
                Some("nobody"),
            ] {
                for channel in [
                    ChannelKind::Shell,
                    ChannelKind::Exec,
                    ChannelKind::Sftp,
                    ChannelKind::PortForward,
                ] {
                    // Monday noon, Monday night, Saturday noon.
                    for when in [at(23, 12), at(23, 22), at(28, 12)] {
                        let groups: &[String] = if host.starts_with("db") { &db } else { &[] };
                        let d = set.decide(&AccessRequest {
                            user,
                            host,
                            groups,
                            login,
                            channel,
                            at: when,
                            grants: &[],
                            host_user: None,
                        });
                        out.push(format!(
                            "{user} {host} {login:?} {channel} {when}: {}",
                            summary(&d)
                        ));
                    }
                }
            }
            let reach = set.reachable(user, (host, &[], None), at(23, 12), &[]);
            out.push(format!(
                "{user} {host} reach {:?} {}",
                reach.logins, reach.within_hours
            ));
        }
    }
    out
}

#[test]
fn reordering_roles_changes_no_decision() {
    let reference = decisions(&policy(&[0, 1, 2, 3, 4]));
    assert!(
        reference.iter().any(|d| d.contains(": true")),
        "some requests are allowed"
    );
    assert!(
        reference.iter().any(|d| d.contains(": false")),
        "some are denied"
    );
    let all = permutations(ROLES.len());
    assert_eq!(all.len(), 120);
    for order in all {
        let got = decisions(&policy(&order));
        for (a, b) in reference.iter().zip(&got) {
            assert_eq!(a, b, "role order {order:?}");
        }
    }
}

#[test]
fn an_unrestricted_role_listed_first_does_not_lift_another_roles_limits() {
    for order in [[0, 1], [1, 0]] {
        let set = policy(&order);
        let d = set.decide(&AccessRequest {
            user: "alice",
            host: "web1",
            groups: &[],
            login: Some("root"),
            channel: ChannelKind::Exec,
            at: at(23, 22),
            grants: &[],
            host_user: None,
        });
        assert!(d.allowed, "{}", d.reason);
        assert_eq!(d.roles, ["admin", "restricted"]);
        let rules: Vec<&str> = d.limits.deny_commands.iter().map(|r| r.as_str()).collect();
        assert_eq!(rules, ["shutdown", "^rm\\s+-rf"]);
        assert!(d.limits.deny_commands[0].is_match("shutdown -h now"));
        assert_eq!(d.limits.rule_roles("shutdown"), "restricted");
        assert!(d.limits.record_input);
        assert!(d.limits.require_totp, "restricted requires TOTP");
        assert_eq!(d.limits.max_session, Some(Duration::from_secs(3600)));
        assert_eq!(d.limits.idle_timeout, Some(Duration::from_secs(600)));
        assert!(d.limits.hours.is_empty(), "admin has no hours");
        assert!(
            d.reason.starts_with("role admin (line ")
                && d.reason.contains(", role restricted (line ")
                && d.reason.contains(" allow alice as root on web1 via exec"),
            "{}",
            d.reason
        );
    }
}

#[test]
fn limits_merge_over_every_granting_role_only() {
    let set = policy(&[0, 1, 2, 3, 4]);
    // Monday noon, alice as root on web1 over shell: admin and restricted grant (office has no
    // root login, auditors no shell) — office's 2h and reboot rule do not apply.
    let d = set.decide(&AccessRequest {
        user: "alice",
        host: "web1",
        groups: &[],
        login: Some("root"),
        channel: ChannelKind::Shell,
        at: at(23, 12),
        grants: &[],
        host_user: None,
    });
    assert_eq!(d.roles, ["admin", "restricted"]);
    assert!(!d
        .limits
        .deny_commands
        .iter()
        .any(|r| r.as_str() == "reboot"));
    // bob as app on web1 over shell on Monday noon: only office has the login app.
    let d = set.decide(&AccessRequest {
        user: "bob",
        host: "web1",
        groups: &[],
        login: Some("app"),
        channel: ChannelKind::Shell,
        at: at(23, 12),
        grants: &[],
        host_user: None,
    });
    assert_eq!(d.roles, ["office"]);
    assert!(!d.limits.require_totp);
    assert_eq!(d.limits.hours.len(), 1);
    // Monday night office is closed: bob falls back to restricted only (default login deploy).
    let d = set.decide(&AccessRequest {
        user: "bob",
        host: "web1",
        groups: &[],
        login: None,
        channel: ChannelKind::Shell,
        at: at(23, 22),
        grants: &[],
        host_user: None,
    });
    assert_eq!(
        (d.login.as_deref(), d.roles.clone()),
        (Some("deploy"), vec!["restricted".to_string()])
    );
    // Shared deny rules are listed once, with every role that sets them.
    let d = set.decide(&AccessRequest {
        user: "bob",
        host: "web1",
        groups: &[],
        login: Some("root"),
        channel: ChannelKind::Shell,
        at: at(23, 12),
        grants: &[],
        host_user: None,
    });
    assert_eq!(d.roles, ["restricted"]);
    let office_too = policy(&[2, 1]).decide(&AccessRequest {
        user: "alice",
        host: "web1",
        groups: &[],
        login: None,
        channel: ChannelKind::Shell,
        at: at(23, 12),
        grants: &[],
        host_user: None,
    });
    // Defaults differ (restricted: deploy, office: app): the smallest name is chosen.
    assert_eq!(office_too.login.as_deref(), Some("app"));
    assert_eq!(office_too.roles, ["office"]);
}

#[test]
fn default_login_and_shared_rules_when_roles_agree() {
    let text = "roles:
  - {name: b, members: [u], hosts: [h], logins: [x], deny_commands: [shutdown], max_session: 3h, require_totp: false}
  - {name: a, members: [u], hosts: [h], logins: [x, y], deny_commands: [shutdown, halt], idle_timeout: 1m, require_totp: false}
";
    let set = PolicySet::parse(text, "p.yaml").unwrap();
    let d = set.decide(&AccessRequest {
        user: "u",
        host: "h",
        groups: &[],
        login: None,
        channel: ChannelKind::Shell,
        at: at(23, 12),
        grants: &[],
        host_user: None,
    });
    assert_eq!(d.login.as_deref(), Some("x"));
    assert_eq!(d.roles, ["a", "b"]);
    let rules: Vec<&str> = d.limits.deny_commands.iter().map(|r| r.as_str()).collect();
    assert_eq!(rules, ["shutdown", "halt"]);
    assert_eq!(d.limits.rule_roles("shutdown"), "a, b");
    assert_eq!(d.limits.max_session, Some(Duration::from_secs(3 * 3600)));
    assert_eq!(d.limits.idle_timeout, Some(Duration::from_secs(60)));
    assert!(!d.limits.require_totp && !d.limits.record_input);
    assert_eq!(
        d.reason,
        "role a (line 3), role b (line 2) allow u as x on h via shell"
    );
}

#[test]
fn require_totp_if_any_granting_role_says_so() {
    let text = |second_totp: bool| {
        format!(
            "roles:
  - {{name: open, members: [u], hosts: [h], logins: [x], require_totp: false}}
  - {{name: strict, members: [u], hosts: [h], logins: [x], require_totp: {second_totp}}}
"
        )
    };
    let ask = |set: &PolicySet| {
        set.decide(&AccessRequest {
            user: "u",
            host: "h",
            groups: &[],
            login: None,
            channel: ChannelKind::Exec,
            at: at(23, 12),
            grants: &[],
            host_user: None,
        })
    };
    let strict = PolicySet::parse(&text(true), "p.yaml").unwrap();
    assert!(ask(&strict).limits.require_totp);
    assert!(strict.requires_totp("u"));
    let lax = PolicySet::parse(&text(false), "p.yaml").unwrap();
    assert!(!ask(&lax).limits.require_totp);
    assert!(!lax.requires_totp("u"));
}

#[test]
fn hours_end_when_the_last_granting_window_closes() {
    let text = "roles:
  - {name: morning, members: [u], hosts: [h], logins: [x], hours: \"08:00-12:00\", require_totp: false}
  - {name: midday, members: [u], hosts: [h], logins: [x], hours: \"11:00-14:00\", require_totp: false}
";
    let set = PolicySet::parse(text, "p.yaml").unwrap();
    let d = set.decide(&AccessRequest {
        user: "u",
        host: "h",
        groups: &[],
        login: None,
        channel: ChannelKind::Shell,
        at: at(23, 11),
        grants: &[],
        host_user: None,
    });
    assert_eq!(d.roles, ["midday", "morning"]);
    assert_eq!(d.limits.hours_end(at(23, 11)), Some(at(23, 14)));
    assert_eq!(d.limits.hours_text(), "11:00-14:00 or 08:00-12:00");
}
