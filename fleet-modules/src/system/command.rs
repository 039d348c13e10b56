//! `command`, `shell` and `raw`: run what the task says on the host, with Ansible's result keys.
//!
//! `command` never involves a shell: the line is split with shlex rules and every word quoted
//! (variables and `~` are expanded on the host, as Ansible's `run_command` does). `shell` hands the
//! line to `/bin/sh -c` (or `executable`). Both check `chdir`, `creates` and `removes` and run the
//! command in one round trip; the host's clock gives `start`, `end` and `delta`.

use async_trait::async_trait;

use super::command_run::run_command;
use super::common::{self, opt_str};
use crate::remote::{shell_quote, RemoteError};
use crate::{ArgSpec, Args, Module, ModuleCtx, ModuleResult};

/// `ansible.builtin.command`.
pub struct Command;
/// `ansible.builtin.shell`.
pub struct Shell;
/// `ansible.builtin.raw`.
pub struct Raw;

const COMMAND_PARAMS: &[&str] = &[
    "cmd",
    "argv",
    "chdir",
    "creates",
    "removes",
    "stdin",
    "stdin_add_newline",
    "strip_empty_ends",
    "executable",
    "expand_argument_vars",
    "warn",
];

#[async_trait]
impl Module for Command {
    fn name(&self) -> &'static str {
        "command"
    }
    fn spec(&self) -> ArgSpec {
        ArgSpec {
            free_form: true,
            params: COMMAND_PARAMS,
            required: &[],
        }
    }
    async fn run(&self, args: &Args, ctx: &mut ModuleCtx<'_>) -> Result<ModuleResult, RemoteError> {
        let result = run_command(args, ctx, false).await?;
        Ok(match opt_str(args, "executable") {
            Some(exe) => result.with_warning(format!(
                "As of Ansible 2.4, the parameter 'executable' is no longer supported with the \
                 'command' module. Not using '{exe}'."
            )),
            None => result,
        })
    }
}

#[async_trait]
impl Module for Shell {
    fn name(&self) -> &'static str {
        "shell"
    }
    fn spec(&self) -> ArgSpec {
        ArgSpec {
            free_form: true,
            params: COMMAND_PARAMS,
            required: &[],
        }
    }
    async fn run(&self, args: &Args, ctx: &mut ModuleCtx<'_>) -> Result<ModuleResult, RemoteError> {
        // Ansible's shell action refuses the one option only command has
        if args.contains_key("expand_argument_vars") {
            return Ok(ModuleResult::fail(
                "Unsupported parameters for (shell) module: expand_argument_vars",
            ));
        }
        run_command(args, ctx, true).await
    }
}

