//! Jinja2's `min`, `max` and `unique` with their `attribute` and `case_sensitive` arguments
//! (minijinja's take neither; Ansible's `unique` is Jinja2's, case-insensitive by default, with
//! its own fallback for unhashable items), Jinja2's `sum` with `start` (a list of lists summed
//! onto `[]`), and Ansible's `product` (`itertools.product`) and `subelements`.

use std::cmp::Ordering;

use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::{Environment, Error};

use super::collections::items;

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("min", |v: &Value, kwargs: Kwargs| {
        extreme(v, kwargs, Ordering::Less)
    });
    env.add_filter("max", |v: &Value, kwargs: Kwargs| {
        extreme(v, kwargs, Ordering::Greater)
    });
    env.add_filter("product", product);
    env.add_filter("unique", unique);
    env.add_filter("rekey_on_member", rekey_on_member);
    env.add_filter("sum", sum);
    env.add_filter("subelements", subelements);
}

/// Jinja2's `sum(attribute=None, start=0)`: Python's `sum`, so numbers add (an integer sum
/// stays an integer) and lists concatenate onto a list `start`.
fn sum(
    value: &Value,
    attribute: Option<String>,
    start: Option<Value>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let attribute = super::named(attribute, &kwargs, "attribute")?;
    let start = super::named(start, &kwargs, "start")?.unwrap_or(Value::from(0));
    kwargs.assert_all_used()?;
    let key = ItemKey {
        attribute: attribute.map(Value::from),
        case_sensitive: Some(true),
    };
    let items: Vec<Value> = items(value)?
        .iter()
        .map(|item| key.of(item))
        .collect::<Result<_, _>>()?;
    let mismatch = |a: &Value, b: &Value| {
        super::fail(format!(
            "unsupported operand type(s) for +: '{}' and '{}'",
            crate::repr::py_type_name(a),
            crate::repr::py_type_name(b)
        ))
    };
    if start.kind() == ValueKind::String {
        return Err(super::fail(
            "sum() can't sum strings [use ''.join(seq) instead]",
        ));
    }
    if matches!(start.kind(), ValueKind::Seq | ValueKind::Iterable) {
        let mut out: Vec<Value> = start.try_iter()?.collect();
        for item in &items {
            if !matches!(item.kind(), ValueKind::Seq | ValueKind::Iterable) {
                return Err(super::fail(format!(
                    "can only concatenate list (not \"{}\") to list",
                    crate::repr::py_type_name(item)
                )));
            }
            out.extend(item.try_iter()?);
        }
        return Ok(Value::from(out));
    }
    let number = |v: &Value| matches!(v.kind(), ValueKind::Number | ValueKind::Bool);
    if !number(&start) {
        return Err(mismatch(&start, items.first().unwrap_or(&start)));
    }
    let as_int = |v: &Value| {
        if v.kind() == ValueKind::Bool {
            Some(i128::from(v.is_true()))
        } else if v.is_integer() {
            i128::try_from(v.clone()).ok()
        } else {
            None
        }
    };
    // as Python adds: integers exactly, a float from the first float on
    let mut total = start;
    for item in &items {
        if !number(item) {
            return Err(mismatch(&total, item));
        }
        let exact = as_int(&total)
            .zip(as_int(item))
            .and_then(|(a, b)| a.checked_add(b));
        total = match exact {
            Some(n) => i64::try_from(n).map(Value::from).unwrap_or(Value::from(n)),
            None => {
                let float = |v: &Value| f64::try_from(v.clone()).unwrap_or(f64::NAN);
                Value::from(float(&total) + float(item))
            }
        };
    }
    Ok(total)
}

