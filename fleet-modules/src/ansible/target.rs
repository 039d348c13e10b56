//! The target side of the fallback: runs an Ansible payload with the target's Python over the
//! host's connection (the task's `become` and `environment` included, as every fleet module
//! runs) and turns the JSON it prints into the task's result, as Ansible's
//! `_parse_returned_data` does.
//!
//! Why pipelining: the payload goes on the interpreter's standard input, so nothing is copied to
//! the target and no temporary file is left behind, exactly as ansible-playbook with
//! `pipelining = True` runs it.

use serde_json::{Map, Value};

use super::controller::{BuildRequest, Controller, FallbackError};
use crate::remote::{shell_quote, RemoteError};
use crate::{Args, Diff, ModuleCtx, ModuleResult};

/// Where the module runs: the interpreter when `ansible_python_interpreter` names one, else the
/// first Python found, in the order of Ansible's interpreter discovery.
fn interpreter_script(interpreter: Option<&str>) -> String {
    match interpreter {
        Some(python) => shell_quote(python),
        None => "for p in /usr/bin/python3 /usr/libexec/platform-python /usr/bin/python \
                 python3 python; do command -v \"$p\" >/dev/null 2>&1 && exec \"$p\"; done\n\
                 echo 'fleet: no Python interpreter found on the target' >&2; exit 127"
            .to_string(),
    }
}

/// Runs a module that is not AnsiballZ (a script reading `WANT_JSON` or `k=v` arguments, a
/// binary) as Ansible does: the module and its arguments file in a private temporary directory
/// under Ansible's `~/.ansible/tmp`, `module ARGS_FILE`, the directory removed after. Standard input holds the arguments file
/// (`args_len` bytes, read exactly with `dd`), then the module.
fn module_file_script(args_len: usize) -> String {
    format!(
        "t=\"$HOME/.ansible/tmp\"; mkdir -p \"$t\" 2>/dev/null\n\
         d=$(mktemp -d \"$t/fleet-module.XXXXXX\" 2>/dev/null || mktemp -d) || exit 1\n\
         dd bs=1 count={args_len} of=\"$d/args\" 2>/dev/null\n\
         cat > \"$d/module\" && chmod 700 \"$d/module\"\n\
         \"$d/module\" \"$d/args\"\n\
         rc=$?\n\
         rm -rf \"$d\"\n\
         exit $rc"
    )
}

/// The `_ansible_*` arguments Ansible adds for a module (`ActionBase._update_module_args`).
fn internal_args(ctx: &ModuleCtx<'_>, name: &str, verbosity: u8, no_log: bool) -> Args {
    let mut args = Map::new();
    args.insert("_ansible_check_mode".into(), ctx.check_mode.into());
    args.insert("_ansible_diff".into(), ctx.diff.into());
    args.insert("_ansible_no_log".into(), no_log.into());
    args.insert("_ansible_verbosity".into(), verbosity.into());
    args.insert("_ansible_module_name".into(), name.into());
    args
}

/// Everything one fallback task needs besides the module context.
pub struct Call<'a> {
    /// The module as the task names it.
    pub name: &'a str,
    /// A `library/` module file, when the lookup found one.
    pub path: Option<&'a std::path::Path>,
    /// The task's templated arguments.
    pub args: &'a Args,
    /// `ansible_python_interpreter`, when the host sets one.
    pub interpreter: Option<&'a str>,
    /// `-v` count (modules may log more).
    pub verbosity: u8,
    /// `no_log` on the task.
    pub no_log: bool,
    /// `module_utils/` directories beside the playbook and in the roles.
    pub module_utils: &'a [std::path::PathBuf],
    /// The task's `collections:`, where a short module name is looked up first.
    pub collections: &'a [String],
}

/// What running a module through Ansible's code came to.
#[derive(Debug)]
pub enum Ran {
    /// The module ran (or failed to): its result.
    Result(ModuleResult),
    /// The module comes with an action plugin (named), which must run instead
    /// ([`super::actions`]); nothing ran on the host.
    ActionPlugin(String),
}

/// Packages the module through `controller` and runs it on the host. `Err` only when the host
/// could not be reached; every other failure is a failed result naming the module.
pub async fn run(
    controller: &Controller,
    call: &Call<'_>,
    ctx: &mut ModuleCtx<'_>,
) -> Result<Ran, RemoteError> {
    run_module(controller, call, ctx).await.map(|r| match r {
        Err(handler) => Ran::ActionPlugin(handler),
        Ok(result) => Ran::Result(result),
    })
}

