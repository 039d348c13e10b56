//! Result dictionaries as Ansible's callbacks print them: which keys are dropped before display,
//! when a result is shown at all, and Python's `json.dumps(sort_keys=True, ensure_ascii=False)`
//! layout (`", "`/`": "` separators, or a 4-space indent), so `=> {...}` matches byte for byte.

use serde_json::{Map, Value};

/// Actions whose results Ansible prints even without `-v` (they set `_ansible_verbose_always`).
const VERBOSE_ALWAYS_ACTIONS: &[&str] = &["debug", "assert"];
/// Actions whose results `-v` does not print (they set `_ansible_verbose_override`).
const VERBOSE_OVERRIDE_ACTIONS: &[&str] = &["setup", "gather_facts"];
/// Keys the default callback keeps in a `debug` result that has a `msg`.
const DEBUG_ALLOWED_KEYS: &[&str] = &["msg", "exception", "warnings", "deprecations"];
/// Keys the default callback hides from a `debug` result without `msg` (`debug: var=...`).
const HIDE_IN_DEBUG: &[&str] = &[
    "changed",
    "failed",
    "skipped",
    "invocation",
    "skip_reason",
    "ansible_loop_var",
    "ansible_index_var",
    "ansible_loop",
];

/// The short action name: `ansible.builtin.debug` and `ansible.legacy.debug` are `debug`.
pub(crate) fn short_action(action: &str) -> &str {
    action
        .strip_prefix("ansible.builtin.")
        .or_else(|| action.strip_prefix("ansible.legacy."))
        .unwrap_or(action)
}

/// How a result is shown: Ansible's `_run_is_verbose` inputs, read before internal keys go.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Verbosity {
    /// The `-v` count.
    pub level: u8,
    /// Printed whatever the level (`debug`, `assert`).
    pub always: bool,
    /// Never printed by `-v` (fact gathering).
    pub never: bool,
}

impl Verbosity {
    /// Reads `_ansible_verbose_always`/`_ansible_verbose_override` from the result, defaulting by
    /// action as Ansible's action plugins set them (a skipped task never ran its action).
    pub(crate) fn of(result: &Value, action: &str, skipped: bool, level: u8) -> Verbosity {
        let action = short_action(action);
        let flag = |key: &str, by_action: bool| match result.get(key) {
            Some(v) => v.as_bool() == Some(true),
            None => by_action,
        };
        Verbosity {
            level,
            always: flag(
                "_ansible_verbose_always",
                !skipped && VERBOSE_ALWAYS_ACTIONS.contains(&action),
            ),
            never: flag(
                "_ansible_verbose_override",
                VERBOSE_OVERRIDE_ACTIONS.contains(&action),
            ),
        }
    }

    /// Ansible's `_run_is_verbose(result, verbosity=threshold)`: whether `=> {...}` is printed.
    pub(crate) fn shows_result(&self, threshold: u8) -> bool {
        (self.level > threshold || self.always) && !self.never
    }

    /// Results are indented when always-verbose or at `-vvv` and above.
    pub(crate) fn indent(&self) -> bool {
        self.always || self.level > 2
    }
}

/// The result with the keys Ansible drops before a callback dumps it: `failed`/`skipped` (the
/// status line says it), `_ansible_*` at every depth, `debug`'s extra keys, `invocation` and
/// `diff` below `-vvv`, `exception`/`warnings`/`deprecations` (shown separately), and a loop's
/// `results` when `loop_summary`.
pub(crate) fn displayable(result: &Value, action: &str, level: u8, loop_summary: bool) -> Value {
    let Value::Object(map) = result else {
        return result.clone();
    };
    let action = short_action(action);
    let mut map = strip_internal_keys(map);
    map.remove("failed");
    map.remove("skipped");
    if action == "debug" {
        if map.contains_key("msg") {
            map.retain(|k, _| DEBUG_ALLOWED_KEYS.contains(&k.as_str()));
        } else {
            map.retain(|k, _| !HIDE_IN_DEBUG.contains(&k.as_str()));
        }
    }
    if level < 3 {
        map.remove("invocation");
        map.remove("diff");
    }
    for key in ["exception", "warnings", "deprecations"] {
        map.remove(key);
    }
    if loop_summary {
        map.remove("results");
    }
    Value::Object(map)
}

/// Removes `_ansible_*` keys at every depth (Ansible's `strip_internal_keys`).
pub(crate) fn strip_internal_keys(map: &Map<String, Value>) -> Map<String, Value> {
    map.iter()
        .filter(|(k, _)| !k.starts_with("_ansible_"))
        .map(|(k, v)| (k.clone(), strip_value(v)))
        .collect()
}

fn strip_value(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(strip_internal_keys(map)),
        Value::Array(items) => Value::Array(items.iter().map(strip_value).collect()),
        other => other.clone(),
    }
}

/// `json.dumps(value, sort_keys=True, ensure_ascii=False, indent=4 if indent else None)`.
pub(crate) fn python_json(value: &Value, indent: bool) -> String {
    let mut out = String::new();
    write_value(&mut out, value, indent.then_some(0));
    out
}

