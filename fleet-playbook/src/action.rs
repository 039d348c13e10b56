//! Which action a task runs and with which arguments, as Ansible's `ModuleArgsParser` decides:
//! `module: {k: v}`, `module: k=v free form`, `action: module k=v`, `local_action: ...`, and the
//! `args:` keyword merged underneath.

use inventory::{Marked, MarkedValue};
use serde_json::{Map, Value};

use super::error::PlaybookError;
use super::fields;
use super::kv;
use super::source::Source;
use fleet_modules as modules;

/// Actions whose free-form string is a command line: only their own options
/// ([`kv::COMMAND_OPTIONS`]) are taken out of it.
pub const FREEFORM_ACTIONS: &[&str] = &[
    "command",
    "shell",
    "script",
    "raw",
    "win_command",
    "win_shell",
];

/// Actions that accept free-form text (`_raw_params`) at all.
pub const RAW_PARAM_ACTIONS: &[&str] = &[
    "command",
    "shell",
    "script",
    "raw",
    "win_command",
    "win_shell",
    "include_vars",
    "include_tasks",
    "include_role",
    "import_tasks",
    "import_role",
    "add_host",
    "group_by",
    "set_fact",
    "meta",
];

/// Ansible's refusal of free-form text given to an action that takes none (`debug: garbage`,
/// `copy: a=b junk`): a failure of the task when it runs, as ansible-core 2.19 reports it.
pub fn raw_params_refusal(action: &str, args: &Map<String, Value>) -> Option<String> {
    let raw = args.get("_raw_params").and_then(Value::as_str)?;
    if raw.is_empty() || RAW_PARAM_ACTIONS.contains(&modules::short_name(action)) {
        return None;
    }
    let fqcn = if modules::is_builtin(action) || modules::is_action(action) {
        format!("ansible.builtin.{}", modules::short_name(action))
    } else if action.contains('.') {
        action.to_string()
    } else {
        format!("ansible.legacy.{action}")
    };
    Some(format!("Action '{fqcn}' does not support raw params."))
}

/// Whether `name` may be a task's action: a module or executor action of the registry, any
/// `ansible.builtin` module (fleet may lack it: that is found when the task runs, as Ansible
/// resolves modules then), or a collection's `namespace.collection.module`.
pub fn is_known_action(name: &str) -> bool {
    modules::is_action(name) || modules::is_builtin(name) || modules::is_collection_name(name)
}

/// How the task named its action.
pub(super) enum ActionKey<'a> {
    /// `copy: ...` (the key and its value).
    Module(&'a str, &'a Marked),
    /// `action: copy src=a` or `local_action: ...` (the value).
    Old(&'a Marked),
}

/// The action's short name and its arguments, `args:` merged underneath.
pub(super) fn action_and_args(
    src: &Source,
    key: ActionKey<'_>,
    extra_args: Option<&Marked>,
    custom: &dyn Fn(&str) -> bool,
) -> Result<(String, Map<String, Value>), PlaybookError> {
    let mut args = match extra_args {
        None => Map::new(),
        Some(node) => match &node.value {
            MarkedValue::Null => Map::new(),
            MarkedValue::Map(_) => object(node),
            MarkedValue::Str(s) if fields::is_template(s) => {
                let mut map = Map::new();
                map.insert("_variable_params".into(), Value::String(s.clone()));
                map
            }
            MarkedValue::Str(_) => {
                return Err(src.err(
                    node,
                    "complex args containing variables cannot use bare variables (without \
                     Jinja2 delimiters), and must use the full variable style ('{{var_name}}')",
                ))
            }
            _ => {
                return Err(src.err(
                    node,
                    "complex args must be a dictionary or variable string (\"{{var}}\")",
                ))
            }
        },
    };
    let (action, own) = match key {
        ActionKey::Module(name, value) => {
            let action = modules::short_name(name).to_string();
            let own = new_style_args(src, &action, value)?;
            (action, own)
        }
        ActionKey::Old(value) => old_style(src, value, custom)?,
    };
    args.extend(own);
    if let Some(raw) = args.get("_raw_params").and_then(Value::as_str) {
        // text that is all one template may render to the arguments (a mapping); any other
        // stays, for the run to refuse ([`raw_params_refusal`]) as Ansible does
        if !raw.is_empty()
            && !RAW_PARAM_ACTIONS.contains(&action.as_str())
            && fields::is_all_template(raw)
        {
            let raw = Value::String(raw.to_string());
            args.remove("_raw_params");
            args.insert("_variable_params".into(), raw);
        }
    }
    if !FREEFORM_ACTIONS.contains(&action.as_str()) {
        if let Some(bad) = args.keys().find(|k| k.starts_with("_ansible_")) {
            let node = match key {
                ActionKey::Module(_, value) | ActionKey::Old(value) => value,
            };
            return Err(src.err(
                node,
                format!("invalid parameter specified for action '{action}': '{bad}'"),
            ));
        }
    }
    Ok((action, args))
}

