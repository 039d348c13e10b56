//! The inventory data model: hosts, groups, and the operations parsers use to build them.
//!
//! Parsers only call the `pub(crate)` building operations; `finalize` (see `finalize.rs`) then
//! derives the implicit groups, group depths, each host's group list and merged variables, so
//! the public accessors are cheap lookups.

use std::collections::HashMap;

use serde_json::Value;

use crate::vars_dirs::VarsLayer;

/// A set of variables, as Ansible keeps them (key → JSON value).
pub type Vars = serde_json::Map<String, Value>;

/// One inventory host with its cached, precedence-merged variables.
#[derive(Debug, Clone)]
pub struct Host {
    /// Inventory name (what patterns and `host_vars/NAME` refer to).
    pub name: String,
    /// Variables set on the host in inventory files (later definitions win).
    pub(crate) own_vars: Vars,
    /// Groups that list this host directly, in the order they did so.
    pub(crate) direct_groups: Vec<String>,
    /// Every group the host belongs to, ancestors included, `all` excluded, sorted.
    pub(crate) groups: Vec<String>,
    /// Merged variables (see the crate docs for the precedence).
    pub(crate) merged: Vars,
    pub(crate) address: String,
    pub(crate) port: u16,
    pub(crate) user: Option<String>,
    pub(crate) host_key: Option<String>,
    /// Ansible's implicit `localhost` ([`Inventory::add_implicit_localhost`]): matched by its
    /// name only, in no group, not in `all`.
    pub(crate) implicit: bool,
}

impl Host {
    pub(crate) fn new(name: &str) -> Self {
        Host {
            name: name.to_string(),
            own_vars: Vars::new(),
            direct_groups: Vec::new(),
            groups: Vec::new(),
            merged: Vars::new(),
            address: name.to_string(),
            port: 22,
            user: None,
            host_key: None,
            implicit: false,
        }
    }

    /// Whether this is the implicit `localhost` rather than a host the inventory lists.
    pub fn is_implicit(&self) -> bool {
        self.implicit
    }

    /// Every group the host is in, including ancestors via `children`, excluding `all`, sorted.
    /// Hosts in no other group are in `ungrouped`. This is Ansible's `group_names`.
    pub fn groups(&self) -> &[String] {
        &self.groups
    }

    /// Where to connect: `ansible_host` (or legacy `ansible_ssh_host`), else the host name.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// SSH port: `ansible_port` (or legacy `ansible_ssh_port`), else 22.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Remote login: `ansible_user` (or legacy `ansible_ssh_user`), if set.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The `ssh_host_key` variable: an OpenSSH public key line to pin for this host.
    pub fn ssh_host_key(&self) -> Option<&str> {
        self.host_key.as_deref()
    }

    /// The host's variables merged with Ansible precedence (same as `Inventory::host_vars`).
    pub fn vars(&self) -> &Vars {
        &self.merged
    }

    /// Only the variables set on the host itself in inventory files (no groups, no vars dirs).
    pub fn inventory_vars(&self) -> &Vars {
        &self.own_vars
    }
}

/// One inventory group.
#[derive(Debug, Clone)]
pub struct Group {
    /// Group name.
    pub name: String,
    /// Direct child groups, in declaration order (`all` lists every top-level group).
    pub children: Vec<String>,
    /// Hosts listed directly in this group (not those of child groups), in declaration order.
    pub hosts: Vec<String>,
    /// Variables set on the group in inventory files (not `group_vars/`).
    pub vars: Vars,
    pub(crate) parents: Vec<String>,
    pub(crate) priority: i64,
    pub(crate) depth: usize,
}

impl Group {
    pub(crate) fn new(name: &str) -> Self {
        Group {
            name: name.to_string(),
            children: Vec::new(),
            hosts: Vec::new(),
            vars: Vars::new(),
            parents: Vec::new(),
            priority: 1,
            depth: 0,
        }
    }

    /// Direct parent groups.
    pub fn parents(&self) -> &[String] {
        &self.parents
    }

    /// `ansible_group_priority` (default 1): among groups of equal depth, higher wins.
    pub fn priority(&self) -> i64 {
        self.priority
    }

    /// Longest `children` path from `all` (`all` is 0, top-level groups 1, ...).
    pub fn depth(&self) -> usize {
        self.depth
    }
}

/// A parsed inventory: hosts in file order, groups, and the variable layers read from
/// `group_vars/` and `host_vars/` directories.
#[derive(Debug, Clone)]
pub struct Inventory {
    pub(crate) hosts: Vec<Host>,
    pub(crate) host_index: HashMap<String, usize>,
    pub(crate) groups: Vec<Group>,
    pub(crate) group_index: HashMap<String, usize>,
    pub(crate) layers: Vec<VarsLayer>,
    pub(crate) warnings: Vec<String>,
}

impl Default for Inventory {
    fn default() -> Self {
        Self::new()
    }
}

impl Inventory {
    /// An empty inventory holding only the implicit groups `all` and `ungrouped`.
    pub fn new() -> Self {
        let mut inv = Inventory {
            hosts: Vec::new(),
            host_index: HashMap::new(),
            groups: Vec::new(),
            group_index: HashMap::new(),
            layers: Vec::new(),
            warnings: Vec::new(),
        };
        inv.ensure_group("all");
        inv.ensure_group("ungrouped");
        // Cannot fail: two fresh groups.
        let _ = inv.add_child("all", "ungrouped");
        inv
    }

    /// Hosts in the order they first appear in the inventory files.
    pub fn hosts(&self) -> impl Iterator<Item = &Host> {
        self.hosts.iter()
    }

