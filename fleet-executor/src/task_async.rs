//! The task keywords `async` and `poll`, and the `async_status` action that reads a job.
//!
//! Ansible starts an `async` task as a job on the host (its `async_wrapper`) and, with `poll`
//! above 0 (15 by default), checks it every `poll` seconds until it finishes or `async`
//! seconds pass; with `poll: 0` the task gives back the job's id at once and `async_status`
//! reads the job later (usually under `until: job.finished`). Playbooks use it to keep a long
//! task (an upgrade, a build) clear of SSH timeouts, or to start one and wait for it later.
//!
//! fleet keeps one persistent connection per host, so a long task needs no polling to survive:
//! the task runs on its host as any task does, bounded by `async` seconds, and its result
//! carries the job fields Ansible adds (`ansible_job_id`, `started`, `finished`,
//! `results_file`). With `poll: 0` the job's result is kept with the host for `async_status`,
//! and the task reports the job as started, as Ansible does. What differs: that host's next
//! task starts only when the job is done (Ansible's would start at once); every result,
//! status and message is Ansible's.

use fleet_templates::Vars;
use rand::Rng;
use serde_json::{json, Map, Value};

use super::context::Run;
use super::host::HostState;
use super::result::{error_result, Single};
use fleet_modules::ModuleResult;
use fleet_playbook::Keywords;

/// A task's `async` and `poll`, both in seconds.
#[derive(Debug, Clone, Copy)]
pub(super) struct Job {
    pub secs: u64,
    pub poll: u64,
}

/// The task's job settings; `None` without `async` (or with 0).
pub(super) fn job(run: &Run, kw: &Keywords, vars: &Vars) -> Option<Job> {
    let seconds = |v| super::task::integer(run, v, vars).and_then(|n| u64::try_from(n).ok());
    let secs = seconds(kw.async_.as_ref()).filter(|s| *s > 0)?;
    let poll = seconds(kw.poll.as_ref()).unwrap_or(15);
    Some(Job { secs, poll })
}

/// Actions whose Ansible action plugin refuses `async` ("This action (copy) does not support
/// async."): every plugin but those that set `_supports_async` (modules without a plugin of
/// their own, `command`/`shell`, `package`, `service`, `uri`, `dnf` take it).
const WITHOUT_ASYNC: &[&str] = &[
    "add_host",
    "assemble",
    "assert",
    "async_status",
    "copy",
    "debug",
    "fail",
    "fetch",
    "gather_facts",
    "group_by",
    "include_vars",
    "pause",
    "raw",
    "reboot",
    "script",
    "set_fact",
    "set_stats",
    "template",
    "unarchive",
    "validate_argument_spec",
    "wait_for_connection",
];

/// Ansible's refusal of `async` on an action whose plugin does not support it.
pub(super) fn refusal(action: &str) -> Option<String> {
    WITHOUT_ASYNC
        .contains(&fleet_modules::short_name(action))
        .then(|| format!("This action ({action}) does not support async."))
}

/// A new job id, as Ansible's (`j` and twelve digits, `.` and the controller's process id).
pub(super) fn new_id() -> String {
    let n: u64 = rand::thread_rng().gen_range(0..1_000_000_000_000);
    format!("j{n:012}.{}", std::process::id())
}

/// Where Ansible keeps a job's result on the host (`async_dir`, `~/.ansible_async`).
fn results_file(jid: &str) -> String {
    format!("~/.ansible_async/{jid}")
}

/// The job did not finish within `secs`.
pub(super) fn timed_out(secs: u64) -> Single {
    error_result(format!(
        "async task did not complete within the requested time - {secs}s"
    ))
}

/// A finished job's result: the task's own, with the job's fields.
pub(super) fn finished(mut single: Single, jid: &str) -> Single {
    if let Value::Object(m) = &mut single.result {
        m.insert("ansible_job_id".into(), json!(jid));
        m.insert("started".into(), json!(true));
        m.insert("finished".into(), json!(true));
        m.insert("results_file".into(), json!(results_file(jid)));
    }
    single
}

/// `poll: 0`: the job's result is kept for `async_status`, and the task reports it started; a
/// background job (started on the host, `finished` false) is reported as it is.
pub(super) fn started(single: Single, jid: &str, host: &mut HostState) -> Single {
    if single.result.get("finished") == Some(&Value::Bool(false)) {
        let mut single = single;
        if let Value::Object(m) = &mut single.result {
            m.insert("results_file".into(), json!(results_file(jid)));
        }
        return single;
    }
    let done = finished(single, jid);
    host.async_jobs.insert(jid.to_string(), done.result.clone());
    Single {
        result: json!({
            "ansible_job_id": jid,
            "started": true,
            "finished": false,
            "results_file": results_file(jid),
            "changed": true,
        }),
        status: crate::output::Status::Changed,
        diffs: Vec::new(),
    }
}

