//! What a task's executions add up to on one host: the aggregate of its loop items, what is
//! reported and registered, the recap counts, `notify`, and what `rescue:` gets to read.

use fleet_templates::Vars;
use serde_json::{json, Map, Value};

use super::context::{Run, Scope};
use super::host::HostState;
use crate::output::{Event, HostResult, Status};
use fleet_modules::remote::RemoteError;
use fleet_modules::{self as modules, ModuleResult};
use fleet_playbook::Task;

/// How a task ended on a host, for the block logic of the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Changed,
    Skipped,
    /// Failed and not ignored.
    Failed,
    Unreachable,
    /// Failed, ignored.
    Ignored,
}

/// `ignore_errors` and `ignore_unreachable` of a task on a host.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ignore {
    pub errors: bool,
    pub unreachable: bool,
}

/// The result of one execution (one loop item, or the whole task without a loop).
pub(super) struct Single {
    pub result: Value,
    pub status: Status,
    pub diffs: Vec<modules::Diff>,
}

/// A failed execution with `msg`, before any module ran.
pub(super) fn error_result(msg: impl Into<String>) -> Single {
    Single {
        result: json!({"changed": false, "failed": true, "msg": msg.into()}),
        status: Status::Failed,
        diffs: Vec::new(),
    }
}

/// A task skipped because `cond` (of its `when`) does not hold.
pub(super) fn skipped_by(cond: String) -> Single {
    Single {
        result: json!({"changed": false, "skipped": true,
            "skip_reason": "Conditional result was False", "false_condition": cond}),
        status: Status::Skipped,
        diffs: Vec::new(),
    }
}

/// The host could not be reached.
pub(super) fn unreachable(e: RemoteError) -> Single {
    Single {
        result: json!({"changed": false, "unreachable": true, "msg": e.to_string()}),
        status: Status::Unreachable,
        diffs: Vec::new(),
    }
}

/// A module's result as an execution's outcome.
pub(super) fn from_module(result: ModuleResult) -> Single {
    let skipped = result
        .data
        .get("skipped")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let status = if result.failed {
        Status::Failed
    } else if skipped {
        Status::Skipped
    } else if result.changed {
        Status::Changed
    } else {
        Status::Ok
    };
    let mut json = result.to_json();
    // a module's empty `msg` is not shown; a `msg` the result carries as data (debug's
    // `msg: ""`) is
    if !result.failed && result.msg.as_deref() == Some("") {
        if let Value::Object(m) = &mut json {
            match result.data.get("msg") {
                Some(msg) => m.insert("msg".into(), msg.clone()),
                None => m.remove("msg"),
            };
        }
    }
    Single {
        result: json,
        status,
        diffs: result.diffs,
    }
}

/// How a task's results are to be reported and counted on a host: settled once per task,
/// before any execution.
pub(super) struct Ending {
    /// The task has a loop: per-item lines, then the loop's aggregate.
    pub looped: bool,
    pub ignore: Ignore,
    /// `no_log`: every reported result is censored.
    pub no_log: bool,
    /// The host the task was delegated to, templated.
    pub delegated: Option<String>,
}

/// Aggregates the per-item results, reports them, registers and counts.
pub(super) fn finish(
    run: &Run,
    task: &Task,
    host: &mut HostState,
    results: Vec<(Single, Option<String>)>,
    ending: Ending,
    scope: &Scope<'_>,
) -> Outcome {
    let (status, registered) = if ending.looped {
        aggregate(&results)
    } else {
        let (single, _) = &results[0];
        (single.status, single.result.clone())
    };
    let ignored = (status == Status::Failed && ending.ignore.errors)
        || (status == Status::Unreachable && ending.ignore.unreachable);
    report(
        run,
        task,
        host,
        &results,
        &ending,
        (status, ignored),
        &registered,
    );
    if let Some(name) = &task.register {
        host.runtime_vars
            .insert(name.clone(), never_templated(registered.clone()));
    }
    let outcome = match status {
        Status::Ok => Outcome::Ok,
        Status::Changed => Outcome::Changed,
        Status::Skipped => Outcome::Skipped,
        Status::Unreachable if ignored => {
            // The host stays in the play; the next task tries to connect again.
            host.remote = None;
            Outcome::Ignored
        }
        Status::Unreachable => Outcome::Unreachable,
        Status::Failed if ignored => Outcome::Ignored,
        Status::Failed => Outcome::Failed,
    };
    count(task, host, outcome, &registered, scope);
    if outcome == Outcome::Changed {
        notify(task, host, scope);
    }
    outcome
}

/// A looped task's status and registered result from its items' (Ansible's precedence:
/// unreachable, failed, all skipped, changed, ok).
fn aggregate(results: &[(Single, Option<String>)]) -> (Status, Value) {
    let statuses: Vec<Status> = results.iter().map(|(s, _)| s.status).collect();
    let any = |st: Status| statuses.contains(&st);
    let status = if any(Status::Unreachable) {
        Status::Unreachable
    } else if any(Status::Failed) {
        Status::Failed
    } else if !statuses.is_empty() && statuses.iter().all(|s| *s == Status::Skipped) {
        Status::Skipped
    } else if any(Status::Changed) {
        Status::Changed
    } else {
        Status::Ok
    };
    if results.is_empty() {
        // a loop over nothing is skipped, as in Ansible
        let registered = json!({"changed": false, "results": [], "skipped": true,
                                "skipped_reason": "No items in the list"});
        return (Status::Skipped, registered);
    }
    let items: Vec<Value> = results.iter().map(|(s, _)| s.result.clone()).collect();
    let mut agg = Map::new();
    // Ansible's loop result is changed when any item's result is, a failed one's too
    let changed = results
        .iter()
        .any(|(s, _)| s.result.get("changed") == Some(&Value::Bool(true)));
    agg.insert("changed".into(), Value::Bool(changed));
    agg.insert("results".into(), Value::Array(items));
    agg.insert("skipped".into(), Value::Bool(status == Status::Skipped));
    if status == Status::Failed {
        agg.insert("failed".into(), Value::Bool(true));
        agg.insert("msg".into(), json!("One or more items failed"));
    } else if status != Status::Skipped {
        agg.insert("msg".into(), json!("All items completed"));
    }
    (status, Value::Object(agg))
}

