//! Loop items as each form yields them (`loop`, `with_items` flattening one level,
//! `with_dict`, `with_indexed_items`, `with_sequence`, `with_together`, ...), the variables
//! each item brings (`loop_control`), and how result lines label them.

use fleet_templates::Vars;
use serde_json::{json, Map, Value};

use std::time::Duration;

use super::context::Run;
use super::error::ExecError;
use super::host::HostState;
use super::result::Single;
use super::task::{flag, TaskRun};
use crate::output::Status;
use fleet_playbook::{Loop, LoopKind, Templatable};
use fleet_templates::sequences;

/// The loop's items, templated, in the shape each `with_*` form gives.
/// `action` is the task's (a `with_first_found:` loop searches the directory it names).
pub fn loop_items(
    run: &Run,
    lp: &Loop,
    action: &str,
    vars: &Vars,
) -> Result<Vec<Value>, ExecError> {
    let kind = lp.kind;
    if let (LoopKind::Lookup, Some("first_found"), Value::Array(raw)) =
        (kind, lp.lookup.as_deref(), &lp.items)
    {
        // `with_first_found:` drops the terms that are undefined (Ansible's plugin, invoked
        // by a loop, omits them), so each is templated on its own
        let mut terms = Vec::new();
        for term in raw {
            terms.extend(defined_only(run, term, vars)?);
        }
        return lookup_items(run, "first_found", terms, action, vars);
    }
    let value = run.templar.template_value(&lp.items, vars)?;
    let list = |v: Value| match v {
        Value::Array(a) => Ok(a),
        Value::Null => Ok(Vec::new()),
        // with_* lookups take one term that is not a list as a list of it
        other if kind != LoopKind::Loop => Ok(vec![other]),
        other => Err(ExecError::LoopNotList(other)),
    };
    match kind {
        LoopKind::Loop | LoopKind::List => list(value),
        LoopKind::Items => Ok(list(value)?
            .into_iter()
            .flat_map(|v| match v {
                Value::Array(inner) => inner,
                other => vec![other],
            })
            .collect()),
        LoopKind::IndexedItems => Ok(sequences::indexed_items(list(value)?)),
        LoopKind::Dict => sequences::dict_items(vec![value]).map_err(ExecError::Lookup),
        LoopKind::Sequence => {
            let mut out = Vec::new();
            for term in list(value)? {
                let term = fleet_templates::py_string(&term);
                let numbers = sequences::sequence(&term).map_err(ExecError::Lookup)?;
                out.extend(numbers.into_iter().map(Value::String));
            }
            Ok(out)
        }
        LoopKind::Fileglob => {
            let var = |n: &str| vars.get(n).and_then(Value::as_str);
            let search = sequences::search_dirs(var("role_path"), var("playbook_dir"));
            Ok(list(value)?
                .iter()
                .flat_map(|p| sequences::fileglob(&fleet_templates::py_string(p), &search))
                .map(Value::String)
                .collect())
        }
        LoopKind::Together => sequences::together(&list(value)?).map_err(ExecError::Lookup),
        LoopKind::Lookup => {
            let name = lp.lookup.as_deref().unwrap_or_default();
            lookup_items(run, name, list(value)?, action, vars)
        }
    }
}

/// `value` templated, every string in it (at any depth) that is undefined left out: `None`
/// when `value` itself is.
fn defined_only(run: &Run, value: &Value, vars: &Vars) -> Result<Option<Value>, ExecError> {
    Ok(match value {
        Value::Array(items) => {
            let mut kept = Vec::new();
            for item in items {
                kept.extend(defined_only(run, item, vars)?);
            }
            Some(Value::Array(kept))
        }
        Value::Object(map) => {
            let mut kept = serde_json::Map::new();
            for (key, item) in map {
                if let Some(v) = defined_only(run, item, vars)? {
                    kept.insert(key.clone(), v);
                }
            }
            Some(Value::Object(kept))
        }
        other => match run.templar.template_value(other, vars) {
            Ok(v) => Some(v),
            Err(e) if e.0.ends_with("is undefined") => None,
            Err(e) => return Err(e.into()),
        },
    })
}

/// The variable holding a `with_<lookup>:` loop's terms while its lookup runs.
const TERMS_VAR: &str = fleet_templates::first_found::LOOP_TERMS_VAR;

