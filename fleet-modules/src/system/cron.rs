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
        r = r.with("envs", json!([])).with("jobs", Value::Array(jobs));
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

/// A cron task turned into its script.
struct Plan {
    script: String,
    cron_file: Option<String>,
}

fn plan(args: &Args, check_mode: bool) -> Result<Plan, BadArg> {
    let name = opt_str(args, "name").unwrap_or_default();
    let state = choice(args, "state", &["present", "absent"], Some("present"))?.unwrap_or_default();
    let user = opt_str(args, "user");
    let job = opt_str_any(args, &["job", "value"]);
    let special = choice(args, "special_time", SPECIAL_TIMES, None)?;
    let disabled = bool_or(args, "disabled", false)?;
    let cron_file = opt_str(args, "cron_file").map(|f| {
        if f.starts_with('/') {
            f
        } else {
            format!("/etc/cron.d/{f}")
        }
    });
    let field = |keys: &[&str]| opt_str_any(args, keys).unwrap_or_else(|| "*".into());
    let mut line = String::new();
    if state == "present" {
        let Some(job) = job else {
            return Err(BadArg(
                "You must specify 'job' to install a new cron job or variable".into(),
            ));
        };
        if cron_file.is_some() && user.is_none() {
            return Err(BadArg(
                "To use cron_file=... parameter you must specify user=... as well".into(),
            ));
        }
        let user_field = if cron_file.is_some() {
            format!("{} ", user.clone().unwrap_or_default())
        } else {
            String::new()
        };
        let when = match &special {
            Some(s) => format!("@{s}"),
            None => [
                field(&["minute"]),
                field(&["hour"]),
                field(&["day", "dom"]),
                field(&["month"]),
                field(&["weekday", "dow"]),
            ]
            .join(" "),
        };
        line = format!(
            "{}{when} {user_field}{job}",
            if disabled { "#" } else { "" }
        );
    }
    let (read, write) = match (&cron_file, &user) {
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
    };
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
        awk = EDIT_AWK.replace('\'', r"'\''"),
        check = u8::from(check_mode),
    );
    Ok(Plan { script, cron_file })
}

#[cfg(test)]
#[path = "cron_tests.rs"]
mod tests;
