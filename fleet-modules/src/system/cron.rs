//! `cron`: one job per `#Ansible: NAME` marker line in a user's crontab (`crontab -l` /
//! `crontab FILE`) or in a file under /etc/cron.d. One script reads, edits (awk), compares and
//! installs, so the task is one round trip and a second run changes nothing.

use async_trait::async_trait;
use serde_json::{json, Value};

use super::common::{bool_or, choice, opt_str, opt_str_any, BadArg};
use crate::remote::{shell_quote, RemoteError};
use crate::{ArgSpec, Args, Diff, Module, ModuleCtx, ModuleResult};

/// `ansible.builtin.cron`.
pub struct Cron;

const SPECIAL_TIMES: &[&str] = &[
    "annually", "daily", "hourly", "monthly", "reboot", "weekly", "yearly",
];

/// Edits the crontab text on stdin: drops the job under the marker, then (for `present`) puts the
/// new line back in its place or at the end.
const EDIT_AWK: &str = r##"{ lines[n++] = $0 }
END {
  marker = "#Ansible: " ENVIRON["F_NAME"]; found = 0
  for (i = 0; i < n; i++) {
    if (lines[i] == marker) {
      if (!found && ENVIRON["F_STATE"] == "present") { print marker; print ENVIRON["F_LINE"] }
      found = 1; i++; continue
    }
    print lines[i]
  }
  if (!found && ENVIRON["F_STATE"] == "present") { print marker; print ENVIRON["F_LINE"] }
}"##;

/// Edits the crontab text on stdin for `env: true`: every `NAME=` line is replaced by the new
/// declaration (`present`) or dropped (`absent`); a new variable goes first, as Ansible's module
/// inserts it at the top.
const ENV_AWK: &str = r##"{ lines[n++] = $0 }
END {
  prefix = ENVIRON["F_NAME"] "="; found = 0; present = ENVIRON["F_STATE"] == "present"
  for (i = 0; i < n; i++) if (index(lines[i], prefix) == 1) found = 1
  if (!found && present) print ENVIRON["F_LINE"]
  for (i = 0; i < n; i++) {
    if (index(lines[i], prefix) == 1) { if (present) print ENVIRON["F_LINE"]; continue }
    print lines[i]
  }
}"##;

#[async_trait]
impl Module for Cron {
    fn name(&self) -> &'static str {
        "cron"
    }
    fn spec(&self) -> ArgSpec {
        ArgSpec {
            free_form: false,
            params: &[
                "name",
                "user",
                "job",
                "value",
                "cron_file",
                "state",
                "backup",
                "minute",
                "hour",
                "day",
                "dom",
                "month",
                "weekday",
                "dow",
                "special_time",
                "disabled",
                "env",
            ],
            required: &[&["name"]],
        }
    }
    async fn run(&self, args: &Args, ctx: &mut ModuleCtx<'_>) -> Result<ModuleResult, RemoteError> {
        let plan = match plan(args, ctx.check_mode) {
            Ok(p) => p,
            Err(e) => return Ok(e.into()),
        };
        let out = ctx.sh(&plan.script).await?;
        let text = out.stdout_text();
        if out.rc != 0 {
            let err = out.stderr_text();
            return Ok(ModuleResult::fail(format!(
                "Failed to install new cronfile: {}",
                err.trim()
            )));
        }
        let (old, rest) = text.split_once("@@new@@\n").unwrap_or((&text, ""));
        let (new, status) = rest.split_once("@@status@@\n").unwrap_or((rest, ""));
        let old = old.strip_prefix("@@old@@\n").unwrap_or(old);
        let mut r = ModuleResult::ok();
        r.changed = status.trim() == "changed";
        let jobs: Vec<Value> = new
            .lines()
            .filter_map(|l| l.strip_prefix("#Ansible: "))
            .map(|n| json!(n))
            .collect();
        let envs: Vec<Value> = new
            .lines()
            .filter_map(|l| l.split_once('=').map(|(n, _)| n))
            .filter(|n| is_env_name(n))
            .map(|n| json!(n))
            .collect();
        r = r
            .with("envs", Value::Array(envs))
            .with("jobs", Value::Array(jobs));
        if let Some(file) = &plan.cron_file {
            r = r.with("cron_file", file.as_str());
        }
        if ctx.diff && r.changed {
            let header = plan.cron_file.clone().unwrap_or_else(|| "crontab".into());
            r.diffs.push(Diff {
                before_header: header.clone(),
                after_header: header,
                before: old.to_string(),
                after: new.to_string(),
            });
        }
        Ok(r)
    }
}

