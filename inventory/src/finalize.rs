//! After parsing: Ansible's `reconcile_inventory` plus the per-host caches.
//!
//! Top-level groups become children of `all`; hosts in no group but `all` go to `ungrouped` (and
//! leave it once they are in a real group); group depths and each host's full group list are
//! computed; finally every host's variables are merged (`precedence.rs`) and the connection
//! attributes (`address`, `port`, `user`, `ssh_host_key`) are read from them.

use std::collections::{HashMap, HashSet, VecDeque};

use serde_json::Value;

use crate::model::Inventory;
use crate::precedence;

impl Inventory {
    /// Derives implicit structure and caches; idempotent, run after every change.
    pub(crate) fn finalize(&mut self) {
        self.attach_top_level_groups();
        self.reconcile_ungrouped();
        self.compute_depths();
        self.compute_host_groups();
        self.compute_host_vars();
    }

    fn attach_top_level_groups(&mut self) {
        let orphans: Vec<String> = self
            .groups
            .iter()
            .filter(|g| g.name != "all" && g.parents.is_empty())
            .map(|g| g.name.clone())
            .collect();
        for name in orphans {
            // An orphan cannot be an ancestor of `all`, so this cannot loop.
            let _ = self.add_child("all", &name);
        }
    }

    fn reconcile_ungrouped(&mut self) {
        let mut leave = Vec::new();
        let mut join = Vec::new();
        for h in self.hosts.iter().filter(|h| !h.implicit) {
            let grouped = h
                .direct_groups
                .iter()
                .any(|g| g != "all" && g != "ungrouped");
            let in_ungrouped = h.direct_groups.iter().any(|g| g == "ungrouped");
            if grouped && in_ungrouped {
                leave.push(h.name.clone());
            } else if !grouped && !in_ungrouped {
                join.push(h.name.clone());
            }
        }
        for h in leave {
            self.remove_host_from_group(&h, "ungrouped");
        }
        for h in join {
            self.add_host_to_group(&h, "ungrouped");
        }
    }

    /// Longest path from `all`, by walking the group DAG in topological order.
    fn compute_depths(&mut self) {
        let mut indegree: HashMap<&str, usize> = self
            .groups
            .iter()
            .map(|g| (g.name.as_str(), g.parents.len()))
            .collect();
        let mut depth: HashMap<&str, usize> = HashMap::new();
        let mut queue: VecDeque<&str> = self
            .groups
            .iter()
            .filter(|g| g.parents.is_empty())
            .map(|g| g.name.as_str())
            .collect();
        while let Some(name) = queue.pop_front() {
            let d = *depth.entry(name).or_insert(0);
            let Some(&gi) = self.group_index.get(name) else {
                continue;
            };
            for child in &self.groups[gi].children {
                let cd = depth.entry(child.as_str()).or_insert(0);
                *cd = (*cd).max(d + 1);
                if let Some(n) = indegree.get_mut(child.as_str()) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        queue.push_back(child.as_str());
                    }
                }
            }
        }
        let depth: HashMap<String, usize> =
            depth.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        for g in &mut self.groups {
            g.depth = depth.get(&g.name).copied().unwrap_or(0);
        }
    }

    fn compute_host_groups(&mut self) {
        let mut all_groups = Vec::with_capacity(self.hosts.len());
        for h in &self.hosts {
            let mut seen: HashSet<&str> = HashSet::new();
            let mut stack: Vec<&str> = h.direct_groups.iter().map(String::as_str).collect();
            while let Some(g) = stack.pop() {
                if !seen.insert(g) {
                    continue;
                }
                if let Some(group) = self.group(g) {
                    stack.extend(group.parents.iter().map(String::as_str));
                }
            }
            seen.remove("all");
            let mut names: Vec<String> = seen.into_iter().map(str::to_string).collect();
            names.sort();
            all_groups.push(names);
        }
        for (h, groups) in self.hosts.iter_mut().zip(all_groups) {
            h.groups = groups;
        }
    }

    fn compute_host_vars(&mut self) {
        let mut warnings = Vec::new();
        let merged: Vec<_> = (0..self.hosts.len())
            .map(|i| precedence::merged_vars(self, &self.hosts[i]))
            .collect();
        for (h, vars) in self.hosts.iter_mut().zip(merged) {
            h.address = last_string(&vars, &["ansible_host", "ansible_ssh_host"])
                .unwrap_or_else(|| h.name.clone());
            h.user = last_string(&vars, &["ansible_user", "ansible_ssh_user"]);
            h.host_key = last_string(&vars, &["ssh_host_key"]);
            h.port = match last_value(&vars, &["ansible_port", "ansible_ssh_port"]) {
                None => 22,
                Some(v) => port_of(v).unwrap_or_else(|| {
                    warnings.push(format!(
                        "host \"{}\": ansible_port {v} is not a valid port; using 22",
                        h.name
                    ));
                    22
                }),
            };
            h.merged = vars;
        }
        for w in warnings {
            if !self.warnings.contains(&w) {
                self.warnings.push(w);
            }
        }
    }
}

/// The value of the last of `names` that is set and not null: Ansible's connection options list
/// the legacy `ansible_ssh_*` spelling last, and the last one found wins.
fn last_value<'v>(vars: &'v crate::Vars, names: &[&str]) -> Option<&'v Value> {
    names
        .iter()
        .filter_map(|n| vars.get(*n))
        .rfind(|v| !v.is_null())
}

/// Like [`last_value`], rendered as text (numbers too, e.g. `ansible_host: 10`).
fn last_string(vars: &crate::Vars, names: &[&str]) -> Option<String> {
    match last_value(vars, names)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A port from an integer or a decimal string; `None` if it is not 1..=65535.
fn port_of(v: &Value) -> Option<u16> {
    let p = match v {
        Value::Number(n) => u16::try_from(n.as_u64()?).ok()?,
        Value::String(s) => s.trim().parse::<u16>().ok()?,
        _ => return None,
    };
    (p != 0).then_some(p)
}
