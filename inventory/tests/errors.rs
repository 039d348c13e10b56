//! Error messages name file:line:column.

use inventory::Inventory;

fn yaml_err(text: &str) -> String {
    Inventory::parse_yaml(text, "inventory.yaml")
        .unwrap_err()
        .to_string()
}

fn ini_err(text: &str) -> String {
    Inventory::parse_ini(text, "hosts.ini")
        .unwrap_err()
        .to_string()
}

#[test]
fn yaml_structure_errors() {
    let text = "all:\n  children:\n    web:\n      hosts:\n        - web1\n";
    assert_eq!(
        yaml_err(text),
        "inventory.yaml:5:9: group \"web\": hosts must be a mapping, got a list"
    );
    assert_eq!(
        yaml_err("web:\n  vars: [1]\n"),
        "inventory.yaml:2:9: group \"web\": vars must be a mapping, got a list"
    );
    assert_eq!(
        yaml_err("web:\n  children: 5\n"),
        "inventory.yaml:2:13: group \"web\": children must be a mapping, got an integer"
    );
    assert_eq!(
        yaml_err("web:\n  hosts:\n    w1: [a]\n"),
        "inventory.yaml:3:9: host \"w1\": variables must be a mapping, got a list"
    );
    assert_eq!(
        yaml_err("web:\n  children:\n    sub: [x]\n"),
        "inventory.yaml:3:10: group \"sub\": must be a mapping, got a list"
    );
    assert_eq!(
        yaml_err("web:\n  hosts:\n    'w[3:1]':\n"),
        "inventory.yaml:3:13: group \"web\": range '[3:1]' in 'w[3:1]' must have begin <= end"
    );
    assert_eq!(
        yaml_err("- a\n"),
        "inventory.yaml:1:1: a YAML inventory must be a mapping of groups, got a list"
    );
    assert_eq!(
        yaml_err("plugin: aws_ec2\n"),
        "inventory.yaml:1:9: this is an inventory plugin configuration ('plugin:'), not a YAML inventory"
    );
    assert_eq!(
        yaml_err("a:\n  vars: {ansible_group_priority: high}\n"),
        "inventory.yaml:2:34: group \"a\": ansible_group_priority must be an integer, got \"high\""
    );
}

#[test]
fn yaml_group_loops() {
    assert_eq!(
        yaml_err("a:\n  children:\n    b:\n      children:\n        a:\n"),
        "inventory.yaml:4:7: adding group \"b\" as a child of \"a\" creates a loop"
    );
    assert!(yaml_err("a:\n  children:\n    all:\n").contains("group \"all\" cannot be a child"));
}

#[test]
fn yaml_syntax_errors() {
    assert_eq!(
        yaml_err("all:\n  hosts:\n    a: [1\n  b: 2\n"),
        "inventory.yaml:4:4: invalid indentation"
    );
    assert_eq!(
        yaml_err("all:\n\thosts:\n"),
        "inventory.yaml:2:2: tabs disallowed within this context (block indentation)"
    );
}

#[test]
fn ini_errors() {
    assert_eq!(
        ini_err("[web]\nw1\n\n[web:bad]\n"),
        "hosts.ini:4:1: section [web:bad] has unknown type: bad"
    );
    assert_eq!(
        ini_err("[web]\nw1 ansible_user\n"),
        "hosts.ini:2:1: expected key=value host variable assignment, got: ansible_user"
    );
    assert_eq!(
        ini_err("[web]\n  w1 a='open\n"),
        "hosts.ini:2:3: error parsing host definition 'w1 a='open': No closing quotation"
    );
    assert_eq!(
        ini_err("[web:vars]\nnovalue\n[web]\n"),
        "hosts.ini:2:1: expected key=value, got: novalue"
    );
    assert_eq!(
        ini_err("[web bad]\n"),
        "hosts.ini:1:1: invalid section entry: '[web bad]'; section names may not contain spaces or other invalid characters"
    );
    assert_eq!(
        ini_err("[p:children]\nweb\n\n[q]\n"),
        "hosts.ini:2:1: section [p:children] includes undefined group 'web'"
    );
    assert_eq!(
        ini_err("[p:vars]\nx=1\n"),
        "hosts.ini:1:1: section [p:vars] not valid for undefined group 'p'"
    );
    assert_eq!(
        ini_err("[p:children]\nweb:x\n"),
        "hosts.ini:2:1: expected group name, got: web:x"
    );
    assert_eq!(
        ini_err("[web]\nw[1:]\n"),
        "hosts.ini:2:1: range '[1:]' in 'w[1:]' needs an end"
    );
    assert_eq!(
        ini_err("[a:children]\na\n"),
        "hosts.ini:2:1: adding group \"a\" as a child of \"a\" creates a loop"
    );
    assert_eq!(
        ini_err("[a]\nh:\n"),
        "hosts.ini:2:1: invalid host entry 'h:': a trailing ':' must be followed by a port"
    );
}

#[test]
fn hostile_inputs_never_panic() {
    let samples = [
        "[",
        "]",
        "[]",
        "[a:]",
        "[:vars]",
        "a=b",
        "\0",
        "\u{feff}",
        "h [",
        "h x=\u{e9}'",
        "h x=[[[[",
        "h[0:9999999]",
        "h[a:\u{e9}]",
        "h[\u{e9}:a]",
        "[a:children]\n\u{e9}",
        "\u{e9}[1:2]",
        "[\u{e9}]",
        "h x='\\x'",
        "h:99999",
        "[2001:db8::1]:x",
    ];
    for s in samples {
        let _ = Inventory::parse_ini(s, "x");
        let _ = Inventory::parse(s, "x");
        let _ = Inventory::parse_yaml(s, "x");
    }
    for s in [
        "a: {hosts: {'h[': }}",
        "a: {hosts: {'[::1]:': }}",
        "a:\n  hosts:\n    ? [x]\n",
    ] {
        let _ = Inventory::parse_yaml(s, "x");
    }
}
