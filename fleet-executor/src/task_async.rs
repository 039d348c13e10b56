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

/// `poll: 0`: the job's result is kept for `async_status`, and the task reports it started.
pub(super) fn started(single: Single, jid: &str, host: &mut HostState) -> Single {
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