/// Whether `name` is a shell variable name (what a crontab's `NAME=value` line sets).
fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A cron task turned into its script.
struct Plan {
    script: String,
    cron_file: Option<String>,
}

fn plan(args: &Args, check_mode: bool) -> Result<Plan, BadArg> {
    let name = opt_str(args, "name").unwrap_or_default();
    let state = choice(args, "state", &["present", "absent"], Some("present"))?.unwrap_or_default();
    let user = opt_str(args, "user");
    let special = choice(args, "special_time", SPECIAL_TIMES, None)?;
    let disabled = bool_or(args, "disabled", false)?;
    let cron_file = opt_str(args, "cron_file").map(|f| {
        if f.starts_with('/') {
            f
        } else {
            format!("/etc/cron.d/{f}")
        }
    });
    let env = bool_or(args, "env", false)?;
    if env && name.contains(' ') {
        return Err(BadArg("Invalid name for environment variable".into()));
    }
    let line = match (env, state.as_str()) {
        (true, "present") => env_line(args, &name)?,
        (false, "present") => job_line(
            args,
            special.as_deref(),
            disabled,
            user.as_deref(),
            cron_file.is_some(),
        )?,
        _ => String::new(),
    };
    let (read, write) = crontab_commands(cron_file.as_deref(), user.as_deref());
    let script = format!(
        r#"export F_NAME={name} F_STATE={state} F_LINE={line}
old=$(mktemp) && new=$(mktemp) || exit 1
trap 'rm -f "$old" "$new"' EXIT
{read} > "$old"
awk '{awk}' "$old" > "$new" || exit 1
echo @@old@@; cat "$old"; echo @@new@@; cat "$new"; echo @@status@@
if cmp -s "$old" "$new"; then echo ok; exit 0; fi
echo changed
[ {check} = 1 ] && exit 0
{write} || exit 1
"#,
        name = shell_quote(&name),
        state = shell_quote(&state),
        line = shell_quote(&line),
        awk = (if env { ENV_AWK } else { EDIT_AWK }).replace('\'', r"'\''"),
        check = u8::from(check_mode),
    );
    Ok(Plan { script, cron_file })
}

const NO_JOB: &str = "You must specify 'job' to install a new cron job or variable";

/// The `NAME="value"` line of a present `env: true` task.
fn env_line(args: &Args, name: &str) -> Result<String, BadArg> {
    let Some(value) = opt_str_any(args, &["job", "value"]) else {
        return Err(BadArg(NO_JOB.into()));
    };
    Ok(format!("{name}=\"{value}\""))
}

/// The schedule line of a present job: `[#]WHEN [USER ]JOB`, the user field only in a cron.d
/// file, `#` when disabled.
fn job_line(
    args: &Args,
    special: Option<&str>,
    disabled: bool,
    user: Option<&str>,
    in_cron_file: bool,
) -> Result<String, BadArg> {
    let Some(job) = opt_str_any(args, &["job", "value"]) else {
        return Err(BadArg(NO_JOB.into()));
    };
    if in_cron_file && user.is_none() {
        return Err(BadArg(
            "To use cron_file=... parameter you must specify user=... as well".into(),
        ));
    }
    let user_field = if in_cron_file {
        format!("{} ", user.unwrap_or_default())
    } else {
        String::new()
    };
    Ok(format!(
        "{}{} {user_field}{job}",
        if disabled { "#" } else { "" },
        schedule(args, special)
    ))
}

/// When a job runs: `@special_time`, or the five fields (`*` where not given).
fn schedule(args: &Args, special: Option<&str>) -> String {
    let field = |keys: &[&str]| opt_str_any(args, keys).unwrap_or_else(|| "*".into());
    match special {
        Some(s) => format!("@{s}"),
        None => [
            field(&["minute"]),
            field(&["hour"]),
            field(&["day", "dom"]),
            field(&["month"]),
            field(&["weekday", "dow"]),
        ]
        .join(" "),
    }
}

