//! Typing of keyword values, as Ansible's field attributes coerce them.
//!
//! Each helper takes the node of one keyword and its name, and returns the typed value or an
//! error at the node naming the field. Templated strings stay strings ([`Templatable::Template`]).

use inventory::{Marked, MarkedValue};
use serde_json::{Map, Value};

use super::error::PlaybookError;
use super::model::{Flag, Templatable};
use super::source::Source;

/// Whether a string holds Jinja2 markup, so its value is only known at run time.
pub fn is_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%") || text.contains("{#")
}

/// Whether `text` looks like one template and nothing else: it starts and ends with Jinja
/// delimiters (Ansible's `is_possibly_all_template`).
pub fn is_all_template(text: &str) -> bool {
    ["{{", "{%", "{#"].iter().any(|d| text.starts_with(d))
        && ["}}", "%}", "#}"].iter().any(|d| text.ends_with(d))
}

/// Python's `str()` of a scalar: how Ansible turns a number or boolean into a string field.
pub fn scalar_text(node: &Marked) -> Option<String> {
    match &node.value {
        MarkedValue::Str(s) => Some(s.clone()),
        MarkedValue::Int(i) => Some(i.to_string()),
        MarkedValue::Float(f) => Some(python_float(*f)),
        MarkedValue::Bool(true) => Some("True".into()),
        MarkedValue::Bool(false) => Some("False".into()),
        MarkedValue::Null | MarkedValue::Seq(_) | MarkedValue::Map(_) => None,
    }
}

/// Python's `repr` of a float (`1.0`, `0.5`, `inf`).
fn python_float(f: f64) -> String {
    if f.is_nan() {
        "nan".into()
    } else if f.is_infinite() {
        if f > 0.0 { "inf" } else { "-inf" }.into()
    } else if f.fract() == 0.0 && f.abs() < 1e16 {
        format!("{f:.1}")
    } else {
        f.to_string()
    }
}

/// A string field (`name`, `become_user`, `delegate_to`...): scalars are stringified, null is
/// unset.
pub fn string(src: &Source, node: &Marked, field: &str) -> Result<Option<String>, PlaybookError> {
    if matches!(node.value, MarkedValue::Null) {
        return Ok(None);
    }
    scalar_text(node).map(Some).ok_or_else(|| {
        src.err(
            node,
            format!("'{field}' must be a string, got {}", node.kind()),
        )
    })
}

/// A boolean field: YAML booleans, the strings `yes`/`no`/`true`/`false`/`on`/`off`/`1`/`0`,
/// the numbers 1 and 0, or a template kept for later. Null is unset.
pub fn flag(src: &Source, node: &Marked, field: &str) -> Result<Option<Flag>, PlaybookError> {
    let value = match &node.value {
        MarkedValue::Null => return Ok(None),
        MarkedValue::Bool(b) => Some(*b),
        MarkedValue::Int(0) => Some(false),
        MarkedValue::Int(1) => Some(true),
        MarkedValue::Str(s) if is_template(s) => {
            return Ok(Some(Templatable::Template(s.clone())));
        }
        MarkedValue::Str(s) => fleet_templates::boolean::parse_str(s),
        _ => None,
    };
    match value {
        Some(b) => Ok(Some(Templatable::Literal(b))),
        None => Err(src.err(
            node,
            format!(
                "'{field}' must be a boolean (yes/no, true/false), got {}",
                describe(node)
            ),
        )),
    }
}

/// An integer field (`retries`), or a template.
pub fn integer(
    src: &Source,
    node: &Marked,
    field: &str,
) -> Result<Option<Templatable<i64>>, PlaybookError> {
    match &node.value {
        MarkedValue::Null => Ok(None),
        MarkedValue::Int(i) => Ok(Some(Templatable::Literal(*i))),
        MarkedValue::Str(s) if is_template(s) => Ok(Some(Templatable::Template(s.clone()))),
        MarkedValue::Str(s) if s.trim().parse::<i64>().is_ok() => {
            Ok(Some(Templatable::Literal(s.trim().parse().unwrap_or(0))))
        }
        _ => Err(src.err(
            node,
            format!("'{field}' must be an integer, got {}", describe(node)),
        )),
    }
}

