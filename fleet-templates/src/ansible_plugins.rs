//! Filters, tests and lookups fleet does not implement itself, run by Ansible's own code:
//! ansible.builtin's that fleet lacks (`vault`, the `password`, `csvfile`, `ini`, `config`,
//! `inventory_hostnames` lookups...), a collection's (`community.general.lists_mergeby`,
//! `ansible.utils.ipaddr`), and the playbook's and roles' `filter_plugins/`, `test_plugins/`
//! and `lookup_plugins/`. As the module fallback does for modules, so that playbooks written
//! for Ansible run unchanged.
//!
//! How: one helper process on the controller (`ansible_plugins.py`, run by the Python of
//! [`crate::controller_python`]) evaluates `{{ __v | NAME(args) }}` with Ansible's own templar,
//! the values passed in as variables, and answers with the result as JSON: Ansible finds the
//! plugin by its name as ansible-playbook does, and its failures carry Ansible's messages.
//!
//! Why one persistent helper: starting Python and importing Ansible costs about a third of a
//! second; once per run it is noise, per call it would dwarf the task. Calls from every host
//! take turns on it (a call is a JSON line each way).
//!
//! Why minijinja reaches it by a rewrite: minijinja has no hook for an unknown filter or test.
//! A template naming one fails with the name, and the engine retries it with the call
//! rewritten to the [`FILTER_FN`] filter or the [`TEST_FN`] test (`crate::qualified`), which
//! carry the name as their first argument. Values cross as JSON: what JSON cannot hold (a
//! Python set, a datetime) comes back as the nearest JSON value.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};

use minijinja::value::{Kwargs, Rest, Value};
use minijinja::{Environment, Error, ErrorKind, State};
use serde_json::{json, Map, Value as Json};

use super::filters::fail;

/// The helper script, run with the controller's Python.
const HELPER: &str = include_str!("ansible_plugins.py");

/// The filter an unknown filter's call is rewritten to: `x | fleet_ansible_filter('NAME', ...)`.
pub(crate) const FILTER_FN: &str = "fleet_ansible_filter";
/// The test an unknown test's call is rewritten to: `x is fleet_ansible_test('NAME', ...)`.
pub(crate) const TEST_FN: &str = "fleet_ansible_test";

/// Variables a lookup plugin is not given: `hostvars` alone can be megabytes on a large
/// inventory, sent on every call (a plugin reading another host's variables is rare); `vars` is
/// the mapping of all the others.
const NOT_FOR_LOOKUPS: &[&str] = &["hostvars", "vars"];

/// Registers [`FILTER_FN`] and [`TEST_FN`]; without `system` (a templar that may not touch the
/// controller) they only say the plugin is unknown.
pub(crate) fn register(env: &mut Environment<'static>, system: bool) {
    env.add_filter(
        FILTER_FN,
        move |state: &State, value: Value, name: String, args: Rest<Value>, kwargs: Kwargs| {
            if !system {
                return Err(fail(format!("No filter named '{name}'.")));
            }
            // ansible-core 2.19 hands an undefined value on instead of calling the plugin, so
            // `default` after it still applies
            if let Some(undefined) = std::iter::once(&value)
                .chain(args.iter())
                .find(|v| v.is_undefined())
            {
                return Ok(undefined.clone());
            }
            let request = call_request(state, "filter", &name, &value, &args, &kwargs)?;
            ask(&request)
                .map_err(|why| fail(format!("No filter named '{name}'. ({why})")))?
                .map(|v| Value::from_serialize(&v))
                .map_err(fail)
        },
    );
    env.add_test(
        TEST_FN,
        move |state: &State, value: Value, name: String, args: Rest<Value>, kwargs: Kwargs| {
            if !system {
                return Err(fail(format!("No test named '{name}'.")));
            }
            let request = call_request(state, "test", &name, &value, &args, &kwargs)?;
            let answer = ask(&request)
                .map_err(|why| fail(format!("No test named '{name}'. ({why})")))?
                .map_err(fail)?;
            Ok(truthy(&answer))
        },
    );
}

