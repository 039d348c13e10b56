//! The inventory changing during a run, as Ansible's inventory manager applies an action's
//! result: `group_by` puts a host into a group (`add_dynamic_group`) and `add_host` adds a host
//! or changes its variables and groups (`add_dynamic_host`). Each change reports whether it
//! changed anything, counted as Ansible counts it, and is applied without recomputing the
//! hosts' groups and merged variables: that is O(hosts), so a run applies a whole task's
//! changes (one per host under `group_by`) and then calls [`Inventory::refresh`] once.
//! A group or host made this way gets its `group_vars/` or `host_vars/` files from every vars
//! directory already read, as Ansible's `host_group_vars` plugin reads them for any name.

use std::collections::HashMap;

use crate::error::InventoryError;
use crate::model::{Inventory, Vars};
use crate::vars_dirs::{read_kind, VarsLayer};

/// One host into one group, under its parents, as `group_by` asks.
pub struct GroupJoin<'a> {
    /// The inventory name of the host.
    pub host: &'a str,
    /// The group it joins (made when new).
    pub group: &'a str,
    /// The groups the group goes under (each made when new).
    pub parents: &'a [String],
}

/// A host as `add_host` gives it: made when new, its variables merged over the ones it has
/// (key by key, as Ansible's `combine_vars`), put directly into each group (made when new).
pub struct HostAdd<'a> {
    /// The inventory name (without a `:port`, which the caller makes a variable).
    pub name: &'a str,
    /// Groups the host goes directly into (each made when new).
    pub groups: &'a [String],
    /// Host variables, merged over the host's own.
    pub vars: &'a Vars,
}

impl Inventory {
    /// `group_by`: whether anything changed, as Ansible counts it: a parent group made, the
    /// group put under a parent it was not under, or the host not yet in the group (directly or
    /// through one of the group's children). Call [`Inventory::refresh`] before reading hosts.
    pub fn join_group(&mut self, join: &GroupJoin<'_>) -> Result<bool, InventoryError> {
        let GroupJoin {
            host,
            group,
            parents,
        } = *join;
        let bad = |why: String| InventoryError::parse("group_by", 1, 1, why);
        let Some(&h) = self.host_index.get(host) else {
            return Err(bad(format!("host {host} is not in the inventory")));
        };
        crate::yaml::check_group_name(group).map_err(bad)?;
        for parent in parents {
            crate::yaml::check_group_name(parent).map_err(bad)?;
        }
        let mut made = Vec::new();
        if self.group(group).is_none() {
            self.ensure_group(group);
            made.push(group.to_string());
        }
        let mut changed = false;
        for parent in parents {
            if self.group(parent).is_none() {
                self.ensure_group(parent);
                made.push(parent.clone());
                changed = true;
            }
            let linked = self
                .group(group)
                .is_some_and(|g| g.parents.iter().any(|p| p == parent));
            if parent != group && !linked {
                self.add_child(parent, group).map_err(bad)?;
                changed = true;
            }
        }
        if !self.reaches(h, group) {
            self.add_host_to_group(host, group);
            changed = true;
        }
        self.read_group_vars(&made)?;
        Ok(changed)
    }

    /// `add_host`: whether anything changed, as Ansible counts it: the host made, a variable
    /// added or given another value, a group made, or the host put directly into a group it was
    /// not directly in. Call [`Inventory::refresh`] before reading hosts.
    pub fn add_dynamic_host(&mut self, add: &HostAdd<'_>) -> Result<bool, InventoryError> {
        let bad = |why: String| InventoryError::parse("add_host", 1, 1, why);
        for group in add.groups {
            crate::yaml::check_group_name(group).map_err(bad)?;
        }
        let mut changed = false;
        if self.host(add.name).is_none() {
            self.ensure_host(add.name);
            self.read_host_vars(add.name)?;
            changed = true;
        }
        for (key, value) in add.vars {
            let same = self.host(add.name).and_then(|h| h.own_vars.get(key)) == Some(value);
            if !same {
                self.set_host_var(add.name, key, value.clone());
                changed = true;
            }
        }
        let mut made = Vec::new();
        for group in add.groups {
            if self.group(group).is_none() {
                self.ensure_group(group);
                made.push(group.clone());
                changed = true;
            }
            let direct = self
                .host(add.name)
                .is_some_and(|h| h.direct_groups.iter().any(|g| g == group));
            if !direct {
                self.add_host_to_group(add.name, group);
                changed = true;
            }
        }
        self.read_group_vars(&made)?;
        Ok(changed)
    }

    /// Recomputes every host's groups and merged variables after [`Inventory::join_group`] and
    /// [`Inventory::add_dynamic_host`].
    pub fn refresh(&mut self) {
        self.finalize();
    }

    /// Whether host `h` is in `group`: directly, or in one of its descendants (the group is an
    /// ancestor of one of the host's own groups). Walks `parents` links, which every change
    /// keeps current, so it holds between a change and the next refresh.
    fn reaches(&self, h: usize, group: &str) -> bool {
        let mut stack: Vec<&str> = self.hosts[h]
            .direct_groups
            .iter()
            .map(String::as_str)
            .collect();
        let mut seen = std::collections::HashSet::new();
        while let Some(g) = stack.pop() {
            if g == group {
                return true;
            }
            if seen.insert(g) {
                if let Some(found) = self.group(g) {
                    stack.extend(found.parents.iter().map(String::as_str));
                }
            }
        }
        false
    }

    /// Reads `group_vars/` of groups made during the run from every vars directory read.
    fn read_group_vars(&mut self, made: &[String]) -> Result<(), InventoryError> {
        self.read_new_vars("group_vars", made, |layer| &mut layer.groups)
    }

