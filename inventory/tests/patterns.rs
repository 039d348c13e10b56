//! Ansible host patterns.

use inventory::{Inventory, InventoryError};

const INV: &str = "\
lone
[web]
web1
web2
web3
[db]
db1
db2
[staging]
web3
db2
[prod:children]
web
db
[fe80]
fe80::1
";

fn inv() -> Inventory {
    Inventory::parse_ini(INV, "hosts").unwrap()
}

fn sel(pattern: &str) -> Vec<String> {
    inv()
        .select(pattern)
        .unwrap()
        .into_iter()
        .map(|h| h.name.clone())
        .collect()
}

#[test]
fn all_and_star() {
    let all = ["lone", "web1", "web2", "web3", "db1", "db2", "fe80::1"];
    assert_eq!(sel("all"), all);
    assert_eq!(sel("*"), all);
}

#[test]
fn names_groups_and_unknowns() {
    assert_eq!(sel("web2"), ["web2"]);
    assert_eq!(sel("db"), ["db1", "db2"]);
    assert_eq!(sel("prod"), ["web1", "web2", "web3", "db1", "db2"]);
    assert_eq!(sel("ungrouped"), ["lone"]);
    assert!(sel("nosuch").is_empty());
    assert_eq!(sel("fe80::1"), ["fe80::1"]);
}

#[test]
fn globs_and_regexes() {
    assert_eq!(sel("web*"), ["web1", "web2", "web3"]);
    assert_eq!(sel("db?"), ["db1", "db2"]);
    assert_eq!(sel("*[1a]"), ["web1", "db1", "fe80::1"]);
    // As in Ansible, a bracket of digits is a subscript, not a character class.
    assert_eq!(sel("db[1]"), ["db2"]);
    assert_eq!(sel("web[!1]"), ["web2", "web3"]);
    assert_eq!(sel("~(web|db)[13]"), ["web1", "web3", "db1"]);
    assert_eq!(sel("~web"), ["web1", "web2", "web3"]); // anchored at the start only
    assert_eq!(sel("st*"), ["web3", "db2"]); // group globs match too
}

#[test]
fn unions_intersections_exclusions() {
    assert_eq!(sel("db:web1"), ["web1", "db1", "db2"]); // inventory order
    assert_eq!(sel("db,web1"), ["web1", "db1", "db2"]);
    assert_eq!(sel("prod:&staging"), ["web3", "db2"]);
    assert_eq!(sel("prod:!staging"), ["web1", "web2", "db1"]);
    assert_eq!(sel("!staging:prod"), ["web1", "web2", "db1"]); // order-independent
    assert_eq!(sel("web:db:&staging:!db2"), ["web3"]);
    assert_eq!(sel("!prod"), ["lone", "fe80::1"]);
    assert_eq!(sel("&web"), ["web1", "web2", "web3"]);
    assert_eq!(sel(" web1 , web2 "), ["web1", "web2"]);
}

#[test]
fn subscripts() {
    assert_eq!(sel("web[0]"), ["web1"]);
    assert_eq!(sel("web[-1]"), ["web3"]);
    assert_eq!(sel("web[1:]"), ["web2", "web3"]);
    assert_eq!(sel("web[:1]"), ["web1", "web2"]);
    assert_eq!(sel("prod[3-4]"), ["db1", "db2"]);
    assert_eq!(sel("web[0]:db[1]"), ["web1", "db2"]);
    let err = inv().select("web[7]").unwrap_err();
    assert!(matches!(err, InventoryError::Pattern { .. }));
}

#[test]
fn invalid_patterns() {
    for p in ["", " , ", "~(", "!"] {
        assert!(inv().select(p).is_err(), "{p:?}");
    }
    assert_eq!(
        inv()
            .select("~(")
            .unwrap_err()
            .to_string()
            .lines()
            .next()
            .unwrap(),
        "invalid host pattern \"~(\": invalid regex: regex parse error:"
    );
}
