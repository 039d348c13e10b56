//! What an include or import (`include_tasks`, `import_tasks`, `include_role`,
//! `import_role`) may say, checked at parse time as Ansible checks it: its keys (restricted on
//! includes, passed on by imports), its arguments, no loop on an import, and a file or role
//! name. Kept apart from task.rs because these rules are Ansible's classes `TaskInclude` and
//! `IncludeRole`, not the general task grammar.

use inventory::Marked;
use serde_json::Value;

use super::error::PlaybookError;
use super::model::Task;
use super::source::{pairs, Source};
use fleet_modules as modules;

/// Keys an include or import (`include_tasks`, `import_role`...) may carry, as in Ansible.
const INCLUDE_KEYS: &[&str] = &[
    "action",
    "args",
    "collections",
    "debugger",
    "ignore_errors",
    "loop",
    "loop_control",
    "name",
    "no_log",
    "register",
    "run_once",
    "tags",
    "timeout",
    "vars",
    "when",
];

/// The include and import actions, whose arguments and keys are restricted.
pub(super) const INCLUDE_ACTIONS: &[&str] = &[
    "include_tasks",
    "import_tasks",
    "include_role",
    "import_role",
];

/// Arguments of `include_role`/`import_role`.
const ROLE_INCLUDE_ARGS: &[&str] = &[
    "name",
    "tasks_from",
    "vars_from",
    "defaults_from",
    "handlers_from",
    "public",
    "allow_duplicates",
    "apply",
    "rolespec_validate",
];

/// Checks the keys and arguments of an include or import, and normalizes the file argument.
pub(super) fn check_include(
    src: &Source,
    node: &Marked,
    task: &mut Task,
    loop_key: Option<&str>,
) -> Result<(), PlaybookError> {
    let action = task.action.clone();
    check_keys(src, node, &action)?;
    if action.starts_with("import_") {
        if let Some(key) = loop_key {
            return Err(src.err(
                node,
                format!(
                    "you cannot use loops ('{key}') on '{action}' statements; use '{}' instead",
                    action.replace("import_", "include_")
                ),
            ));
        }
    }
    if action.ends_with("_role") && !task.args.contains_key("name") {
        // `role` is Ansible's other name for the argument
        if let Some(role) = task.args.remove("role") {
            task.args.insert("name".into(), role);
        }
    }
    check_args(src, node, task, &action)?;
    if action.ends_with("_role") {
        if role_name(task).is_none_or(|n| n.trim().is_empty()) {
            return Err(src.err(node, format!("'name' is a required field for {action}")));
        }
    } else {
        let file = task.args.remove("file");
        let raw = task.args.remove("_raw_params").or(file);
        match raw {
            Some(Value::String(file)) if !file.trim().is_empty() => {
                task.args
                    .insert("_raw_params".into(), Value::String(file.trim().to_string()));
            }
            _ => return Err(src.err(node, format!("no file specified for {action}"))),
        }
    }
    Ok(())
}

/// The task keys an include may carry. Ansible restricts the keywords of
/// include_tasks/include_role only; an import's keywords (remote_user, delegate_to, become,
/// environment...) go to every imported task.
fn check_keys(src: &Source, node: &Marked, action: &str) -> Result<(), PlaybookError> {
    if !action.starts_with("include_") {
        return Ok(());
    }
    let class = if action.ends_with("_role") {
        "IncludeRole"
    } else {
        "TaskInclude"
    };
    for (key, value) in pairs(node).unwrap_or_default() {
        let allowed = INCLUDE_KEYS.contains(&key.as_str())
            || key.starts_with("with_")
            || modules::short_name(key) == action;
        if !allowed {
            return Err(src.key_err(
                node,
                key,
                value,
                format!("'{key}' is not a valid attribute for a {class}"),
            ));
        }
    }
    Ok(())
}

/// The arguments of an include or import: those of its kind only, `apply` (a mapping) on
/// includes only.
fn check_args(src: &Source, node: &Marked, task: &Task, action: &str) -> Result<(), PlaybookError> {
    let valid: &[&str] = if action.ends_with("_role") {
        ROLE_INCLUDE_ARGS
    } else {
        &["file", "_raw_params", "apply"]
    };
    let mut bad: Vec<&str> = task
        .args
        .keys()
        .map(String::as_str)
        .filter(|k| !valid.contains(k))
        .collect();
    if task.args.contains_key("apply") && action.starts_with("import_") {
        bad.push("apply");
    }
    if !bad.is_empty() {
        return Err(src.err(
            node,
            format!("invalid options for {action}: {}", bad.join(",")),
        ));
    }
    if let Some(apply) = task.args.get("apply") {
        if !apply.is_object() {
            return Err(src.err(node, "expected a dict for apply"));
        }
    }
    Ok(())
}

/// The role name of an `include_role`/`import_role` task.
pub(super) fn role_name(task: &Task) -> Option<&str> {
    task.args.get("name").and_then(Value::as_str)
}
