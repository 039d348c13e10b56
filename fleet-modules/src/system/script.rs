//! `script`: a local script (found like Ansible's `files/` lookup) sent over standard input,
//! saved to a temporary file on the host and run there with its arguments, all in one round trip.

use async_trait::async_trait;

use super::command_run::glob_matches;
use super::common::{self, opt_str};
use super::words::{self, expanded_word, EXPAND_PRELUDE};
use crate::remote::{shell_quote, RemoteError};
use crate::{ArgSpec, Args, Module, ModuleCtx, ModuleResult};

const MARK: &str = "@@fleet-script@@";

/// `ansible.builtin.script`.
pub struct Script;

#[async_trait]
impl Module for Script {
    fn name(&self) -> &'static str {
        "script"
    }
    fn spec(&self) -> ArgSpec {
        ArgSpec {
            free_form: true,
            params: &[
                "cmd",
                "chdir",
                "creates",
                "removes",
                "executable",
                "decrypt",
            ],
            required: &[],
        }
    }
    async fn run(&self, args: &Args, ctx: &mut ModuleCtx<'_>) -> Result<ModuleResult, RemoteError> {
        let inv = match Invocation::parse(args) {
            Ok(inv) => inv,
            Err(failed) => return Ok(failed),
        };
        let Some(local) = ctx.find_local("files", &inv.first) else {
            return Ok(ModuleResult::fail(format!(
                "Could not find or access '{}'",
                inv.first
            )));
        };
        let content = match std::fs::read(&local) {
            Ok(c) => c,
            Err(e) => {
                return Ok(ModuleResult::fail(format!(
                    "Could not read '{}': {e}",
                    local.display()
                )))
            }
        };
        let script = inv.script(ctx.check_mode);
        let out = ctx.sh_with_input(&script, &content).await?;
        let stdout = out.stdout_text();
        if let Some(kind) = stdout.trim_end().strip_prefix(MARK) {
            return Ok(inv.stopped(kind));
        }
        let mut r =
            common::with_output(ModuleResult::changed(), out.rc, &stdout, &out.stderr_text());
        if out.rc != 0 {
            r.failed = true;
            r.msg = Some("non-zero return code".into());
        }
        Ok(r)
    }
}

/// One `script` task's free-form line and options, checked.
struct Invocation {
    /// The line after inline options, trimmed: the script's name and its arguments.
    raw: String,
    /// The script's name (the line's first word, unquoted).
    first: String,
    chdir: Option<String>,
    creates: Option<String>,
    removes: Option<String>,
    executable: Option<String>,
}

impl Invocation {
    /// The invocation, or the failed result to report.
    #[allow(clippy::result_large_err)] // built once per task; boxing buys nothing here
    fn parse(args: &Args) -> Result<Invocation, ModuleResult> {
        // the action plugin's argument spec: required_one_of and mutually_exclusive
        let given = |k: &str| args.get(k).is_some_and(|v| !v.is_null());
        match (given("_raw_params"), given("cmd")) {
            (false, false) => {
                return Err(ModuleResult::fail(
                    "one of the following is required: _raw_params, cmd",
                ))
            }
            (true, true) => {
                return Err(ModuleResult::fail(
                    "parameters are mutually exclusive: _raw_params|cmd",
                ))
            }
            _ => {}
        }
        let raw = opt_str(args, "_raw_params")
            .or_else(|| opt_str(args, "cmd"))
            .unwrap_or_default();
        let (raw, inline) = words::split_inline_options(&raw);
        let mut args = args.clone();
        for (k, v) in inline {
            args.insert(k, v.into());
        }
        let raw = raw.trim().to_string();
        let Some(first) = words::split(&raw).and_then(|w| w.into_iter().next()) else {
            return Err(ModuleResult::fail("script requires a command, none given"));
        };
        let chdir = opt_str(&args, "chdir");
        if let Some(dir) = chdir.as_deref().filter(|d| !d.starts_with('/')) {
            return Err(ModuleResult::fail(format!(
                "chdir {dir} must be an absolute path for a Unix-aware remote node"
            )));
        }
        Ok(Invocation {
            first,
            chdir,
            creates: opt_str(&args, "creates"),
            removes: opt_str(&args, "removes"),
            executable: opt_str(&args, "executable"),
            raw,
        })
    }

