//! `group_by` and `add_host`: the inventory changing during a play.
//!
//! Ansible applies an action's `add_group`/`add_host` result to its inventory as the result
//! arrives, so the next task already sees the change in `groups`, `group_names` and `hostvars`;
//! the play keeps the hosts it began with, and the next play's `hosts:` pattern sees the change.
//! Fleet does the same in three steps:
//! 1. the action applies its change to the run's working copy of the inventory (copied from the
//!    play's at the first change) and reports Ansible's `changed` from that copy;
//! 2. when the task has run on all its hosts, [`publish`] recomputes the copy once (that is
//!    O(hosts): `group_by` on 1,000 hosts makes 1,000 changes, recomputed once, not 1,000
//!    times), gives the run's hosts their new `group_names` and group variables, and gives the
//!    play's next tasks a [`View`]: `groups`, and `hostvars` entries for the hosts added;
//! 3. before the next play, [`publish`] catches up with what no task barrier published (the
//!    free strategy), then [`take`] hands the copy to the run, which makes it the inventory, with
//!    a host state for each host added ([`new_states`]).
//!
//! A task may `delegate_to` a host added earlier in the play: its variables come from the
//! [`View`] (`target.rs`); from the next play on it is an inventory host like any.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::context::Run;
use super::host::HostState;
use super::walk::Hosts;
use fleet_modules::ModuleResult;

/// The run's changes since the last play began.
#[derive(Default)]
pub struct Changes {
    /// The play's inventory with every change since; `None` until the first.
    inventory: Option<inventory::Inventory>,
    /// A change came since the last [`publish`].
    unpublished: bool,
    /// What the play's tasks see since the last [`publish`].
    view: Option<Arc<View>>,
}

/// The inventory as the play's next tasks see it after a change.
pub struct View {
    /// `groups`, as the changed inventory has them.
    pub groups: Value,
    /// `hostvars` entries of the hosts added during this play (every other host has a state).
    pub added: Map<String, Value>,
}

/// A host's inventory variables as a task sees them: merged, with its `group_names`.
pub fn inventory_vars(h: &inventory::Host) -> Map<String, Value> {
    let mut vars = h.vars().clone();
    vars.insert("group_names".into(), json!(h.groups()));
    vars
}

/// `groups`: every group's hosts (descendants' included), and `all`.
pub fn groups_var(inv: &inventory::Inventory) -> Value {
    let mut groups = Map::new();
    for g in inv.groups() {
        let members: Vec<String> = inv
            .select(&g.name)
            .map(|hs| hs.iter().map(|h| h.name.clone()).collect())
            .unwrap_or_default();
        groups.insert(g.name.clone(), json!(members));
    }
    let all: Vec<String> = inv
        .hosts()
        .filter(|h| !h.is_implicit())
        .map(|h| h.name.clone())
        .collect();
    groups.insert("all".into(), json!(all));
    Value::Object(groups)
}

fn changes(run: &Run) -> std::sync::MutexGuard<'_, Changes> {
    run.dynamic.lock().unwrap_or_else(|p| p.into_inner())
}

/// Applies one change to the working copy (made from `base`, the play's inventory, at the
/// first change); whether it changed anything.
fn apply(
    run: &Run,
    base: &inventory::Inventory,
    change: impl FnOnce(&mut inventory::Inventory) -> Result<bool, inventory::InventoryError>,
) -> Result<bool, String> {
    let mut c = changes(run);
    let inv = c.inventory.get_or_insert_with(|| base.clone());
    let changed = change(inv).map_err(|e| e.to_string())?;
    c.unpublished |= changed;
    Ok(changed)
}

/// What the play's tasks see of the changes so far, if any.
pub fn view(run: &Run) -> Option<Arc<View>> {
    changes(run).view.clone()
}

/// After a task has run on all its hosts (and before the next play): recomputes the working
/// copy if it changed, gives the run's hosts their new inventory variables, and the play's next
/// tasks their [`View`].
pub async fn publish(run: &Run, hosts: &Hosts) {
    let (groups, mut by_name) = {
        let mut c = changes(run);
        if !c.unpublished {
            return;
        }
        c.unpublished = false;
        let Some(inv) = c.inventory.as_mut() else {
            return;
        };
        inv.refresh();
        let by_name: HashMap<String, Map<String, Value>> = inv
            .hosts()
            .map(|h| (h.name.clone(), inventory_vars(h)))
            .collect();
        (groups_var(inv), by_name)
    };
    for state in &hosts.states {
        let mut h = state.lock().await;
        if let Some(vars) = by_name.remove(&h.name) {
            h.inventory_vars = vars;
        }
    }
    let added = by_name
        .into_iter()
        .map(|(name, mut vars)| {
            vars.insert("inventory_hostname".into(), json!(name));
            (name, Value::Object(vars))
        })
        .collect();
    changes(run).view = Some(Arc::new(View { groups, added }));
}

/// Before the next play, after [`publish`]: the changed inventory, if anything changed (the
/// run's host states already hold its variables); the view ends with the play that made it.
pub fn take(run: &Run) -> Option<inventory::Inventory> {
    let mut c = changes(run);
    c.view = None;
    c.inventory.take()
}

/// Host states for the hosts of `inv` from position `from` on (all of them for a new run;
/// those [`take`]'s inventory added, which only ever grows at the end), in inventory order.
pub fn new_states(inv: &inventory::Inventory, from: usize) -> Vec<HostState> {
    inv.hosts()
        .enumerate()
        .skip(from)
        .map(|(i, h)| HostState::new(&h.name, i, inventory_vars(h)))
        .collect()
}

