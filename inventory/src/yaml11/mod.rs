//! YAML loading with Ansible's YAML 1.1 scalar rules, positions kept.
//!
//! Rust YAML crates implement YAML 1.2; Ansible (PyYAML) reads YAML 1.1, where unquoted `yes` is a
//! boolean and `0644` is octal. We take saphyr-parser's event stream, which tells whether a scalar
//! was quoted, and build the tree ourselves: scalar typing ([`resolve`]), anchors and aliases,
//! `<<` merge keys, core tags (`!!str`, `!!int`, ...), and Ansible's `!unsafe` (kept as a string;
//! with template markup inside a Jinja2 `raw` block, so templating leaves it as written) and
//! `!vault` (opened with the run's vault secrets into such an unsafe string; one no secret opens
//! becomes a template that fails with the reason when it is used, see the `vault` crate). The playbook executor reuses this module, hence the public, position-keeping
//! [`load_yaml11_marked`].

mod builder;
mod marked;
pub mod resolve;

pub(crate) use marked::float_to_json as marked_float_to_json;
pub use marked::{Marked, MarkedValue};

use crate::error::InventoryError;

/// Parses one YAML document into JSON, with YAML 1.1 scalar typing; mapping keys become strings.
///
/// An empty document gives `Value::Null`. More than one document is an error (as in Ansible).
pub fn load_yaml11(text: &str, origin: &str) -> Result<serde_json::Value, InventoryError> {
    Ok(load_yaml11_marked(text, origin)?.to_json())
}