/// Runs lookup `name` through Ansible with `terms` (each its value, or why it is undefined)
/// and the call's keyword arguments (those fleet handles itself, `wantlist` and `errors`,
/// left out).
pub(crate) fn lookup(
    state: &State,
    name: &str,
    terms: Vec<Result<Value, String>>,
    kwargs: &Kwargs,
) -> Result<Vec<Value>, Error> {
    if !is_plugin_name(name) {
        return Err(fail(format!("The lookup plugin '{name}' was not found.")));
    }
    let mut args = Vec::new();
    let mut undefined = Map::new();
    for (i, term) in terms.into_iter().enumerate() {
        match term {
            Ok(v) => args.push(to_json(&v)?),
            Err(why) => {
                undefined.insert(i.to_string(), Json::String(why));
                args.push(Json::Null);
            }
        }
    }
    // the task's variables, as Ansible gives them (`variables=`): the `config` lookup reads
    // the connection's, `inventory_hostnames` the groups; one that does not template is left out
    let mut variables = Map::new();
    let names = state.lookup("vars").unwrap_or_default();
    for name in names.try_iter().into_iter().flatten() {
        let Some(name) = name.as_str().filter(|n| !NOT_FOR_LOOKUPS.contains(n)) else {
            continue;
        };
        if let Some(Ok(json)) = state
            .lookup(name)
            .filter(|v| !v.is_undefined())
            .map(|v| to_json(&v))
        {
            variables.insert(name.to_string(), json);
        }
    }
    let request = json!({
        "kind": "lookup", "name": name, "args": args, "undefined": undefined,
        "kwargs": kwargs_json(kwargs, &["wantlist", "errors"])?, "variables": variables,
        "plugin_dirs": plugin_dirs(state, "lookup"),
        "basedir": state.lookup("playbook_dir").and_then(|v| v.as_str().map(str::to_string)),
    });
    let answer = ask(&request)
        .map_err(|why| fail(format!("The lookup plugin '{name}' was not found. ({why})")))?
        .map_err(fail)?;
    Ok(match answer {
        Json::Array(items) => items.iter().map(Value::from_serialize).collect(),
        other => vec![Value::from_serialize(&other)],
    })
}