async fn run_module(
    controller: &Controller,
    call: &Call<'_>,
    ctx: &mut ModuleCtx<'_>,
) -> Result<Result<ModuleResult, String>, RemoteError> {
    let mut args = call.args.clone();
    args.extend(internal_args(ctx, call.name, call.verbosity, call.no_log));
    let req = BuildRequest {
        name: call.name,
        path: call.path,
        args: &args,
        interpreter: call.interpreter.unwrap_or("/usr/bin/python3"),
        module_utils: call.module_utils,
        collections: call.collections,
    };
    let built = match controller.build(&req).await {
        Ok(built) => built,
        Err(e @ FallbackError::Unavailable(_)) => {
            let what = match call.path {
                Some(path) => format!(
                    "module '{}' ({}) is not native to fleet",
                    call.name,
                    path.display()
                ),
                None => crate::unavailable_message(call.name),
            };
            // the message stays the fail-late one; why the fallback could not help rides beside it
            return Ok(Ok(
                ModuleResult::fail(what).with("fleet_fallback", e.to_string())
            ));
        }
        Err(FallbackError::ActionPlugin(handler)) => return Ok(Err(handler)),
        Err(e) => return Ok(Ok(ModuleResult::fail(e.to_string()))),
    };
    let out = match (built.style.as_str(), &built.args_file) {
        ("new", _) => {
            ctx.sh_with_input(&interpreter_script(call.interpreter), &built.payload)
                .await?
        }
        ("old" | "non_native_want_json" | "binary", Some(args_file)) => {
            let mut input = args_file.as_bytes().to_vec();
            input.extend_from_slice(&built.payload);
            ctx.sh_with_input(&module_file_script(args_file.len()), &input)
                .await?
        }
        (style, _) => {
            return Ok(Ok(ModuleResult::fail(format!(
                "module '{}' is an Ansible module of style '{style}', which fleet cannot run",
                built.fqcn
            ))))
        }
    };
    Ok(Ok(parse_returned(
        &out.stdout_text(),
        &out.stderr_text(),
        out.rc,
        ctx.diff,
    )))
}

/// The first JSON object in `stdout`, junk before and after ignored (Ansible's
/// `_filter_non_json_lines`, objects only).
fn json_object(stdout: &str) -> Option<Map<String, Value>> {
    let start = stdout
        .lines()
        .position(|l| l.trim_start().starts_with('{'))?;
    let text: Vec<&str> = stdout.lines().skip(start).collect();
    for end in (1..=text.len()).rev() {
        if !text[end - 1].trim_end().ends_with('}') {
            continue;
        }
        if let Ok(Value::Object(map)) = serde_json::from_str(&text[..end].join("\n")) {
            return Some(map);
        }
    }
    None
}

/// The module's JSON as a [`ModuleResult`]; output that is not JSON is Ansible's "Module result
/// deserialization failed" with the raw output.
pub fn parse_returned(stdout: &str, stderr: &str, rc: i32, want_diff: bool) -> ModuleResult {
    let Some(data) = json_object(stdout) else {
        let mut r = ModuleResult::fail(
            "Module result deserialization failed. See stdout/stderr for the returned output.",
        );
        r.data.insert("module_stdout".into(), stdout.into());
        r.data.insert("module_stderr".into(), stderr.into());
        r.data.insert("rc".into(), rc.into());
        return r;
    };
    result_from(data, want_diff)
}