/// The shell commands that read the current table and install the edited one (`$new`): a
/// cron.d file (removed when a job removal leaves it empty), a named user's crontab, or the
/// connecting user's.
fn crontab_commands(cron_file: Option<&str>, user: Option<&str>) -> (String, String) {
    match (cron_file, user) {
        (Some(f), _) => {
            let f = shell_quote(f);
            (
                format!("cat {f} 2>/dev/null"),
                format!(
                    "if [ -s \"$new\" ] || [ \"$F_STATE\" = present ]; then cat \"$new\" > {f} && chmod 0644 {f}; else rm -f {f}; fi"
                ),
            )
        }
        (None, Some(u)) => {
            let u = shell_quote(u);
            (
                format!("crontab -u {u} -l 2>/dev/null"),
                format!("crontab -u {u} \"$new\""),
            )
        }
        (None, None) => ("crontab -l 2>/dev/null".into(), "crontab \"$new\"".into()),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::super::testing::{run_with, Run};
    use super::*;

    /// A stand-in `crontab` (this machine may not have cron) keeping each user's table in a file.
    const STAND_IN_CRONTAB: &str = include_str!("../../tests/stand-ins/crontab");

    fn stand_in(dir: &Path, check: bool) -> Run {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        let bin = dir.join("bin/crontab");
        std::fs::write(&bin, STAND_IN_CRONTAB).unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = format!(
            "{}:{}",
            dir.join("bin").display(),
            std::env::var("PATH").unwrap()
        );
        Run {
            check,
            env: vec![
                ("PATH".into(), path),
                ("FLEETUT_STATE".into(), dir.display().to_string()),
            ],
            ..Run::default()
        }
    }

    #[tokio::test]
    async fn cron_with_stand_in_crontab_adds_updates_and_removes_jobs() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let table = d.join("fleetut");
        std::fs::write(&table, "MAILTO=ops\n5 * * * * /usr/bin/keep\n").unwrap();
        let add = json!({"name": "backup", "minute": "0", "hour": "2", "job": "/usr/local/bin/backup", "user": "fleetut"});

        let r = run_with(&Cron, add.clone(), stand_in(d, true)).await;
        assert!(r.changed && !r.failed, "{r:?}");
        assert_eq!(
            std::fs::read_to_string(&table).unwrap(),
            "MAILTO=ops\n5 * * * * /usr/bin/keep\n"
        );

        let r = run_with(&Cron, add.clone(), stand_in(d, false)).await;
        assert!(r.changed && !r.failed, "{r:?}");
        assert_eq!(r.data["jobs"], json!(["backup"]));
        assert_eq!(
        std::fs::read_to_string(&table).unwrap(),
        "MAILTO=ops\n5 * * * * /usr/bin/keep\n#Ansible: backup\n0 2 * * * /usr/local/bin/backup\n"
    );
        let r = run_with(&Cron, add.clone(), stand_in(d, false)).await;
        assert!(!r.changed, "second run unchanged");

        let mut second = add.clone();
        second["name"] = json!("weekly");
        second["special_time"] = json!("weekly");
        second["disabled"] = json!(true);
        let r = run_with(&Cron, second, stand_in(d, false)).await;
        assert_eq!(r.data["jobs"], json!(["backup", "weekly"]));

        let mut changed = add.clone();
        changed["hour"] = json!("3");
        run_with(&Cron, changed, stand_in(d, false)).await;
        assert_eq!(
        std::fs::read_to_string(&table).unwrap(),
        "MAILTO=ops\n5 * * * * /usr/bin/keep\n#Ansible: backup\n0 3 * * * /usr/local/bin/backup\n\
         #Ansible: weekly\n#@weekly /usr/local/bin/backup\n"
    );
        let absent = json!({"name": "backup", "state": "absent", "user": "fleetut"});
        let r = run_with(&Cron, absent.clone(), stand_in(d, false)).await;
        assert!(r.changed);
        assert_eq!(
        std::fs::read_to_string(&table).unwrap(),
        "MAILTO=ops\n5 * * * * /usr/bin/keep\n#Ansible: weekly\n#@weekly /usr/local/bin/backup\n"
    );
        let r = run_with(&Cron, absent, stand_in(d, false)).await;
        assert!(!r.changed);
    }

    #[tokio::test]
    async fn cron_file_in_a_temp_dir() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("fleetut-job");
        let f = file.display().to_string();
        let args = json!({"name": "sync", "job": "run-sync", "cron_file": f, "user": "root", "minute": "*/5"});
        let r = run_with(&Cron, args.clone(), Run::default()).await;
        assert!(r.changed && !r.failed, "{r:?}");
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "#Ansible: sync\n*/5 * * * * root run-sync\n"
        );
        assert!(!run_with(&Cron, args, Run::default()).await.changed);
        let r = run_with(
            &Cron,
            json!({"name": "sync", "cron_file": f, "state": "absent"}),
            Run::default(),
        )
        .await;
        assert!(r.changed);
        assert!(!file.exists(), "empty cron file removed");
        let r = run_with(
            &Cron,
            json!({"name": "x", "cron_file": f, "job": "y"}),
            Run::default(),
        )
        .await;
        assert_eq!(
            r.msg.as_deref(),
            Some("To use cron_file=... parameter you must specify user=... as well")
        );
    }
}