/// Parses one YAML document into a [`Marked`] tree: like [`load_yaml11`] but every node keeps its
/// 1-based line and column, so later checks can report `file:line:col`.
pub fn load_yaml11_marked(text: &str, origin: &str) -> Result<Marked, InventoryError> {
    // The parser is fuzzed upstream, but a panic on hostile input must never take the caller down.
    match std::panic::catch_unwind(|| builder::build(text, origin)) {
        Ok(result) => result,
        Err(_) => Err(InventoryError::parse(
            origin,
            1,
            1,
            "internal YAML parser failure on this input",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn load(text: &str) -> serde_json::Value {
        load_yaml11(text, "t.yml").unwrap()
    }

    fn err(text: &str) -> String {
        load_yaml11(text, "t.yml").unwrap_err().to_string()
    }

    #[test]
    fn quoted_scalars_stay_strings() {
        let v = load(
            "a: yes\nb: 'yes'\nc: 0644\nd: \"0644\"\ne: 0o644\nf: 1.0\ng: ~\nh: |\n  yes\ni: >-\n  0644\n",
        );
        assert_eq!(
            v,
            json!({"a": true, "b": "yes", "c": 420, "d": "0644", "e": "0o644", "f": 1.0,
                   "g": null, "h": "yes\n", "i": "0644"})
        );
    }

    #[test]
    fn empty_and_null_documents() {
        assert_eq!(load(""), json!(null));
        assert_eq!(load("# only a comment\n"), json!(null));
        assert_eq!(load("a:\nb: null\n"), json!({"a": null, "b": null}));
    }

    #[test]
    fn sequences_and_flow() {
        assert_eq!(
            load("- on\n- [off, '1', 2]\n- {k: v}\n"),
            json!([true, [false, "1", 2], {"k": "v"}])
        );
    }

    #[test]
    fn keys_are_raw_text() {
        assert_eq!(
            load("yes: 1\n010: 2\n'q': 3\n"),
            json!({"yes": 1, "010": 2, "q": 3})
        );
    }

    #[test]
    fn duplicate_keys_last_wins_first_position() {
        let m = load_yaml11_marked("a: 1\nb: 2\na: 3\n", "t").unwrap();
        let MarkedValue::Map(pairs) = &m.value else {
            panic!("not a map")
        };
        let keys: Vec<_> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "b"]);
        assert_eq!(m.get("a").unwrap().value, MarkedValue::Int(3));
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let v = load(
            "base: &b {x: 1, y: 2}\nother: &o {y: 20, z: 30}\n\
             one:\n  <<: *b\n  y: 9\nmany:\n  <<: [*b, *o]\nalias: *b\n",
        );
        assert_eq!(v["one"], json!({"x": 1, "y": 9}));
        assert_eq!(v["many"], json!({"x": 1, "y": 2, "z": 30}));
        assert_eq!(v["alias"], json!({"x": 1, "y": 2}));
    }

    #[test]
    fn quoted_merge_key_is_a_plain_key() {
        assert_eq!(load("'<<': {a: 1}\n"), json!({"<<": {"a": 1}}));
    }

    #[test]
    fn tags() {
        assert_eq!(
            load("a: !!str 0644\nb: !!int \"0644\"\nc: !unsafe '{{ x }}'\nd: !!float 1\ne: !!bool 'yes'\n"),
            json!({"a": "0644", "b": 420, "c": "{% raw %}{{ x }}{% endraw %}", "d": 1.0, "e": true})
        );
        // issue 18: no markup, nothing to protect
        assert_eq!(load("a: !unsafe 'plain'\n"), json!({"a": "plain"}));
        assert_eq!(
            err("a: !!int nope\n"),
            "t.yml:1:10: \"nope\" is not a valid !!int"
        );
    }

    #[test]
    fn positions_are_one_based() {
        let m = load_yaml11_marked("top:\n  list:\n    - a\n    - b: 1\n", "t").unwrap();
        assert_eq!((m.line, m.col), (1, 1));
        let list = m.get("top").unwrap().get("list").unwrap();
        assert_eq!((list.line, list.col), (3, 5));
        let MarkedValue::Seq(items) = &list.value else {
            panic!()
        };
        assert_eq!((items[0].line, items[0].col), (3, 7));
        let b = items[1].get("b").unwrap();
        assert_eq!((b.line, b.col), (4, 10));
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        assert_eq!(
            err("a: [1\nb: 2\n"),
            "t.yml:2:2: illegal placement of ':' indicator"
        );
        assert!(err("a: *nope\n").starts_with("t.yml:1:4: "));
    }

    #[test]
    fn multiple_documents_are_refused() {
        assert_eq!(
            err("a: 1\n---\nb: 2\n"),
            "t.yml:2:1: expected a single document in the stream"
        );
    }

    #[test]
    fn complex_keys_are_refused() {
        assert!(err("? [a, b]\n: 1\n").contains("mapping keys must be scalars"));
        assert!(err("a: &x [1]\n*x : 2\n").contains("mapping keys must be scalars"));
    }

    #[test]
    fn bad_merge_value() {
        assert_eq!(
            err("a:\n  <<: 5\n"),
            "t.yml:2:7: merge key '<<' needs a mapping or a list of mappings"
        );
    }

    #[test]
    fn billion_laughs_is_bounded() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = format!("*a{}", i - 1);
            let items = [prev.as_str(); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{items}]\n"));
        }
        assert!(err(&text).contains("too many nodes"));
    }

    #[test]
    fn deep_nesting_is_refused_not_a_crash() {
        let text = "[".repeat(5000) + &"]".repeat(5000);
        let e = err(&text);
        assert!(e.contains("nesting") || e.contains("recursion"), "{e}");
    }

    #[test]
    fn non_finite_floats_in_json() {
        assert_eq!(load("[.inf, -.inf, .nan]"), json!(["inf", "-inf", "nan"]));
    }

    #[test]
    fn hostile_inputs_never_panic() {
        for text in [
            "\u{feff}a: 1",
            "&",
            "*",
            "!",
            "!!",
            "? ",
            ": ",
            "- - - -",
            "{",
            "}",
            "[",
            "\t",
            "a: 'x",
            "a: \"\\",
            "%YAML 1.1\n---\na: 1",
            "%TAG ! !x\n---\n!a b",
            "a: |\n\tb",
            "a:\n- b\n c",
            "\0",
            "<<: *",
            "&a [*a]",
            "--- |\n",
            "...",
            "a: b: c",
        ] {
            let _ = load_yaml11(text, "t");
        }
    }
}
