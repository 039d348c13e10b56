//! ansible-core 2.19's trust rule for conditions, as fleet approximates it.
//!
//! Why: 2.19 evaluates a condition written wholly as a template (`when: "{{ x }}"`) by
//! rendering it and, when the result is a string, evaluating that string as an expression, but
//! only if the string is trusted, i.e. came from the playbook's own data rather than from
//! templating (`"{{ a }} == {{ b }}"` renders text nobody wrote, and is refused). fleet does
//! not tag strings with their origin; it approximates trust by provenance: a rendered string
//! is trusted when the variables hold that very string as written.

use serde_json::Value;

/// Ansible's message for a condition whose text templating produced.
pub const UNTRUSTED: &str = "Encountered untrusted template or expression.";

/// Ansible's `is_possibly_all_template`: the text (trimmed) starts and ends with delimiters.
pub(crate) fn is_all_template(text: &str) -> bool {
    let t = text.trim();
    (t.starts_with("{{") || t.starts_with("{%")) && (t.ends_with("}}") || t.ends_with("%}"))
}

/// Whether `vars` holds the string `s` itself somewhere (as written, before templating): how
/// fleet approximates 2.19's trust of a string that came from the playbook's data.
pub(crate) fn holds_string(vars: &Value, s: &str) -> bool {
    match vars {
        Value::String(t) => t == s,
        Value::Array(items) => items.iter().any(|v| holds_string(v, s)),
        Value::Object(m) => m.values().any(|v| holds_string(v, s)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn all_templates_and_held_strings() {
        assert!(is_all_template(" {{ x }}\n"));
        assert!(is_all_template("{{ 'a' }} == {{ 'b' }}"));
        assert!(!is_all_template("x == '{{ y }}'"));
        let vars = json!({"a": {"b": ["1 == 1"]}, "n": 1});
        assert!(holds_string(&vars, "1 == 1"));
        assert!(!holds_string(&vars, "a == b"));
    }
}
