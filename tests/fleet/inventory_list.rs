//! Issue 20 item 3: `fleet inventory -i INV --json` prints what `ansible-inventory --list -i INV`
//! prints (groups with `hosts` and `children`, `all`, `ungrouped`, `_meta.hostvars` with the
//! merged group and host variables) for the same YAML and INI inventories, compared as JSON
//! values; and without `--json` it shows the same hosts, groups and variables as a listing.

use std::path::Path;
use std::process::Command;

use e2e::fleet::ansible_venv;
use serde_json::Value;

const YAML: &str = "\
all:
  vars:
    ntp: pool.example
  hosts:
    solo:
    solo2:
      x: 1
  children:
    web:
      vars:
        http_port: 8080
      hosts:
        web1:
          ansible_host: 127.0.1.5
        web2:
      children:
        canary:
          hosts:
            web3:
              flag: yes
              list: [1, two]
    db:
      hosts:
        db1:
    empty:
";

const INI: &str = "\
solo ansible_port=2222
[web]
web1 ansible_host=127.0.1.5
web2
[web:vars]
http_port=8080
[canary]
web3 flag=yes
[web:children]
canary
[db]
db1
[empty]
[all:vars]
ntp=pool.example
";

fn json_of(cmd: &mut Command, what: &str) -> Value {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{what} printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn compare(inv: &Path) {
    let reference = json_of(
        Command::new(ansible_venv().join("bin/ansible-inventory"))
            .args(["--list", "-i"])
            .arg(inv)
            .env("ANSIBLE_INVENTORY_UNPARSED_WARNING", "false"),
        "ansible-inventory --list",
    );
    assert!(reference["web"]["children"].is_array(), "{reference}");
    let fleet = json_of(
        Command::new(env!("CARGO_BIN_EXE_fleet"))
            .args(["inventory", "--json", "-i"])
            .arg(inv),
        "fleet inventory --json",
    );
    assert_eq!(
        fleet,
        reference,
        "fleet:\n{}\nansible-inventory:\n{}",
        serde_json::to_string_pretty(&fleet).unwrap_or_default(),
        serde_json::to_string_pretty(&reference).unwrap_or_default()
    );
}

fn write_inventory(name: &str, text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join(name), text).expect("write inventory");
    std::fs::create_dir(dir.path().join("group_vars")).expect("group_vars");
    std::fs::write(dir.path().join("group_vars/db.yml"), "db_port: 5432\n").expect("group var");
    dir
}

#[test]
fn yaml_inventory_list_json_equals_ansible_inventory() {
    let dir = write_inventory("inv.yml", YAML);
    compare(&dir.path().join("inv.yml"));
}

#[test]
fn ini_inventory_list_json_equals_ansible_inventory() {
    let dir = write_inventory("hosts.ini", INI);
    compare(&dir.path().join("hosts.ini"));
}

#[test]
fn listing_without_json_shows_groups_hosts_and_variables() {
    let dir = write_inventory("inv.yml", YAML);
    let out = Command::new(env!("CARGO_BIN_EXE_fleet"))
        .args(["inventory", "-i"])
        .arg(dir.path().join("inv.yml"))
        .output()
        .expect("run fleet");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    for want in [
        "  web\n    children: canary\n    hosts: web1, web2\n",
        "  web1  (groups: web)\n",
        "    ansible_host = \"127.0.1.5\"\n",
        "  db1  (groups: db)\n    db_port = 5432\n",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
}
