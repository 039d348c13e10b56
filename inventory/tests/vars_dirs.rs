//! `group_vars/` and `host_vars/` directories, loading from disk, and variable precedence.

use std::fs;
use std::path::Path;

use inventory::{Inventory, InventoryError};
use serde_json::json;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

const INV: &str = "all:\n  vars: {layer: inv_all, a: inv_all}\n  children:\n    web:\n      vars: {layer: inv_web, w: inv_web}\n      hosts:\n        web1: {layer: inv_host, h: inv_host}\n        web2:\n      children:\n        canary:\n          vars: {layer: inv_canary}\n          hosts: {web1: }\n";

#[test]
fn files_dirs_and_extensions() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(root, "inventory.yml", INV);
    write(root, "group_vars/all.yml", "from_all_file: yes\n");
    write(
        root,
        "group_vars/web/10-base.yml",
        "merged: first\nonly_first: 1\n",
    );
    write(root, "group_vars/web/20-over.yaml", "merged: second\n");
    write(root, "group_vars/web/.hidden.yml", "merged: hidden\n");
    write(root, "group_vars/web/backup.yml~", "merged: backup\n");
    write(root, "group_vars/web/notes.txt", "merged: txt\n");
    write(root, "group_vars/web/sub/30-deeper", "merged: deeper\n");
    write(root, "group_vars/canary.json", "{\"json_var\": [1, 2]}");
    write(
        root,
        "group_vars/canary.yml",
        "ignored: yml is tried before json\n",
    );
    write(
        root,
        "host_vars/web2",
        "plain_name_file: '0644'\nmode: 0644\n",
    );
    write(root, "host_vars/nobody.yml", "x: 1\n");
    let inv = Inventory::load(&root.join("inventory.yml")).unwrap();
    let w1 = inv.host_vars("web1");
    assert_eq!(w1["from_all_file"], json!(true));
    assert_eq!(w1["merged"], json!("deeper"));
    assert_eq!(w1["only_first"], json!(1));
    assert_eq!(w1["ignored"], json!("yml is tried before json"));
    assert!(
        !w1.contains_key("json_var"),
        "only the first existing extension is used"
    );
    let w2 = inv.host_vars("web2");
    assert_eq!(w2["plain_name_file"], json!("0644"));
    assert_eq!(w2["mode"], json!(420));
    assert!(!w2.contains_key("ignored"));
}

#[test]
fn precedence_across_layers() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(root, "inv/hosts.yml", INV);
    write(
        root,
        "inv/group_vars/all.yml",
        "layer: gv_all\na: gv_all\nw: gv_all\n",
    );
    write(root, "inv/group_vars/web.yml", "layer: gv_web\n");
    write(root, "inv/host_vars/web1.yml", "layer: hv_web1\n");
    let mut inv = Inventory::load(&root.join("inv/hosts.yml")).unwrap();
    let v = inv.host_vars("web1");
    // host_vars/ > inventory host vars > group_vars/<g> > group_vars/all > inventory group vars.
    assert_eq!(v["layer"], json!("hv_web1"));
    assert_eq!(v["h"], json!("inv_host"));
    assert_eq!(v["a"], json!("gv_all"));
    // group_vars/all outranks an inventory-file child group var (Ansible's order).
    assert_eq!(v["w"], json!("gv_all"));
    let v2 = inv.host_vars("web2");
    assert_eq!(v2["layer"], json!("gv_web"));

    // The playbook directory ranks above the inventory directory.
    write(root, "play/group_vars/all.yml", "a: play_all\n");
    write(root, "play/group_vars/web.yml", "layer: play_web\n");
    write(root, "play/host_vars/web1.yml", "h: play_host\n");
    inv.load_vars_dirs(&root.join("play")).unwrap();
    let v = inv.host_vars("web1");
    assert_eq!(v["a"], json!("play_all"));
    assert_eq!(v["layer"], json!("hv_web1"));
    assert_eq!(v["h"], json!("play_host"));
    assert_eq!(inv.host_vars("web2")["layer"], json!("play_web"));
    assert_eq!(inv.host("web1").unwrap().vars()["h"], json!("play_host"));
}

