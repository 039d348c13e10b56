//! Task actions that never touch the host: `debug`, `set_fact`, `assert`, `fail`, `pause`,
//! `include_vars`. (`meta`, `include_tasks` and `include_role` change the flow and are handled
//! by the walker.)

use fleet_templates::Vars;
use std::time::Duration;

use serde_json::{json, Map, Value};

use super::context::Run;
use super::host::HostState;
use fleet_modules::ModuleResult;
use fleet_playbook::Task;

/// Runs `task` if its action is one of these; `None` for modules.
pub async fn run_action(
    run: &Run,
    inventory: &inventory::Inventory,
    task: &Task,
    args: &Map<String, Value>,
    host: &mut HostState,
    vars: &Vars,
) -> Option<ModuleResult> {
    let result = match fleet_modules::short_name(&task.action) {
        "debug" => debug(run, task, args, vars),
        "set_fact" => set_fact(run, args, host, vars),
        "assert" => super::assert::assert(run, task, args, vars),
        "fail" => ModuleResult::fail(
            args.get("msg")
                .map(fleet_templates::py_string)
                .unwrap_or_else(|| "Failed as requested from task".into()),
        ),
        "pause" => pause(args).await,
        "include_vars" => super::include_vars::include_vars(task, args, host, vars),
        "async_status" => super::task_async::async_status(args, host),
        "meta" => ModuleResult::ok().with("skipped", false),
        "group_by" => super::dynamic_inventory::group_by(run, inventory, args, &host.name),
        "add_host" => super::dynamic_inventory::add_host(run, inventory, args),
        _ => return None,
    };
    Some(result)
}

fn debug(run: &Run, task: &Task, args: &Map<String, Value>, vars: &Vars) -> ModuleResult {
    let verbosity = args.get("verbosity").and_then(Value::as_u64).unwrap_or(0);
    if verbosity > u64::from(run.options.verbosity) {
        return ModuleResult::ok()
            .with("skipped", true)
            .with("skipped_reason", "Verbosity threshold not met.");
    }
    if let Some(raw) = task.args.get("var").and_then(Value::as_str) {
        // `var={{ item }}`: the argument is templated first, as every argument is, and its
        // value is the expression (the name of the variable to show)
        let templated;
        let var = match args.get("var") {
            Some(v) if raw.contains("{{") || raw.contains("{%") => {
                templated = fleet_templates::py_string(v);
                templated.as_str()
            }
            _ => raw,
        };
        // undefined is a value debug shows; any other error fails the task (2.19)
        return match run.templar.eval_defined(var, vars) {
            Ok(Some(value)) => ModuleResult::ok().with(var, value),
            Ok(None) => {
                // 2.19 shows the error in place of the value, and warns of it
                let error = undefined_error(run, var, vars);
                ModuleResult::ok()
                    .with(var, format!("<< error 1 - {error} >>"))
                    .with(
                        "warnings",
                        json!([format!("Encountered 1 template error.\nerror 1 - {error}")]),
                    )
            }
            Err(e) => ModuleResult::fail(format!(
                "Task failed: Error while resolving `var` expression: {e}"
            )),
        };
    }
    let msg = args
        .get("msg")
        .cloned()
        .unwrap_or_else(|| json!("Hello world!"));
    let mut r = ModuleResult::ok();
    r.data.insert("msg".into(), msg);
    r
}

/// Why `debug: var=NAME`'s expression came out undefined, in Ansible's words (`'x' is
/// undefined`, `object of type 'dict' has no attribute 'y'`).
fn undefined_error(run: &Run, var: &str, vars: &Vars) -> String {
    match run
        .templar
        .template_value(&Value::String(format!("{{{{ {var} }}}}")), vars)
    {
        Err(e) => e.to_string(),
        Ok(_) => format!("'{var}' is undefined"),
    }
}

/// `set_fact`: values as they are (ansible-core 2.19 no longer turns `k=yes` into a boolean),
/// keys templated and checked.
fn set_fact(
    run: &Run,
    args: &Map<String, Value>,
    host: &mut HostState,
    vars: &Vars,
) -> ModuleResult {
    let mut facts = Map::new();
    for (k, v) in args {
        if k == "cacheable" {
            continue;
        }
        // a templated key is allowed here (Ansible keeps it for dynamic names)
        let key = match run.templar.template_value(&Value::String(k.clone()), vars) {
            Ok(key) => key,
            Err(e) => return ModuleResult::fail(e.to_string()),
        };
        let key = match valid_variable_name(&key) {
            Ok(key) => key,
            // an error of the action plugin: 2.19 says "Task failed: ..."
            Err(msg) => return ModuleResult::fail(format!("Task failed: {msg}")),
        };
        facts.insert(key, v.clone());
    }
    if facts.is_empty() {
        return ModuleResult::fail(
            "No key/value pairs provided, at least one is required for this action to succeed",
        );
    }
    for (k, v) in &facts {
        host.runtime_vars.insert(k.clone(), v.clone());
    }
    ModuleResult::ok().with("ansible_facts", Value::Object(facts))
}

/// Ansible's `validate_variable_name`: an ASCII Python identifier that is not one of Jinja's
/// literal words; its message otherwise.
fn valid_variable_name(name: &Value) -> Result<String, String> {
    const JINJA_KEYWORDS: [&str; 7] = ["False", "None", "True", "false", "none", "not", "true"];
    if let Value::String(s) = name {
        let mut chars = s.chars();
        let identifier = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if identifier && !JINJA_KEYWORDS.contains(&s.as_str()) {
            return Ok(s.clone());
        }
    }
    let (shown, kind) = match name {
        Value::String(s) => (format!(" name '{s}'"), String::new()),
        Value::Array(_) => (" name".to_string(), " of type 'list'".to_string()),
        Value::Object(_) => (" name".to_string(), " of type 'dict'".to_string()),
        other => {
            let kind = fleet_templates::py_type_name(other);
            (
                format!(" name '{}'", fleet_templates::py_string(other)),
                format!(" of type '{kind}'"),
            )
        }
    };
    Err(format!("Invalid variable{shown}{kind}."))
}

async fn pause(args: &Map<String, Value>) -> ModuleResult {
    let number = |k: &str| -> Option<f64> {
        match args.get(k)? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    };
    let secs = number("seconds")
        .or_else(|| number("minutes").map(|m| m * 60.0))
        .unwrap_or(0.0);
    if secs <= 0.0 {
        return ModuleResult::fail(
            "pause without seconds/minutes (an interactive prompt) is not supported",
        );
    }
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    ModuleResult::ok()
        .with("delta", secs as i64)
        .with("stdout", format!("Paused for {secs} seconds"))
        .with("echo", true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 18: set_fact's templated keys are checked as Ansible's validate_variable_name.
    #[test]
    fn variable_names_are_validated_with_ansibles_messages() {
        assert_eq!(valid_variable_name(&json!("my_key")).unwrap(), "my_key");
        assert_eq!(valid_variable_name(&json!("_x1")).unwrap(), "_x1");
        assert_eq!(
            valid_variable_name(&json!("true")).unwrap_err(),
            "Invalid variable name 'true'."
        );
        assert_eq!(
            valid_variable_name(&json!("a-b")).unwrap_err(),
            "Invalid variable name 'a-b'."
        );
        assert_eq!(
            valid_variable_name(&json!(1)).unwrap_err(),
            "Invalid variable name '1' of type 'int'."
        );
        assert_eq!(
            valid_variable_name(&json!([1])).unwrap_err(),
            "Invalid variable name of type 'list'."
        );
    }
}
