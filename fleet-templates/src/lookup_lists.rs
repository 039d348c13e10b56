//! The lookups that turn lists into loop items behind `with_nested`, `with_subelements` and
//! `with_random_choice` (run through the templar as any `with_<lookup>`) as much as behind
//! `query('nested', ...)`: ansible-core's `nested`, `subelements` and `random_choice` plugins,
//! with their messages. The ones the executor's own loop kinds share are in `sequences`.

use minijinja::value::{Value, ValueKind};
use minijinja::Error;
use serde_json::Value as Json;

use super::filters::fail;

/// `nested`: every combination of the lists, each flattened one level (a term
/// that is not a list counts as a list of it).
pub(crate) fn nested(terms: &[Value]) -> Result<Vec<Value>, Error> {
    let lists: Vec<Vec<Value>> = terms.iter().map(as_list).collect();
    let Some((first, rest)) = lists.split_first() else {
        return Err(fail(
            "with_nested requires at least one element in the nested list",
        ));
    };
    let total = lists.iter().try_fold(1usize, |n, l| n.checked_mul(l.len()));
    if total.is_none_or(|n| n > 10_000_000) {
        return Err(fail("with_nested: more than 10,000,000 combinations"));
    }
    let mut combos: Vec<Vec<Value>> = first
        .iter()
        .map(|x| flatten_one(std::slice::from_ref(x)))
        .collect();
    for list in rest {
        let mut next = Vec::with_capacity(combos.len() * list.len());
        for combo in &combos {
            for y in list {
                let mut pair = combo.clone();
                pair.push(y.clone());
                next.push(flatten_one(&pair));
            }
        }
        combos = next;
    }
    Ok(combos.into_iter().map(Value::from).collect())
}

/// Ansible's `LookupBase._flatten`: lists among the items spliced in, one level.
fn flatten_one(items: &[Value]) -> Vec<Value> {
    let mut out = Vec::new();
    for item in items {
        match item.kind() {
            ValueKind::Seq => out.extend(item.try_iter().into_iter().flatten()),
            _ => out.push(item.clone()),
        }
    }
    out
}

fn as_list(term: &Value) -> Vec<Value> {
    match term.kind() {
        ValueKind::Seq => term.try_iter().map(Iterator::collect).unwrap_or_default(),
        ValueKind::None | ValueKind::Undefined => Vec::new(),
        _ => vec![term.clone()],
    }
}

/// `random_choice`: one of the terms.
pub(crate) fn random_choice(terms: &[Value]) -> Vec<Value> {
    use rand::seq::SliceRandom;
    terms
        .choose(&mut rand::thread_rng())
        .map(|t| vec![t.clone()])
        .unwrap_or_default()
}

/// `subelements`: `[item, subitem]` for each member of each item's list at the dotted `key`;
/// the list is taken out of the item, as Ansible's plugin pops it. A third term `{skip_missing:
/// true}` skips items without the key; items or a whole registered result with `skipped`
/// set are left out.
pub(crate) fn subelements(terms: &[Value]) -> Result<Vec<Value>, Error> {
    let expects = |msg: &str| {
        fail(format!(
            "subelements lookup expects a list of two or three items, {msg}"
        ))
    };
    if !(2..=3).contains(&terms.len()) {
        return Err(expects(""));
    }
    let source = to_json(&terms[0]);
    let Some(path) = terms[1].as_str() else {
        return Err(expects(
            "first a dict or a list, second a string pointing to the subkey",
        ));
    };
    let items: Vec<Json> = match source {
        Json::Array(items) => items,
        Json::Object(map) => {
            if map.get("skipped").is_some_and(|s| *s != Json::Bool(false)) {
                return Ok(Vec::new());
            }
            map.into_iter().map(|(_, v)| v).collect()
        }
        _ => {
            return Err(expects(
                "first a dict or a list, second a string pointing to the subkey",
            ))
        }
    };
    let flags = terms.get(2).map(to_json).unwrap_or(Json::Null);
    let skip_missing = match &flags {
        Json::Null => false,
        Json::Object(map) if map.keys().all(|k| k == "skip_missing") => map
            .get("skip_missing")
            .is_some_and(|v| crate::boolean::from_json(v).unwrap_or(false)),
        _ => {
            return Err(expects(
                "the optional third item must be a dict with flags ['skip_missing']",
            ))
        }
    };
    let keys: Vec<&str> = path.split('.').collect();
    let mut out = Vec::new();
    for mut item in items {
        if !item.is_object() {
            return Err(fail(format!(
                "subelements lookup expects a dictionary, got '{}'",
                crate::py_repr(&item)
            )));
        }
        if item.get("skipped").is_some_and(|s| *s != Json::Bool(false)) {
            continue;
        }
        let Some(sublist) = take_sublist(&mut item, &keys, skip_missing)? else {
            continue;
        };
        for sub in sublist {
            out.push(Value::from_serialize(Json::Array(vec![item.clone(), sub])));
        }
    }
    Ok(out)
}

/// The list at `keys` inside `item`, removed from it; `None` when a key is missing and
/// `skip_missing`.
fn take_sublist(
    item: &mut Json,
    keys: &[&str],
    skip_missing: bool,
) -> Result<Option<Vec<Json>>, Error> {
    let mut node = item;
    for (i, key) in keys.iter().enumerate() {
        let last = i + 1 == keys.len();
        let Some(map) = node.as_object_mut() else {
            return Ok(None);
        };
        if !map.contains_key(*key) {
            if skip_missing {
                return Ok(None);
            }
            return Err(fail(format!(
                "could not find '{key}' key in iterated item '{}'",
                crate::py_repr(&Json::Object(map.clone()))
            )));
        }
        if last {
            return match map.get(*key) {
                Some(Json::Array(_)) => match map.remove(*key) {
                    Some(Json::Array(list)) => Ok(Some(list)),
                    _ => Ok(Some(Vec::new())),
                },
                Some(other) => Err(fail(format!(
                    "the key {key} should point to a list, got '{}'",
                    crate::py_repr(other)
                ))),
                None => Ok(None),
            };
        }
        match map.get(*key) {
            Some(Json::Object(_)) => {}
            Some(_) if skip_missing => return Ok(None),
            Some(other) => {
                return Err(fail(format!(
                    "the key {key} should point to a dictionary, got '{}'",
                    crate::py_repr(other)
                )))
            }
            None => return Ok(None),
        }
        node = map.get_mut(*key).expect("checked above");
    }
    Ok(None)
}

fn to_json(value: &Value) -> Json {
    serde_json::to_value(value).unwrap_or(Json::Null)
}
