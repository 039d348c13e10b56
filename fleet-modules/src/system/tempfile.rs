//! `tempfile` (a new temporary file or directory on the host, its path returned) and
//! `gather_facts` (Ansible's fact-gathering action: the `setup` module here). Both are what
//! Ansible's own test roles (`setup_remote_tmp_dir`, `setup_test_user`) run first.

use async_trait::async_trait;

use super::common::opt_str;
use super::setup::Setup;
use crate::remote::{shell_quote, RemoteError};
use crate::{ArgSpec, Args, Module, ModuleCtx, ModuleResult};

/// `ansible.builtin.tempfile`.
pub struct TempFile;
/// `ansible.builtin.gather_facts`.
pub struct GatherFacts;

#[async_trait]
impl Module for TempFile {
    fn name(&self) -> &'static str {
        "tempfile"
    }
    fn spec(&self) -> ArgSpec {
        ArgSpec {
            free_form: false,
            params: &["state", "path", "prefix", "suffix"],
            required: &[],
        }
    }
    async fn run(&self, args: &Args, ctx: &mut ModuleCtx<'_>) -> Result<ModuleResult, RemoteError> {
        let state = opt_str(args, "state").unwrap_or_else(|| "file".into());
        if state != "file" && state != "directory" {
            return Ok(ModuleResult::fail(format!(
                "value of state must be one of: directory, file, got: {state}"
            )));
        }
        if ctx.check_mode {
            return Ok(ModuleResult::changed().with("state", state));
        }
        let prefix = opt_str(args, "prefix").unwrap_or_else(|| "ansible.".into());
        let suffix = opt_str(args, "suffix").unwrap_or_default();
        // a name component only: `../x` would put the file elsewhere
        for (what, text) in [("prefix", &prefix), ("suffix", &suffix)] {
            if text.contains('/') {
                return Ok(ModuleResult::fail(format!(
                    "{what} must be a valid file name component, got {}",
                    super::command_run::python_str_repr(text)
                )));
            }
        }
        // Python's tempfile.gettempdir(): $TMPDIR, else /tmp
        let dir = match opt_str(args, "path") {
            Some(p) => shell_quote(&p),
            None => "\"${TMPDIR:-/tmp}\"".to_string(),
        };
        let script = format!(
            "mktemp {}-p {dir} --suffix={} {}",
            if state == "directory" { "-d " } else { "" },
            shell_quote(&suffix),
            shell_quote(&format!("{prefix}XXXXXXXX")),
        );
        let out = ctx.sh(&script).await?;
        if out.rc != 0 {
            return Ok(ModuleResult::fail(format!(
                "Failed to create temporary {state}: {}",
                out.stderr_text().trim()
            )));
        }
        let path = out.stdout_text().trim().to_string();
        Ok(ModuleResult::changed()
            .with("path", path)
            .with("state", state))
    }
}

#[async_trait]
impl Module for GatherFacts {
    fn name(&self) -> &'static str {
        "gather_facts"
    }
    fn spec(&self) -> ArgSpec {
        ArgSpec {
            free_form: false,
            params: &[
                "parallel",
                "filter",
                "gather_subset",
                "gather_timeout",
                "fact_path",
            ],
            required: &[],
        }
    }
    async fn run(&self, args: &Args, ctx: &mut ModuleCtx<'_>) -> Result<ModuleResult, RemoteError> {
        let mut args = args.clone();
        args.remove("parallel");
        Setup.run(&args, ctx).await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::testing::run;
    use super::*;

    /// Issue 18: tempfile makes a file or a directory with the prefix and suffix.
    #[tokio::test]
    async fn tempfile_makes_files_and_directories() {
        let base = tempfile::tempdir().unwrap();
        let p = base.path().display().to_string();
        let r = run(
            &TempFile,
            json!({"state": "directory", "suffix": ".test", "path": p}),
        )
        .await;
        assert!(r.changed && !r.failed, "{:?}", r.to_json());
        let dir = r.data["path"].as_str().unwrap().to_string();
        assert!(std::path::Path::new(&dir).is_dir(), "{dir}");
        assert!(
            dir.starts_with(&format!("{p}/ansible.")) && dir.ends_with(".test"),
            "{dir}"
        );
        let r = run(&TempFile, json!({"prefix": "x_", "path": p})).await;
        let file = r.data["path"].as_str().unwrap();
        assert!(
            std::path::Path::new(file).is_file() && file.contains("/x_"),
            "{file}"
        );
        let r = run(&TempFile, json!({"state": "link"})).await;
        assert!(r.failed);
        let r = run(&TempFile, json!({"suffix": "../world", "path": p})).await;
        assert!(r.failed, "{:?}", r.to_json());
        assert_eq!(
            r.msg.as_deref(),
            Some("suffix must be a valid file name component, got '../world'")
        );
    }

    /// Issue 18: gather_facts is setup.
    #[tokio::test]
    async fn gather_facts_gathers() {
        let r = run(&GatherFacts, json!({"gather_subset": ["distribution"]})).await;
        assert!(!r.failed);
        assert!(r.data["ansible_facts"]["ansible_system"].is_string());
    }
}
