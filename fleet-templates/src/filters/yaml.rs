//! `to_yaml`/`to_nice_yaml` as PyYAML writes them (keys sorted; `to_yaml` writes innermost
//! collections in flow style, `to_nice_yaml` writes block style with an indent of 4).

use minijinja::value::{Value, ValueKind};

/// PyYAML's `yaml.dump(value, indent=indent, default_flow_style=None|False, allow_unicode=True)`.
pub(crate) fn yaml_dump(value: &Value, indent: usize, flow_leaves: bool) -> String {
    let mut w = Writer {
        out: String::new(),
        column: 0,
        indent: indent.max(2),
        flow_leaves,
    };
    if is_scalar(value) || is_empty_collection(value) || (flow_leaves && is_leaf(value)) {
        w.write(&flow(value));
    } else {
        w.node(value, 0, false);
    }
    w.out.push('\n');
    w.out
}

struct Writer {
    out: String,
    column: usize,
    indent: usize,
    flow_leaves: bool,
}

impl Writer {
    fn write(&mut self, s: &str) {
        self.out.push_str(s);
        self.column += s.chars().count();
    }

    /// Moves to column `indent`, on a new line if this line is already past it.
    fn goto(&mut self, indent: usize) {
        let at_line_start = self.out.is_empty() || self.out.ends_with('\n');
        if self.column > indent || (self.column == indent && !at_line_start) {
            self.out.push('\n');
            self.column = 0;
        }
        let pad = indent - self.column;
        self.write(&" ".repeat(pad));
    }

    /// Writes a collection whose first line starts at `indent`.
    fn node(&mut self, value: &Value, indent: usize, _in_seq: bool) {
        match value.kind() {
            ValueKind::Map => {
                for key in sorted_keys(value) {
                    self.goto(indent);
                    self.write(&scalar(&key));
                    self.write(":");
                    let member = value.get_item(&key).unwrap_or_default();
                    self.member(&member, indent, true);
                }
            }
            _ => {
                for item in value.try_iter().into_iter().flatten() {
                    self.goto(indent);
                    self.write("-");
                    self.member(&item, indent, false);
                }
            }
        }
    }

    /// Writes the value after `key:` (in a mapping) or `-` (in a sequence) at `indent`.
    fn member(&mut self, value: &Value, indent: usize, in_mapping: bool) {
        if is_scalar(value) || is_empty_collection(value) || (self.flow_leaves && is_leaf(value)) {
            self.write(" ");
            self.write(&flow(value));
            return;
        }
        let seq = value.kind() != ValueKind::Map;
        if in_mapping {
            self.out.push('\n');
            self.column = 0;
            // sequences in a mapping are not indented, mappings are
            let inner = if seq { indent } else { indent + self.indent };
            self.node(value, inner, seq);
        } else {
            self.node(value, indent + self.indent, seq);
        }
    }
}

fn sorted_keys(value: &Value) -> Vec<Value> {
    let mut keys: Vec<Value> = value.try_iter().map(|i| i.collect()).unwrap_or_default();
    keys.sort();
    keys
}

fn is_scalar(value: &Value) -> bool {
    !matches!(
        value.kind(),
        ValueKind::Map | ValueKind::Seq | ValueKind::Iterable
    )
}

fn is_empty_collection(value: &Value) -> bool {
    !is_scalar(value) && value.len() == Some(0)
}

/// A collection holding only scalars (PyYAML writes these in flow style by default).
fn is_leaf(value: &Value) -> bool {
    match value.kind() {
        ValueKind::Map => sorted_keys(value)
            .iter()
            .all(|k| is_scalar(&value.get_item(k).unwrap_or_default())),
        ValueKind::Seq | ValueKind::Iterable => value
            .try_iter()
            .map(|mut i| i.all(|v| is_scalar(&v)))
            .unwrap_or(true),
        _ => false,
    }
}

fn flow(value: &Value) -> String {
    match value.kind() {
        ValueKind::Map => {
            let parts: Vec<String> = sorted_keys(value)
                .iter()
                .map(|k| {
                    let member = value.get_item(k).unwrap_or_default();
                    format!("{}: {}", flow_scalar(k), flow(&member))
                })
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        ValueKind::Seq | ValueKind::Iterable => {
            let parts: Vec<String> = value
                .try_iter()
                .map(|i| i.map(|v| flow(&v)).collect())
                .unwrap_or_default();
            format!("[{}]", parts.join(", "))
        }
        _ => flow_scalar(value),
    }
}

fn flow_scalar(value: &Value) -> String {
    match value.as_str() {
        Some(s) if s.contains([',', '[', ']', '{', '}']) => quote(s),
        _ => scalar(value),
    }
}

/// One scalar as PyYAML writes it: plain when that reads back as the same string, quoted
/// otherwise.
fn scalar(value: &Value) -> String {
    match value.kind() {
        ValueKind::None | ValueKind::Undefined => "null".into(),
        ValueKind::Bool => (if value.is_true() { "true" } else { "false" }).into(),
        ValueKind::Number => {
            let f = f64::try_from(value.clone()).unwrap_or(0.0);
            if value.is_integer() {
                value.to_string()
            } else if f.is_nan() {
                ".nan".into()
            } else if f.is_infinite() {
                (if f > 0.0 { ".inf" } else { "-.inf" }).into()
            } else {
                crate::repr::py_repr(value)
            }
        }
        _ => {
            let s = crate::repr::py_string(value);
            if plain_ok(&s) {
                s
            } else {
                quote(&s)
            }
        }
    }
}

fn quote(s: &str) -> String {
    if s.chars().any(|c| c.is_control()) {
        return serde_json::to_string(s).unwrap_or_default();
    }
    format!("'{}'", s.replace('\'', "''"))
}

/// Whether a string can be written unquoted and still read back as that string under YAML 1.1.
fn plain_ok(s: &str) -> bool {
    if s.is_empty() || s.trim() != s || s.chars().any(|c| c.is_control()) {
        return false;
    }
    let first = s.chars().next().unwrap_or(' ');
    if "!&*|>'\"%@`#,[]{}".contains(first) {
        return false;
    }
    if "-?:".contains(first) && s.chars().nth(1).is_none_or(|c| c == ' ') {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return false;
    }
    // anything YAML 1.1 would read as another type
    matches!(
        inventory::load_yaml11(s, "scalar"),
        Ok(serde_json::Value::String(ref back)) if back == s
    )
}
