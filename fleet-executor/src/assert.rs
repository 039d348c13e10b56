//! `assert`, with ansible-core 2.19's rules for what a `that` entry may be.
//!
//! Why its own module: 2.19 decides by where a condition came from. Written in the task, an
//! entry is an expression (or a template whose result is then one); given through
//! whole-argument splatting (`assert: "{{ item }}"`, the arguments templated first) an entry
//! arrives already evaluated: a boolean is its own answer, and a string is an expression only
//! when it is *trusted*, i.e. the playbook wrote it literally. A string produced by templating
//! (`"x" == '{{ y }}'` rendered while the loop items were) is refused ("untrusted template or
//! expression"), as a trust-tracking engine would. fleet approximates trust by provenance: a
//! string is trusted when the task's own definition (arguments, loop items, vars) holds it
//! literally.

use fleet_templates::{AsVars, Vars};
use serde_json::{json, Map, Value};

use super::context::Run;
use fleet_modules::ModuleResult;
use fleet_playbook::Task;

use fleet_templates::UNTRUSTED;

/// One `that` entry.
enum Entry {
    /// Written in the task: a condition to evaluate.
    Written(String),
    /// Arrived evaluated, through splatted arguments: trusted when the task wrote it.
    Given(Value),
    /// An item of the list a written template (`that: "{{ checks }}"`) gave: trusted when the
    /// variables hold it as written.
    Listed(Value),
}

/// Runs `assert` for `task`; `args` are the templated arguments.
pub fn assert(run: &Run, task: &Task, args: &Map<String, Value>, vars: &Vars) -> ModuleResult {
    let (args, entries) = match entries(task, args) {
        Ok(found) => found,
        Err(msg) => return ModuleResult::fail(msg),
    };
    let (entries, templated) = expand_written(run, entries, vars);
    for entry in &entries {
        let (shown, outcome) = match entry {
            Entry::Written(cond) => (
                cond.clone(),
                run.templar.eval_bool(cond, vars).map_err(|e| e.to_string()),
            ),
            Entry::Given(value) => (
                fleet_templates::py_string(value),
                given(run, value, vars, written_in(task, value)),
            ),
            Entry::Listed(value) => (
                fleet_templates::py_string(value),
                given(
                    run,
                    value,
                    vars,
                    holds(vars.own(), value) || vars.shared_map().values().any(|v| holds(v, value)),
                ),
            ),
        };
        match outcome {
            Ok(true) => {}
            Ok(false) => {
                let msg = args
                    .get("fail_msg")
                    .or_else(|| args.get("msg"))
                    .map(text)
                    .unwrap_or_else(|| "Assertion failed".into());
                return ModuleResult::fail(msg)
                    .with("assertion", shown)
                    .with("evaluated_to", false);
            }
            Err(e) => {
                return ModuleResult::fail(format!(
                    "Task failed: Error while evaluating conditional: {e}"
                ))
            }
        }
    }
    let msg = args
        .get("success_msg")
        .map(text)
        .unwrap_or_else(|| "All assertions passed".into());
    let mut result = ModuleResult {
        msg: Some(msg),
        ..ModuleResult::ok()
    };
    if templated > 0 {
        let one = json!({"msg": CONDITIONAL_AS_TEMPLATE, "version": "2.23"});
        result = result.with("deprecations", vec![one; templated]);
    }
    result
}

/// Ansible's deprecation for a condition written as a template that yields a boolean.
const CONDITIONAL_AS_TEMPLATE: &str =
    "Conditionals should not be surrounded by templating delimiters such as {{ }} or {% %}.";

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => fleet_templates::py_repr(other),
    }
}

/// The arguments in effect (splatted ones under the task's own) and the `that` entries.
fn entries(
    task: &Task,
    args: &Map<String, Value>,
) -> Result<(Map<String, Value>, Vec<Entry>), String> {
    const MISSING: &str = "missing required arguments: that";
    if let Some(raw) = task.args.get("that") {
        // written in the task: the raw expressions, evaluated as conditions
        let written = match raw {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        // an expression is text (or a boolean, its own answer); a mapping or a number is
        // refused, as 2.19 refuses any other conditional (a YAML `a: b` line is a mapping)
        if written
            .iter()
            .any(|v| !matches!(v, Value::String(_) | Value::Bool(_) | Value::Null))
        {
            return Err("Task failed: Conditional expressions must be strings.".into());
        }
        let list = written
            .into_iter()
            .map(|v| Entry::Written(text(v)))
            .collect();
        return Ok((args.clone(), list));
    }
    // `that` splatted from a template (`assert: "{{ checks }}"`): a value, never re-evaluated
    let merged = args.clone();
    let list = match merged.get("that") {
        None => return Err(MISSING.into()),
        Some(Value::Null) => return Err("Empty conditional expressions are not allowed.".into()),
        Some(Value::Array(items)) => items.iter().cloned().map(Entry::Given).collect(),
        Some(other) => vec![Entry::Given(other.clone())],
    };
    Ok((merged, list))
}

/// A written entry that is one template yielding a list (`that: "{{ checks }}"`) stands for
/// the list's items. Also counts the conditions written as templates that yield booleans
/// (each a deprecation in Ansible 2.19).
fn expand_written(run: &Run, entries: Vec<Entry>, vars: &Vars) -> (Vec<Entry>, usize) {
    let mut out = Vec::new();
    let mut templated = 0;
    for entry in entries {
        let Entry::Written(cond) = &entry else {
            out.push(entry);
            continue;
        };
        let inner = cond
            .trim()
            .strip_prefix("{{")
            .and_then(|r| r.strip_suffix("}}"));
        let inner = inner.filter(|i| !i.contains("{{") && !i.contains("}}"));
        match inner.map(|expr| run.templar.eval(expr, vars)) {
            Some(Ok(Value::Array(items))) => {
                templated += items.iter().filter(|i| i.is_boolean()).count();
                out.extend(items.into_iter().map(Entry::Listed));
            }
            Some(Ok(Value::Bool(_))) => {
                templated += 1;
                out.push(entry);
            }
            _ => out.push(entry),
        }
    }
    (out, templated)
}

/// An entry that arrived evaluated: a boolean answers itself, a `trusted` string is evaluated
/// as a condition, an untrusted one is refused.
fn given(run: &Run, value: &Value, vars: &Vars, trusted: bool) -> Result<bool, String> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.trim().is_empty() => {
            Err("Empty conditional expressions are not allowed.".into())
        }
        Value::String(s) if trusted => run.templar.eval_bool(s, vars).map_err(|e| e.to_string()),
        Value::String(_) => Err(UNTRUSTED.into()),
        other => Err(format!(
            "Conditional result ({}) was derived from value of type '{}'. Conditionals must \
             have a boolean result.",
            if truthy(other) { "True" } else { "False" },
            fleet_templates::py_type_name(other)
        )),
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::String(s) => !s.is_empty(),
        Value::Bool(b) => *b,
    }
}

/// Whether `within` holds the string `value` itself somewhere.
fn holds(within: &Value, value: &Value) -> bool {
    match within {
        Value::String(_) => within == value,
        Value::Array(items) => items.iter().any(|i| holds(i, value)),
        Value::Object(m) => m.values().any(|i| holds(i, value)),
        _ => false,
    }
}

/// Whether the task's own definition holds `value` literally (its trust, approximated).
fn written_in(task: &Task, value: &Value) -> bool {
    task.args.values().any(|v| holds(v, value))
        || task.keywords.vars.values().any(|v| holds(v, value))
        || task
            .loop_
            .as_ref()
            .is_some_and(|lp| holds(&lp.items, value))
}