    /// The host with this inventory name.
    pub fn host(&self, name: &str) -> Option<&Host> {
        self.host_index.get(name).map(|&i| &self.hosts[i])
    }

    /// Groups in creation order (`all` and `ungrouped` first).
    pub fn groups(&self) -> impl Iterator<Item = &Group> {
        self.groups.iter()
    }

    /// The group with this name.
    pub fn group(&self, name: &str) -> Option<&Group> {
        self.group_index.get(name).map(|&i| &self.groups[i])
    }

    /// A host's variables merged with Ansible precedence; empty for an unknown host.
    pub fn host_vars(&self, name: &str) -> Vars {
        self.host(name)
            .map(|h| h.merged.clone())
            .unwrap_or_default()
    }

    /// Non-fatal oddities met while loading (ignored keys, bad `ansible_port`, ...).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Adds Ansible's implicit `localhost` when the inventory lists no host of that name: a
    /// play or a task may name `localhost` without an inventory entry, and it runs on the
    /// controller (`ansible_connection: local`, plus `vars`). Like Ansible's, it takes the
    /// variables of `all` and `host_vars/localhost`, is in no group, is not in `all`, and only
    /// its exact name selects it. For the playbook executor only: the bastion never calls this,
    /// so a bastion's inventory never gains a host it does not list.
    pub fn add_implicit_localhost(&mut self, vars: Vars) {
        if self.host_index.contains_key("localhost") {
            return;
        }
        let i = self.ensure_host("localhost");
        let host = &mut self.hosts[i];
        host.implicit = true;
        host.own_vars
            .insert("ansible_connection".into(), Value::from("local"));
        host.own_vars.extend(vars);
        self.finalize();
    }

    // ---- building operations used by the parsers ----

    pub(crate) fn ensure_group(&mut self, name: &str) -> usize {
        if let Some(&i) = self.group_index.get(name) {
            return i;
        }
        self.groups.push(Group::new(name));
        self.group_index
            .insert(name.to_string(), self.groups.len() - 1);
        self.groups.len() - 1
    }

    pub(crate) fn ensure_host(&mut self, name: &str) -> usize {
        if let Some(&i) = self.host_index.get(name) {
            return i;
        }
        self.hosts.push(Host::new(name));
        self.host_index
            .insert(name.to_string(), self.hosts.len() - 1);
        self.hosts.len() - 1
    }

    /// Puts `host` directly into `group` (both created if needed).
    pub(crate) fn add_host_to_group(&mut self, host: &str, group: &str) {
        let h = self.ensure_host(host);
        let g = self.ensure_group(group);
        // A host is in `group.hosts` exactly when the group is in its `direct_groups`; check the
        // host's short list, not the group's, which a range like `web[0:99999]` makes long
        // (checking it made adding N hosts quadratic).
        // a host added to a group is listed: no longer the implicit `localhost`
        self.hosts[h].implicit = false;
        if !self.hosts[h].direct_groups.iter().any(|x| x == group) {
            self.hosts[h].direct_groups.push(group.to_string());
            self.groups[g].hosts.push(host.to_string());
        }
    }

    /// Removes `host` from `group`'s direct members.
    pub(crate) fn remove_host_from_group(&mut self, host: &str, group: &str) {
        if let Some(&g) = self.group_index.get(group) {
            self.groups[g].hosts.retain(|x| x != host);
        }
        if let Some(&h) = self.host_index.get(host) {
            self.hosts[h].direct_groups.retain(|x| x != group);
        }
    }

    /// Makes `child` a child group of `parent`; refuses loops, as Ansible does.
    pub(crate) fn add_child(&mut self, parent: &str, child: &str) -> Result<(), String> {
        if child == "all" {
            return Err(format!("group \"all\" cannot be a child of \"{parent}\""));
        }
        if parent == child || self.is_descendant(child, parent) {
            return Err(format!(
                "adding group \"{child}\" as a child of \"{parent}\" creates a loop"
            ));
        }
        let p = self.ensure_group(parent);
        let c = self.ensure_group(child);
        if !self.groups[p].children.iter().any(|x| x == child) {
            self.groups[p].children.push(child.to_string());
            self.groups[c].parents.push(parent.to_string());
        }
        Ok(())
    }

    /// True if `target` is reachable from `from` through `children` links.
    fn is_descendant(&self, from: &str, target: &str) -> bool {
        let mut stack = vec![from];
        let mut seen = std::collections::HashSet::new();
        while let Some(name) = stack.pop() {
            if !seen.insert(name) {
                continue;
            }
            if let Some(g) = self.group(name) {
                for c in &g.children {
                    if c == target {
                        return true;
                    }
                    stack.push(c);
                }
            }
        }
        false
    }

    /// Sets a group variable; `ansible_group_priority` sets the priority instead (as Ansible).
    pub(crate) fn set_group_var(
        &mut self,
        group: &str,
        key: &str,
        value: Value,
    ) -> Result<(), String> {
        let g = self.ensure_group(group);
        if key == "ansible_group_priority" {
            let prio = match &value {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            };
            self.groups[g].priority = prio
                .ok_or_else(|| format!("ansible_group_priority must be an integer, got {value}"))?;
        } else {
            self.groups[g].vars.insert(key.to_string(), value);
        }
        Ok(())
    }

    /// Sets one inventory variable on a host.
    pub(crate) fn set_host_var(&mut self, host: &str, key: &str, value: Value) {
        let h = self.ensure_host(host);
        self.hosts[h].own_vars.insert(key.to_string(), value);
    }
}
