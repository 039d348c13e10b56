//! `ansible-inventory --list` rendering: the JSON an operator (or a dynamic-inventory consumer)
//! already knows, and a readable listing of the same facts for a terminal.
//!
//! Why mirror Ansible's shape exactly: scripts written against `ansible-inventory --list` keep
//! working on `fleet inventory --json`, and a test can compare the two outputs for equality.
//! The shape: `_meta.hostvars` holds each host's merged variables (hosts without any are
//! left out); each group has `hosts` (its direct hosts; never for `all`) and `children`, and
//! a group with neither is left out (it still appears among its parent's `children`).

use std::fmt::Write as _;

use serde_json::{json, Map, Value};

use crate::model::Inventory;

/// The `_meta.profile` that ansible-core 2.19 writes for the classic `--list` layout.
const PROFILE: &str = "inventory_legacy";

impl Inventory {
    /// The inventory as `ansible-inventory --list` prints it (see the module docs).
    pub fn list_json(&self) -> Value {
        let mut out = Map::new();
        for group in self.groups() {
            let mut entry = Map::new();
            if group.name != "all" && !group.hosts.is_empty() {
                entry.insert("hosts".into(), json!(group.hosts));
            }
            if !group.children.is_empty() {
                entry.insert("children".into(), json!(group.children));
            }
            if !entry.is_empty() {
                out.insert(group.name.clone(), Value::Object(entry));
            }
        }
        let mut hostvars = Map::new();
        for host in self.hosts() {
            if !host.vars().is_empty() {
                hostvars.insert(host.name.clone(), Value::Object(host.vars().clone()));
            }
        }
        out.insert(
            "_meta".into(),
            json!({ "hostvars": hostvars, "profile": PROFILE }),
        );
        Value::Object(out)
    }

    /// The same facts for a person: each group with its children and direct hosts, then each
    /// host with its groups and merged variables (sorted by name, values as JSON).
    pub fn list_text(&self) -> String {
        let mut out = String::from("Groups:\n");
        for group in self.groups() {
            let _ = writeln!(out, "  {}", group.name);
            if !group.children.is_empty() {
                let _ = writeln!(out, "    children: {}", group.children.join(", "));
            }
            if group.name != "all" && !group.hosts.is_empty() {
                let _ = writeln!(out, "    hosts: {}", group.hosts.join(", "));
            }
        }
        out.push_str("Hosts:\n");
        for host in self.hosts() {
            let _ = writeln!(
                out,
                "  {}  (groups: {})",
                host.name,
                host.groups().join(", ")
            );
            let mut vars: Vec<_> = host.vars().iter().collect();
            vars.sort_by(|a, b| a.0.cmp(b.0));
            for (key, value) in vars {
                let _ = writeln!(out, "    {key} = {value}");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_groups_and_var_less_hosts_are_left_out_and_all_lists_no_hosts() {
        let inv =
            Inventory::parse_ini("solo\n[web]\nw1 a=1\n[empty]\n", "inv.ini").expect("parses");
        let list = inv.list_json();
        assert_eq!(
            list["all"],
            json!({"children": ["ungrouped", "web", "empty"]})
        );
        assert_eq!(list["ungrouped"], json!({"hosts": ["solo"]}));
        assert_eq!(list["web"], json!({"hosts": ["w1"]}));
        assert!(list.get("empty").is_none(), "{list}");
        assert_eq!(list["_meta"]["hostvars"], json!({"w1": {"a": 1}}));
        let text = inv.list_text();
        assert!(text.contains("  w1  (groups: web)\n    a = 1\n"), "{text}");
    }
}