/// Ansible's `subelements(path, skip_missing=False)`: `[item, value]` for each value of each
/// item's list at `path` (dotted, or a list of keys); the items are a list's, or a dict's
/// values. Unlike the lookup of the same name, the item keeps its list.
fn subelements(
    data: &Value,
    path: &Value,
    skip_missing: Option<bool>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let skip_missing = super::named(skip_missing, &kwargs, "skip_missing")?.unwrap_or(false);
    kwargs.assert_all_used()?;
    let elements: Vec<Value> = match data.kind() {
        ValueKind::Map => data
            .try_iter()?
            .map(|k| data.get_item(&k).unwrap_or_default())
            .collect(),
        ValueKind::Seq | ValueKind::Iterable => data.try_iter()?.collect(),
        _ => return Err(super::fail("obj must be a list of dicts or a nested dict")),
    };
    let keys: Vec<Value> = match path.kind() {
        ValueKind::String => path
            .as_str()
            .unwrap_or_default()
            .split('.')
            .map(Value::from)
            .collect(),
        ValueKind::Seq => path.try_iter()?.collect(),
        _ => return Err(super::fail("subelements must be a list or a string")),
    };
    let repr = crate::repr::py_repr;
    let mut out = Vec::new();
    for element in elements {
        let mut values = element.clone();
        for key in &keys {
            if values.kind() != ValueKind::Map {
                return Err(super::fail(format!(
                    "the key {} should point to a dictionary, got '{}'",
                    crate::repr::py_str(key),
                    crate::repr::py_str(&values)
                )));
            }
            match values.get_item(key).ok().filter(|v| !v.is_undefined()) {
                Some(v) => values = v,
                None if skip_missing => {
                    values = Value::from(Vec::<Value>::new());
                    break;
                }
                None => {
                    return Err(super::fail(format!(
                        "could not find {} key in iterated item {}",
                        repr(key),
                        repr(&values)
                    )))
                }
            }
        }
        if values.kind() != ValueKind::Seq {
            return Err(super::fail(format!(
                "the key {} should point to a list, got {}",
                repr(keys.last().unwrap_or(&Value::from(()))),
                repr(&values)
            )));
        }
        for value in values.try_iter()? {
            out.push(Value::from(vec![element.clone(), value]));
        }
    }
    Ok(Value::from(out))
}

/// Ansible's `rekey_on_member(key, duplicates='error')`: a dict of the items (a list's, or a
/// dict's values) keyed by their `key` member.
fn rekey_on_member(data: &Value, key: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    let duplicates: Option<String> = kwargs.get("duplicates")?;
    kwargs.assert_all_used()?;
    let duplicates = duplicates.unwrap_or_else(|| "error".to_string());
    if duplicates != "error" && duplicates != "overwrite" {
        return Err(super::fail(format!(
            "duplicates parameter to rekey_on_member has unknown value {}",
            crate::repr::py_repr(&Value::from(duplicates))
        )));
    }
    let members: Vec<Value> = match data.kind() {
        ValueKind::Map => data
            .try_iter()?
            .map(|k| data.get_item(&k).unwrap_or_default())
            .collect(),
        ValueKind::Seq | ValueKind::Iterable => data.try_iter()?.collect(),
        _ => return Err(super::fail("Type is not a valid list, set, or dict")),
    };
    let mut out: Vec<(Value, Value)> = Vec::new();
    for item in members {
        if item.kind() != ValueKind::Map {
            return Err(super::fail("List item is not a valid dict"));
        }
        let element = item.get_item(key).ok().filter(|v| !v.is_undefined());
        let element = element.ok_or_else(|| {
            super::fail(format!("Key {} was not found.", crate::repr::py_repr(key)))
        })?;
        match out.iter_mut().find(|(k, _)| *k == element) {
            Some(_) if duplicates == "error" => {
                return Err(super::fail(format!(
                    "Key {} is not unique, cannot convert to dict.",
                    crate::repr::py_repr(&element)
                )))
            }
            Some(slot) => slot.1 = item,
            None => out.push((element, item)),
        }
    }
    Ok(Value::from_iter(out))
}

