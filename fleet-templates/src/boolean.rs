//! Ansible's `boolean()` (`module_utils/parsing/convert_bool.py`): the one reading of
//! `yes`/`no`/`on`/`off`/`1`/`0`... that every fleet crate uses, for keywords (`become: y`),
//! variables (`ansible_become`), module arguments (`force: yes`), the `bool` filter, the
//! `truthy(convert_bool=True)` test and command-line flags.
//!
//! Spellings are compared lower-cased and trimmed. As in Ansible, the numbers 1 and 0 (and 1.0,
//! 0.0) are booleans too; their text forms `"1.0"`/`"0.0"` are accepted because a templated
//! number arrives as text. Anything else, the empty string included, is not a boolean (Ansible's
//! strict reading raises); callers that read leniently, like the `bool` filter, choose false.

use serde_json::Value;

/// Spellings read as true.
pub const TRUE_STRINGS: &[&str] = &["y", "yes", "on", "1", "true", "t", "1.0"];

/// Spellings read as false.
pub const FALSE_STRINGS: &[&str] = &["n", "no", "off", "0", "false", "f", "0.0"];

/// A boolean spelled as text; `None` when `text` is not one of Ansible's spellings.
pub fn parse_str(text: &str) -> Option<bool> {
    let text = text.trim().to_lowercase();
    if TRUE_STRINGS.contains(&text.as_str()) {
        Some(true)
    } else if FALSE_STRINGS.contains(&text.as_str()) {
        Some(false)
    } else {
        None
    }
}

/// A number that is a boolean: 1 (or 1.0) is true, 0 (or 0.0) false, others are not booleans.
pub fn from_f64(number: f64) -> Option<bool> {
    if number == 1.0 {
        Some(true)
    } else if number == 0.0 {
        Some(false)
    } else {
        None
    }
}

/// Ansible's strict `boolean(value)` on a JSON value: booleans as they are, the numbers 1 and 0,
/// the spellings of [`parse_str`]; `None` for anything else (null, lists, other text).
pub fn from_json(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_f64().and_then(from_f64),
        Value::String(s) => parse_str(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_spelling_of_ansible_is_read() {
        for text in [
            "y", "Y", "yes", "YES", "on", "On", "1", "true", "True", "t", "T", "1.0",
        ] {
            assert_eq!(parse_str(text), Some(true), "{text}");
        }
        for text in [
            "n", "N", "no", "NO", "off", "Off", "0", "false", "False", "f", "0.0",
        ] {
            assert_eq!(parse_str(text), Some(false), "{text}");
        }
        for text in ["maybe", "2", "yess", "none", "", "  "] {
            assert_eq!(parse_str(text), None, "{text}");
        }
        assert_eq!(parse_str(" yes "), Some(true));
    }

    #[test]
    fn json_values_follow_boolean() {
        assert_eq!(from_json(&json!(true)), Some(true));
        assert_eq!(from_json(&json!(false)), Some(false));
        assert_eq!(from_json(&json!(1)), Some(true));
        assert_eq!(from_json(&json!(0)), Some(false));
        assert_eq!(from_json(&json!(1.0)), Some(true));
        assert_eq!(from_json(&json!(2)), None);
        assert_eq!(from_json(&json!("y")), Some(true));
        assert_eq!(from_json(&json!(null)), None);
        assert_eq!(from_json(&json!([1])), None);
    }
}
