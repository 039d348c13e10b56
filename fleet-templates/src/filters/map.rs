//! Jinja2's `map` filter, with Ansible's reason for an item that lacks the attribute.
//!
//! minijinja's own `map` does the mapping (attribute paths, `default=`, a filter by name).
//! What it cannot say is *why* an item came out undefined: with `attribute=` and no `default`,
//! a list item without that attribute maps to an undefined value, and only when that value is
//! used (a task argument, `| list` printed) does the evaluation fail. Ansible then says
//! `object of type 'dict' has no attribute 'name'`; the undefined value here carries no text,
//! so this filter notes the reason ([`undefined::note_loose_reason`]) for the engine to name if
//! the evaluation fails on an undefined value that no access chain explains. A `map` whose
//! undefined items are filtered out (`| select('defined')`) notes a reason nobody reads.

use minijinja::value::{from_args, Kwargs, Rest, Value};
use minijinja::{Environment, Error, State};

use crate::undefined;

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("map", map);
}

fn map(state: &State, value: Value, args: Rest<Value>) -> Result<Vec<Value>, Error> {
    let mapped = minijinja::filters::map(state, value.clone(), Rest(args.to_vec()))?;
    if let Some(index) = mapped.iter().position(Value::is_undefined) {
        if let Some(path) = attribute_without_default(&args)? {
            let item = value.try_iter()?.nth(index).unwrap_or_default();
            if let Some(reason) = missing_attribute(&item, &path) {
                undefined::note_loose_reason(reason);
            }
        }
    }
    Ok(mapped)
}

/// The `attribute=` path of a `map` call that has no `default=`.
fn attribute_without_default(args: &[Value]) -> Result<Option<String>, Error> {
    let (_, kwargs): (&[Value], Kwargs) = from_args(args)?;
    if kwargs.has("default") {
        return Ok(None);
    }
    let attribute: Option<Value> = kwargs.peek("attribute")?;
    Ok(attribute.map(|a| a.as_str().map_or_else(|| a.to_string(), str::to_owned)))
}

/// Ansible's text for the first segment of `path` (`a.b.0`) that `item` lacks, as Jinja2's
/// attribute getter walks it (a segment of digits is an index).
fn missing_attribute(item: &Value, path: &str) -> Option<String> {
    let mut current = item.clone();
    for segment in path.split('.') {
        let key = match segment.parse::<i64>() {
            Ok(n) => Value::from(n),
            Err(_) => Value::from(segment),
        };
        let next = current.get_item(&key).unwrap_or_default();
        if next.is_undefined() {
            return Some(undefined::no_attribute(&current, &key));
        }
        current = next;
    }
    None
}
