//! The variables a task sees on one host, layered in Ansible's precedence order (lowest first):
//! role defaults < inventory (groups, group_vars, host_vars) < facts < play `vars` < play
//! `vars_files` < role `vars` < block and task `vars` < `set_fact`/`register` < role params <
//! extra vars (`-e`), with the magic variables (`inventory_hostname`, `groups`, ...) on top.

use std::path::Path;
use std::sync::Arc;

use fleet_templates::{SharedVars, Vars};
use serde_json::{Map, Value};

use super::host::HostState;

/// Variables that are the same for every host of a play.
pub struct PlayVars {
    /// The play's `vars:`.
    pub vars: Map<String, Value>,
    /// Loaded `vars_files`, merged in order.
    pub vars_files: Map<String, Value>,
    /// `-e` extra vars.
    pub extra: Arc<Map<String, Value>>,
    /// Magic variables shared by all hosts: `groups`, `ansible_play_hosts`, `playbook_dir`,
    /// `ansible_check_mode`, ... One copy for the play that every host's task variables point
    /// at (`groups` and the play's host lists grow with the hosts: copied per host and task,
    /// they made a run O(hosts²)).
    pub magic: SharedVars,
}

/// The role a task belongs to, with its variable layers.
pub struct RoleVars<'a> {
    pub name: &'a str,
    pub dir: &'a Path,
    pub defaults: &'a Map<String, Value>,
    pub vars: &'a Map<String, Value>,
    pub params: &'a Map<String, Value>,
}

fn merge(into: &mut Map<String, Value>, from: &Map<String, Value>) {
    for (k, v) in from {
        into.insert(k.clone(), v.clone());
    }
}

/// Facts as Ansible exposes them: each `ansible_x` at top level, and `ansible_facts.x`.
fn fact_layer(facts: &Map<String, Value>) -> Map<String, Value> {
    let mut out = facts.clone();
    out.insert("ansible_facts".into(), unprefixed_facts(facts));
    out
}

/// `ansible_facts`: the facts under their names without the `ansible_` prefix (except
/// `ansible_local`, the local facts, whose own name has it).
pub(super) fn unprefixed_facts(facts: &Map<String, Value>) -> Value {
    let unprefixed: Map<String, Value> = facts
        .iter()
        .map(|(k, v)| {
            let name = match k.as_str() {
                "ansible_local" => k,
                _ => k.strip_prefix("ansible_").unwrap_or(k),
            };
            (name.to_string(), v.clone())
        })
        .collect();
    Value::Object(unprefixed)
}

/// Builds the task's variables for `host`: its own layers merged, over the play's magic
/// variables, which are shared, not copied (O(1) in the number of hosts).
pub fn task_vars(
    play: &PlayVars,
    host: &HostState,
    roles: &[RoleVars<'_>],
    scoped: &Map<String, Value>,
) -> Vars {
    let mut vars = Map::new();
    for role in roles {
        merge(&mut vars, role.defaults);
    }
    merge(&mut vars, &host.inventory_vars);
    if !host.facts.is_empty() {
        merge(&mut vars, &fact_layer(&host.facts));
    } else {
        vars.insert("ansible_facts".into(), Value::Object(Map::new()));
    }
    merge(&mut vars, &play.vars);
    merge(&mut vars, &play.vars_files);
    for role in roles {
        merge(&mut vars, role.vars);
    }
    merge(&mut vars, scoped);
    merge(&mut vars, &host.runtime_vars);
    for role in roles {
        merge(&mut vars, role.params);
    }
    merge(&mut vars, &play.extra);
    // the magic variables win over every layer above: a name they hold is taken off the own
    // layer, so the shared value shows through
    for name in play.magic.keys() {
        vars.remove(name);
    }
    vars.insert(
        "inventory_hostname".into(),
        Value::String(host.name.clone()),
    );
    let short = host.name.split('.').next().unwrap_or(&host.name);
    vars.insert(
        "inventory_hostname_short".into(),
        Value::String(short.into()),
    );
    connection_vars(&mut vars, &host.name);
    if let Some(role) = roles.last() {
        vars.insert("role_name".into(), Value::String(role.name.to_string()));
        vars.insert(
            "role_path".into(),
            Value::String(absolute(role.dir).display().to_string()),
        );
    }
    Vars::new(vars, play.magic.clone())
}

/// The connection's variables Ansible adds to every task's (`PlayContext.update_vars`), where
/// no layer set them: the address under `ansible_host` and `ansible_ssh_host` (by default the
/// inventory name), the connection (`ssh`) and the shell fleet runs tasks with.
fn connection_vars(vars: &mut Map<String, Value>, name: &str) {
    let address = ["ansible_host", "ansible_ssh_host"]
        .iter()
        .find_map(|n| vars.get(*n).cloned())
        .unwrap_or_else(|| Value::String(name.to_string()));
    for var in ["ansible_host", "ansible_ssh_host"] {
        vars.entry(var).or_insert_with(|| address.clone());
    }
    vars.entry("ansible_connection")
        .or_insert_with(|| Value::String("ssh".into()));
    vars.entry("ansible_shell_executable")
        .or_insert_with(|| Value::String("/bin/sh".into()));
}

/// `ansible_search_path`: the role's directory (in a role), the task file's directory, then
/// the play's, absolute, as ansible-core 2.19 lists them.
pub(super) fn search_path(vars: &Vars, task: &fleet_playbook::Task, play_dir: &Path) -> Value {
    let mut out: Vec<Value> = Vec::new();
    if let Some(role) = vars.get("role_path") {
        out.push(role.clone());
    }
    for dir in [task.position.file.parent(), Some(play_dir)]
        .into_iter()
        .flatten()
    {
        let dir = Value::String(absolute(dir).display().to_string());
        if !out.contains(&dir) {
            out.push(dir);
        }
    }
    Value::Array(out)
}

/// `path` made absolute against the working directory, as Ansible's paths are.
fn absolute(path: &Path) -> std::path::PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// `ansible_delegated_vars` of a task delegated to `to`: the delegate's inventory variables
/// under its name, with its `inventory_hostname` (and `ansible_host`, by default its name).
pub(super) fn delegated_vars(pctx: &super::context::PlayCtx<'_>, to: &str) -> Value {
    let mut vars = pctx
        .inventory
        .host(to)
        .map(|h| h.vars().clone())
        .unwrap_or_default();
    vars.insert("inventory_hostname".into(), serde_json::json!(to));
    vars.entry("ansible_host")
        .or_insert_with(|| serde_json::json!(to));
    serde_json::json!({ to: vars })
}
