//! `hostvars`: every host's variables as they stand when a task starts. Building it locks and
//! copies every host's state, so a task gets it only when its arguments, conditions, loop or
//! variables mention it; the snapshot is shared by all hosts running that task. After
//! `group_by` or `add_host` changed the inventory, the task's magic variables also carry the
//! new `groups`, and `hostvars` the hosts added (`dynamic_inventory::View`).

use std::sync::Arc;

use serde_json::Value;

use super::context::{PlayCtx, Run, Scope};
use super::vars::unprefixed_facts;
use super::walk::Hosts;
use fleet_playbook::{Keywords, Task};

/// The magic variables `task` sees when they differ from the play's (`Scope::magic`): with
/// `hostvars` (a snapshot taken now) when the task mentions it, with the inventory's changes
/// since the play began; `None` when neither applies.
pub(super) async fn task_magic(
    run: &Run,
    pctx: &PlayCtx<'_>,
    hosts: &Hosts,
    task: &Task,
    kw: &Keywords,
    scope: &Scope<'_>,
) -> Option<fleet_templates::SharedVars> {
    let view = super::dynamic_inventory::view(run);
    let wants_hostvars =
        pctx.hostvars_in_vars || mentions_hostvars(task, kw) || roles_mention_hostvars(scope);
    if view.is_none() && !wants_hostvars {
        return None;
    }
    let mut shared = (*pctx.vars.magic).clone();
    if let Some(view) = &view {
        shared.insert("groups".into(), view.groups.clone());
    }
    if wants_hostvars {
        let mut all = hostvars_snapshot(hosts).await;
        if let (Some(view), Value::Object(all)) = (&view, &mut all) {
            all.extend(view.added.clone());
        }
        shared.insert("hostvars".into(), all);
    }
    Some(Arc::new(shared))
}

/// Whether the task's arguments, conditions or loop refer to `hostvars`, or a template file
/// it renders might (the `template` module, a `template` lookup: their text is only read when
/// the task runs, and a template listing every host's address is what `hostvars` is for).
pub(super) fn mentions_hostvars(task: &Task, kw: &Keywords) -> bool {
    let text = serde_json::to_string(&task.args).unwrap_or_default();
    text.contains("hostvars")
        || fleet_modules::short_name(&task.action) == "template"
        || text.contains("template")
        || kw
            .when
            .iter()
            .chain(&task.changed_when)
            .chain(&task.failed_when)
            .any(|c| c.contains("hostvars"))
        || task.loop_.as_ref().is_some_and(|l| mentions(&l.items))
        || kw.vars.values().any(mentions)
}

/// Whether a value (a variable's, a loop's) holds the word `hostvars`.
fn mentions(value: &Value) -> bool {
    value.to_string().contains("hostvars")
}

/// Whether variables any task of a play may read without naming them refer to `hostvars`:
/// the play's `vars` and `vars_files`, the extra variables, the inventory's (`group_vars/`,
/// `host_vars/`) of any host. Read once per play: a variable such as `peers: "{{ groups.web |
/// map('extract', hostvars, 'ansible_host') }}"` in `group_vars/all.yml` needs the snapshot in
/// every task that might use it.
pub(super) fn play_vars_mention_hostvars(
    vars: &super::vars::PlayVars,
    inventory: &inventory::Inventory,
) -> bool {
    let any = |m: &serde_json::Map<String, Value>| m.values().any(mentions);
    any(&vars.vars)
        || any(&vars.vars_files)
        || any(&vars.extra)
        || inventory.hosts().any(|h| any(h.vars()))
}

/// Whether the `defaults` or `vars` of the roles around a task refer to `hostvars`.
fn roles_mention_hostvars(scope: &Scope<'_>) -> bool {
    scope
        .roles
        .iter()
        .any(|r| r.defaults.values().chain(r.vars.values()).any(mentions))
}

/// Every host's variables (inventory, facts, set_fact/register) as they stand now.
async fn hostvars_snapshot(hosts: &Hosts) -> Value {
    let mut all = serde_json::Map::new();
    for state in &hosts.states {
        let h = state.lock().await;
        let mut vars = h.inventory_vars.clone();
        for (k, v) in &h.facts {
            vars.insert(k.clone(), v.clone());
        }
        if !h.facts.is_empty() {
            vars.insert("ansible_facts".into(), unprefixed_facts(&h.facts));
        }
        for (k, v) in &h.runtime_vars {
            vars.insert(k.clone(), v.clone());
        }
        vars.insert("inventory_hostname".into(), Value::String(h.name.clone()));
        all.insert(h.name.clone(), Value::Object(vars));
    }
    Value::Object(all)
}
