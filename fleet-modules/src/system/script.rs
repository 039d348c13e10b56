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
            return Ok(ModuleResult::fail("script requires a command, none given"));
        };
        let chdir = opt_str(&args, "chdir");
        if chdir.as_deref().is_some_and(|d| !d.starts_with('/')) {
            return Ok(ModuleResult::fail("chdir must be an absolute path"));
        }
        let creates = opt_str(&args, "creates");
        let removes = opt_str(&args, "removes");
        let Some(local) = ctx.find_local("files", &first) else {
            return Ok(ModuleResult::fail(format!(
                "Could not find or access '{first}'"
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

        let mut script = String::from(EXPAND_PRELUDE);
        if let Some(p) = &creates {
            script.push_str(&format!(
                "if {}; then echo {MARK}creates; exit 0; fi\n",
                glob_matches(p)
            ));
        }
        if let Some(p) = &removes {
            script.push_str(&format!(
                "if ! {}; then echo {MARK}removes; exit 0; fi\n",
                glob_matches(p)
            ));
        }
        if ctx.check_mode {
            script.push_str(&format!("echo {MARK}would; exit 0\n"));
        } else {
            // The rest of the line keeps its shell meaning, as Ansible substitutes only the path.
            let rest = raw
                .strip_prefix(first.as_str())
                .map(str::to_string)
                .unwrap_or_else(|| {
                    let quoted_end = raw.find(char::is_whitespace).unwrap_or(raw.len());
                    raw[quoted_end..].to_string()
                });
            let runner = opt_str(&args, "executable")
                .map(|e| format!("{} ", shell_quote(&e)))
                .unwrap_or_default();
            let cd = chdir
                .as_deref()
                .map(|d| format!("cd {} || exit 1\n", expanded_word(d)))
                .unwrap_or_default();
            script.push_str(&format!(
                "__t=$(mktemp \"${{TMPDIR:-/tmp}}/fleet-script.XXXXXX\") || exit 1\n\
                 cat > \"$__t\" && chmod 700 \"$__t\" || {{ rm -f \"$__t\"; exit 1; }}\n\
                 {cd}{runner}\"$__t\" {rest} </dev/null\n__rc=$?\nrm -f \"$__t\"\nexit $__rc\n"
            ));
        }
        let out = ctx.sh_with_input(&script, &content).await?;
        let stdout = out.stdout_text();
        if let Some(kind) = stdout.trim_end().strip_prefix(MARK) {
            let skip = |msg: String| {
                let mut r = ModuleResult::ok().with("skipped", true);
                r.msg = Some(msg);
                r
            };
            return Ok(match kind {
                "creates" => skip(format!(
                    "skipped, since {} exists",
                    creates.unwrap_or_default()
                )),
                "removes" => skip(format!(
                    "skipped, since {} does not exist",
                    removes.unwrap_or_default()
                )),
                _ if creates.is_some() || removes.is_some() => ModuleResult::changed(),
                _ => skip("Check mode is not supported for this task.".into()),
            });
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
        assert_eq!(r.msg, Some(format!("skipped, since {m} exists")));

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
        assert!(text(&r, "stderr").contains("fleet-script."));
        let r = run_with(
            &Script,
            json!({"_raw_params": "nope.sh"}),
            opts(dir.path(), false),
        )
        .await;
        assert_eq!(r.msg.as_deref(), Some("Could not find or access 'nope.sh'"));
    }
}
