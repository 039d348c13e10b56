//! Variables in two layers: one evaluation's own mapping, and a mapping shared by reference
//! (issue 18 item 7, 1,000 hosts).
//!
//! Some variables are the same for every host of a play and grow with the number of hosts:
//! `groups`, `ansible_play_hosts`, `ansible_play_batch`... Copied into every host's variables for
//! every task, they made building a task's variables O(hosts), a run O(hosts²) in CPU, and every
//! host in flight held its own copy (most of the controller's memory at 1,000 hosts). [`Vars`]
//! keeps them in one `Arc` that every host's variables point at; a lookup tries the host's own
//! mapping first, then the shared one, so a variable set on the own layer afterwards (a loop's
//! `item`, `hostvars`) is seen over a shared one, exactly as an insert into one mapping would be.
//!
//! Whoever builds the layers keeps the shared names out of the own mapping where the shared
//! value must win (the executor removes them after merging its lower-precedence layers).

use std::sync::Arc;

use serde_json::{Map, Value};

/// A mapping shared, not copied, by the variables of many evaluations.
pub type SharedVars = Arc<Map<String, Value>>;

/// What the templar evaluates against: a JSON mapping, or [`Vars`] (a mapping over a shared one).
pub trait AsVars {
    /// The evaluation's own variables (a JSON object; anything else counts as no variables).
    fn own(&self) -> &Value;
    /// Variables shared with other evaluations, looked up when the own mapping lacks a name.
    fn shared(&self) -> Option<&SharedVars> {
        None
    }
}

impl AsVars for Value {
    fn own(&self) -> &Value {
        self
    }
}

/// A task's variables: its own mapping over a shared one (see the module doc).
#[derive(Debug, Clone, PartialEq)]
pub struct Vars {
    own: Value,
    shared: SharedVars,
}

impl Default for Vars {
    fn default() -> Self {
        Vars::new(Map::new(), SharedVars::default())
    }
}

impl AsVars for Vars {
    fn own(&self) -> &Value {
        &self.own
    }
    fn shared(&self) -> Option<&SharedVars> {
        Some(&self.shared)
    }
}

impl Vars {
    /// `own` over `shared`.
    pub fn new(own: Map<String, Value>, shared: SharedVars) -> Vars {
        Vars {
            own: Value::Object(own),
            shared,
        }
    }

    /// Only a mapping of its own (nothing shared).
    pub fn from_map(own: Map<String, Value>) -> Vars {
        Vars::new(own, SharedVars::default())
    }

    /// The variable `name`: the own layer's, else the shared one's.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.own_map().get(name).or_else(|| self.shared.get(name))
    }

    /// Whether `name` is set in either layer.
    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Sets `name` on the own layer, over any shared value of that name.
    pub fn insert(&mut self, name: String, value: Value) -> Option<Value> {
        self.own_map_mut().insert(name, value)
    }

    /// Removes `name` from the own layer (a shared value of that name shows again).
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        self.own_map_mut().remove(name)
    }

    /// The own layer.
    pub fn own_map(&self) -> &Map<String, Value> {
        match &self.own {
            Value::Object(m) => m,
            _ => unreachable!("the own layer is always a mapping"),
        }
    }

    /// The own layer, to change.
    pub fn own_map_mut(&mut self) -> &mut Map<String, Value> {
        match &mut self.own {
            Value::Object(m) => m,
            _ => unreachable!("the own layer is always a mapping"),
        }
    }

    /// Puts `shared` under the own layer instead of the shared mapping it had.
    pub fn set_shared(&mut self, shared: SharedVars) {
        self.shared = shared;
    }

    /// The shared layer.
    pub fn shared_map(&self) -> &SharedVars {
        &self.shared
    }

    /// Both layers copied into one mapping (O(size of the shared layer): for output and the
    /// rare consumer that needs every variable as JSON, never per evaluation).
    pub fn to_map(&self) -> Map<String, Value> {
        let mut out = self.own_map().clone();
        for (k, v) in self.shared.iter() {
            if !out.contains_key(k) {
                out.insert(k.clone(), v.clone());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Templar;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not a mapping"),
        }
    }

    /// Issue 18.7: a template sees the shared layer's variables as its own, the own layer wins
    /// for a name set on it, and `vars` enumerates both; the shared mapping is never copied.
    #[test]
    fn templates_see_both_layers_own_first() {
        let shared: SharedVars = Arc::new(map(json!({"groups": {"all": ["a", "b"]}, "x": 1})));
        let mut vars = Vars::new(
            map(json!({"n": "a", "h": "{{ groups.all | length }}"})),
            shared.clone(),
        );
        let t = Templar::new();
        assert_eq!(
            t.render_str("{{ n }} {{ groups['all'] | join(',') }} {{ h }}", &vars)
                .unwrap(),
            "a a,b 2"
        );
        assert_eq!(t.eval("x", &vars).unwrap(), json!(1));
        vars.insert("x".into(), json!("own"));
        assert_eq!(t.eval("x", &vars).unwrap(), json!("own"));
        assert!(t
            .eval_bool("'groups' in vars and 'n' in vars", &vars)
            .unwrap());
        assert_eq!(vars.get("groups"), shared.get("groups"));
        assert!(Arc::ptr_eq(vars.shared_map(), &shared));
        assert_eq!(vars.to_map().get("x"), Some(&json!("own")));
        vars.remove("x");
        assert_eq!(t.eval("x", &vars).unwrap(), json!(1));
        assert!(t
            .eval("missing", &vars)
            .unwrap_err()
            .0
            .contains("'missing' is undefined"));
    }
}