/// Whether `name` can name a plugin: dotted identifiers (`password`, `community.general.x`).
pub(crate) fn is_plugin_name(name: &str) -> bool {
    name.split('.').all(|part| {
        part.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// Python's truth of a test's answer (a test plugin may return any value).
fn truthy(value: &Json) -> bool {
    match value {
        Json::Null => false,
        Json::Bool(b) => *b,
        Json::Number(n) => n.as_f64() != Some(0.0),
        Json::String(s) => !s.is_empty(),
        Json::Array(a) => !a.is_empty(),
        Json::Object(o) => !o.is_empty(),
    }
}

/// Whether the role or the playbook has its own `lookup_plugins/NAME.py`, which Ansible
/// prefers to a built-in lookup of the same name.
pub(crate) fn has_lookup_plugin_file(state: &State, name: &str) -> bool {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return false;
    }
    plugin_dirs(state, "lookup").iter().any(|(_, dir)| {
        std::path::Path::new(dir)
            .join(format!("{name}.py"))
            .is_file()
    })
}

/// The request for a filter or test call.
fn call_request(
    state: &State,
    kind: &str,
    name: &str,
    value: &Value,
    args: &[Value],
    kwargs: &Kwargs,
) -> Result<Json, Error> {
    let args = args.iter().map(to_json).collect::<Result<Vec<_>, _>>()?;
    Ok(json!({
        "kind": kind, "name": name, "value": to_json(value)?, "args": args,
        "kwargs": kwargs_json(kwargs, &[])?, "plugin_dirs": plugin_dirs(state, kind),
        "basedir": state.lookup("playbook_dir").and_then(|v| v.as_str().map(str::to_string)),
    }))
}

/// A value as JSON, as the engine turns results into JSON (a member whose template failed
/// fails the call); an undefined one fails the call as undefined (what `default` absorbs).
fn to_json(value: &Value) -> Result<Json, Error> {
    if value.is_undefined() || crate::lazy::holds_undefined(value) {
        return Err(Error::from(ErrorKind::UndefinedError));
    }
    crate::engine::to_json(value).map_err(crate::engine::EvalError::into_minijinja)
}

fn kwargs_json(kwargs: &Kwargs, skip: &[&str]) -> Result<Map<String, Json>, Error> {
    let mut out = Map::new();
    for key in kwargs.args().map(str::to_string).collect::<Vec<_>>() {
        let value: Value = kwargs.get(&key)?;
        if !skip.contains(&key.as_str()) {
            out.insert(key, to_json(&value)?);
        }
    }
    Ok(out)
}

/// The `KIND_plugins/` directories Ansible adds for the current role and the playbook.
fn plugin_dirs(state: &State, kind: &str) -> Vec<(String, String)> {
    ["role_path", "playbook_dir"]
        .iter()
        .filter_map(|var| state.lookup(var)?.as_str().map(str::to_string))
        .map(|base| {
            let dir = std::path::Path::new(&base).join(format!("{kind}_plugins"));
            (kind.to_string(), dir.to_string_lossy().into_owned())
        })
        .collect()
}

struct Helper {
    _child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

enum HelperState {
    Unstarted,
    Ready(Helper),
    /// Ansible cannot be used for the rest of the run (not importable, or the helper died).
    Broken(String),
}

static HELPER_STATE: Mutex<HelperState> = Mutex::new(HelperState::Unstarted);

/// One exchange with the helper, started on first use: `Err` when Ansible cannot be used (why),
/// else the plugin's value or Ansible's message.
fn ask(request: &Json) -> Result<Result<Json, String>, String> {
    let mut state = HELPER_STATE.lock().unwrap_or_else(|p| p.into_inner());
    if matches!(*state, HelperState::Unstarted) {
        *state = match start() {
            Ok(helper) => HelperState::Ready(helper),
            Err(why) => HelperState::Broken(why),
        };
    }
    let helper = match &mut *state {
        HelperState::Ready(helper) => helper,
        HelperState::Broken(why) => return Err(why.clone()),
        HelperState::Unstarted => unreachable!("started above"),
    };
    match exchange(helper, request) {
        Ok(answer) if answer["ok"] == true => Ok(Ok(answer["value"].clone())),
        Ok(answer) => Ok(Err(answer["msg"]
            .as_str()
            .unwrap_or("the plugin failed")
            .to_string())),
        Err(e) => {
            let why = format!("fleet's Ansible plugin helper failed: {e}");
            *state = HelperState::Broken(why.clone());
            Err(why)
        }
    }
}

fn exchange(helper: &mut Helper, request: &Json) -> std::io::Result<Json> {
    helper.stdin.write_all(request.to_string().as_bytes())?;
    helper.stdin.write_all(b"\n")?;
    helper.stdin.flush()?;
    let mut line = String::new();
    if helper.stdout.read_line(&mut line)? == 0 {
        return Err(std::io::Error::other("the helper exited"));
    }
    serde_json::from_str(&line).map_err(std::io::Error::other)
}

/// Starts the helper and waits for its `ready` line.
fn start() -> Result<Helper, String> {
    let python = crate::controller_python::from_env();
    let mut child = Command::new(&python)
        .arg("-c")
        .arg(HELPER)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    let stdin = child.stdin.take().expect("piped");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
    // Ansible's warnings go to stderr: drained so the helper never blocks on a full pipe, the
    // last line kept for the message if it cannot start.
    let last = Arc::new(Mutex::new(String::new()));
    let keep = last.clone();
    let stderr = child.stderr.take().expect("piped");
    let drain = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            *keep.lock().unwrap_or_else(|p| p.into_inner()) = line;
        }
    });
    let mut ready = String::new();
    let read = stdout.read_line(&mut ready);
    if !crate::controller_python::is_ready(&read, &ready) {
        let _ = child.kill();
        let _ = child.wait();
        let _ = drain.join();
        let last = last.lock().unwrap_or_else(|p| p.into_inner()).clone();
        return Err(crate::controller_python::cannot_import(&python, &last));
    }
    let mut helper = Helper {
        _child: child,
        stdin,
        stdout,
    };
    hand_over_secrets(&mut helper)?;
    Ok(helper)
}

/// The run's vault secrets, for plugins that open vaults (`unvault`, `vault`), before any
/// request: over the helper's stdin, never its command line or environment.
fn hand_over_secrets(helper: &mut Helper) -> Result<(), String> {
    use base64::Engine;
    let secrets: Vec<Json> = vault::secrets::run_secrets()
        .iter()
        .map(|s| {
            let password = base64::engine::general_purpose::STANDARD.encode(s.expose_password());
            serde_json::json!([s.id, password])
        })
        .collect();
    if secrets.is_empty() {
        return Ok(());
    }
    let request = serde_json::json!({"kind": "secrets", "secrets": secrets});
    match exchange(helper, &request) {
        Ok(answer) if answer["ok"] == true => Ok(()),
        Ok(answer) => Err(format!(
            "fleet's Ansible plugin helper refused the vault secrets: {}",
            answer["msg"]
        )),
        Err(e) => Err(format!("fleet's Ansible plugin helper failed: {e}")),
    }
}