/// What `query(name, *terms)` gives: the items of a `with_<lookup>:` loop, as Ansible runs
/// the lookup with the loop's terms.
fn lookup_items(
    run: &Run,
    name: &str,
    terms: Vec<Value>,
    action: &str,
    vars: &Vars,
) -> Result<Vec<Value>, ExecError> {
    let mut scoped = vars.clone();
    scoped.insert(TERMS_VAR.into(), Value::Array(terms));
    scoped.insert(
        fleet_templates::first_found::LOOP_ACTION_VAR.into(),
        Value::String(action.into()),
    );
    let expr = format!("query('{name}', *{TERMS_VAR})");
    match run.templar.eval(&expr, &scoped)? {
        Value::Array(items) => Ok(items),
        Value::Null => Ok(Vec::new()),
        other => Ok(vec![other]),
    }
}

/// A `loop_control` variable name (`loop_var`, `index_var`), templated against the host's
/// variables as Ansible does (`loop_var: "{{ name }}"`); `default` when unset.
pub fn control_var(run: &Run, name: Option<&str>, default: &str, vars: &Vars) -> String {
    match name {
        Some(n) => run
            .templar
            .render_str(n, vars)
            .unwrap_or_else(|_| n.to_string()),
        None => default.to_string(),
    }
}

/// The variables one loop item brings: the item under its loop variable, `ansible_loop_var`,
/// and with an `index_var` the index under it and `ansible_index_var`.
/// With `extended` (all the loop's items), `ansible_loop` too, as Ansible fills it.
/// `loop_control.extended`: every item of the loop, and whether `ansible_loop.allitems` holds
/// them (`extended_allitems`).
#[derive(Clone, Copy)]
pub struct Extended<'a> {
    pub all: &'a [Value],
    pub allitems: bool,
}

/// Whether `control` asks for `ansible_loop` (`extended`), and for its `allitems`.
pub fn extended_flags(
    run: &Run,
    control: &fleet_playbook::LoopControl,
    vars: &Vars,
) -> (bool, bool) {
    let extended = flag(run, &control.extended, vars, false).unwrap_or(false);
    let allitems = flag(run, &control.extended_allitems, vars, true).unwrap_or(true);
    (extended, allitems)
}

pub fn item_vars(
    loop_var: &str,
    index_var: Option<&str>,
    index: usize,
    item: &Value,
    extended: Option<Extended<'_>>,
) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert(loop_var.to_string(), item.clone());
    m.insert("ansible_loop_var".into(), json!(loop_var));
    if let Some(iv) = index_var {
        m.insert(iv.to_string(), json!(index));
        m.insert("ansible_index_var".into(), json!(iv));
    }
    if let Some(Extended { all, allitems }) = extended {
        let n = all.len();
        let mut info = json!({
            "index": index + 1,
            "index0": index,
            "first": index == 0,
            "last": index + 1 == n,
            "length": n,
            "revindex": n - index,
            "revindex0": n - index - 1,
        });
        if index > 0 {
            info["previtem"] = all[index - 1].clone();
        }
        if index + 1 < n {
            info["nextitem"] = all[index + 1].clone();
        }
        if allitems {
            info["allitems"] = json!(all);
        }
        m.insert("ansible_loop".into(), info);
    }
    m
}

/// `loop_control.pause` in seconds (a number, or a template giving one); `None` for no pause.
pub fn pause_seconds(run: &Run, pause: Option<&Templatable<f64>>, vars: &Vars) -> Option<f64> {
    let seconds = match pause? {
        Templatable::Literal(p) => *p,
        Templatable::Template(t) => {
            let v = run
                .templar
                .template_value(&Value::String(t.clone()), vars)
                .ok()?;
            match v {
                Value::Number(n) => n.as_f64()?,
                Value::String(s) => s.trim().parse().ok()?,
                _ => return None,
            }
        }
    };
    (seconds > 0.0 && seconds.is_finite()).then_some(seconds)
}

/// The item's label: `loop_control.label` templated once the item ran (with its registered
/// result in `base`); a label that does not template fails the item, as in Ansible.
pub(super) fn item_result_label(
    run: &Run,
    control: &fleet_playbook::LoopControl,
    base: &Vars,
    brought: &Map<String, Value>,
    item: &Value,
    single: &mut Single,
) -> String {
    let Some(label) = &control.label else {
        return item_label(item);
    };
    let mut vars = base.clone();
    vars.own_map_mut().extend(brought.clone());
    match run.templar.render_str(label, &vars) {
        Ok(text) => text,
        Err(e) => {
            if let Value::Object(r) = &mut single.result {
                r.insert("failed".into(), Value::Bool(true));
                r.insert(
                    "msg".into(),
                    Value::String(format!("Failed to template loop_control.label: {e}")),
                );
            }
            single.status = Status::Failed;
            label.clone()
        }
    }
}

