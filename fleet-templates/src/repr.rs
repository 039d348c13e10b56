//! Python's rendering of values, as Ansible prints them into strings.
//!
//! Jinja2 in Ansible is Python: `{{ [1, 'a'] }}` inside text renders `[1, 'a']`, `{{ flag }}`
//! renders `True`, and a lone `{{ none }}` among text renders nothing (ansible-core 2.19).

use minijinja::value::{Value, ValueKind};

/// `str(value)` in Python: what `{{ value }}` writes into surrounding text.
pub(crate) fn py_str(value: &Value) -> String {
    match value.kind() {
        ValueKind::String => value.as_str().unwrap_or_default().to_string(),
        ValueKind::None | ValueKind::Undefined => String::new(),
        _ => crate::datetime::py_str(value).unwrap_or_else(|| py_repr(value)),
    }
}

/// `str(value)` for the `string` filter and `~`: like [`py_str`] but None is `None`.
pub(crate) fn py_string(value: &Value) -> String {
    match value.kind() {
        ValueKind::None => "None".to_string(),
        _ => py_str(value),
    }
}

/// [`py_string`] for a filter's input: an undefined input is an undefined error, as in
/// Ansible.
pub(crate) fn text_input(value: &Value) -> Result<String, minijinja::Error> {
    if value.is_undefined() {
        return Err(minijinja::Error::from(minijinja::ErrorKind::UndefinedError));
    }
    Ok(py_string(value))
}

/// `repr(value)` in Python.
pub(crate) fn py_repr(value: &Value) -> String {
    let mut out = String::new();
    write_repr(&mut out, value);
    out
}

fn write_repr(out: &mut String, value: &Value) {
    match value.kind() {
        ValueKind::Undefined | ValueKind::None => out.push_str("None"),
        ValueKind::Bool => out.push_str(if value.is_true() { "True" } else { "False" }),
        ValueKind::String => write_str_repr(out, value.as_str().unwrap_or_default()),
        ValueKind::Number => write_number(out, value),
        ValueKind::Seq | ValueKind::Iterable => {
            out.push('[');
            if let Ok(items) = value.try_iter() {
                for (i, item) in items.enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_repr(out, &item);
                }
            }
            out.push(']');
        }
        ValueKind::Map => {
            out.push('{');
            if let Ok(keys) = value.try_iter() {
                for (i, key) in keys.enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_repr(out, &key);
                    out.push_str(": ");
                    let member = value.get_item(&key).unwrap_or_default();
                    write_repr(out, &member);
                }
            }
            out.push('}');
        }
        _ => match crate::datetime::py_repr(value) {
            Some(repr) => out.push_str(&repr),
            None => out.push_str(&value.to_string()),
        },
    }
}

fn write_number(out: &mut String, value: &Value) {
    if value.is_integer() {
        out.push_str(&value.to_string());
        return;
    }
    let Ok(f) = f64::try_from(value.clone()) else {
        out.push_str(&value.to_string());
        return;
    };
    out.push_str(&crate::pyformat::py_float_repr(f));
}

fn write_str_repr(out: &mut String, s: &str) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

/// Python's type name of a value (`type_debug`, error messages).
pub(crate) fn py_type_name(value: &Value) -> &'static str {
    match value.kind() {
        ValueKind::Undefined => "AnsibleUndefined",
        ValueKind::None => "NoneType",
        ValueKind::Bool => "bool",
        ValueKind::Number if value.is_integer() => "int",
        ValueKind::Number => "float",
        ValueKind::String => "str",
        ValueKind::Bytes => "bytes",
        ValueKind::Seq | ValueKind::Iterable => "list",
        ValueKind::Map => "dict",
        _ => crate::datetime::type_name(value).unwrap_or("object"),
    }
}