    /// Reads `host_vars/` of a host made during the run from every vars directory read.
    fn read_host_vars(&mut self, host: &str) -> Result<(), InventoryError> {
        self.read_new_vars("host_vars", &[host.to_string()], |layer| &mut layer.hosts)
    }

    /// The files of `names` under `kind` (`group_vars` or `host_vars`) of every vars directory
    /// read, into that layer's groups or hosts (`into`).
    fn read_new_vars(
        &mut self,
        kind: &str,
        names: &[String],
        into: fn(&mut VarsLayer) -> &mut HashMap<String, Vars>,
    ) -> Result<(), InventoryError> {
        if names.is_empty() {
            return Ok(());
        }
        for layer in &mut self.layers {
            let Some(dir) = layer.dir.clone() else {
                continue;
            };
            into(layer).extend(read_kind(&dir.join(kind), names)?);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{GroupJoin, HostAdd};
    use crate::{Inventory, InventoryError};
    use serde_json::json;

    fn join(
        inv: &mut Inventory,
        host: &str,
        group: &str,
        parents: &[String],
    ) -> Result<bool, InventoryError> {
        let joined = GroupJoin {
            host,
            group,
            parents,
        };
        let changed = inv.join_group(&joined);
        inv.refresh();
        changed
    }

    #[test]
    fn a_host_joins_a_new_group_with_its_group_vars() {
        let dir = tempfile::tempdir().unwrap();
        let inv_path = dir.path().join("hosts.yml");
        std::fs::write(&inv_path, "all:\n  hosts:\n    a: {}\n    b: {}\n").unwrap();
        std::fs::create_dir(dir.path().join("group_vars")).unwrap();
        std::fs::write(
            dir.path().join("group_vars/os_debian.yml"),
            "flavour: apt\n",
        )
        .unwrap();
        let mut inv = Inventory::load(&inv_path).unwrap();
        let parents = vec!["os".to_string()];
        assert!(join(&mut inv, "a", "os_debian", &parents).unwrap());
        assert!(!join(&mut inv, "a", "os_debian", &parents).unwrap());
        let a = inv.host("a").unwrap();
        assert!(a.groups().iter().any(|g| g == "os_debian"));
        assert!(a.groups().iter().any(|g| g == "os"));
        assert_eq!(a.vars().get("flavour"), Some(&json!("apt")));
        assert!(inv.host("b").unwrap().vars().get("flavour").is_none());
        let names: Vec<String> = inv
            .select("os")
            .unwrap()
            .iter()
            .map(|h| h.name.clone())
            .collect();
        assert_eq!(names, ["a"]);
        assert!(join(&mut inv, "nope", "x", &[]).is_err());
        assert!(join(&mut inv, "a", " ", &[]).is_err());
    }

    #[test]
    fn group_by_counts_a_new_parent_link_and_membership_through_a_child_group() {
        let dir = tempfile::tempdir().unwrap();
        let inv_path = dir.path().join("hosts.yml");
        std::fs::write(
            &inv_path,
            "all:\n  children:\n    web:\n      children:\n        web_eu:\n          hosts: {a: {}}\n",
        )
        .unwrap();
        let mut inv = Inventory::load(&inv_path).unwrap();
        // a is in web through its child web_eu: not changed
        assert!(!join(&mut inv, "a", "web", &["all".to_string()]).unwrap());
        // a new parent for web: changed, and a is then in the parent too
        assert!(join(&mut inv, "a", "web", &["site".to_string()]).unwrap());
        assert!(!join(&mut inv, "a", "web", &["site".to_string()]).unwrap());
        assert!(inv.host("a").unwrap().groups().iter().any(|g| g == "site"));
    }

    #[test]
    fn add_host_makes_the_host_and_counts_changes_as_ansible() {
        let dir = tempfile::tempdir().unwrap();
        let inv_path = dir.path().join("hosts.yml");
        std::fs::write(&inv_path, "all:\n  hosts:\n    a: {}\n").unwrap();
        std::fs::create_dir(dir.path().join("host_vars")).unwrap();
        std::fs::write(dir.path().join("host_vars/new1.yml"), "from_dir: 1\n").unwrap();
        std::fs::create_dir(dir.path().join("group_vars")).unwrap();
        std::fs::write(dir.path().join("group_vars/made.yml"), "role: made\n").unwrap();
        let mut inv = Inventory::load(&inv_path).unwrap();
        let mut add = |name: &str, groups: &[&str], vars: serde_json::Value| {
            let groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
            let vars = vars.as_object().unwrap().clone();
            let changed = inv.add_dynamic_host(&HostAdd {
                name,
                groups: &groups,
                vars: &vars,
            });
            inv.refresh();
            changed.unwrap()
        };
        assert!(add("new1", &[], json!({})), "a new host");
        assert!(!add("new1", &[], json!({})), "the same again");
        assert!(add("new1", &[], json!({"foo": "bar"})), "a new variable");
        assert!(!add("new1", &[], json!({"foo": "bar"})), "the same value");
        assert!(add("new1", &["made"], json!({})), "into a new group");
        assert!(!add("new1", &["made"], json!({})), "already in it");
        assert!(add("a", &["made"], json!({"ansible_ssh_port": 2222})));
        let new1 = inv.host("new1").unwrap();
        assert_eq!(new1.groups(), ["made"]);
        assert_eq!(new1.vars().get("from_dir"), Some(&json!(1)));
        assert_eq!(new1.vars().get("role"), Some(&json!("made")));
        assert_eq!(new1.vars().get("foo"), Some(&json!("bar")));
        assert_eq!(inv.host("a").unwrap().port(), 2222);
        let names: Vec<&str> = inv.hosts().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["a", "new1"]);
        assert!(inv.select("ungrouped").unwrap().is_empty());
    }
}
