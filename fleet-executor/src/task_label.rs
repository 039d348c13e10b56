//! What a task is, in one line, for the bastion's command log (`--via`): the task's name, its
//! module and its arguments, as `TASK [name] module: key=value ...`.
//!
//! Why: through the bastion every task runs as a generated shell script, and the bastion logs
//! what it is told a channel runs. Sent with each of the task's exec requests (see
//! `connection::bastion`), this line is what an auditor reads instead of the script; the
//! bastion still checks its rules against the script itself. `no_log: true` hides the
//! arguments here as it hides the result, so secrets stay out of the bastion's log.

use serde_json::{Map, Value};

/// Longest value shown per argument, in characters (file contents and the like are cut).
const MAX_VALUE_CHARS: usize = 120;

/// The label of one task run: `name` as shown in the task header (the action when unnamed).
pub fn describe(name: &str, action: &str, args: &Map<String, Value>, no_log: bool) -> String {
    let mut out = format!("TASK [{name}] {action}:");
    if no_log {
        out.push_str(" (arguments hidden: no_log)");
        return out;
    }
    // Free-form arguments (`command: id -un`) first, as written.
    for key in ["_raw_params", "_variable_params"] {
        if let Some(v) = args.get(key) {
            out.push(' ');
            out.push_str(&shown(v));
        }
    }
    for (key, value) in args {
        if key.starts_with('_') {
            continue;
        }
        out.push(' ');
        out.push_str(key);
        out.push('=');
        out.push_str(&shown(value));
    }
    out
}

/// A value as one short line: strings bare, everything else as compact JSON.
fn shown(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    // One line: newlines shown as `\n` (as Ansible prints them), other controls as blanks.
    let one_line: String = text
        .replace('\n', "\\n")
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one_line.chars().count() <= MAX_VALUE_CHARS {
        return one_line;
    }
    let mut cut: String = one_line.chars().take(MAX_VALUE_CHARS).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn free_form_first_then_keys() {
        let a = args(json!({"_raw_params": "id -un", "chdir": "/tmp"}));
        assert_eq!(
            describe("who", "command", &a, false),
            "TASK [who] command: id -un chdir=/tmp"
        );
        let a = args(json!({"name": "nginx", "state": "present", "update_cache": true}));
        assert_eq!(
            describe("pkg", "apt", &a, false),
            "TASK [pkg] apt: name=nginx state=present update_cache=true"
        );
    }

    #[test]
    fn long_values_are_cut_and_no_log_hides_arguments() {
        let a = args(json!({"content": format!("line\n{}", "x".repeat(300)), "dest": "/f"}));
        let label = describe("c", "copy", &a, false);
        assert!(label.contains("content=line\\nxxx"), "{label}");
        assert!(label.contains("… dest=/f"), "{label}");
        let a = args(json!({"password": "s3cret"}));
        let label = describe("u", "user", &a, true);
        assert_eq!(label, "TASK [u] user: (arguments hidden: no_log)");
    }
}