#[test]
fn inventory_precedence_by_depth_and_name() {
    let inv = Inventory::parse_yaml(INV, "t.yml").unwrap();
    // canary (depth 2) beats web (depth 1) beats all; host vars beat all groups.
    assert_eq!(inv.host_vars("web1")["layer"], json!("inv_host"));
    let inv = Inventory::parse_yaml(&INV.replace("layer: inv_host, ", ""), "t.yml").unwrap();
    assert_eq!(inv.host_vars("web1")["layer"], json!("inv_canary"));
    assert_eq!(inv.host_vars("web2")["layer"], json!("inv_web"));
    // Same depth: alphabetical, later wins.
    let inv = Inventory::parse_ini("[b]\nh\n[a]\nh\n[a:vars]\nx=a\n[b:vars]\nx=b\n", "t").unwrap();
    assert_eq!(inv.host_vars("h")["x"], json!("b"));
}

#[test]
fn connection_vars_from_vars_dirs() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "hosts", "[web]\nweb1\n");
    write(
        tmp.path(),
        "group_vars/web.yml",
        "ansible_user: deploy\nansible_port: 2200\n",
    );
    write(tmp.path(), "host_vars/web1.yml", "ansible_host: 10.1.1.1\n");
    let inv = Inventory::load(&tmp.path().join("hosts")).unwrap();
    let h = inv.host("web1").unwrap();
    assert_eq!(
        (h.address(), h.port(), h.user()),
        ("10.1.1.1", 2200, Some("deploy"))
    );
}

#[test]
fn bad_vars_files_report_their_position() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "hosts.yml", "web:\n  hosts: {w: }\n");
    write(tmp.path(), "group_vars/web.yml", "- a\n- b\n");
    let err = Inventory::load(&tmp.path().join("hosts.yml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with("web.yml:1:1: variables file must be a mapping, got a list"),
        "{err}"
    );
    write(tmp.path(), "group_vars/web.yml", "a: [1\n");
    let err = Inventory::load(&tmp.path().join("hosts.yml"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("web.yml:2:1:"), "{err}");
}

#[test]
fn missing_file_is_an_io_error() {
    let err = Inventory::load(Path::new("/nonexistent/inventory.yml")).unwrap_err();
    assert!(matches!(err, InventoryError::Io { .. }));
    assert!(err.to_string().starts_with("/nonexistent/inventory.yml: "));
}

#[test]
fn autodetect_by_extension_and_content() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(root, "a/hosts", "all:\n  hosts:\n    y1:\n");
    write(root, "b/hosts", "[g]\ni1 x=1\n");
    write(root, "c/hosts", "i1:2222\ni2:2223\n");
    write(
        root,
        "d/inv.json",
        "{\"web\": {\"hosts\": {\"j1\": {\"ansible_port\": 2}}}}",
    );
    write(root, "e/inv.yaml", "[not, a, mapping]\n");
    assert_eq!(
        Inventory::load(&root.join("a/hosts"))
            .unwrap()
            .hosts()
            .next()
            .unwrap()
            .name,
        "y1"
    );
    assert_eq!(
        Inventory::load(&root.join("b/hosts"))
            .unwrap()
            .host_vars("i1")["x"],
        json!(1)
    );
    let c = Inventory::load(&root.join("c/hosts")).unwrap();
    assert_eq!(c.host("i2").unwrap().port(), 2223);
    assert_eq!(
        Inventory::load(&root.join("d/inv.json"))
            .unwrap()
            .host("j1")
            .unwrap()
            .port(),
        2
    );
    let e = Inventory::load(&root.join("e/inv.yaml"))
        .unwrap_err()
        .to_string();
    assert!(
        e.ends_with("inv.yaml:1:1: a YAML inventory must be a mapping of groups, got a list"),
        "{e}"
    );
    assert_eq!(
        Inventory::parse("[g]\nh\n", "x").unwrap().hosts().count(),
        1
    );
    assert_eq!(
        Inventory::parse("g:\n  hosts: {h: }\n", "x")
            .unwrap()
            .group("g")
            .unwrap()
            .hosts,
        ["h"]
    );
}

#[test]
fn inventory_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(root, "01-web.yml", "web:\n  hosts: {w1: }\n");
    write(root, "02-db", "[db]\nd1\n[prod:children]\nweb\ndb\n");
    write(root, "README.md", "# not an inventory\n");
    write(root, ".hidden", "garbage [\n");
    write(root, "group_vars/prod.yml", "env: prod\n");
    let inv = Inventory::load(root).unwrap();
    let names: Vec<_> = inv.hosts().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["w1", "d1"]);
    assert_eq!(inv.host_vars("w1")["env"], json!("prod"));
}