/// A module's (or an action plugin's) result mapping as a [`ModuleResult`]: without `failed`,
/// a non-zero `rc` fails it, as Ansible reads a module's result.
pub fn result_from(mut data: Map<String, Value>, want_diff: bool) -> ModuleResult {
    if let Some(Value::Array(warnings)) = data.get_mut("warnings") {
        // ansible-core 2.19 modules send `{"event": {"msg": ...}}` summaries; the text is the
        // warning
        for w in warnings.iter_mut() {
            if let Some(msg) = w.pointer("/event/msg").and_then(Value::as_str) {
                *w = Value::String(msg.to_string());
            }
        }
    }
    let changed = data.remove("changed").is_some_and(|v| v == true);
    let failed = match data.remove("failed") {
        Some(v) => v == true,
        None => data
            .get("rc")
            .is_some_and(|rc| rc != &Value::from(0) && rc != &Value::from("0")),
    };
    let mut msg = match data.remove("msg") {
        Some(Value::String(s)) => Some(s),
        Some(Value::Null) | None => None,
        Some(other) => Some(other.to_string()),
    };
    // an exception the module did not handle comes as an `ErrorSummary`; the controller shows
    // it without its traceback, and a failure without a message of its own is named after it
    let unhandled = data
        .get("exception")
        .and_then(|e| e.pointer("/event/msg"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(unhandled) = unhandled {
        data.insert("exception".into(), "(traceback unavailable)".into());
        if failed && msg.is_none() {
            msg = Some(format!("Task failed: Module failed: {unhandled}"));
        }
    }
    let diffs = if want_diff {
        diffs_of(data.get("diff"))
    } else {
        Vec::new()
    };
    if !diffs.is_empty() {
        data.remove("diff");
    }
    ModuleResult {
        changed,
        failed,
        msg,
        data,
        diffs,
        defer_to_ansible: None,
    }
}

fn diffs_of(diff: Option<&Value>) -> Vec<Diff> {
    let one = |d: &Value| Diff {
        before_header: d["before_header"].as_str().unwrap_or_default().to_string(),
        after_header: d["after_header"].as_str().unwrap_or_default().to_string(),
        before: d["before"].as_str().unwrap_or_default().to_string(),
        after: d["after"].as_str().unwrap_or_default().to_string(),
    };
    match diff {
        Some(Value::Array(items)) => items.iter().map(one).collect(),
        Some(d @ Value::Object(_)) => vec![one(d)],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_with_junk_around_and_rc_only_failures() {
        let r = parse_returned(
            "motd line\n{\"changed\": true, \"x\": 1}\ntrailer\n",
            "",
            0,
            false,
        );
        assert!(r.changed && !r.failed);
        assert_eq!(r.data["x"], 1);
        let warned = r#"{"warnings": [{"event": {"msg": "careful"}}, "plain"]}"#;
        let r = parse_returned(warned, "", 0, false);
        assert_eq!(r.data["warnings"], serde_json::json!(["careful", "plain"]));
        let r = parse_returned("{\"rc\": 3, \"msg\": \"no\"}\n", "", 0, false);
        assert!(r.failed);
        assert_eq!(r.msg.as_deref(), Some("no"));
    }

    #[test]
    fn an_unhandled_exception_names_the_failure() {
        let out = r#"{"exception": {"event": {"msg": "failing via exception",
            "__ansible_type": "Event"}, "__ansible_type": "ErrorSummary"}, "failed": true}"#;
        let r = parse_returned(out, "", 1, false);
        assert!(r.failed);
        assert_eq!(
            r.msg.as_deref(),
            Some("Task failed: Module failed: failing via exception")
        );
        assert_eq!(r.data["exception"], "(traceback unavailable)");
        // a failure with its own message keeps it
        let out = r#"{"exception": {"event": {"msg": "x"}}, "failed": true, "msg": "boom"}"#;
        assert_eq!(
            parse_returned(out, "", 1, false).msg.as_deref(),
            Some("boom")
        );
    }

    #[test]
    fn output_that_is_not_json_is_a_module_failure() {
        let r = parse_returned("Traceback...\n", "boom\n", 1, false);
        assert!(r.failed);
        assert!(r
            .msg
            .unwrap()
            .starts_with("Module result deserialization failed"));
        assert_eq!(r.data["module_stderr"], "boom\n");
        assert_eq!(r.data["rc"], 1);
    }

    #[tokio::test]
    async fn a_module_file_runs_with_its_arguments_file_and_is_removed() {
        use crate::remote::{Exec, LocalRemote, Remote};
        let args = r#"{"say": "hi"}"#;
        let module = "#!/bin/sh\nprintf '{\"args\": %s, \"dir\": \"%s\"}' \"$(cat \"$1\")\" \"${1%/args}\"\n";
        let mut input = args.as_bytes().to_vec();
        input.extend_from_slice(module.as_bytes());
        let script = module_file_script(args.len());
        let out = LocalRemote
            .exec(Exec {
                script: &script,
                stdin: &input,
                ..Exec::default()
            })
            .await
            .unwrap();
        let r = parse_returned(&out.stdout_text(), &out.stderr_text(), out.rc, false);
        assert!(!r.failed, "{r:?}");
        assert_eq!(r.data["args"]["say"], "hi");
        let dir = r.data["dir"].as_str().unwrap();
        assert!(dir.contains("fleet-module.") && !std::path::Path::new(dir).exists());
    }

    #[test]
    fn diff_goes_to_diffs_only_when_asked() {
        let out = "{\"changed\": true, \"diff\": {\"before\": \"a\", \"after\": \"b\"}}";
        assert!(parse_returned(out, "", 0, false).data.contains_key("diff"));
        let r = parse_returned(out, "", 0, true);
        assert_eq!(r.diffs[0].after, "b");
    }
}
