//! Filters on lists and dicts: set operations, dict2items/items2dict, combine, flatten,
//! ternary, mandatory, random, extract, and the `dict` global.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State};
use rand::{Rng, SeedableRng};

use super::fail;

/// An insertion-ordered mapping being built (Python dicts keep insertion order).
#[derive(Default)]
struct ValueMap(Vec<(Value, Value)>);

impl ValueMap {
    fn new() -> Self {
        ValueMap::default()
    }

    fn insert(&mut self, key: Value, value: Value) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }

    fn get(&self, key: &Value) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    fn extend(&mut self, pairs: Vec<(Value, Value)>) {
        for (k, v) in pairs {
            self.insert(k, v);
        }
    }
}

impl From<ValueMap> for Value {
    fn from(map: ValueMap) -> Value {
        Value::from_iter(map.0)
    }
}

impl FromIterator<(Value, Value)> for ValueMap {
    fn from_iter<I: IntoIterator<Item = (Value, Value)>>(iter: I) -> Self {
        let mut map = ValueMap::new();
        map.extend(iter.into_iter().collect());
        map
    }
}

impl IntoIterator for ValueMap {
    type Item = (Value, Value);
    type IntoIter = std::vec::IntoIter<(Value, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("union", |a: Value, b: Value| -> Result<Value, Error> {
        let mut all = items(&a)?;
        all.extend(items(&b)?);
        Ok(Value::from(unique(all)))
    });
    env.add_filter("intersect", |a: Value, b: Value| -> Result<Value, Error> {
        let other = items(&b)?;
        let kept = items(&a)?.into_iter().filter(|x| other.contains(x));
        Ok(Value::from(unique(kept.collect())))
    });
    env.add_filter("difference", |a: Value, b: Value| -> Result<Value, Error> {
        let other = items(&b)?;
        let kept = items(&a)?.into_iter().filter(|x| !other.contains(x));
        Ok(Value::from(unique(kept.collect())))
    });
    env.add_filter(
        "symmetric_difference",
        |a: Value, b: Value| -> Result<Value, Error> {
            let (left, right) = (items(&a)?, items(&b)?);
            let mut out: Vec<Value> = left
                .iter()
                .filter(|x| !right.contains(x))
                .cloned()
                .collect();
            out.extend(right.iter().filter(|x| !left.contains(x)).cloned());
            Ok(Value::from(unique(out)))
        },
    );
    env.add_filter("dict2items", dict2items);
    env.add_filter("items2dict", items2dict);
    env.add_filter("combine", combine);
    env.add_filter("flatten", flatten);
    env.add_filter("ternary", ternary);
    env.add_filter("mandatory", mandatory);
    env.add_filter("random", random);
    env.add_filter("shuffle", shuffle);
    env.add_filter("extract", extract);
    env.add_filter("zip_longest", zip_longest);
    env.add_function("dict", dict);
}

/// The members of a list (or the keys of a dict, the characters of a string), as Python's
/// `list()` gives them.
pub(crate) fn items(value: &Value) -> Result<Vec<Value>, Error> {
    if value.is_undefined() {
        return Err(Error::from(ErrorKind::UndefinedError));
    }
    if let Some(s) = value.as_str() {
        return Ok(s.chars().map(|c| Value::from(c.to_string())).collect());
    }
    match value.try_iter() {
        Ok(iter) => Ok(iter.collect()),
        Err(_) => Err(fail(format!(
            "'{}' object is not iterable",
            crate::repr::py_type_name(value)
        ))),
    }
}

fn unique(values: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::with_capacity(values.len());
    for v in values {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

fn pairs(value: &Value) -> Result<Vec<(Value, Value)>, Error> {
    if value.kind() != ValueKind::Map {
        return Err(fail(format!(
            "dict2items requires a dictionary, got {} instead.",
            crate::repr::py_type_name(value)
        )));
    }
    let mut out = Vec::new();
    for key in value.try_iter()? {
        let member = value.get_item(&key)?;
        out.push((key, member));
    }
    Ok(out)
}

fn dict2items(value: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let key_name: Option<String> = kwargs.get("key_name")?;
    let value_name: Option<String> = kwargs.get("value_name")?;
    kwargs.assert_all_used()?;
    let key_name = key_name.unwrap_or_else(|| "key".into());
    let value_name = value_name.unwrap_or_else(|| "value".into());
    let list: Vec<Value> = pairs(&value)?
        .into_iter()
        .map(|(k, v)| {
            let mut map = ValueMap::new();
            map.insert(Value::from(key_name.as_str()), k);
            map.insert(Value::from(value_name.as_str()), v);
            Value::from(map)
        })
        .collect();
    Ok(Value::from(list))
}

fn items2dict(value: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let key_name: Option<Value> = kwargs.get("key_name")?;
    let value_name: Option<Value> = kwargs.get("value_name")?;
    kwargs.assert_all_used()?;
    let key_name = key_name.unwrap_or_else(|| Value::from("key"));
    let value_name = value_name.unwrap_or_else(|| Value::from("value"));
    let mut map = ValueMap::new();
    for item in items(&value)? {
        let key = item.get_item(&key_name).unwrap_or_default();
        let member = item.get_item(&value_name).unwrap_or_default();
        if key.is_undefined() || member.is_undefined() {
            return Err(fail(format!(
                "items2dict requires each item to have '{key_name}' and '{value_name}' keys"
            )));
        }
        map.insert(key, member);
    }
    Ok(Value::from(map))
}

fn to_map(value: &Value) -> Result<ValueMap, Error> {
    Ok(pairs(value)
        .map_err(|_| {
            fail(format!(
                "failed to combine variables, expected dicts but got a '{}'",
                crate::repr::py_type_name(value)
            ))
        })?
        .into_iter()
        .collect())
}

fn merge(target: &mut ValueMap, source: ValueMap, recursive: bool, list_merge: &str) {
    for (key, new) in source {
        let merged = match target.get(&key) {
            Some(old)
                if recursive && old.kind() == ValueKind::Map && new.kind() == ValueKind::Map =>
            {
                let mut inner = to_map(old).unwrap_or_default();
                merge(
                    &mut inner,
                    to_map(&new).unwrap_or_default(),
                    true,
                    list_merge,
                );
                Value::from(inner)
            }
            Some(old) if old.kind() == ValueKind::Seq && new.kind() == ValueKind::Seq => {
                let old_items = items(old).unwrap_or_default();
                let new_items = items(&new).unwrap_or_default();
                match list_merge {
                    "keep" => old.clone(),
                    "append" => Value::from([old_items, new_items].concat()),
                    "prepend" => Value::from([new_items, old_items].concat()),
                    "append_rp" => {
                        let mut out: Vec<Value> = old_items
                            .into_iter()
                            .filter(|x| !new_items.contains(x))
                            .collect();
                        out.extend(new_items);
                        Value::from(out)
                    }
                    "prepend_rp" => {
                        let mut out = new_items.clone();
                        out.extend(old_items.into_iter().filter(|x| !new_items.contains(x)));
                        Value::from(out)
                    }
                    _ => new,
                }
            }
            _ => new,
        };
        target.insert(key, merged);
    }
}

/// Ansible's `combine(*dicts, recursive=False, list_merge='replace')`; a list of dicts as the
/// input is combined in order.
fn combine(value: Value, others: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let recursive: Option<bool> = kwargs.get("recursive")?;
    let list_merge: Option<String> = kwargs.get("list_merge")?;
    kwargs.assert_all_used()?;
    let mut dicts = Vec::new();
    for v in std::iter::once(&value).chain(others.iter()) {
        if v.kind() == ValueKind::Seq {
            dicts.extend(items(v)?);
        } else {
            dicts.push(v.clone());
        }
    }
    let mut out = ValueMap::new();
    for d in dicts {
        merge(
            &mut out,
            to_map(&d)?,
            recursive.unwrap_or(false),
            list_merge.as_deref().unwrap_or("replace"),
        );
    }
    Ok(Value::from(out))
}

fn flatten_into(out: &mut Vec<Value>, value: &Value, levels: Option<i64>, skip_nulls: bool) {
    for item in items(value).unwrap_or_default() {
        if skip_nulls && item.is_none() {
            continue;
        }
        let descend = item.kind() == ValueKind::Seq && levels.is_none_or(|l| l > 0);
        if descend {
            flatten_into(out, &item, levels.map(|l| l - 1), skip_nulls);
        } else {
            out.push(item);
        }
    }
}

fn flatten(value: Value, levels: Option<i64>, kwargs: Kwargs) -> Result<Value, Error> {
    let levels = match kwargs.get::<Option<i64>>("levels")? {
        Some(l) => Some(l),
        None => levels,
    };
    let skip_nulls: Option<bool> = kwargs.get("skip_nulls")?;
    kwargs.assert_all_used()?;
    let mut out = Vec::new();
    flatten_into(&mut out, &value, levels, skip_nulls.unwrap_or(true));
    Ok(Value::from(out))
}

fn ternary(value: &Value, yes: Value, no: Value, none: Option<Value>) -> Value {
    match none {
        Some(none) if value.is_none() => none,
        _ if value.is_true() => yes,
        _ => no,
    }
}

fn mandatory(value: &Value, msg: Option<String>) -> Result<Value, Error> {
    if value.is_undefined() {
        return Err(match msg {
            Some(msg) => fail(msg),
            None => Error::from(ErrorKind::UndefinedError),
        });
    }
    Ok(value.clone())
}

fn rng_for(seed: Option<Value>) -> rand::rngs::StdRng {
    match seed {
        Some(seed) => {
            let mut hasher = DefaultHasher::new();
            crate::repr::py_string(&seed).hash(&mut hasher);
            rand::rngs::StdRng::seed_from_u64(hasher.finish())
        }
        None => rand::rngs::StdRng::from_entropy(),
    }
}

/// Ansible's `random`: a random member of a list, or a number below an integer
/// (`start`/`step` kwargs); `seed` makes it repeatable.
fn random(value: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let seed: Option<Value> = kwargs.get("seed")?;
    let start: Option<i64> = kwargs.get("start")?;
    let step: Option<i64> = kwargs.get("step")?;
    kwargs.assert_all_used()?;
    let mut rng = rng_for(seed);
    if let Some(end) = value.as_i64() {
        let start = start.unwrap_or(0);
        let step = step.unwrap_or(1).max(1);
        let count = (end - start + step - 1) / step;
        if count <= 0 {
            return Err(fail("random: empty range"));
        }
        return Ok(Value::from(start + rng.gen_range(0..count) * step));
    }
    let all = items(&value)?;
    if all.is_empty() {
        return Err(fail("random: cannot choose from an empty sequence"));
    }
    Ok(all[rng.gen_range(0..all.len())].clone())
}

fn shuffle(value: Value, kwargs: Kwargs) -> Result<Value, Error> {
    use rand::seq::SliceRandom;
    let seed: Option<Value> = kwargs.get("seed")?;
    kwargs.assert_all_used()?;
    let mut all = items(&value)?;
    all.shuffle(&mut rng_for(seed));
    Ok(Value::from(all))
}

/// Ansible's `extract(container, morekeys)`: `container[item]`, then deeper keys.
fn extract(item: Value, container: Value, morekeys: Option<Value>) -> Result<Value, Error> {
    let mut out = container.get_item(&item)?;
    if let Some(more) = morekeys {
        let keys = if more.kind() == ValueKind::Seq {
            items(&more)?
        } else {
            vec![more]
        };
        for key in keys {
            out = out.get_item(&key)?;
        }
    }
    if out.is_undefined() {
        return Err(Error::from(ErrorKind::UndefinedError));
    }
    Ok(out)
}

fn zip_longest(value: Value, others: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let fill: Option<Value> = kwargs.get("fillvalue")?;
    kwargs.assert_all_used()?;
    let lists = std::iter::once(&value)
        .chain(others.iter())
        .map(items)
        .collect::<Result<Vec<_>, _>>()?;
    let longest = lists.iter().map(Vec::len).max().unwrap_or(0);
    let fill = fill.unwrap_or_else(|| Value::from(()));
    let rows: Vec<Value> = (0..longest)
        .map(|i| {
            Value::from(
                lists
                    .iter()
                    .map(|l| l.get(i).cloned().unwrap_or_else(|| fill.clone()))
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    Ok(Value::from(rows))
}

/// Python's `dict()`: from keyword arguments, a dict, or a list of pairs.
fn dict(_state: &State, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let mut map = ValueMap::new();
    if let Some(source) = args.first() {
        if source.kind() == ValueKind::Map {
            map.extend(pairs(source)?);
        } else {
            for pair in items(source)? {
                let kv = items(&pair)?;
                if kv.len() != 2 {
                    return Err(fail(
                        "dictionary update sequence element has the wrong length; 2 is required",
                    ));
                }
                map.insert(kv[0].clone(), kv[1].clone());
            }
        }
    }
    for key in kwargs.args() {
        map.insert(Value::from(key), kwargs.get::<Value>(key)?);
    }
    Ok(Value::from(map))
}
