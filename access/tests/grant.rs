//! The one access decision as its callers use it: hosts resolved in the inventory, unknown
//! hosts denied, reachable (host, login) pairs in inventory order, TOTP failing closed.

use std::time::Duration;

use access::Access;
use chrono::{DateTime, Local, NaiveDate, TimeZone};
use inventory::Inventory;
use policies::{ChannelKind, PolicySet};

const INVENTORY: &str = "all:
  hosts:
    web1:
      ansible_host: 10.0.0.1
      ansible_port: 2201
      ssh_host_key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey web1
    web2: {}
  children:
    db:
      hosts:
        pg1:
          ansible_host: 10.0.1.1
";

const POLICY: &str = "roles:
  - name: free
    members: [alice]
    hosts: [\"*\"]
    logins: [root]
    channels: [shell, exec]
    require_totp: false
  - name: careful
    members: [alice]
    hosts: [\"web*\"]
    logins: [root, deploy]
    channels: [shell, exec]
    require_totp: true
    idle_timeout: 10m
    deny_commands: ['shutdown']
  - name: dba
    members: [alice]
    hosts: [\"group:db\"]
    logins: [postgres]
    require_totp: false
    hours: \"Mon-Fri 08:00-20:00\"
";

fn access(policy: &str) -> Access {
    Access::new(
        Inventory::parse_yaml(INVENTORY, "inventory.yaml").unwrap(),
        PolicySet::parse(policy, "policies.yaml").unwrap(),
    )
}

fn at(day: u32, hour: u32) -> DateTime<Local> {
    let n = NaiveDate::from_ymd_opt(2026, 11, day)
        .unwrap()
        .and_hms_opt(hour, 0, 0)
        .unwrap();
    Local.from_local_datetime(&n).earliest().unwrap()
}

#[test]
fn grant_resolves_the_host_and_merges_every_granting_role() {
    let a = access(POLICY);
    let g = a.grant("alice", "web1", None, ChannelKind::Exec, at(23, 12), &[]);
    assert!(g.allowed, "{}", g.reason);
    assert_eq!(g.login.as_deref(), Some("root"));
    assert_eq!(g.roles, ["careful", "free"]);
    let e = g.endpoint.as_ref().unwrap();
    assert_eq!((e.address.as_str(), e.port), ("10.0.0.1", 2201));
    assert!(e.pinned_key.as_deref().unwrap().starts_with("ssh-ed25519 "));
    assert_eq!(g.limits.deny_commands.len(), 1);
    assert_eq!(g.limits.idle_timeout, Some(Duration::from_secs(600)));
    assert!(g.limits.require_totp);

    // Logged in with a code: stays allowed. Without one: denied, naming the reason.
    assert!(g.clone().for_connection(true).allowed);
    let no_code = g.for_connection(false);
    assert!(!no_code.allowed && no_code.login.is_none() && no_code.roles.is_empty());
    assert!(
        no_code.reason.starts_with("TOTP is required"),
        "{}",
        no_code.reason
    );

    // Only `free` grants on pg1 at night (dba is outside its hours): no TOTP needed there.
    let g = a.grant(
        "alice",
        "pg1",
        Some("root"),
        ChannelKind::Shell,
        at(23, 22),
        &[],
    );
    assert!(g.allowed && g.roles == ["free"], "{}", g.reason);
    assert!(g.for_connection(false).allowed);
}

#[test]
fn unknown_hosts_and_strangers_are_denied() {
    let a = access(POLICY);
    let g = a.grant("alice", "nope", None, ChannelKind::Shell, at(23, 12), &[]);
    assert!(!g.allowed && g.endpoint.is_none());
    assert_eq!(g.reason, "unknown host nope");
    let g = a.grant("mallory", "web1", None, ChannelKind::Shell, at(23, 12), &[]);
    assert!(!g.allowed && g.endpoint.is_some());
    assert!(g.reason.contains("holds no role"), "{}", g.reason);
}

#[test]
fn reachable_lists_host_login_pairs_in_inventory_order() {
    let a = access(POLICY);
    let pairs: Vec<(String, String, bool)> = a
        .reachable("alice", at(23, 22), &[])
        .into_iter()
        .map(|r| (r.host, r.login, r.within_hours))
        .collect();
    let want = [
        ("web1", "root", true),
        ("web1", "deploy", true),
        ("web2", "root", true),
        ("web2", "deploy", true),
        // Default logins first, sorted (dba's postgres, free's root).
        ("pg1", "postgres", false),
        ("pg1", "root", true),
    ];
    let want: Vec<(String, String, bool)> = want
        .iter()
        .map(|(h, l, w)| (h.to_string(), l.to_string(), *w))
        .collect();
    assert_eq!(pairs, want);
    assert!(a.reachable("mallory", at(23, 12), &[]).is_empty());
}

#[test]
fn load_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inventory.yaml");
    let pol = dir.path().join("policies.yaml");
    std::fs::write(&inv, INVENTORY).unwrap();
    std::fs::write(&pol, "roles:\n  - name: a\n    members: [x]\n    hosts: [w]\n    logins: [r]\n    max_session: soon\n").unwrap();
    let e = Access::load(&inv, &pol).err().unwrap().to_string();
    assert!(
        e.starts_with("loading policies: ") && e.contains("policies.yaml:6:18"),
        "{e}"
    );
    std::fs::write(&pol, POLICY).unwrap();
    assert!(Access::load(&inv, &pol).is_ok());
}

#[test]
fn a_jump_names_an_inventory_hosts_ssh_service_by_name_or_address() {
    let a = access(POLICY);
    // By name or address, on 22 (the client's default) or the host's own SSH port.
    assert_eq!(a.ssh_service("web1", 22).as_deref(), Some("web1"));
    assert_eq!(a.ssh_service("web1", 2201).as_deref(), Some("web1"));
    assert_eq!(a.ssh_service("10.0.0.1", 2201).as_deref(), Some("web1"));
    assert_eq!(a.ssh_service("10.0.0.1", 22).as_deref(), Some("web1"));
    // Another port is a TCP forward, not a jump; unknown hosts are neither.
    assert_eq!(a.ssh_service("web1", 5432), None);
    assert_eq!(a.ssh_service("10.9.9.9", 22), None);
    assert_eq!(a.ssh_service("db9", 22), None);
}

#[test]
fn hosts_sharing_an_address_are_told_apart_by_their_ssh_port() {
    let inventory = "all:
  hosts:
    c1: {ansible_host: 10.0.0.9, ansible_port: 2201}
    c2: {ansible_host: 10.0.0.9, ansible_port: 2202}
";
    let a = Access::new(
        Inventory::parse_yaml(inventory, "inventory.yaml").unwrap(),
        PolicySet::parse(POLICY, "policies.yaml").unwrap(),
    );
    assert_eq!(a.ssh_service("10.0.0.9", 2202).as_deref(), Some("c2"));
    assert_eq!(a.ssh_service("10.0.0.9", 2201).as_deref(), Some("c1"));
    assert_eq!(a.ssh_service("10.0.0.9", 22).as_deref(), Some("c1"));
    assert_eq!(a.ssh_service("10.0.0.9", 2203), None);
}

#[test]
fn console_scope_follows_inventory_groups_and_host_names() {
    use policies::ConsoleRight;
    let a = access(
        "roles:
  - name: db-auditors
    members: [carol]
    hosts: [\"group:db\"]
    console: [audit]
",
    );
    assert_eq!(a.console("carol").rights, [ConsoleRight::Audit]);
    assert!(a.console_sees("carol", ConsoleRight::Audit, "pg1"));
    assert!(!a.console_sees("carol", ConsoleRight::Audit, "web1"));
    // A host the inventory no longer lists has no groups: a group selector does not cover it.
    assert!(!a.console_sees("carol", ConsoleRight::Audit, "pg-old"));
    assert!(!a.console_sees("carol", ConsoleRight::Live, "pg1"));
    assert!(a.console("alice").rights.is_empty());
}

#[test]
fn reaches_agrees_with_reachable_for_each_host() {
    let a = access(POLICY);
    for user in ["alice", "carol"] {
        let listed = a.reachable(user, at(3, 10), &[]);
        for host in ["web1", "web2", "pg1", "nope"] {
            assert_eq!(
                a.reaches(user, host, at(3, 10)),
                listed.iter().any(|r| r.host == host),
                "{user} {host}"
            );
        }
    }
}
