//! Jinja2's `min` and `max` with their `attribute` and `case_sensitive` arguments (minijinja's
//! take neither), and Ansible's `product` (`itertools.product`).

use std::cmp::Ordering;

use minijinja::value::{Kwargs, Rest, Value};
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
}

/// The first item whose key is least (`Less`) or greatest (`Greater`); the key is the item's
/// `attribute` (a dotted path, numbers index lists), strings lower-cased unless
/// `case_sensitive`. An empty list gives an undefined value, as in Jinja2.
fn extreme(value: &Value, kwargs: Kwargs, wanted: Ordering) -> Result<Value, Error> {
    let case_sensitive: Option<bool> = kwargs.get("case_sensitive")?;
    let attribute: Option<Value> = kwargs.get("attribute")?;
    kwargs.assert_all_used()?;
    let key = |item: &Value| -> Result<Value, Error> {
        let mut key = item.clone();
        if let Some(path) = &attribute {
            key = attribute_of(&key, path)?;
        }
        Ok(match key.as_str() {
            Some(s) if !case_sensitive.unwrap_or(false) => Value::from(s.to_lowercase()),
            _ => key,
        })
    };
    let mut best: Option<(Value, Value)> = None;
    for item in items(value)? {
        let item_key = key(&item)?;
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

/// Jinja2's `make_attrgetter`: `a.b.0` walks attributes and, for numbers, list indexes.
fn attribute_of(item: &Value, path: &Value) -> Result<Value, Error> {
    if path.is_number() {
        return item.get_item(path);
    }
    let mut value = item.clone();
    for part in path.to_string().split('.') {
        value = match part.parse::<i64>() {
            Ok(n) => value.get_item(&Value::from(n))?,
            Err(_) => value.get_attr(part)?,
        };
    }
    Ok(value)
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