/// Reports each execution's line and, for a loop, the loop's overall result (the reporter
/// decides whether it shows, as Ansible does); `no_log` censors them all.
fn report(
    run: &Run,
    task: &Task,
    host: &HostState,
    results: &[(Single, Option<String>)],
    ending: &Ending,
    (status, ignored): (Status, bool),
    registered: &Value,
) {
    let censored = json!({"censored": "the output has been hidden due to the fact that 'no_log: true' was specified for this result", "changed": false});
    for (single, label) in results {
        let result = if ending.no_log {
            censored.clone()
        } else {
            single.result.clone()
        };
        run.report(Event::Result(Box::new(HostResult {
            host: host.name.clone(),
            delegated_to: ending.delegated.clone(),
            status: single.status,
            ignored: ignored && !ending.looped,
            item_label: label.clone(),
            result,
            diffs: single.diffs.clone(),
            action: task.action.clone(),
            retries_left: None,
        })));
    }
    if ending.looped {
        run.report(Event::Result(Box::new(HostResult {
            host: host.name.clone(),
            delegated_to: ending.delegated.clone(),
            status,
            ignored,
            item_label: None,
            result: if ending.no_log {
                censored
            } else {
                registered.clone()
            },
            diffs: Vec::new(),
            action: task.action.clone(),
            retries_left: None,
        })));
    }
}

/// The recap counts and host flags an outcome moves; a failure inside a block with `rescue:`
/// is left for the block to count, with what `rescue:` reads about it.
fn count(task: &Task, host: &mut HostState, outcome: Outcome, registered: &Value, scope: &Scope) {
    match outcome {
        Outcome::Ok => host.stats.ok += 1,
        Outcome::Changed => {
            host.stats.ok += 1;
            host.stats.changed += 1;
        }
        Outcome::Skipped => host.stats.skipped += 1,
        Outcome::Ignored => {
            host.stats.ok += 1;
            host.stats.ignored += 1;
            // An ignored failure that changed the host still counts as changed.
            if registered.get("changed").and_then(Value::as_bool) == Some(true) {
                host.stats.changed += 1;
            }
        }
        Outcome::Unreachable => {
            host.stats.unreachable += 1;
            host.unreachable = true;
        }
        Outcome::Failed => {
            host.failed = true;
            if scope.rescuable {
                host.failure_rescuable = true;
                // What `rescue:` sections read about the failure.
                host.runtime_vars.insert(
                    "ansible_failed_task".into(),
                    json!({"name": task.name.clone().unwrap_or_default(), "action": task.action}),
                );
                host.runtime_vars.insert(
                    "ansible_failed_result".into(),
                    never_templated(registered.clone()),
                );
            } else {
                host.stats.failed += 1;
            }
        }
    }
}

/// Queues the handlers a changed task notifies (a task without `notify` takes its block's).
fn notify(task: &Task, host: &mut HostState, scope: &Scope<'_>) {
    let notify = if task.notify.is_empty() {
        &scope.notify
    } else {
        &task.notify
    };
    for name in notify {
        if !host.notified.contains(name) {
            host.notified.push(name.clone());
        }
    }
}

/// A registered result as data that is never templated again (Ansible marks what modules
/// return unsafe), while fleet templates the strings of every variable it uses: each string
/// with template markup is kept inside a Jinja2 `raw` block, which renders to exactly its
/// text (`{{ x }}` in a command's output stays `{{ x }}`; a deprecation message quoting
/// `{{ }}` stays readable).
pub fn never_templated(value: Value) -> Value {
    match value {
        Value::String(s) => {
            let markup = s.contains("{{") || s.contains("{%") || s.contains("{#");
            if markup && !s.contains("endraw") {
                Value::String(format!("{{% raw %}}{s}{{% endraw %}}"))
            } else {
                Value::String(s)
            }
        }
        Value::Array(items) => Value::Array(items.into_iter().map(never_templated).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, never_templated(v)))
                .collect(),
        ),
        other => other,
    }
}

/// ansible-core 2.19's message for arguments that cannot be templated: which action and which
/// argument (the first that fails on its own), and why.
pub(super) fn args_failure(
    run: &super::context::Run,
    task: &fleet_playbook::Task,
    raw: &serde_json::Map<String, Value>,
    vars: &Vars,
    why: &str,
) -> String {
    let key = raw
        .iter()
        .find(|(_, v)| run.templar.template_value(v, vars).is_err())
        .map_or("_raw_params", |(k, _)| k.as_str());
    let action = qualified_action(&task.action);
    format!(
        "Task failed: Finalization of task args for '{action}' failed: Error while resolving \
         value for '{key}': {why}"
    )
}

/// The action's name as Ansible's messages give it: a builtin one qualified.
pub(super) fn qualified_action(action: &str) -> String {
    if fleet_modules::is_builtin(action) || fleet_modules::EXECUTOR_ACTIONS.contains(&action) {
        format!("ansible.builtin.{}", fleet_modules::short_name(action))
    } else {
        action.to_string()
    }
}
