//! `hostvars`: every host's variables as they stand when a task starts. Building it locks and
//! copies every host's state, so a task gets it only when its arguments, conditions, loop or
//! variables mention it; the snapshot is shared by all hosts running that task. After
//! `group_by` or `add_host` changed the inventory, the task's magic variables also carry the
//! new `groups`, and `hostvars` the hosts added (`dynamic_inventory::View`).

use std::sync::Arc;

use serde_json::Value;

use super::context::{PlayCtx, Run};
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
) -> Option<fleet_templates::SharedVars> {
    let view = super::dynamic_inventory::view(run);
    let wants_hostvars = mentions_hostvars(task, kw);
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

/// Whether the task's arguments, conditions or loop refer to `hostvars`.
pub(super) fn mentions_hostvars(task: &Task, kw: &Keywords) -> bool {
    let text = serde_json::to_string(&task.args).unwrap_or_default();
    text.contains("hostvars")
        || kw
            .when
            .iter()
            .chain(&task.changed_when)
            .chain(&task.failed_when)
            .any(|c| c.contains("hostvars"))
        || task
            .loop_
            .as_ref()
            .is_some_and(|l| l.items.to_string().contains("hostvars"))
        || kw.vars.values().any(|v| v.to_string().contains("hostvars"))
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