/// A kept job result as a module's: `changed`, `failed` and `msg` in their fields.
fn module_result(job: &Map<String, Value>) -> ModuleResult {
    let flag = |k: &str| job.get(k).is_some_and(|v| v.as_bool() == Some(true));
    let mut r = ModuleResult {
        changed: flag("changed"),
        failed: flag("failed"),
        msg: job.get("msg").and_then(Value::as_str).map(String::from),
        ..ModuleResult::default()
    };
    for (k, v) in job {
        if !matches!(k.as_str(), "changed" | "failed" | "msg") {
            r.data.insert(k.clone(), v.clone());
        }
    }
    r
}

/// `async_status: jid=ID [mode=status|cleanup]`, Ansible's action on this host's jobs.
pub(super) fn async_status(args: &Map<String, Value>, host: &mut HostState) -> ModuleResult {
    let Some(jid) = args.get("jid").map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }) else {
        return ModuleResult::fail("missing required arguments: jid");
    };
    let mode = args.get("mode").and_then(Value::as_str).unwrap_or("status");
    let mut result = match mode {
        "cleanup" => {
            host.async_jobs.remove(&jid);
            ModuleResult::ok().with("erased", results_file(&jid))
        }
        "status" => match host.async_jobs.get(&jid) {
            Some(Value::Object(job)) => module_result(job)
                .with("started", true)
                .with("finished", true),
            _ => {
                let mut r = ModuleResult::fail("could not find job");
                r = r
                    .with("started", true)
                    .with("finished", true)
                    .with("results_file", results_file(&jid));
                r
            }
        },
        other => {
            return ModuleResult::fail(format!(
                "value of mode must be one of: status, cleanup, got: {other}"
            ))
        }
    };
    result = result.with("ansible_job_id", jid);
    for key in ["stdout", "stderr"] {
        if !result.data.contains_key(key) {
            result = result.with(key, "");
            result = result.with(&format!("{key}_lines"), json!([]));
        }
    }
    result
}

/// A call that concerns a background job (`command`/`shell` under `poll: 0`): starting one, or
/// `async_status` of one.
pub(super) enum Background {
    /// Start the command of this task as job `jid` (`shell` for the shell module), to run at
    /// most `secs` seconds.
    Start { jid: String, shell: bool, secs: u64 },
    /// `async_status` of background job `jid`, started from `args`.
    Status {
        jid: String,
        args: Map<String, Value>,
        shell: bool,
        cleanup: bool,
    },
}

impl Background {
    /// What this call of `action` with templated `args` is, on `host`: `job` is the id attempt
    /// gave an `async` + `poll: 0` task.
    pub(super) fn of(
        action: &str,
        args: &Map<String, Value>,
        host: &HostState,
        job: Option<(&str, u64)>,
        check_mode: bool,
    ) -> Option<Background> {
        match fleet_modules::short_name(action) {
            "command" | "shell" if !check_mode => job.map(|(jid, secs)| Background::Start {
                jid: jid.to_string(),
                shell: fleet_modules::short_name(action) == "shell",
                secs,
            }),
            "async_status" => {
                let jid = args.get("jid")?.as_str()?.to_string();
                let started = host.async_jobs.get(&jid)?.get(BACKGROUND)?;
                Some(Background::Status {
                    args: started.get("args")?.as_object()?.clone(),
                    shell: started.get("shell")?.as_bool()?,
                    cleanup: args.get("mode").and_then(Value::as_str) == Some("cleanup"),
                    jid,
                })
            }
            _ => None,
        }
    }

    /// Runs the call over the host's connection in `ctx`.
    pub(super) async fn run(
        &self,
        ctx: &mut fleet_modules::ModuleCtx<'_>,
        args: &Map<String, Value>,
    ) -> Result<ModuleResult, fleet_modules::remote::RemoteError> {
        use fleet_modules::system::command_job;
        match self {
            Background::Start { jid, shell, secs } => {
                command_job::start(args, ctx, *shell, (jid, *secs)).await
            }
            Background::Status {
                jid, cleanup: true, ..
            } => {
                command_job::cleanup(ctx, jid).await?;
                Ok(ModuleResult::ok()
                    .with("ansible_job_id", jid.as_str())
                    .with("erased", results_file(jid)))
            }
            Background::Status {
                jid, args, shell, ..
            } => {
                let result = match command_job::status(args, ctx, *shell, jid).await? {
                    None => ModuleResult::ok().with("finished", false),
                    Some(done) => done.with("finished", true),
                };
                Ok(result
                    .with("ansible_job_id", jid.as_str())
                    .with("started", true)
                    .with("results_file", results_file(jid)))
            }
        }
    }

    /// What the host keeps of a job this call started (`None` for a status call, or when the
    /// command did not start).
    pub(super) fn started(
        &self,
        args: &Map<String, Value>,
        result: &ModuleResult,
    ) -> Option<(String, Value)> {
        match self {
            Background::Start { jid, shell, .. } if !result.failed => Some((
                jid.clone(),
                json!({ BACKGROUND: {"args": args, "shell": shell} }),
            )),
            _ => None,
        }
    }
}

/// The key under which a background job's start is kept with the host.
const BACKGROUND: &str = "background";