    /// The host-side script: the `creates`/`removes` checks, then (unless in check mode) the
    /// local script read from standard input into a temporary file, run and removed.
    fn script(&self, check_mode: bool) -> String {
        let mut script = String::from(EXPAND_PRELUDE);
        if let Some(p) = &self.creates {
            script.push_str(&format!(
                "if {}; then echo {MARK}creates; exit 0; fi\n",
                glob_matches(p)
            ));
        }
        if let Some(p) = &self.removes {
            script.push_str(&format!(
                "if ! {}; then echo {MARK}removes; exit 0; fi\n",
                glob_matches(p)
            ));
        }
        if check_mode {
            script.push_str(&format!("echo {MARK}would; exit 0\n"));
            return script;
        }
        // Ansible puts the script's path on the host in place of the local path's text
        // (`raw.replace(parts[0], tmp_src)`), so the rest of the line and any quotes around
        // the path keep their shell meaning: a name fixed here, not a shell variable, which
        // quotes would keep from expanding. `set -C` creates it exclusively (no file or
        // symlink of that name may exist).
        let path = format!("/tmp/fleet-script-{:032x}", rand::random::<u128>());
        let line = self.raw.replace(self.first.as_str(), &path);
        let runner = self
            .executable
            .as_deref()
            .map(|e| format!("{} ", shell_quote(e)))
            .unwrap_or_default();
        let cd = self
            .chdir
            .as_deref()
            .map(|d| format!("cd {} || exit 1\n", expanded_word(d)))
            .unwrap_or_default();
        let quoted = shell_quote(&path);
        script.push_str(&format!(
            "(set -C && cat > {quoted}) && chmod 700 {quoted} || {{ rm -f {quoted}; exit 1; }}\n\
             {cd}{runner}{line} </dev/null\n__rc=$?\nrm -f {quoted}\nexit $__rc\n"
        ));
        script
    }

    /// The script stopped at a marker (`kind`): skipped by `creates`/`removes`, or check mode.
    fn stopped(&self, kind: &str) -> ModuleResult {
        let skip = |msg: String| {
            let mut r = ModuleResult::ok().with("skipped", true);
            r.msg = Some(msg);
            r
        };
        let creates = self.creates.as_deref().unwrap_or_default();
        let removes = self.removes.as_deref().unwrap_or_default();
        match kind {
            "creates" => skip(format!("{creates} exists, matching creates option")),
            "removes" => skip(format!("{removes} does not exist, matching removes option")),
            _ if self.creates.is_some() || self.removes.is_some() => ModuleResult::changed(),
            _ => skip("Check mode is not supported for this task.".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::testing::{run_with, text, Run};
    use super::*;

    fn opts(dir: &std::path::Path, check: bool) -> Run {
        Run {
            check,
            search_dirs: vec![dir.to_path_buf()],
            ..Run::default()
        }
    }

    #[tokio::test]
    async fn script_runs_with_args_creates_and_check_mode() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("files")).unwrap();
        std::fs::write(
            dir.path().join("files/hello.sh"),
            "#!/bin/sh\necho \"args: $*\"; pwd; touch \"$1\"; echo warn >&2\n",
        )
        .unwrap();
        let marker = dir.path().join("made");
        let m = marker.display().to_string();
        let args =
            json!({"_raw_params": format!("hello.sh {m} 'two words'"), "creates": m, "chdir": "/"});

        let r = run_with(&Script, args.clone(), opts(dir.path(), true)).await;
        assert!(
            r.changed && !marker.exists(),
            "check mode changes nothing: {r:?}"
        );

        let r = run_with(&Script, args.clone(), opts(dir.path(), false)).await;
        assert!(r.changed && !r.failed, "{r:?}");
        assert_eq!(text(&r, "stdout"), format!("args: {m} two words\n/\n"));
        assert_eq!(text(&r, "stderr"), "warn\n");
        assert!(marker.exists());

        let r = run_with(&Script, args, opts(dir.path(), false)).await;
        assert!(!r.changed && r.data["skipped"] == json!(true));
        assert_eq!(r.msg, Some(format!("{m} exists, matching creates option")));

        let r = run_with(
            &Script,
            json!({"_raw_params": "hello.sh"}),
            opts(dir.path(), true),
        )
        .await;
        assert_eq!(
            r.msg.as_deref(),
            Some("Check mode is not supported for this task.")
        );
    }

    #[tokio::test]
    async fn script_failure_missing_file_and_executable() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("fail.sh"), "echo $0 >&2; exit 5\n").unwrap();
        let r = run_with(
            &Script,
            json!({"_raw_params": "fail.sh", "executable": "/bin/bash"}),
            opts(dir.path(), false),
        )
        .await;
        assert!(r.failed && r.changed);
        assert_eq!(r.data["rc"], json!(5));
        assert!(text(&r, "stderr").contains("/tmp/fleet-script-"));
        let r = run_with(
            &Script,
            json!({"_raw_params": "nope.sh"}),
            opts(dir.path(), false),
        )
        .await;
        assert_eq!(r.msg.as_deref(), Some("Could not find or access 'nope.sh'"));
    }
}
