//! YAML inventories: structure, ranges, vars, YAML 1.1 typing.

use inventory::Inventory;
use serde_json::json;

const SAMPLE: &str = r#"
all:
  vars:
    ntp: 10.0.0.1
    mode: 0644
  hosts:
    jump1:
      ansible_host: 192.0.2.1
  children:
    web:
      vars:
        http_port: 80
        tls: yes
      hosts:
        web[01:03]:
          ansible_user: deploy
        webx:2222:
      children:
        web_canary:
          hosts:
            web01:
              canary: true
    db:
      hosts:
        db[a:b]: {ansible_port: "5522", ssh_host_key: "ssh-ed25519 AAAAC3Nz test"}
prod:
  children:
    web:
    db:
"#;

fn sample() -> Inventory {
    Inventory::parse_yaml(SAMPLE, "inventory.yaml").unwrap()
}

fn names<'a>(it: impl IntoIterator<Item = &'a inventory::Host>) -> Vec<&'a str> {
    it.into_iter().map(|h| h.name.as_str()).collect()
}

#[test]
fn hosts_in_file_order_with_ranges() {
    let inv = sample();
    assert_eq!(
        names(inv.hosts()),
        ["jump1", "web01", "web02", "web03", "webx", "dba", "dbb"]
    );
}

#[test]
fn groups_and_membership() {
    let inv = sample();
    let web = inv.group("web").unwrap();
    assert_eq!(web.hosts, ["web01", "web02", "web03", "webx"]);
    assert_eq!(web.children, ["web_canary"]);
    assert_eq!(web.parents(), ["all", "prod"]);
    assert_eq!(inv.group("prod").unwrap().children, ["web", "db"]);
    assert_eq!(
        inv.group("all").unwrap().children,
        ["ungrouped", "web", "db", "prod"]
    );
    assert_eq!(
        inv.host("web01").unwrap().groups(),
        ["prod", "web", "web_canary"]
    );
    assert_eq!(inv.host("dba").unwrap().groups(), ["db", "prod"]);
    assert_eq!(inv.host("jump1").unwrap().groups(), ["ungrouped"]);
    assert_eq!(inv.group("ungrouped").unwrap().hosts, ["jump1"]);
    assert_eq!(inv.group("web_canary").unwrap().depth(), 3);
    assert_eq!(inv.group("web").unwrap().depth(), 2);
    assert_eq!(inv.group("prod").unwrap().depth(), 1);
}

#[test]
fn connection_attributes() {
    let inv = sample();
    let jump = inv.host("jump1").unwrap();
    assert_eq!(
        (jump.address(), jump.port(), jump.user()),
        ("192.0.2.1", 22, None)
    );
    let web = inv.host("web02").unwrap();
    assert_eq!((web.address(), web.user()), ("web02", Some("deploy")));
    assert_eq!(inv.host("webx").unwrap().port(), 2222);
    let db = inv.host("dbb").unwrap();
    assert_eq!(db.port(), 5522);
    assert_eq!(db.ssh_host_key(), Some("ssh-ed25519 AAAAC3Nz test"));
    assert_eq!(web.ssh_host_key(), None);
}

#[test]
fn merged_vars_with_yaml11_scalars() {
    let inv = sample();
    let v = inv.host_vars("web01");
    assert_eq!(v["ntp"], json!("10.0.0.1"));
    assert_eq!(v["mode"], json!(420));
    assert_eq!(v["tls"], json!(true));
    assert_eq!(v["http_port"], json!(80));
    assert_eq!(v["canary"], json!(true));
    assert_eq!(v["ansible_user"], json!("deploy"));
    assert!(inv.host_vars("nope").is_empty());
    assert_eq!(inv.host("web01").unwrap().vars(), &v);
}

#[test]
fn host_in_several_groups_merges_its_vars() {
    let inv = Inventory::parse_yaml(
        "a:\n  hosts:\n    h: {x: 1, y: 1}\nb:\n  hosts:\n    h: {y: 2, z: 2}\n",
        "t.yml",
    )
    .unwrap();
    assert_eq!(inv.hosts().count(), 1);
    assert_eq!(
        inv.host_vars("h"),
        json!({"x": 1, "y": 2, "z": 2}).as_object().unwrap().clone()
    );
    assert_eq!(inv.host("h").unwrap().groups(), ["a", "b"]);
}

