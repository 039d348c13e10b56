//! Loop items as each form yields them (`loop`, `with_items` flattening one level,
//! `with_dict`, `with_indexed_items`, ...) and how result lines label them.

use serde_json::{json, Value};

use super::context::Run;
use super::error::ExecError;
use fleet_playbook::LoopKind;

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
        LoopKind::Sequence | LoopKind::Fileglob => Err(ExecError::UnsupportedLoop(kind)),
    }
}

/// How Ansible labels a loop item in result lines.
pub fn item_label(item: &Value) -> String {
    match item {
        Value::String(s) => s.clone(),
        other => fleet_templates::py_repr(other),
    }
}