fn write_value(out: &mut String, value: &Value, level: Option<usize>) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => out.push_str(&i.to_string()),
            (_, Some(u), _) => out.push_str(&u.to_string()),
            (_, _, Some(f)) => out.push_str(&python_float(f)),
            _ => out.push_str(&n.to_string()),
        },
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            let items: Vec<(Option<&String>, &Value)> = items.iter().map(|v| (None, v)).collect();
            write_container(out, ('[', ']'), &items, level);
        }
        Value::Object(map) => {
            let mut entries: Vec<(Option<&String>, &Value)> =
                map.iter().map(|(k, v)| (Some(k), v)).collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            write_container(out, ('{', '}'), &entries, level);
        }
    }
}

fn write_container(
    out: &mut String,
    (open, close): (char, char),
    entries: &[(Option<&String>, &Value)],
    level: Option<usize>,
) {
    out.push(open);
    if entries.is_empty() {
        out.push(close);
        return;
    }
    let inner = level.map(|l| l + 1);
    for (i, (key, value)) in entries.iter().enumerate() {
        match inner {
            Some(depth) => {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                out.push_str(&"    ".repeat(depth));
            }
            None if i > 0 => out.push_str(", "),
            None => {}
        }
        if let Some(key) = key {
            write_string(out, key);
            out.push_str(": ");
        }
        write_value(out, value, inner);
    }
    if let Some(depth) = level {
        out.push('\n');
        out.push_str(&"    ".repeat(depth));
    }
    out.push(close);
}

/// A JSON string as Python escapes it with `ensure_ascii=False`.
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A float as Python's `repr` writes it: shortest digits, exponent form outside `1e-4..1e16`.
fn python_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-4..16).contains(&exp) {
        let body = if exp >= 0 {
            let point = exp as usize + 1;
            let padded = format!("{digits:0<point$}");
            let (int, frac) = padded.split_at(point);
            format!("{int}.{}", if frac.is_empty() { "0" } else { frac })
        } else {
            format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
        };
        format!("{sign}{body}")
    } else {
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{exp_sign}{:02}", exp.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compact_json_uses_python_separators_and_sorted_keys() {
        let v = json!({"rc": 1, "cmd": ["sh", "-c"], "msg": "a\"b\n\tc\u{1}", "nested": {"z": null, "a": 1.5}, "e": {}});
        assert_eq!(
            python_json(&v, false),
            r#"{"cmd": ["sh", "-c"], "e": {}, "msg": "a\"b\n\tc\u0001", "nested": {"a": 1.5, "z": null}, "rc": 1}"#
        );
    }

    #[test]
    fn indented_json_matches_python_indent_4() {
        let v = json!({"r": {"skipped": true, "changed": false, "l": [1, "é"]}, "empty": []});
        assert_eq!(
            python_json(&v, true),
            "{\n    \"empty\": [],\n    \"r\": {\n        \"changed\": false,\n        \"l\": [\n            1,\n            \"é\"\n        ],\n        \"skipped\": true\n    }\n}"
        );
    }

    #[test]
    fn floats_follow_python_repr() {
        for (f, want) in [
            (1.0, "1.0"),
            (0.1, "0.1"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5e-7, "-2.5e-07"),
            (123.456, "123.456"),
        ] {
            assert_eq!(python_float(f), want, "{f}");
        }
    }

    #[test]
    fn displayable_drops_what_the_default_callback_drops() {
        let r = json!({"changed": true, "failed": true, "rc": 1, "invocation": {"module_args": {}},
                       "diff": [], "_ansible_no_log": false, "warnings": ["w"],
                       "nested": {"_ansible_x": 1, "k": 2}});
        assert_eq!(
            displayable(&r, "command", 0, false),
            json!({"changed": true, "rc": 1, "nested": {"k": 2}})
        );
        let kept = displayable(&r, "command", 3, false);
        assert!(kept.get("invocation").is_some() && kept.get("diff").is_some());
    }

    #[test]
    fn debug_results_keep_msg_or_hide_status_keys() {
        let with_msg =
            json!({"msg": "hi", "changed": false, "item": "a", "ansible_loop_var": "item"});
        assert_eq!(
            displayable(&with_msg, "ansible.builtin.debug", 0, false),
            json!({"msg": "hi"})
        );
        let var = json!({"r": 1, "changed": false, "skip_reason": "x", "ansible_loop_var": "item", "item": 3});
        assert_eq!(
            displayable(&var, "debug", 0, false),
            json!({"r": 1, "item": 3})
        );
    }

    #[test]
    fn verbosity_defaults_by_action() {
        let empty = json!({});
        let debug = Verbosity::of(&empty, "debug", false, 0);
        assert!(debug.shows_result(0) && debug.indent());
        assert!(!Verbosity::of(&empty, "debug", true, 0).shows_result(0));
        assert!(!Verbosity::of(&empty, "setup", false, 1).shows_result(0));
        assert!(Verbosity::of(&empty, "command", false, 1).shows_result(0));
        let quiet = json!({"_ansible_verbose_always": false});
        assert!(!Verbosity::of(&quiet, "assert", false, 0).shows_result(0));
    }
}
