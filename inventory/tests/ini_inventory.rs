//! INI inventories: sections, ranges, typed values, implicit groups.

use inventory::Inventory;
use serde_json::json;

const SAMPLE: &str = r#"# leading comment
jump1 ansible_host=192.0.2.1
; another comment style
lonely

[web]
web[01:03] ansible_user=deploy http_port=8080
web04:2222 note="two words" debug=True flag=yes quoted='0644' tags="['a', 'b']"

[db]
db-[a:c].example.com

[web:vars]
ntp = 10.0.0.1
ratio=1.5
mode=0644
enabled=False
name="8080"

[prod:children]
web
db   # comment after child

[prod:vars]
env=production
"#;

fn sample() -> Inventory {
    Inventory::parse_ini(SAMPLE, "hosts.ini").unwrap()
}

#[test]
fn hosts_groups_and_ungrouped() {
    let inv = sample();
    let names: Vec<_> = inv.hosts().map(|h| h.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "jump1",
            "lonely",
            "web01",
            "web02",
            "web03",
            "web04",
            "db-a.example.com",
            "db-b.example.com",
            "db-c.example.com"
        ]
    );
    assert_eq!(inv.group("ungrouped").unwrap().hosts, ["jump1", "lonely"]);
    assert_eq!(inv.group("prod").unwrap().children, ["web", "db"]);
    assert_eq!(inv.host("web04").unwrap().groups(), ["prod", "web"]);
    assert_eq!(inv.host("jump1").unwrap().address(), "192.0.2.1");
    assert_eq!(inv.host("web04").unwrap().port(), 2222);
}

#[test]
fn values_are_python_literals() {
    let inv = sample();
    let v = inv.host_vars("web04");
    assert!(!v.contains_key("http_port"));
    assert_eq!(v["note"], json!("two words"));
    assert_eq!(v["debug"], json!(true));
    assert_eq!(v["flag"], json!("yes"));
    // shlex strips the quotes first, then 0644 is not a Python literal: a string either way.
    assert_eq!(v["quoted"], json!("0644"));
    assert_eq!(v["tags"], json!(["a", "b"]));
    assert_eq!(v["ntp"], json!("10.0.0.1"));
    assert_eq!(v["ratio"], json!(1.5));
    assert_eq!(v["mode"], json!("0644"));
    assert_eq!(v["enabled"], json!(false));
    assert_eq!(v["name"], json!("8080"));
    assert_eq!(v["env"], json!("production"));
    assert_eq!(inv.host_vars("web01")["http_port"], json!(8080));
}

#[test]
fn host_line_quotes_do_not_keep_numbers_as_strings() {
    let inv = Inventory::parse_ini("[g]\nh a=\"22\" b=\"'22'\"\n", "t.ini").unwrap();
    assert_eq!(inv.host_vars("h")["a"], json!(22));
    assert_eq!(inv.host_vars("h")["b"], json!("22"));
}

#[test]
fn host_listed_before_sections_and_in_a_group_leaves_ungrouped() {
    let inv = Inventory::parse_ini("h1\nh2\n[g]\nh1\n", "t.ini").unwrap();
    assert_eq!(inv.group("ungrouped").unwrap().hosts, ["h2"]);
    assert_eq!(inv.host("h1").unwrap().groups(), ["g"]);
}

#[test]
fn children_declared_later_are_fine() {
    let inv =
        Inventory::parse_ini("[all:children]\nweb\n[web]\nw1\n[web:vars]\nx=1\n", "t.ini").unwrap();
    assert_eq!(inv.host_vars("w1")["x"], json!(1));
    assert_eq!(inv.group("all").unwrap().children, ["ungrouped", "web"]);
}

#[test]
fn ini_graph() {
    let inv = Inventory::parse_ini("a\n[web]\nw2\nw1\n[db]\n", "t.ini").unwrap();
    assert_eq!(
        inv.graph(),
        "@all:\n  |--@ungrouped:\n  |  |--a\n  |--@web:\n  |  |--w2\n  |  |--w1\n  |--@db:\n"
    );
}

#[test]
fn crlf_and_bom() {
    let inv = Inventory::parse_ini("\u{feff}[g]\r\nh x=1\r\n", "t.ini").unwrap();
    assert_eq!(inv.host_vars("h")["x"], json!(1));
}

#[test]
fn ini_text_in_a_yaml_named_file_is_read_as_ini_but_yaml_typos_stay_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inventory.yaml");
    std::fs::write(
        &path,
        "# hosts\n[web]\nweb1 ansible_host=10.0.0.1\nweb[2:3]\n",
    )
    .unwrap();
    let inv = inventory::Inventory::load(&path).unwrap();
    assert_eq!(inv.host("web1").unwrap().address(), "10.0.0.1");
    assert!(inv.host("web3").is_some());

    std::fs::write(&path, "all:\n  hosts:\n    web1:\n   bad: indent\n").unwrap();
    let err = inventory::Inventory::load(&path).unwrap_err().to_string();
    assert!(err.contains("inventory.yaml:"), "{err}");
}

#[test]
fn a_large_host_range_is_added_in_linear_time() {
    // Found by the inventory_ini fuzz target: 59 319 hosts from three ranges took minutes,
    // each added host being compared with every host already in the group.
    let started = std::time::Instant::now();
    let inv = Inventory::parse_ini("[db]\ndb-[a:M].x[a:M].[a:M].y\n", "h.ini").unwrap();
    assert_eq!(inv.group("db").unwrap().hosts.len(), 39 * 39 * 39);
    assert_eq!(inv.hosts().count(), 39 * 39 * 39);
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
}
