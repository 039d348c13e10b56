//! Lazy, recursive variable resolution.
//!
//! Ansible variables may hold templates that refer to other variables
//! (`root: "/tmp/{{ inventory_hostname }}"`, then `"{{ root }}/x"`). The variables of one
//! evaluation are wrapped in a [`VarNode`] tree: a value is converted (and, when it holds
//! `{{`/`{%`, templated against the same variables) only when a template looks it up, and the
//! result is cached for the rest of the evaluation. A variable that refers to itself, directly or
//! through others, gives a "recursive loop detected in template" error.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use minijinja::value::{Enumerator, Object, ObjectRepr, Value, ValueKind};
use minijinja::{Error, ErrorKind};
use serde_json::Value as Json;

use super::engine::Engine;
use super::layers::SharedVars;

/// How deep templated variables may nest (a variable whose template uses a variable whose
/// template uses ...) before it counts as a loop.
const MAX_DEPTH: usize = 64;

/// One step from a mapping or list to a member.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Step {
    Key(String),
    Index(usize),
}

type Path = Vec<Step>;

/// The variables of one evaluation, the cache of what was resolved, and the chain of variables
/// being templated right now (to detect loops).
#[derive(Debug)]
pub(crate) struct Scope {
    engine: Arc<Engine>,
    vars: Arc<Json>,
    /// Variables shared with other evaluations, under the own ones (see `layers`).
    shared: Option<SharedVars>,
    cache: Mutex<HashMap<Path, Value>>,
    active: Mutex<Vec<Path>>,
    /// Why a variable resolved to undefined (its template used an undefined name), so the final
    /// error names the real culprit as Ansible does.
    undefined_reasons: Mutex<HashMap<String, String>>,
}

impl Scope {
    pub(crate) fn new(
        engine: Arc<Engine>,
        vars: Arc<Json>,
        shared: Option<SharedVars>,
    ) -> Arc<Scope> {
        Arc::new(Scope {
            engine,
            vars,
            shared,
            cache: Mutex::default(),
            active: Mutex::default(),
            undefined_reasons: Mutex::default(),
        })
    }

    /// The root mapping, as the context of a template.
    pub(crate) fn root(self: &Arc<Self>) -> Value {
        Value::from_object(VarNode {
            scope: Arc::downgrade(self),
            path: Vec::new(),
        })
    }

    /// The message explaining why the variable `name` turned out undefined, if it did so
    /// because its own template used something undefined.
    pub(crate) fn undefined_reason(&self, name: &str) -> Option<String> {
        self.undefined_reasons.lock().unwrap().get(name).cloned()
    }

    /// The top-level variable `name`: the own mapping's, else the shared one's.
    fn top(&self, name: &str) -> Option<&Json> {
        match self.vars.as_ref() {
            Json::Object(map) => map.get(name).or_else(|| self.shared.as_ref()?.get(name)),
            _ => None,
        }
    }