/// `group_by`: puts the host into the group `key` names (spaces become `-`, as Ansible's action
/// makes them) under `parents` (default `all`); changed as Ansible's inventory counts it
/// (`inventory::Inventory::join_group`).
pub fn group_by(
    run: &Run,
    base: &inventory::Inventory,
    args: &Map<String, Value>,
    host: &str,
) -> ModuleResult {
    let Some(key) = args.get("key").filter(|k| !k.is_null()) else {
        return ModuleResult::fail("the 'key' param is required when using group_by");
    };
    let group_name = |v: &Value| fleet_templates::py_string(v).replace(' ', "-");
    let group = group_name(key);
    let parents: Vec<String> = match args.get("parents") {
        None | Some(Value::Null) => vec!["all".into()],
        Some(Value::Array(items)) => items.iter().map(group_name).collect(),
        Some(one) => vec![group_name(one)],
    };
    let join = inventory::GroupJoin {
        host,
        group: &group,
        parents: &parents,
    };
    let applied = apply(run, base, |inv| inv.join_group(&join));
    outcome(applied, |r| {
        r.with("add_group", group).with("parent_groups", parents)
    })
}

/// `add_host`, as Ansible's action plugin reads its arguments: the name from `name`,
/// `hostname` or `host` (a `:port` suffix becomes `ansible_ssh_port`), the groups from
/// `groupname`, `groups` or `group` (a list, or a comma-separated string), every other
/// argument a host variable; a mapping given as the free-form argument merged underneath.
/// Runs once per play (Ansible bypasses the host loop for it) and in check mode too.
pub fn add_host(run: &Run, base: &inventory::Inventory, args: &Map<String, Value>) -> ModuleResult {
    let mut args = args.clone();
    match args.remove("_raw_params") {
        None => {}
        Some(Value::Object(raw)) => {
            let mut merged = raw;
            merged.extend(args);
            args = merged;
        }
        Some(other) => {
            return ModuleResult::fail(format!(
                "Invalid raw parameters passed, requires a dictionary/mapping got a  <class '{}'>",
                fleet_templates::py_type_name(&other)
            ))
        }
    }
    let named = ["name", "hostname", "host"]
        .iter()
        .find_map(|k| args.get(*k))
        .filter(|v| !v.is_null());
    let Some(named) = named else {
        return ModuleResult::fail("name, host or hostname needs to be provided");
    };
    let (name, port) = parse_address(&fleet_templates::py_string(named));
    if let Some(port) = port {
        args.insert("ansible_ssh_port".into(), json!(port));
    }
    let groups = match ["groupname", "groups", "group"]
        .iter()
        .find_map(|k| args.get(*k))
    {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) if s.is_empty() => Vec::new(),
        Some(Value::String(s)) => s.split(',').map(str::to_string).collect(),
        Some(Value::Array(items)) => items.iter().map(fleet_templates::py_string).collect(),
        Some(_) => return ModuleResult::fail("Groups must be specified as a list."),
    };
    let mut new_groups: Vec<String> = Vec::new();
    for g in groups {
        // Ansible checks for duplicates before it strips
        if !new_groups.contains(&g) {
            new_groups.push(g.trim().to_string());
        }
    }
    const SPECIAL: [&str; 4] = ["name", "hostname", "groupname", "groups"];
    let host_vars: Map<String, Value> = args
        .into_iter()
        .filter(|(k, _)| !SPECIAL.contains(&k.as_str()))
        .collect();
    let add = inventory::HostAdd {
        name: &name,
        groups: &new_groups,
        vars: &host_vars,
    };
    let applied = apply(run, base, |inv| inv.add_dynamic_host(&add));
    outcome(applied, |r| {
        let added = json!({"host_name": name, "groups": new_groups, "host_vars": host_vars});
        r.with("add_host", added)
    })
}

/// The action's result: changed as the inventory counted it, with the action's own fields
/// (`add_group`, `add_host`), or the failure.
fn outcome(
    applied: Result<bool, String>,
    fields: impl FnOnce(ModuleResult) -> ModuleResult,
) -> ModuleResult {
    match applied {
        Ok(changed) => fields(ModuleResult {
            changed,
            ..ModuleResult::ok()
        }),
        Err(e) => ModuleResult::fail(e),
    }
}

/// Ansible's `parse_address` without ranges: `[v6]:port`, `name:port` or a bare name (an
/// address with several colons is IPv6 without a port); what does not parse stays the name.
fn parse_address(address: &str) -> (String, Option<u16>) {
    if let Some(rest) = address.strip_prefix('[') {
        if let Some((inner, after)) = rest.split_once(']') {
            match after.strip_prefix(':').map(str::parse::<u16>) {
                None if after.is_empty() => return (inner.to_string(), None),
                Some(Ok(port)) => return (inner.to_string(), Some(port)),
                _ => {}
            }
        }
        return (address.to_string(), None);
    }
    match address.split_once(':') {
        Some((host, port)) if !port.contains(':') && !host.is_empty() => match port.parse() {
            Ok(port) => (host.to_string(), Some(port)),
            Err(_) => (address.to_string(), None),
        },
        _ => (address.to_string(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_address;

    #[test]
    fn addresses_parse_as_ansibles_parse_address() {
        assert_eq!(parse_address("web1"), ("web1".into(), None));
        assert_eq!(
            parse_address("127.0.1.1:2222"),
            ("127.0.1.1".into(), Some(2222))
        );
        assert_eq!(parse_address("[::1]:2200"), ("::1".into(), Some(2200)));
        assert_eq!(parse_address("[::1]"), ("::1".into(), None));
        assert_eq!(parse_address("fe80::1"), ("fe80::1".into(), None));
        assert_eq!(parse_address("a:b"), ("a:b".into(), None));
    }
}
