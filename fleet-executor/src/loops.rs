//! Loop items as each form yields them (`loop`, `with_items` flattening one level,
//! `with_dict`, `with_indexed_items`, ...) and how result lines label them.

use serde_json::{json, Value};

use super::context::Run;
use super::error::ExecError;
use fleet_playbook::{LoopKind, Templatable};
use fleet_templates::sequences;

/// The loop's items, templated, in the shape each `with_*` form gives.
pub fn loop_items(
    run: &Run,
    kind: LoopKind,
    raw: &Value,
    vars: &Value,
) -> Result<Vec<Value>, ExecError> {
    let value = run.templar.template_value(raw, vars)?;
    let list = |v: Value| match v {
        Value::Array(a) => Ok(a),
        Value::Null => Ok(Vec::new()),
        Value::String(s) if kind != LoopKind::Loop => Ok(vec![Value::String(s)]),
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
        LoopKind::IndexedItems => Ok(list(value)?
            .into_iter()
            .enumerate()
            .map(|(i, v)| json!([i, v]))
            .collect()),
        LoopKind::Dict => match value {
            Value::Object(m) => Ok(m
                .into_iter()
                .map(|(k, v)| json!({"key": k, "value": v}))
                .collect()),
            other => Err(ExecError::LoopNotDict(other)),
        },
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
    }
}

/// A `loop_control` variable name (`loop_var`, `index_var`), templated against the host's
/// variables as Ansible does (`loop_var: "{{ name }}"`); `default` when unset.
pub fn control_var(run: &Run, name: Option<&str>, default: &str, vars: &Value) -> String {
    match name {
        Some(n) => run
            .templar
            .render_str(n, vars)
            .unwrap_or_else(|_| n.to_string()),
        None => default.to_string(),
    }
}

/// `loop_control.pause` in seconds (a number, or a template giving one); `None` for no pause.
pub fn pause_seconds(run: &Run, pause: Option<&Templatable<f64>>, vars: &Value) -> Option<f64> {
    let seconds = match pause? {
        Templatable::Literal(p) => *p,
        Templatable::Template(t) => {
            let v = run.templar.template_value(&Value::String(t.clone()), vars).ok()?;
            match v {
                Value::Number(n) => n.as_f64()?,
                Value::String(s) => s.trim().parse().ok()?,
                _ => return None,
            }
        }
    };
    (seconds > 0.0 && seconds.is_finite()).then_some(seconds)
}

/// How Ansible labels a loop item in result lines.
pub fn item_label(item: &Value) -> String {
    match item {
        Value::String(s) => s.clone(),
        other => fleet_templates::py_repr(other),
    }
}