    fn json_at(&self, path: &[Step]) -> Option<&Json> {
        let Some((first, rest)) = path.split_first() else {
            return Some(self.vars.as_ref());
        };
        let mut node = match first {
            Step::Key(k) => self.top(k)?,
            Step::Index(_) => return None,
        };
        for step in rest {
            node = match (step, node) {
                (Step::Key(k), Json::Object(map)) => map.get(k)?,
                (Step::Index(i), Json::Array(items)) => items.get(*i)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// The value at `path`, templated and converted, from the cache when resolved before.
    fn resolve(self: &Arc<Self>, path: Path) -> Option<Value> {
        if let Some(hit) = self.cache.lock().unwrap().get(&path) {
            return Some(hit.clone());
        }
        let json = self.json_at(&path)?;
        let value = match json {
            Json::String(s) if super::markup::has_template_markers(s) => {
                self.template_member(&path, s)?
            }
            Json::Object(_) | Json::Array(_) if contains_template(json) => {
                Value::from_object(VarNode {
                    scope: Arc::downgrade(self),
                    path: path.clone(),
                })
            }
            other => Value::from_serialize(other),
        };
        self.cache.lock().unwrap().insert(path, value.clone());
        Some(value)
    }

    /// Templates the string member at `path` against the same variables.
    fn template_member(self: &Arc<Self>, path: &Path, text: &str) -> Option<Value> {
        {
            let mut active = self.active.lock().unwrap();
            if active.contains(path) || active.len() >= MAX_DEPTH {
                let chain = active
                    .iter()
                    .chain(std::iter::once(path))
                    .map(|p| describe(p))
                    .collect::<Vec<_>>()
                    .join(" -> ");
                return Some(Value::from(Error::new(
                    ErrorKind::InvalidOperation,
                    format!("recursive loop detected in template: {chain}"),
                )));
            }
            active.push(path.clone());
        }
        let result = self.engine.native(self, text);
        self.active.lock().unwrap().pop();
        match result {
            Ok(value) => Some(value),
            Err(err) if err.is_undefined() => {
                // Like Ansible: a variable whose template uses an undefined name is itself
                // undefined (so `| default(...)` and `is defined` work on it).
                if let [Step::Key(name)] = path.as_slice() {
                    self.undefined_reasons
                        .lock()
                        .unwrap()
                        .insert(name.clone(), err.message().to_string());
                }
                None
            }
            Err(err) => Some(Value::from(err.into_minijinja())),
        }
    }
}

fn describe(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(k) if out.is_empty() => out.push_str(k),
            Step::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Whether any string inside `value` holds a template.
pub(crate) fn contains_template(value: &Json) -> bool {
    match value {
        Json::String(s) => super::markup::has_template_markers(s),
        Json::Array(items) => items.iter().any(contains_template),
        Json::Object(map) => map.values().any(contains_template),
        _ => false,
    }
}

/// Whether a list or dict the expression built holds an undefined value (`[1, nope]`): Ansible
/// fails such a result ("'nope' is undefined") where serializing it would write `null`.
/// Variables' own mappings and lists are not walked: their members are resolved, and fail,
/// when used.
pub(crate) fn holds_undefined(value: &Value) -> bool {
    holds(value, &|v| v.is_undefined())
}

/// Whether a number in `value` (at any depth, variables' own values aside: they come from
/// JSON, which has none) is infinite or NaN ([`crate::engine::DIVISION_BY_ZERO`]).
pub(crate) fn holds_non_finite(value: &Value) -> bool {
    holds(value, &crate::engine::is_non_finite)
}

/// Whether `value`, or a member at any depth of a list or dict the expression built (not a
/// variable's own), is one `found` picks.
fn holds(value: &Value, found: &dyn Fn(&Value) -> bool) -> bool {
    fn walk(value: &Value, found: &dyn Fn(&Value) -> bool, depth: usize) -> bool {
        if found(value) {
            return true;
        }
        if depth > 64 || value.downcast_object_ref::<VarNode>().is_some() {
            return false;
        }
        match value.kind() {
            ValueKind::Seq => value
                .try_iter()
                .is_ok_and(|mut items| items.any(|item| walk(&item, found, depth + 1))),
            ValueKind::Map => value.try_iter().is_ok_and(|mut keys| {
                keys.any(|key| {
                    value
                        .get_item(&key)
                        .is_ok_and(|v| walk(&v, found, depth + 1))
                })
            }),
            _ => false,
        }
    }
    walk(value, found, 0)
}

/// The message of the first member of `value` whose template failed (a variable's mapping with
/// `{bang: "{{ 1 | nope }}"}`), which serializing would silently write as `null`: Ansible fails
/// the whole value instead. Undefined members stay for `default` to absorb (see
/// [`holds_undefined`]).
pub(crate) fn failed_member(value: &Value) -> Option<String> {
    fn walk(value: &Value, depth: usize) -> Option<String> {
        if value.kind() == ValueKind::Invalid {
            return Some(invalid_message(value));
        }
        if depth > 64 || value.downcast_object_ref::<VarNode>().is_none() {
            return None;
        }
        match value.kind() {
            ValueKind::Seq => value
                .try_iter()
                .ok()?
                .find_map(|item| walk(&item, depth + 1)),
            ValueKind::Map => value
                .try_iter()
                .ok()?
                .find_map(|key| walk(&value.get_item(&key).ok()?, depth + 1)),
            _ => None,
        }
    }
    walk(value, 0)
}

/// The error an invalid value carries, from its text (`<invalid value: invalid operation:
/// MESSAGE>`): minijinja keeps the error itself crate-private.
fn invalid_message(value: &Value) -> String {
    let text = value.to_string();
    let inner = text
        .strip_prefix("<invalid value: ")
        .and_then(|t| t.strip_suffix('>'))
        .unwrap_or(&text);
    inner
        .strip_prefix("invalid operation: ")
        .unwrap_or(inner)
        .to_string()
}

/// A mapping or list inside the variables whose members are resolved on access.
#[derive(Debug)]
struct VarNode {
    scope: Weak<Scope>,
    path: Path,
}

impl VarNode {
    fn child(&self, step: Step) -> Path {
        let mut path = self.path.clone();
        path.push(step);
        path
    }
}

impl Object for VarNode {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        let Some(scope) = self.scope.upgrade() else {
            return ObjectRepr::Plain;
        };
        match scope.json_at(&self.path) {
            Some(Json::Array(_)) => ObjectRepr::Seq,
            _ => ObjectRepr::Map,
        }
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let scope = self.scope.upgrade()?;
        match scope.json_at(&self.path)? {
            Json::Object(map) => {
                let key = key.as_str()?;
                let known = if self.path.is_empty() {
                    scope.top(key).is_some()
                } else {
                    map.contains_key(key)
                };
                if !known {
                    // `vars` is the mapping of all variables, as in Ansible.
                    if self.path.is_empty() && key == "vars" {
                        return Some(scope.root());
                    }
                    return None;
                }
                scope.resolve(self.child(Step::Key(key.to_string())))
            }
            Json::Array(items) => {
                let index = usize::try_from(key.as_i64()?).ok()?;
                if index >= items.len() {
                    return None;
                }
                scope.resolve(self.child(Step::Index(index)))
            }
            _ => None,
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let Some(scope) = self.scope.upgrade() else {
            return Enumerator::Empty;
        };
        match scope.json_at(&self.path) {
            Some(Json::Object(map)) => {
                let mut keys: Vec<Value> = map.keys().map(|k| Value::from(k.as_str())).collect();
                if let (true, Some(shared)) = (self.path.is_empty(), scope.shared.as_ref()) {
                    keys.extend(
                        shared
                            .keys()
                            .filter(|k| !map.contains_key(*k))
                            .map(|k| Value::from(k.as_str())),
                    );
                }
                Enumerator::Values(keys)
            }
            Some(Json::Array(items)) => Enumerator::Seq(items.len()),
            _ => Enumerator::Empty,
        }
    }
}