#[test]
fn lenient_shapes_like_ansible() {
    let inv = Inventory::parse_yaml(
        "web:\n  hosts: single\n  children: kids\n  extra: {}\nkids:\nbogus: 5\n",
        "t.yml",
    )
    .unwrap();
    assert_eq!(inv.group("web").unwrap().hosts, ["single"]);
    assert_eq!(inv.group("web").unwrap().children, ["kids"]);
    assert!(inv.group("bogus").is_none());
    assert_eq!(inv.warnings().len(), 2, "{:?}", inv.warnings());
    assert!(inv.warnings()[0].contains("\"extra\""));
}

#[test]
fn empty_documents() {
    let inv = Inventory::parse_yaml("", "t.yml").unwrap();
    assert_eq!(inv.hosts().count(), 0);
    assert_eq!(inv.graph(), "@all:\n  |--@ungrouped:\n");
    let inv = Inventory::parse_yaml("all:\n  hosts: {}\n", "t.yml").unwrap();
    assert_eq!(inv.hosts().count(), 0);
}

#[test]
fn anchors_and_merge_keys_in_inventory() {
    let inv = Inventory::parse_yaml(
        "all:\n  hosts:\n    a: &common {ansible_user: ops, ansible_port: 2200}\n    b:\n      <<: *common\n      ansible_port: 2201\n",
        "t.yml",
    )
    .unwrap();
    assert_eq!(inv.host("b").unwrap().user(), Some("ops"));
    assert_eq!(inv.host("b").unwrap().port(), 2201);
}

#[test]
fn group_priority_orders_same_depth_groups() {
    let text = "a:\n  vars: {x: a, ansible_group_priority: 10}\n  hosts: {h: }\nb:\n  vars: {x: b}\n  hosts: {h: }\n";
    let inv = Inventory::parse_yaml(text, "t.yml").unwrap();
    assert_eq!(inv.host_vars("h")["x"], json!("a"));
    assert_eq!(inv.group("a").unwrap().priority(), 10);
    assert!(!inv
        .group("a")
        .unwrap()
        .vars
        .contains_key("ansible_group_priority"));
    let text = text.replace("ansible_group_priority: 10", "ansible_group_priority: 1");
    let inv = Inventory::parse_yaml(&text, "t.yml").unwrap();
    assert_eq!(inv.host_vars("h")["x"], json!("b"));
}

#[test]
fn graph_like_ansible_inventory() {
    let inv = sample();
    let expected = "\
@all:
  |--@ungrouped:
  |  |--jump1
  |--@web:
  |  |--@web_canary:
  |  |  |--web01
  |  |--web01
  |  |--web02
  |  |--web03
  |  |--webx
  |--@db:
  |  |--dba
  |  |--dbb
  |--@prod:
  |  |--@web:
  |  |  |--@web_canary:
  |  |  |  |--web01
  |  |  |--web01
  |  |  |--web02
  |  |  |--web03
  |  |  |--webx
  |  |--@db:
  |  |  |--dba
  |  |  |--dbb
";
    assert_eq!(inv.graph(), expected);
}

#[test]
fn bad_port_is_a_warning_not_a_failure() {
    let inv = Inventory::parse_yaml("all:\n  hosts:\n    h: {ansible_port: 70000}\n", "t").unwrap();
    assert_eq!(inv.host("h").unwrap().port(), 22);
    assert!(inv.warnings()[0].contains("not a valid port"));
}

#[test]
fn legacy_ssh_variables_win_like_ansible() {
    let inv = Inventory::parse_yaml(
        "all:\n  hosts:\n    h: {ansible_host: a, ansible_ssh_host: b, ansible_ssh_user: u, ansible_ssh_port: 2022}\n",
        "t",
    )
    .unwrap();
    let h = inv.host("h").unwrap();
    assert_eq!((h.address(), h.user(), h.port()), ("b", Some("u"), 2022));
}