/// The items of a loop, one after another: the variables each brings, the pause between them,
/// the facts and registered result the next one sees, and each item's label.
pub(super) async fn run_loop(
    t: TaskRun<'_>,
    host: &mut HostState,
    mut base: Vars,
    items: Vec<Value>,
) -> Vec<(Single, Option<String>)> {
    let TaskRun { run, task, .. } = t;
    let mut results = Vec::new();
    let control = task.loop_control.clone().unwrap_or_default();
    let loop_var = control_var(run, control.loop_var.as_deref(), "item", &base);
    let index_var = control
        .index_var
        .as_deref()
        .map(|iv| control_var(run, Some(iv), "", &base));
    let pause = pause_seconds(run, control.pause.as_ref(), &base);
    let (extended, allitems) = extended_flags(run, &control, &base);
    let all = extended.then(|| items.clone());
    for (index, item) in items.into_iter().enumerate() {
        // Ansible pauses between items, not after the last
        if let Some(p) = pause.filter(|_| index > 0) {
            tokio::time::sleep(Duration::from_secs_f64(p)).await;
        }
        let brought = item_vars(
            &loop_var,
            index_var.as_deref(),
            index,
            &item,
            all.as_deref().map(|all| Extended { all, allitems }),
        );
        let mut vars = base.clone();
        vars.own_map_mut().extend(brought.clone());
        // `delegate_to: "{{ item }}"`: each item names its own delegate
        let delegate = t.kw.delegate_to.as_ref().map(|d| {
            run.templar
                .render_str(d, &vars)
                .unwrap_or_else(|_| d.clone())
        });
        let item_run = TaskRun {
            delegated: delegate.as_deref(),
            ..t
        };
        let mut single = super::attempt::run_single(item_run, host, &vars).await;
        if let Value::Object(m) = &mut single.result {
            m.extend(brought.clone());
        }
        // the next item sees this one's facts (Ansible updates the task's variables),
        // and its registered result, which the label may use
        // (facts under `delegate_facts` are the delegate's, not this host's)
        let own_facts = t.kw.delegate_facts.is_none()
            || !super::task::flag(t.run, &t.kw.delegate_facts, &vars, false).unwrap_or(false);
        if let Some(Value::Object(facts)) = single.result.get("ansible_facts").filter(|_| own_facts)
        {
            base.own_map_mut().extend(facts.clone());
        }
        if let Some(name) = &task.register {
            base.insert(
                name.clone(),
                super::result::never_templated(single.result.clone()),
            );
        }
        let label = item_result_label(run, &control, &base, &brought, &item, &mut single);
        let unreachable = single.status == Status::Unreachable;
        // `loop_control.break_when`: after the item (its result kept), every condition
        // holding with the item's variables ends the loop
        let stop = !unreachable && !control.break_when.is_empty() && {
            let mut after = base.clone();
            after.own_map_mut().extend(brought);
            control
                .break_when
                .iter()
                .all(|c| run.templar.eval_bool(c, &after).unwrap_or(false))
        };
        results.push((single, Some(label)));
        if unreachable || stop {
            break;
        }
    }
    results
}

/// How Ansible labels a loop item in result lines.
pub fn item_label(item: &Value) -> String {
    match item {
        Value::String(s) => s.clone(),
        other => fleet_templates::py_repr(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 18: what one item brings, with `index_var` and `extended` as Ansible fills them.
    #[test]
    fn item_vars_name_the_loop_and_index_and_extended_info() {
        let all = [json!("a"), json!("b"), json!("c")];
        let ext = Some(Extended {
            all: &all,
            allitems: true,
        });
        let m = item_vars("fruit", Some("i"), 1, &all[1], ext);
        assert_eq!(m["fruit"], json!("b"));
        assert_eq!(m["ansible_loop_var"], json!("fruit"));
        assert_eq!(m["i"], json!(1));
        assert_eq!(m["ansible_index_var"], json!("i"));
        let info = &m["ansible_loop"];
        assert_eq!(info["index"], json!(2));
        assert_eq!(info["revindex0"], json!(1));
        assert_eq!(info["previtem"], json!("a"));
        assert_eq!(info["nextitem"], json!("c"));
        assert_eq!(info["first"], json!(false));
        let last = item_vars("item", None, 2, &all[2], ext);
        assert!(last["ansible_loop"].get("nextitem").is_none());
        assert_eq!(last["ansible_loop"]["last"], json!(true));
        assert!(!last.contains_key("ansible_index_var"));
        assert!(!item_vars("item", None, 0, &all[0], None).contains_key("ansible_loop"));
        let no_all = Some(Extended {
            all: &all,
            allitems: false,
        });
        let m = item_vars("item", None, 0, &all[0], no_all);
        assert!(m["ansible_loop"].get("allitems").is_none());
    }
}
