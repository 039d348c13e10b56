//! `lookup()`/`query()` on the controller: `env`, `file`, `pipe`, `vars`, `items`/`list`,
//! `first_found` (files), `template` is not supported.

use minijinja::value::{Kwargs, Rest, Value};
use minijinja::{Environment, Error, State};

use super::filters::fail;

/// Registers `lookup`, `query` and `q`; without `system`, the lookups that read the
/// controller's files and environment or run commands there are refused.
pub(crate) fn register(env: &mut Environment<'static>, system: bool) {
    env.add_function(
        "lookup",
        move |state: &State, name: String, terms: Rest<Value>, kwargs: Kwargs| {
            let wantlist: Option<bool> = kwargs.get("wantlist")?;
            let Some(results) = run_or_forgive(state, system, &name, &terms, &kwargs)? else {
                // a failure forgiven by `errors=`: None, or no items
                return Ok(if wantlist.unwrap_or(false) {
                    Value::from(Vec::<Value>::new())
                } else {
                    Value::from(())
                });
            };
            if wantlist.unwrap_or(false) {
                return Ok(Value::from(results));
            }
            // lookup joins several results with commas, as Ansible does, when they are all
            // strings (others come back as the list)
            Ok(match results.len() {
                0 => Value::from(results),
                1 => results.into_iter().next().unwrap_or_default(),
                _ if results.iter().any(|r| r.as_str().is_none()) => Value::from(results),
                _ => Value::from(
                    results
                        .iter()
                        .map(super::repr::py_string)
                        .collect::<Vec<_>>()
                        .join(","),
                ),
            })
        },
    );
    let query = move |state: &State, name: String, terms: Rest<Value>, kwargs: Kwargs| {
        run_or_forgive(state, system, &name, &terms, &kwargs)
            .map(|results| Value::from(results.unwrap_or_default()))
    };
    env.add_function("query", query);
    env.add_function("q", query);
}

/// [`run`], with a failure forgiven (`None`) when the call says `errors='warn'` or
/// `errors='ignore'`, as Ansible's lookup machinery forgives it for every plugin.
fn run_or_forgive(
    state: &State,
    system: bool,
    name: &str,
    terms: &[Value],
    kwargs: &Kwargs,
) -> Result<Option<Vec<Value>>, Error> {
    let errors: Option<String> = kwargs.get("errors")?;
    match (run(state, system, name, terms, kwargs), errors.as_deref()) {
        (Ok(results), _) => Ok(Some(results)),
        (Err(_), Some("warn" | "ignore")) => Ok(None),
        (Err(e), _) => Err(e),
    }
}

/// A relative file path as Ansible's lookups search it: the role's files, then the playbook's.
fn find_file(state: &State, path: &str) -> std::path::PathBuf {
    let candidate = std::path::Path::new(path);
    if candidate.is_absolute() {
        return candidate.to_path_buf();
    }
    // each search path directory (the role's, the task file's), as Ansible's
    // `find_file_in_search_path`: its `files/`, itself, and beside a `tasks/` directory
    // the role's `files/`
    let search = state.lookup("ansible_search_path");
    for dir in search
        .iter()
        .flat_map(|s| s.try_iter().into_iter().flatten())
    {
        let Some(dir) = dir.as_str().map(std::path::PathBuf::from) else {
            continue;
        };
        let mut tries = vec![dir.join("files").join(path), dir.join(path)];
        if dir.file_name().is_some_and(|n| n == "tasks") {
            if let Some(role) = dir.parent() {
                tries.push(role.join("files").join(path));
            }
        }
        if let Some(found) = tries.into_iter().find(|p| p.exists()) {
            return found;
        }
    }
    for (var, sub) in [
        ("role_path", "files"),
        ("role_path", ""),
        ("playbook_dir", "files"),
        ("playbook_dir", ""),
    ] {
        if let Some(base) = state.lookup(var).and_then(|v| v.as_str().map(String::from)) {
            let full = std::path::Path::new(&base).join(sub).join(path);
            if full.exists() {
                return full;
            }
        }
    }
    candidate.to_path_buf()
}

