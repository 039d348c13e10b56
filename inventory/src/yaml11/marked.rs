//! `Marked`: a YAML value tree that remembers where every node came from.
//!
//! Playbook and inventory checks need to say *where* a bad value is, long after parsing; a plain
//! `serde_json::Value` forgets that. `Marked` mirrors `Value` but keeps a 1-based line and column on
//! every node, and keeps mapping keys in document order.

use serde_json::{Map, Number, Value};

/// One YAML node with its source position (1-based line and column of its first character).
#[derive(Debug, Clone, PartialEq)]
pub struct Marked {
    /// The node's value.
    pub value: MarkedValue,
    /// 1-based line of the node's start.
    pub line: usize,
    /// 1-based column of the node's start.
    pub col: usize,
}

/// The value of a [`Marked`] node, after YAML 1.1 scalar resolution.
#[derive(Debug, Clone, PartialEq)]
pub enum MarkedValue {
    /// `~`, `null`, or an empty value.
    Null,
    /// `true`/`yes`/`on` and friends.
    Bool(bool),
    /// Decimal, octal (`0644`), hex (`0x1F`), binary (`0b11`) or sexagesimal (`1:30`) integer.
    Int(i64),
    /// A float, including `.inf` and `.nan`.
    Float(f64),
    /// Any other scalar, and every quoted or block scalar.
    Str(String),
    /// A sequence.
    Seq(Vec<Marked>),
    /// A mapping, keys in document order, duplicates resolved (last one wins, first position kept).
    Map(Vec<(String, Marked)>),
}

impl Marked {
    /// Builds a node.
    pub fn new(value: MarkedValue, line: usize, col: usize) -> Self {
        Marked { value, line, col }
    }

    /// Converts to a `serde_json::Value`, dropping positions.
    ///
    /// Non-finite floats have no JSON form; they become the strings `"inf"`, `"-inf"` and `"nan"`
    /// (what Python prints for them, hence what an Ansible template would show).
    pub fn to_json(&self) -> Value {
        match &self.value {
            MarkedValue::Null => Value::Null,
            MarkedValue::Bool(b) => Value::Bool(*b),
            MarkedValue::Int(i) => Value::Number((*i).into()),
            MarkedValue::Float(f) => float_to_json(*f),
            MarkedValue::Str(s) => Value::String(s.clone()),
            MarkedValue::Seq(items) => Value::Array(items.iter().map(Marked::to_json).collect()),
            MarkedValue::Map(pairs) => {
                let mut map = Map::new();
                for (k, v) in pairs {
                    map.insert(k.clone(), v.to_json());
                }
                Value::Object(map)
            }
        }
    }

    /// Looks a key up in a mapping node; `None` for other nodes or a missing key.
    pub fn get(&self, key: &str) -> Option<&Marked> {
        match &self.value {
            MarkedValue::Map(pairs) => pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// A short name of the node's kind for error messages ("a mapping", "a list", ...).
    pub fn kind(&self) -> &'static str {
        self.value.kind()
    }

    /// Number of nodes in this tree (itself included); used to bound alias expansion.
    pub(crate) fn size(&self) -> usize {
        match &self.value {
            MarkedValue::Seq(items) => 1 + items.iter().map(Marked::size).sum::<usize>(),
            MarkedValue::Map(pairs) => 1 + pairs.iter().map(|(_, v)| v.size()).sum::<usize>(),
            _ => 1,
        }
    }
}

impl MarkedValue {
    /// A short name of the kind for error messages ("a mapping", "a list", ...).
    pub fn kind(&self) -> &'static str {
        match self {
            MarkedValue::Null => "null",
            MarkedValue::Bool(_) => "a boolean",
            MarkedValue::Int(_) => "an integer",
            MarkedValue::Float(_) => "a float",
            MarkedValue::Str(_) => "a string",
            MarkedValue::Seq(_) => "a list",
            MarkedValue::Map(_) => "a mapping",
        }
    }
}

/// JSON form of a float; non-finite values become Python's spelling of them.
pub(crate) fn float_to_json(f: f64) -> Value {
    match Number::from_f64(f) {
        Some(n) => Value::Number(n),
        None if f.is_nan() => Value::String("nan".into()),
        None if f > 0.0 => Value::String("inf".into()),
        None => Value::String("-inf".into()),
    }
}
