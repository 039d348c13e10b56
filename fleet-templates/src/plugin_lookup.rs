//! Lookup plugins of the playbook's own (`lookup_plugins/NAME.py` beside the playbook or in
//! the role), run by the controller's Python through Ansible's `LookupBase`, as
//! ansible-playbook runs them.
//!
//! Why: a lookup plugin is Python code Ansible imports; fleet cannot reimplement a user's
//! plugin, but when ansible-core is importable on the controller (the same Python the module
//! fallback uses, `FLEET_ANSIBLE_PYTHON`, else `python3`) it can run it: the terms go in as
//! JSON, the plugin's list comes back as JSON. A term that is undefined is passed as `None`
//! to a plugin that declares `accept_args_markers` (Ansible passes it a marker object), and is
//! an error for any other.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use minijinja::value::Value;
use minijinja::{Error, State};

use super::filters::fail;

/// What runs the plugin: imports it from its file and prints its `run()` result as JSON.
const RUNNER: &str = r#"
import importlib.util, json, sys
req = json.load(sys.stdin)
spec = importlib.util.spec_from_file_location("fleet_lookup_" + req["name"], req["path"])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
cls = mod.LookupModule
if req["undefined"] and not getattr(cls, "accept_args_markers", False):
    print(json.dumps({"error": req["undefined"][0]}))
    sys.exit(0)
result = cls().run(req["terms"], variables={}, **req["kwargs"])
print(json.dumps({"result": list(result)}, default=str))
"#;

/// The plugin file for lookup `name`: `lookup_plugins/NAME.py` in the role, then beside the
/// playbook.
pub(crate) fn find(state: &State, name: &str) -> Option<PathBuf> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    ["role_path", "playbook_dir"].iter().find_map(|var| {
        let base = state.lookup(var)?.as_str()?.to_string();
        let path = std::path::Path::new(&base)
            .join("lookup_plugins")
            .join(format!("{name}.py"));
        path.is_file().then_some(path)
    })
}

/// A term for a plugin: its value, or the reason it is undefined.
pub(crate) type Term = Result<Value, String>;

/// Runs plugin `path` (lookup `name`) with `terms` and keyword arguments `kwargs`.
pub(crate) fn run(
    name: &str,
    path: &std::path::Path,
    terms: &[Term],
    kwargs: serde_json::Map<String, serde_json::Value>,
) -> Result<Vec<Value>, Error> {
    let mut undefined = Vec::new();
    let mut json_terms = Vec::new();
    for term in terms {
        match term {
            Ok(v) => json_terms.push(serde_json::to_value(v).unwrap_or_default()),
            Err(why) => {
                undefined.push(why.clone());
                json_terms.push(serde_json::Value::Null);
            }
        }
    }
    let request = serde_json::json!({
        "name": name, "path": path, "terms": json_terms, "kwargs": kwargs,
        "undefined": undefined,
    });
    let spawn = |python: &std::ffi::OsStr| {
        Command::new(python)
            .args(["-c", RUNNER])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
    };
    // the fallback's Python when it can run, else python3 (a plugin need not import Ansible)
    let mut child = std::env::var_os("FLEET_ANSIBLE_PYTHON")
        .and_then(|p| spawn(&p).ok())
        .map_or_else(|| spawn("python3".as_ref()), Ok)
        .map_err(|e| fail(format!("lookup plugin ({name}): cannot run python3: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(request.to_string().as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| fail(format!("lookup plugin ({name}): {e}")))?;
    let answer: serde_json::Value = String::from_utf8_lossy(&out.stdout)
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .ok_or_else(|| {
            fail(format!(
                "lookup plugin ({name}) failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        })?;
    if let Some(why) = answer.get("error").and_then(|e| e.as_str()) {
        return Err(fail(why.to_string()));
    }
    let items = answer.get("result").and_then(|r| r.as_array()).cloned();
    Ok(items
        .unwrap_or_default()
        .iter()
        .map(Value::from_serialize)
        .collect())
}
