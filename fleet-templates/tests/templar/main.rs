//! The templar through its public API (integration tests); expected values are what ansible-core 2.19 gives.

mod core;
mod filters;
mod samples;

use serde_json::{json, Value};

use fleet_templates::Templar;

/// Variables like a play's, including templated ones.
fn vars() -> Value {
    json!({
        "inventory_hostname": "h1",
        "root": "/tmp/{{ inventory_hostname }}",
        "users": ["alice", "bob"],
        "flags": {"search": true, "beta": false},
        "n": 5, "s": "false", "empty": "", "none": null,
        "d": {"a": {"b": 1}}, "lst": [1, 2, 3],
        "loop1": "{{ loop2 }}", "loop2": "{{ loop1 }}",
        "me": "{{ me }}",
        "native": "{{ users }}",
        "numstr": "{{ n }}",
        "nested": {"path": "{{ root }}/x", "list": ["{{ n + 1 }}", "plain"]},
        "broken": "{{ nothere }}",
        "result": {"changed": true, "failed": false, "rc": 0, "stdout": "HELLO"},
    })
}

/// Renders `text` against [`vars`].
fn render(text: &str) -> String {
    Templar::new()
        .render_str(text, &vars())
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// Templates `text` as a value against [`vars`].
fn native(text: &str) -> Value {
    Templar::new()
        .template_value(&json!(text), &vars())
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// The error message of rendering `text`.
fn render_err(text: &str) -> String {
    match Templar::new().render_str(text, &vars()) {
        Ok(out) => panic!("{text} rendered {out:?}, expected an error"),
        Err(e) => e.0,
    }
}

/// Evaluates a condition against [`vars`].
fn cond(expr: &str) -> Result<bool, String> {
    Templar::new().eval_bool(expr, &vars()).map_err(|e| e.0)
}