/// Ansible's `unique`: Jinja2's `do_unique` (the first item of each key; the key is the
/// `attribute`, lower-cased unless `case_sensitive`), and when the keys cannot be hashed
/// (dicts, lists), Ansible's fallback (equal items, case-sensitive), which refuses
/// `case_sensitive=False` and `attribute`.
fn unique(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    let key = ItemKey::from_kwargs(&kwargs)?;
    let values = items(value)?;
    let mut keys = values
        .iter()
        .map(|item| key.of(item))
        .collect::<Result<Vec<_>, _>>()?;
    let unhashable = keys
        .iter()
        .any(|k| matches!(k.kind(), ValueKind::Map | ValueKind::Seq));
    if unhashable {
        if key.case_sensitive == Some(false) || key.attribute.is_some() {
            return Err(super::fail(
                "Jinja2's unique filter failed and we cannot fall back to Ansible's version as \
                 it does not support the parameters supplied.",
            ));
        }
        keys = values.clone();
    }
    let mut seen: Vec<&Value> = Vec::new();
    let mut out = Vec::new();
    for (item, key) in values.iter().zip(&keys) {
        if !seen.contains(&key) {
            seen.push(key);
            out.push(item.clone());
        }
    }
    Ok(Value::from(out))
}

/// The first item whose key is least (`Less`) or greatest (`Greater`); the key is the item's
/// `attribute` (a dotted path, numbers index lists), strings lower-cased unless
/// `case_sensitive`. An empty list gives an undefined value, as in Jinja2.
fn extreme(value: &Value, kwargs: Kwargs, wanted: Ordering) -> Result<Value, Error> {
    let key = ItemKey::from_kwargs(&kwargs)?;
    let mut best: Option<(Value, Value)> = None;
    for item in items(value)? {
        let item_key = key.of(&item)?;
        let better = match &best {
            None => true,
            Some((_, best_key)) => item_key.cmp(best_key) == wanted,
        };
        if better {
            best = Some((item, item_key));
        }
    }
    Ok(best.map_or(Value::UNDEFINED, |(item, _)| item))
}

/// An item's comparison key from the `attribute` and `case_sensitive` arguments, as Jinja2's
/// `make_attrgetter(attribute, postprocess=ignore_case)` makes it for `min`, `max` and
/// `unique`.
struct ItemKey {
    attribute: Option<Value>,
    case_sensitive: Option<bool>,
}

impl ItemKey {
    fn from_kwargs(kwargs: &Kwargs) -> Result<ItemKey, Error> {
        let key = ItemKey {
            attribute: kwargs.get("attribute")?,
            case_sensitive: kwargs.get("case_sensitive")?,
        };
        kwargs.assert_all_used()?;
        Ok(key)
    }

    /// The item's `attribute` (`a.b.0` walks attributes and, for numbers, list indexes),
    /// lower-cased when a string unless `case_sensitive`.
    fn of(&self, item: &Value) -> Result<Value, Error> {
        let mut key = item.clone();
        match &self.attribute {
            Some(path) if path.is_number() => key = key.get_item(path)?,
            Some(path) => {
                for part in path.to_string().split('.') {
                    key = match part.parse::<i64>() {
                        Ok(n) => key.get_item(&Value::from(n))?,
                        Err(_) => key.get_attr(part)?,
                    };
                }
            }
            None => {}
        }
        Ok(match key.as_str() {
            Some(s) if !self.case_sensitive.unwrap_or(false) => Value::from(s.to_lowercase()),
            _ => key,
        })
    }
}

/// The most combinations `product` makes: Python would try and exhaust the controller's memory.
const MAX_COMBINATIONS: usize = 10_000_000;

/// `itertools.product(first, *others)`: every combination, as lists, the last list varying
/// fastest.
fn product(first: &Value, others: Rest<Value>) -> Result<Value, Error> {
    let mut combos: Vec<Vec<Value>> = vec![Vec::new()];
    let lists = std::iter::once(first)
        .chain(others.iter())
        .map(items)
        .collect::<Result<Vec<_>, _>>()?;
    let total = lists.iter().try_fold(1usize, |n, l| n.checked_mul(l.len()));
    if total.is_none_or(|n| n > MAX_COMBINATIONS) {
        return Err(super::fail("product: more than 10,000,000 combinations"));
    }
    for list in lists {
        let mut next = Vec::with_capacity(combos.len() * list.len());
        for combo in &combos {
            for item in &list {
                let mut longer = combo.clone();
                longer.push(item.clone());
                next.push(longer);
            }
        }
        combos = next;
    }
    Ok(Value::from_iter(combos.into_iter().map(Value::from)))
}
