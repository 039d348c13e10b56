//! `hostvars`: every host's variables as they stand when a task starts. Building it locks and
//! copies every host's state, so a task gets it only when its arguments, conditions, loop or
//! variables mention it; the snapshot is shared by all hosts running that task.

use std::sync::Arc;

use serde_json::Value;

use super::context::{PlayCtx, Scope};
use super::vars::unprefixed_facts;
use super::walk::Hosts;
use fleet_playbook::{Keywords, Task};

/// `scope` with `hostvars` (a snapshot taken now) beside the play's magic variables.
pub(super) async fn scope_with_hostvars<'a>(
    pctx: &PlayCtx<'_>,
    hosts: &Hosts,
    scope: &Scope<'a>,
) -> Scope<'a> {
    let mut s = scope.clone();
    let mut shared = (*pctx.vars.magic).clone();
    shared.insert("hostvars".into(), hostvars_snapshot(hosts).await);
    s.hostvars = Some(Arc::new(shared));
    s
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