/// A relative path in a role's or the playbook's `sub` directory (`templates`), then as
/// [`find_file`] searches it.
pub(crate) fn find_in(state: &State, sub: &str, path: &str) -> std::path::PathBuf {
    if !std::path::Path::new(path).is_absolute() {
        for var in ["role_path", "playbook_dir"] {
            if let Some(base) = state.lookup(var).and_then(|v| v.as_str().map(String::from)) {
                let full = std::path::Path::new(&base).join(sub).join(path);
                if full.exists() {
                    return full;
                }
            }
        }
    }
    find_file(state, path)
}

/// Lookups that touch the controller's system (files, environment, commands).
const SYSTEM_LOOKUPS: [&str; 7] = [
    "env",
    "file",
    "pipe",
    "lines",
    "first_found",
    "fileglob",
    "template",
];

/// A lookup's string term holding a template is rendered first (Ansible 2.19 templates the
/// arguments of lookups, in conditions and templates alike: `lookup('pipe', 'echo {{ x }}')`),
/// with the variables of the calling template; a term that is one `{{ expression }}` gives
/// its value (`'{{ n + 1 }}'` is the number), as Ansible's native templating does.
pub(crate) fn render_term(state: &State, term: &Value) -> Result<Value, Error> {
    let Some(text) = term
        .as_str()
        .filter(|t| t.contains("{{") || t.contains("{%"))
    else {
        return Ok(term.clone());
    };
    let env = state.env();
    let context = |names: std::collections::HashSet<String>| {
        names
            .into_iter()
            .filter_map(|name| state.lookup(&name).map(|value| (name, value)))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    if let Some(expr) = super::markup::single_expression(text) {
        let compiled = env.compile_expression(expr)?;
        let value = compiled.eval(context(compiled.undeclared_variables(false)))?;
        if !value.is_undefined() {
            return Ok(value);
        }
    }
    let template = env.template_from_str(text)?;
    template
        .render(context(template.undeclared_variables(false)))
        .map(Value::from)
}

/// The `file` lookup: a file on the controller, found as Ansible searches (`files/` of the
/// role, then the playbook's), stripped at the end (`rstrip`, default) and/or start.
fn file_contents(
    state: &State,
    path: &str,
    (rstrip, lstrip): (bool, bool),
) -> Result<String, Error> {
    let full = find_file(state, path);
    let text = std::fs::read_to_string(&full).map_err(|e| {
        fail(format!(
            "The 'file' lookup had an issue accessing the file '{path}': {e}"
        ))
    })?;
    let text = if rstrip { text.trim_end() } else { &text };
    let text = if lstrip { text.trim_start() } else { text };
    Ok(text.to_string())
}

/// The standard output of `cmd` run by `/bin/sh` on the controller (the `pipe` and `lines`
/// lookups); a command that fails is the lookup's error, as in Ansible.
fn command_output(lookup: &str, cmd: &str) -> Result<String, Error> {
    let output = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(cmd)
        .output()
        .map_err(|e| fail(format!("lookup_plugin.{lookup}({cmd}) failed: {e}")))?;
    if !output.status.success() {
        return Err(fail(format!(
            "lookup_plugin.{lookup}({cmd}) returned {}",
            output.status.code().unwrap_or(-1)
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The lookups fleet implements itself (the arms of [`builtin`]); any other runs through
/// Ansible's own code ([`super::ansible_plugins`]).
const NATIVE_LOOKUPS: &[&str] = &[
    "env",
    "file",
    "lines",
    "pipe",
    "vars",
    "items",
    "flattened",
    "community.general.flattened",
    "varnames",
    "list",
    "sequence",
    "together",
    "nested",
    "subelements",
    "random_choice",
    "dict",
    "indexed_items",
    "fileglob",
    "first_found",
    "template",
];

/// Runs the lookup `name`: refused when this templar may not touch the controller and it
/// would, the playbook's or a role's own plugin when there is one, else fleet's own, else
/// Ansible's (a collection's, or an ansible.builtin one fleet lacks).
fn run(
    state: &State,
    system: bool,
    name: &str,
    terms: &[Value],
    kwargs: &Kwargs,
) -> Result<Vec<Value>, Error> {
    let name = name.strip_prefix("ansible.builtin.").unwrap_or(name);
    if !system && SYSTEM_LOOKUPS.contains(&name) {
        return Err(fail(format!(
            "lookup plugin ({name}) is disabled: this templar may not touch the controller"
        )));
    }
    let rendered: Vec<Result<Value, Error>> = terms.iter().map(|t| render_term(state, t)).collect();
    let own_plugin = system && super::ansible_plugins::has_lookup_plugin_file(state, name);
    if !own_plugin && NATIVE_LOOKUPS.contains(&name) {
        let rendered = rendered.into_iter().collect::<Result<Vec<_>, _>>()?;
        let args = LookupArgs {
            rstrip: kwargs.get("rstrip")?,
            lstrip: kwargs.get("lstrip")?,
            default: kwargs.get("default")?,
        };
        let _: Option<bool> = kwargs.get("wantlist")?;
        let _: Option<String> = kwargs.get("errors")?;
        return builtin(state, name, &rendered, &args, kwargs);
    }
    if !system {
        return Err(fail(format!("The lookup plugin '{name}' was not found.")));
    }
    // the playbook's own plugin, or one fleet does not implement: Ansible's code runs it
    let terms = rendered
        .into_iter()
        .map(|t| t.map_err(|e| e.to_string()))
        .collect();
    super::ansible_plugins::lookup(state, name, terms, kwargs)
}

/// The keyword arguments the built-in lookups read themselves.
struct LookupArgs {
    rstrip: Option<bool>,
    lstrip: Option<bool>,
    default: Option<Value>,
}

/// The built-in lookups, one arm each: a dispatch table (the longer ones are functions).
fn builtin(
    state: &State,
    name: &str,
    terms: &[Value],
    args: &LookupArgs,
    kwargs: &Kwargs,
) -> Result<Vec<Value>, Error> {
    let strings = || terms.iter().map(super::repr::py_string);
    match name {
        "env" => Ok(strings()
            .map(|var| match std::env::var(&var) {
                Ok(v) => Value::from(v),
                Err(_) => args.default.clone().unwrap_or_else(|| Value::from("")),
            })
            .collect()),
        "file" => strings()
            .map(|path| {
                let strip = (args.rstrip.unwrap_or(true), args.lstrip.unwrap_or(false));
                file_contents(state, &path, strip).map(Value::from)
            })
            .collect(),
        // each command's output, line by line (Ansible's `lines` lookup)
        "lines" => {
            let mut out = Vec::new();
            for cmd in strings() {
                let text = command_output("lines", &cmd)?;
                out.extend(text.lines().map(|l| Value::from(l.to_string())));
            }
            Ok(out)
        }
        "pipe" => strings()
            .map(|cmd| Ok(Value::from(command_output("pipe", &cmd)?.trim_end())))
            .collect(),
        "vars" => terms
            .iter()
            .map(|term| {
                let var = term.as_str().ok_or_else(|| {
                    fail(format!(
                        "Variable name must be 'str' not '{}'.",
                        super::repr::py_type_name(term)
                    ))
                })?;
                match state.lookup(var) {
                    Some(v) if !v.is_undefined() => Ok(v),
                    _ => match &args.default {
                        Some(d) => Ok(d.clone()),
                        None => Err(fail(format!("No variable named '{var}' was found."))),
                    },
                }
            })
            .collect(),
        "items" => flattened(terms, 1),
        // community.general's (ansible-core has none): lists flattened at every depth
        "flattened" | "community.general.flattened" => flattened(terms, usize::MAX),
        "varnames" => varnames(state, terms),
        "list" => Ok(terms.to_vec()),
        "sequence" => {
            let mut options = Vec::new();
            for key in kwargs.args().filter(|k| *k != "wantlist") {
                let value: Value = kwargs.get(key)?;
                options.push((key.to_string(), super::repr::py_string(&value)));
            }
            let mut terms: Vec<String> = strings().collect();
            if terms.is_empty() && !options.is_empty() {
                terms.push(String::new());
            }
            let mut out = Vec::new();
            for term in terms {
                out.extend(super::sequences::sequence_with(&term, &options).map_err(fail)?);
            }
            Ok(out.into_iter().map(Value::from).collect())
        }
        "together" => together(terms),
        "nested" => super::lookup_lists::nested(terms),
        "subelements" => super::lookup_lists::subelements(terms),
        "random_choice" => Ok(super::lookup_lists::random_choice(terms)),
        "dict" => {
            let items = super::sequences::dict_items(json_terms(terms)?).map_err(fail)?;
            Ok(items.iter().map(Value::from_serialize).collect())
        }
        "indexed_items" => {
            let items = super::sequences::indexed_items(json_terms(terms)?);
            Ok(items.iter().map(Value::from_serialize).collect())
        }
        "fileglob" => Ok(fileglob(state, strings())),
        "first_found" => super::first_found::first_found(state, terms, kwargs),
        "template" => super::lookup_template::template(state, terms, kwargs),
        other => Err(fail(format!("The lookup plugin '{other}' was not found."))),
    }
}

/// `items` (`depth` 1) / `flattened` (every depth): the terms with lists flattened.
fn flattened(terms: &[Value], depth: usize) -> Result<Vec<Value>, Error> {
    let mut out = Vec::new();
    for term in terms {
        match term.kind() {
            minijinja::value::ValueKind::Seq if depth > 0 => {
                let items: Vec<Value> = term.try_iter()?.collect();
                out.extend(flattened(&items, depth - 1)?);
            }
            _ => out.push(term.clone()),
        }
    }
    Ok(out)
}

/// `varnames`: the names of the variables in scope that each term (a Python regex) finds with
/// `re.search`, term by term, in the order the variables are known.
fn varnames(state: &State, terms: &[Value]) -> Result<Vec<Value>, Error> {
    let vars = state.lookup("vars").unwrap_or_default();
    let names: Vec<String> = match vars.try_iter() {
        Ok(keys) => keys
            .filter_map(|k| k.as_str().map(str::to_string))
            .collect(),
        Err(_) => Vec::new(),
    };
    let mut out = Vec::new();
    for term in terms {
        let Some(term) = term.as_str() else {
            return Err(fail(format!(
                "Invalid setting identifier, \"{}\" is not a string, it is a <class '{}'>",
                super::repr::py_string(term),
                super::repr::py_type_name(term)
            )));
        };
        let re = crate::pyre::compile(term, crate::pyre::Flags::default()).map_err(|e| {
            fail(format!(
                "Unable to use \"{term}\" as a search parameter: {}",
                e.python_message()
            ))
        })?;
        for name in &names {
            if re
                .is_match(name.as_bytes())
                .map_err(|e| fail(e.to_string()))?
            {
                out.push(Value::from(name.as_str()));
            }
        }
    }
    Ok(out)
}

/// `together`: the lists zipped, as fleet's `with_together` does.
fn together(terms: &[Value]) -> Result<Vec<Value>, Error> {
    let zipped = super::sequences::together(&json_terms(terms)?).map_err(fail)?;
    Ok(zipped.iter().map(Value::from_serialize).collect())
}

/// The terms as JSON, for the list-making lookups of `sequences` that the executor's loops
/// share.
fn json_terms(terms: &[Value]) -> Result<Vec<serde_json::Value>, Error> {
    terms
        .iter()
        .map(|t| serde_json::to_value(t).map_err(|e| fail(e.to_string())))
        .collect()
}

/// `fileglob`: the files the patterns match, looked for as Ansible's lookup does: in each
/// directory of `ansible_search_path` (the role's, the task file's, the play's), its `files/`
/// first (without it, the role's and the playbook's).
fn fileglob(state: &State, patterns: impl Iterator<Item = String>) -> Vec<Value> {
    let var = |n: &str| state.lookup(n).and_then(|v| v.as_str().map(String::from));
    let listed: Vec<String> = state
        .lookup("ansible_search_path")
        .and_then(|v| v.try_iter().ok())
        .map(|items| items.filter_map(|i| i.as_str().map(String::from)).collect())
        .unwrap_or_default();
    let search = if listed.is_empty() {
        super::sequences::search_dirs(var("role_path").as_deref(), var("playbook_dir").as_deref())
    } else {
        listed
            .iter()
            .flat_map(|p| [std::path::Path::new(p).join("files"), p.into()])
            .collect()
    };
    patterns
        .flat_map(|p| super::sequences::fileglob(&p, &search))
        .map(Value::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::NATIVE_LOOKUPS;

    /// Every name fleet claims as its own is answered by `builtin` (never "not found", which
    /// would mean a lookup neither fleet nor Ansible's code runs).
    #[test]
    fn every_native_lookup_is_implemented() {
        let templar = crate::Templar::new();
        let vars = serde_json::json!({});
        for name in NATIVE_LOOKUPS {
            if let Err(e) = templar.eval(&format!("query('{name}')"), &vars) {
                assert!(!e.0.contains("was not found"), "{name}: {}", e.0);
            }
        }
    }
}