/// A number field (`delay`, `pause`, `max_fail_percentage`), or a template. `percent` also
/// accepts a trailing `%`.
pub fn number(
    src: &Source,
    node: &Marked,
    field: &str,
    percent: bool,
) -> Result<Option<Templatable<f64>>, PlaybookError> {
    let parsed = match &node.value {
        MarkedValue::Null => return Ok(None),
        MarkedValue::Int(i) => Some(*i as f64),
        MarkedValue::Float(f) if f.is_finite() => Some(*f),
        MarkedValue::Str(s) if is_template(s) => {
            return Ok(Some(Templatable::Template(s.clone())));
        }
        MarkedValue::Str(s) => {
            let text = s.trim();
            let text = if percent {
                text.strip_suffix('%').unwrap_or(text)
            } else {
                text
            };
            text.trim().parse::<f64>().ok().filter(|f| f.is_finite())
        }
        _ => None,
    };
    parsed
        .map(|f| Some(Templatable::Literal(f)))
        .ok_or_else(|| {
            src.err(
                node,
                format!("'{field}' must be a number, got {}", describe(node)),
            )
        })
}

/// A condition list (`when`, `changed_when`, `failed_when`, `until`, `break_when`): a string,
/// a list of them, or a bare boolean/number, each kept as an expression string.
pub fn conditions(src: &Source, node: &Marked, field: &str) -> Result<Vec<String>, PlaybookError> {
    let items: Vec<&Marked> = match &node.value {
        MarkedValue::Null => return Ok(Vec::new()),
        MarkedValue::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    items
        .into_iter()
        .map(|item| {
            scalar_text(item).ok_or_else(|| {
                src.err(
                    item,
                    format!(
                        "'{field}' must be a condition string or a list of them, got {}",
                        item.kind()
                    ),
                )
            })
        })
        .collect()
}

/// A list of names (`notify`, `listen`): one string or a list of strings.
pub fn names(src: &Source, node: &Marked, field: &str) -> Result<Vec<String>, PlaybookError> {
    let items: Vec<&Marked> = match &node.value {
        MarkedValue::Null => return Ok(Vec::new()),
        MarkedValue::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    items
        .into_iter()
        .map(|item| {
            scalar_text(item).ok_or_else(|| {
                src.err(
                    item,
                    format!(
                        "'{field}' must be a string or a list of strings, got {}",
                        item.kind()
                    ),
                )
            })
        })
        .collect()
}

/// `tags:`: a list, or a string split on commas.
pub fn tags(src: &Source, node: &Marked) -> Result<Vec<String>, PlaybookError> {
    match &node.value {
        MarkedValue::Null => Ok(Vec::new()),
        MarkedValue::Str(s) => Ok(s
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect()),
        MarkedValue::Int(_) | MarkedValue::Float(_) | MarkedValue::Bool(_) => {
            Ok(scalar_text(node).into_iter().collect())
        }
        MarkedValue::Seq(_) => names(src, node, "tags"),
        MarkedValue::Map(_) => Err(src.err(node, "tags must be specified as a list")),
    }
}

/// `vars:`: a mapping (or a list of mappings, merged in order) whose keys are valid variable
/// names. Values stay raw. `owner` names the play/task for the message.
pub fn vars(src: &Source, node: &Marked, owner: &str) -> Result<Map<String, Value>, PlaybookError> {
    let mut out = Map::new();
    let layers: Vec<&Marked> = match &node.value {
        MarkedValue::Null => return Ok(out),
        MarkedValue::Map(_) => vec![node],
        MarkedValue::Seq(items) if items.iter().all(|i| matches!(i.value, MarkedValue::Map(_))) => {
            items.iter().collect()
        }
        _ => {
            return Err(src.err(
                node,
                format!(
                    "vars in {owner} must be specified as a dictionary, got {}",
                    node.kind()
                ),
            ))
        }
    };
    for layer in layers {
        if let MarkedValue::Map(pairs) = &layer.value {
            for (key, value) in pairs {
                if !is_identifier(key) {
                    return Err(src.key_err(
                        layer,
                        key,
                        value,
                        format!("invalid variable name in vars of {owner}: '{key}' is not a valid variable name"),
                    ));
                }
                out.insert(key.clone(), value.to_json());
            }
        }
    }
    Ok(out)
}

/// A Python identifier (ASCII subset): what Ansible accepts as a variable name.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// A value for an error message: strings quoted, others by kind.
pub fn describe(node: &Marked) -> String {
    match &node.value {
        MarkedValue::Str(s) => format!("'{s}'"),
        MarkedValue::Int(i) => i.to_string(),
        MarkedValue::Float(f) => python_float(*f),
        other => other.kind().to_string(),
    }
}