/// `module: <value>`: a mapping, a `k=v` string, or nothing.
fn new_style_args(
    src: &Source,
    action: &str,
    value: &Marked,
) -> Result<Map<String, Value>, PlaybookError> {
    match &value.value {
        MarkedValue::Null => Ok(Map::new()),
        MarkedValue::Map(_) => Ok(object(value)),
        MarkedValue::Str(s) => parse_kv(src, value, s, FREEFORM_ACTIONS.contains(&action)),
        _ => Err(src.err(
            value,
            format!("unexpected parameter type in action: {}", value.kind()),
        )),
    }
}

/// `action:`/`local_action:`: `module k=v ...`, or a mapping with a `module:` key.
/// `custom` says whether a name is a `library/` module or `action_plugins/` plugin in reach.
fn old_style(
    src: &Source,
    value: &Marked,
    custom: &dyn Fn(&str) -> bool,
) -> Result<(String, Map<String, Value>), PlaybookError> {
    let (module_string, mut rest) = match &value.value {
        MarkedValue::Str(s) => (s.clone(), Map::new()),
        MarkedValue::Map(_) => {
            let Some(module) = value.get("module") else {
                return Err(src.err(value, "no module/action detected in task."));
            };
            let Some(module) = fields::scalar_text(module) else {
                return Err(src.err(module, "'module' must be a module name"));
            };
            let mut rest = object(value);
            rest.remove("module");
            (module, rest)
        }
        _ => {
            return Err(src.err(
                value,
                format!("unexpected parameter type in action: {}", value.kind()),
            ))
        }
    };
    let words = kv::split_args(&module_string).map_err(|e| src.err(value, e.to_string()))?;
    let Some(name) = words.first().map(|w| w.trim().to_string()) else {
        return Err(src.err(value, "no module/action detected in task."));
    };
    // a templated name is resolved (or refused) when the task runs, as in Ansible
    if !is_known_action(&name) && !fields::is_template(&name) && !custom(&name) {
        return Err(src.err(value, format!("unknown module '{name}'")));
    }
    let action = modules::short_name(&name).to_string();
    let args_text = words[1..].join(" ");
    let mut args = parse_kv(
        src,
        value,
        &args_text,
        FREEFORM_ACTIONS.contains(&action.as_str()),
    )?;
    if let Some(nested) = rest.remove("args") {
        match nested {
            Value::Object(map) => rest.extend(map),
            Value::String(text) => {
                rest.extend(kv::parse_kv(&text, false).map_err(|e| src.err(value, e.to_string()))?)
            }
            _ => {}
        }
    }
    rest.append(&mut args);
    Ok((action, rest))
}

/// [`kv::parse_kv`] with errors placed at `node`.
fn parse_kv(
    src: &Source,
    node: &Marked,
    text: &str,
    check_raw: bool,
) -> Result<Map<String, Value>, PlaybookError> {
    kv::parse_kv(text, check_raw).map_err(|e| src.err(node, e.to_string()))
}

/// A mapping node as a JSON object (keys in document order).
fn object(node: &Marked) -> Map<String, Value> {
    match node.to_json() {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
