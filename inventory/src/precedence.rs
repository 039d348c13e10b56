//! Variable precedence: which layer wins when several set the same variable for a host.
//!
//! This follows Ansible's `VariableManager.get_vars` with the default `VARIABLE_PRECEDENCE` and
//! `hash_behaviour = replace` (a later layer replaces a whole top-level key, dicts are not
//! deep-merged). Lowest to highest:
//!
//! 1. `all`'s variables from inventory files;
//! 2. the host's other groups' variables from inventory files, in Ansible's group order:
//!    by depth (parents before children), then `ansible_group_priority`, then name;
//! 3. `group_vars/all` of each vars directory, in load order (the inventory's own directory
//!    first, then each directory given to `load_vars_dirs`);
//! 4. `group_vars/<group>` of each vars directory in load order, groups in the order of step 2;
//! 5. the host's own variables from inventory files;
//! 6. `host_vars/<host>` of each vars directory in load order.
//!
//! So `group_vars/` files outrank inventory-file group variables (even `group_vars/all` outranks
//! a child group's inventory vars), and `host_vars/` outranks inventory host variables.

use crate::model::{Group, Host, Inventory, Vars};

/// The host's groups (ancestors included, `all` excluded) in Ansible's merge order.
pub(crate) fn sorted_groups<'a>(inv: &'a Inventory, host: &Host) -> Vec<&'a Group> {
    let mut groups: Vec<&Group> = host.groups.iter().filter_map(|g| inv.group(g)).collect();
    groups.sort_by(|a, b| (a.depth, a.priority, &a.name).cmp(&(b.depth, b.priority, &b.name)));
    groups
}

/// Merges every variable layer that applies to `host`, lowest precedence first.
pub(crate) fn merged_vars(inv: &Inventory, host: &Host) -> Vars {
    let groups = sorted_groups(inv, host);
    let mut out = Vars::new();
    let mut apply = |vars: Option<&Vars>| {
        for (k, v) in vars.into_iter().flatten() {
            out.insert(k.clone(), v.clone());
        }
    };
    apply(inv.group("all").map(|g| &g.vars));
    for g in &groups {
        apply(Some(&g.vars));
    }
    for layer in &inv.layers {
        apply(layer.groups.get("all"));
    }
    for layer in &inv.layers {
        for g in &groups {
            apply(layer.groups.get(&g.name));
        }
    }
    apply(Some(&host.own_vars));
    for layer in &inv.layers {
        apply(layer.hosts.get(&host.name));
    }
    out
}