#[async_trait]
impl Module for Raw {
    fn name(&self) -> &'static str {
        "raw"
    }
    fn spec(&self) -> ArgSpec {
        ArgSpec {
            free_form: true,
            params: &["executable"],
            required: &[],
        }
    }
    async fn run(&self, args: &Args, ctx: &mut ModuleCtx<'_>) -> Result<ModuleResult, RemoteError> {
        if ctx.check_mode {
            return Ok(ModuleResult::ok().with("skipped", true));
        }
        let raw = opt_str(args, "_raw_params").unwrap_or_default();
        let script = match opt_str(args, "executable") {
            Some(exe) => format!("{} -c {}", shell_quote(&exe), shell_quote(&raw)),
            None => raw,
        };
        let out = ctx.sh(&script).await?;
        let mut result = common::with_output(
            ModuleResult::changed(),
            out.rc,
            &out.stdout_text(),
            &out.stderr_text(),
        );
        if out.rc != 0 {
            result.failed = true;
            result.msg = Some("non-zero return code".into());
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::common::HostTime;
    use super::super::testing::{check, run, run_with, text, Run};
    use super::*;

    /// Issue 18: `command` ignores `executable` with Ansible's warning; no command is the
    /// argument spec's error.
    #[tokio::test]
    async fn command_warns_about_executable_and_requires_a_command() {
        let r = run(
            &Command,
            json!({"_raw_params": "echo hi", "executable": "/bogus"}),
        )
        .await;
        assert_eq!(text(&r, "stdout"), "hi");
        let warnings = r.data["warnings"].as_array().expect("warnings");
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0]
            .as_str()
            .unwrap()
            .contains("no longer supported"));
        let r = run(
            &Shell,
            json!({"_raw_params": "echo hi", "expand_argument_vars": false}),
        )
        .await;
        assert_eq!(
            r.msg.as_deref(),
            Some("Unsupported parameters for (shell) module: expand_argument_vars")
        );
        let r = run(&Command, json!({"chdir": "/"})).await;
        assert!(r.failed);
        assert_eq!(
            r.msg.as_deref(),
            Some("one of the following is required: _raw_params, cmd, argv")
        );
    }

    #[tokio::test]
    async fn command_runs_without_a_shell_and_reports_ansible_keys() {
        let r = run(&Command, json!({"_raw_params": "echo 'a  b' $HOME | wc"})).await;
        assert!(r.changed && !r.failed, "{:?}", r);
        let home = std::env::var("HOME").unwrap();
        assert_eq!(text(&r, "stdout"), format!("a  b {home} | wc"));
        assert_eq!(r.data["cmd"], json!(["echo", "a  b", "$HOME", "|", "wc"]));
        assert_eq!(r.data["rc"], json!(0));
        assert_eq!(r.data["stdout_lines"], json!([format!("a  b {home} | wc")]));
        assert_eq!(r.msg.as_deref(), Some(""));
        let start = HostTime::parse(&text(&r, "start")).expect("start parses");
        let end = HostTime::parse(&text(&r, "end")).expect("end parses");
        assert_eq!(start.delta(&end), text(&r, "delta"));
        assert!(text(&r, "delta").starts_with("0:00:0"));
    }

    /// A local shell that keeps a clock offset, as a host's one SSH connection does.
    struct Connection {
        offset: Option<i64>,
    }

    #[async_trait::async_trait]
    impl crate::remote::Remote for Connection {
        async fn exec(
            &mut self,
            req: crate::remote::Exec<'_>,
        ) -> Result<crate::remote::CmdOutput, RemoteError> {
            crate::remote::LocalRemote.exec(req).await
        }
        fn clock_offset(&self) -> Option<i64> {
            self.offset
        }
        fn set_clock_offset(&mut self, micros: i64) {
            self.offset = Some(micros);
        }
    }

    /// Issue 18.7: the host's clock is read by the first command on a connection only; later
    /// ones start no `date` and still report the host's local time (a `date` on PATH that logs
    /// each start counts them).
    #[tokio::test]
    async fn the_hosts_clock_is_read_once_per_connection() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("dates");
        let fake = dir.path().join("date");
        std::fs::write(
            &fake,
            format!(
                "#!/bin/sh\necho x >> '{}'\nexec /bin/date \"$@\"\n",
                log.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let path = format!(
            "{}:{}",
            dir.path().display(),
            std::env::var("PATH").unwrap()
        );
        let mut remote = Connection { offset: None };
        let vars = fleet_templates::Vars::default();
        for (round, module) in [
            (1, &Command as &dyn crate::Module),
            (2, &Shell),
            (3, &Command),
        ] {
            let mut ctx = crate::ModuleCtx {
                remote: &mut remote,
                check_mode: false,
                diff: false,
                become_: None,
                become_password: None,
                env: vec![("PATH".into(), path.clone())],
                vars: &vars,
                inventory_hostname: "localhost".into(),
                search_dirs: vec![],
            };
            let args = json!({"_raw_params": "sleep 0.2"});
            let r = module
                .run(args.as_object().unwrap(), &mut ctx)
                .await
                .unwrap();
            assert!(r.changed && !r.failed, "{r:?}");
            let start = HostTime::parse(&text(&r, "start")).expect("start parses");
            let end = HostTime::parse(&text(&r, "end")).expect("end parses");
            assert_eq!(start.delta(&end), text(&r, "delta"));
            let took = end.local_micros() - start.local_micros();
            assert!(
                (200_000..5_000_000).contains(&took),
                "round {round}: {took} us"
            );
            // the host's own clock, now: `end` is at most a few seconds before it
            let now = std::process::Command::new("date")
                .arg("+%Y-%m-%d %H:%M:%S.%N")
                .output()
                .unwrap();
            let now = HostTime::parse(&String::from_utf8_lossy(&now.stdout)).unwrap();
            let behind = now.local_micros() - end.local_micros();
            assert!(
                (0..5_000_000).contains(&behind),
                "round {round}: {behind} us"
            );
            let dates = std::fs::read_to_string(&log).unwrap_or_default();
            assert_eq!(dates.lines().count(), 1, "round {round}");
        }
    }

    #[tokio::test]
    async fn command_failure_and_missing_program() {
        let r = run(
            &Command,
            json!({"argv": ["sh", "-c", "echo out; echo err >&2; exit 3"]}),
        )
        .await;
        assert!(r.failed && r.changed);
        assert_eq!(r.msg.as_deref(), Some("non-zero return code"));
        assert_eq!(
            (text(&r, "rc"), text(&r, "stdout"), text(&r, "stderr")),
            ("3".into(), "out".into(), "err".into())
        );

        let r = run(
            &Command,
            json!({"_raw_params": "fleetut-no-such-program --x"}),
        )
        .await;
        assert!(r.failed);
        assert_eq!(r.data["rc"], json!(2));
        assert_eq!(
            r.msg.as_deref(),
            Some("[Errno 2] No such file or directory: b'fleetut-no-such-program'")
        );
        let r = run(&Command, json!({"_raw_params": "/tmp"})).await;
        assert_eq!(
            r.msg.as_deref(),
            Some("[Errno 13] Permission denied: b'/tmp'")
        );
    }

    #[tokio::test]
    async fn creates_and_removes_skip_and_check_mode() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        std::fs::write(dir.path().join("made.txt"), "x").unwrap();
        let r = run(
            &Command,
            json!({"_raw_params": format!("touch {d}/never creates={d}/*.txt")}),
        )
        .await;
        assert!(!r.changed && !r.failed);
        assert_eq!(
            text(&r, "stdout"),
            format!("skipped, since {d}/*.txt exists")
        );
        assert_eq!(
            r.msg,
            Some(format!("Did not run command since '{d}/*.txt' exists"))
        );
        assert!(!dir.path().join("never").exists());

        let r = run(
            &Shell,
            json!({"cmd": "touch gone", "chdir": d, "removes": "gone"}),
        )
        .await;
        assert_eq!(text(&r, "stdout"), "skipped, since gone does not exist");
        assert!(!dir.path().join("gone").exists());

        // check mode: skipped unless creates/removes decide
        let r = check(&Shell, json!({"_raw_params": format!("touch {d}/c")})).await;
        assert!(!r.changed && r.data["skipped"] == json!(true));
        let r = check(
            &Shell,
            json!({"_raw_params": format!("touch {d}/c"), "creates": format!("{d}/c")}),
        )
        .await;
        assert!(r.changed && r.data.get("skipped").is_none());
        assert_eq!(
            r.msg.as_deref(),
            Some("Command would have run if not in check mode")
        );
        assert!(!dir.path().join("c").exists());
    }

    #[tokio::test]
    async fn shell_uses_sh_with_stdin_env_and_executable() {
        let r = run_with(
        &Shell,
        json!({"_raw_params": "read x; echo \"$x-$FLEETUT_V\" | tr a-z A-Z; exit 0", "stdin": "hi"}),
        Run { env: vec![("FLEETUT_V".into(), "v".into())], ..Run::default() },
    )
    .await;
        assert_eq!(text(&r, "stdout"), "HI-V");
        assert_eq!(
            r.data["cmd"],
            json!("read x; echo \"$x-$FLEETUT_V\" | tr a-z A-Z; exit 0")
        );
        let r = run(
            &Shell,
            json!({"_raw_params": "echo $0", "executable": "/bin/bash"}),
        )
        .await;
        assert_eq!(text(&r, "stdout"), "/bin/bash");
        let r = run(
            &Shell,
            json!({"_raw_params": "printf 'x\\n\\n'", "strip_empty_ends": false}),
        )
        .await;
        assert_eq!(text(&r, "stdout"), "x\n\n");
        let r = run(&Shell, json!({"_raw_params": "cd /nonexistent-fleetut"})).await;
        assert!(r.failed);
        assert_eq!(r.data["rc"], json!(2));
        let r = run(
            &Shell,
            json!({"_raw_params": "true", "chdir": "/nonexistent-fleetut"}),
        )
        .await;
        assert!(r.failed);
        assert!(r
            .msg
            .unwrap()
            .starts_with("Unable to change directory before execution"));
    }

    #[tokio::test]
    async fn raw_runs_as_is_and_is_skipped_in_check_mode() {
        let r = run(&Raw, json!({"_raw_params": "echo raw; exit 4"})).await;
        assert!(r.changed && r.failed);
        assert_eq!(
            (text(&r, "stdout"), text(&r, "rc")),
            ("raw\n".into(), "4".into())
        );
        let r = check(&Raw, json!({"_raw_params": "echo raw"})).await;
        assert!(!r.changed && r.data["skipped"] == json!(true));
    }
}
