//! Keywords shared by plays, roles, blocks and tasks ([`Keywords`]), read from one mapping key.

use inventory::{Marked, MarkedValue};

use super::error::PlaybookError;
use super::fields;
use super::model::Keywords;
use super::source::Source;

/// Keywords valid on plays, roles, blocks and tasks alike.
const COMMON: &[&str] = &[
    "tags",
    "vars",
    "environment",
    "become",
    "become_user",
    "become_method",
    "become_exe",
    "become_flags",
    "remote_user",
    "port",
    "ignore_errors",
    "ignore_unreachable",
    "any_errors_fatal",
    "check_mode",
    "diff",
    "no_log",
    "run_once",
    "connection",
    "collections",
    "debugger",
    "module_defaults",
];

/// Keywords of things that run conditionally and may be delegated (not plays).
const CONDITIONAL: &[&str] = &[
    "when",
    "delegate_to",
    "delegate_facts",
    "timeout",
    "async",
    "poll",
    "throttle",
];

/// Where a keyword appears; plays take no `when`/`delegate_to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A play.
    Play,
    /// A role entry, block or task.
    Task,
}

/// Whether `key` is a shared keyword in `scope`.
pub fn is_keyword(key: &str, scope: Scope) -> bool {
    COMMON.contains(&key) || (scope == Scope::Task && CONDITIONAL.contains(&key))
}

/// Reads one keyword (`is_keyword` must hold) into `keywords`. `owner` names the play or task
/// for messages about `vars`.
pub fn set(
    src: &Source,
    keywords: &mut Keywords,
    key: &str,
    value: &Marked,
    owner: &str,
) -> Result<(), PlaybookError> {
    let kw = keywords;
    match key {
        "when" => kw.when = fields::conditions(src, value, key)?,
        "tags" => kw.tags = fields::tags(src, value)?,
        "vars" => kw.vars = fields::vars(src, value, owner)?,
        "environment" => kw.environment = environment(src, value)?,
        "become" => kw.become_ = fields::flag(src, value, key)?,
        "become_user" => kw.become_user = fields::string(src, value, key)?,
        // whether fleet supports the method is a run-time check (deferred.rs)
        "become_method" => kw.become_method = fields::string(src, value, key)?,
        "become_exe" => kw.become_exe = fields::string(src, value, key)?,
        "become_flags" => kw.become_flags = fields::string(src, value, key)?,
        "remote_user" => kw.remote_user = fields::string(src, value, key)?,
        "port" => kw.port = fields::integer(src, value, key)?,
        "ignore_errors" => kw.ignore_errors = fields::flag(src, value, key)?,
        "ignore_unreachable" => kw.ignore_unreachable = fields::flag(src, value, key)?,
        "any_errors_fatal" => kw.any_errors_fatal = fields::flag(src, value, key)?,
        "check_mode" => kw.check_mode = fields::flag(src, value, key)?,
        "diff" => kw.diff = fields::flag(src, value, key)?,
        "no_log" => kw.no_log = fields::flag(src, value, key)?,
        "run_once" => kw.run_once = fields::flag(src, value, key)?,
        "delegate_facts" => kw.delegate_facts = fields::flag(src, value, key)?,
        "delegate_to" => kw.delegate_to = fields::string(src, value, key)?,
        "connection" => kw.connection = fields::string(src, value, key)?,
        "timeout" => kw.timeout = fields::integer(src, value, key)?,
        "async" => kw.async_ = fields::integer(src, value, key)?,
        "poll" => kw.poll = fields::integer(src, value, key)?,
        "throttle" => kw.throttle = fields::integer(src, value, key)?,
        "collections" => kw.collections = fields::names(src, value, key)?,
        "module_defaults" => kw.module_defaults = module_defaults(src, value)?,
        // Accepted for compatibility; it changes nothing fleet does.
        "debugger" => {}
        _ => return Err(src.err(value, format!("'{key}' is not a keyword"))),
    }
    Ok(())
}

/// `environment:`: a mapping, a list of mappings, or a template yielding one.
fn environment(src: &Source, node: &Marked) -> Result<Vec<serde_json::Value>, PlaybookError> {
    match &node.value {
        MarkedValue::Null => Ok(Vec::new()),
        MarkedValue::Map(_) => Ok(vec![node.to_json()]),
        MarkedValue::Str(s) if fields::is_template(s) => Ok(vec![node.to_json()]),
        MarkedValue::Seq(items)
            if items.iter().all(|item| match &item.value {
                MarkedValue::Map(_) => true,
                MarkedValue::Str(s) => fields::is_template(s),
                _ => false,
            }) =>
        {
            Ok(items.iter().map(Marked::to_json).collect())
        }
        _ => Err(src.err(
            node,
            format!(
                "'environment' must be a mapping, a list of mappings or a template, got {}",
                node.kind()
            ),
        )),
    }
}

/// `module_defaults:`: a mapping (or a list of mappings, merged in order) from a module's name
/// to a mapping of its arguments. Action groups (`group/aws`) name modules fleet cannot list,
/// so they are refused here rather than silently applying to nothing.
fn module_defaults(
    src: &Source,
    node: &Marked,
) -> Result<serde_json::Map<String, serde_json::Value>, PlaybookError> {
    let layers: Vec<&Marked> = match &node.value {
        MarkedValue::Null => return Ok(serde_json::Map::new()),
        MarkedValue::Map(_) => vec![node],
        MarkedValue::Seq(items) => items.iter().collect(),
        _ => {
            return Err(src.err(
                node,
                "module_defaults must be a mapping or a list of mappings",
            ))
        }
    };
    let mut out = serde_json::Map::new();
    for layer in layers {
        let MarkedValue::Map(pairs) = &layer.value else {
            return Err(src.err(
                layer,
                "module_defaults must be a mapping or a list of mappings",
            ));
        };
        for (module, args) in pairs {
            if module.starts_with("group/") {
                return Err(src.key_err(
                    layer,
                    module,
                    args,
                    format!("module_defaults for the action group '{module}' are not supported by fleet; name the modules"),
                ));
            }
            if !matches!(args.value, MarkedValue::Map(_)) {
                return Err(src.key_err(
                    layer,
                    module,
                    args,
                    format!("module_defaults for '{module}' must be a mapping of arguments"),
                ));
            }
            out.insert(module.clone(), args.to_json());
        }
    }
    Ok(out)
}
