//! One execution of a task on a host (the task without a loop, or one loop item) as Ansible
//! frames it: `when` first, then the action under the task's `timeout`, `changed_when` and
//! `failed_when` with the result registered, and `until` (or, without it, success) retrying it
//! `retries` times.
//!
//! Kept apart from execute.rs (what one try runs) because the retry loop reports each failed
//! try as a line of its own and decides which result is the task's.

use std::time::Duration;

use fleet_templates::Vars;
use serde_json::{json, Value};

use super::context::Run;
use super::error::ExecError;
use super::execute::execute;
use super::host::HostState;
use super::result::{error_result, never_templated, skipped_by, Single};
use super::task::{conditions, TaskRun};
use super::task_timeout::{task_timeout, timed_out};
use crate::output::{Event, HostResult, Status};
use fleet_playbook::Task;

/// Runs the action once (for one loop item, or the task without a loop).
pub(super) async fn run_single(t: TaskRun<'_>, host: &mut HostState, vars: &Vars) -> Single {
    let TaskRun {
        run,
        task,
        kw,
        delegated,
        ..
    } = t;
    match conditions(run, &kw.when, vars) {
        Ok(None) => {}
        Ok(Some(cond)) => return skipped_by(cond),
        Err(e) => {
            return error_result(format!(
                "Task failed: Error while evaluating conditional: {e}"
            ))
        }
    }
    let (retries, delay) = retry_policy(run, task, vars);
    let mut attempt = 0;
    loop {
        let job = super::task_async::job(run, kw, vars);
        if let Some(refused) = job.and_then(|_| super::task_async::refusal(&task.action)) {
            return error_result(refused);
        }
        let jid = job.map(|_| super::task_async::new_id());
        let t = TaskRun {
            job: jid
                .as_deref()
                .zip(job.filter(|j| j.poll == 0))
                .map(|(id, j)| (id, j.secs)),
            ..t
        };
        let timeout = match task_timeout(run, kw, vars) {
            Ok(timeout) => timeout,
            Err(refused) => return refused,
        };
        let running = execute(t, host, vars);
        // `async` bounds the task as `timeout` does, the nearer limit first
        let limit = match (timeout, job) {
            (Some(t), Some(j)) if j.secs < t => Some((j.secs, true)),
            (Some(t), _) => Some((t, false)),
            (None, Some(j)) => Some((j.secs, true)),
            (None, None) => None,
        };
        let mut single = match limit {
            // the host's shell is dropped with the abandoned command; the next task opens one
            Some((secs, by_job)) => {
                match tokio::time::timeout(Duration::from_secs(secs), running).await {
                    Ok(single) => single,
                    Err(_) if by_job => super::task_async::timed_out(secs),
                    Err(_) => timed_out(secs),
                }
            }
            None => running.await,
        };
        if let (Some(job), Some(jid)) = (job.filter(|_| single.status != Status::Unreachable), &jid)
        {
            single = if job.poll == 0 {
                super::task_async::started(single, jid, host)
            } else {
                super::task_async::finished(single, jid)
            };
        }
        if single.status == Status::Unreachable {
            return single;
        }
        if retries >= 1 {
            // the try's number is in the result early, for `changed_when`/`failed_when`
            single = with_attempts(single, attempt + 1);
        }
        // The registered result is in scope for `changed_when`/`failed_when`/`until`; without
        // those nothing reads it here, and the copy of every variable is not made (at 1,000
        // hosts `groups` alone is thousands of names per host per task).
        let overridden =
            !task.changed_when.is_empty() || !task.failed_when.is_empty() || !task.until.is_empty();
        let with_result;
        let checked = match &task.register {
            Some(reg) if overridden => {
                let mut m = vars.clone();
                m.insert(reg.clone(), never_templated(single.result.clone()));
                with_result = m;
                &with_result
            }
            _ => vars,
        };
        apply_overrides(run, task, checked, &mut single);
        if retries < 1 {
            // one run only: Ansible evaluates `until` only when there is a retry to make
            return single;
        }
        match retry_verdict(run, task, vars, &single) {
            Ok(None) => return with_attempts(single, attempt + 1),
            Ok(Some(_)) if attempt < retries => {
                attempt += 1;
                report_retry(run, task, host, delegated, &single, retries - attempt + 1);
                tokio::time::sleep(Duration::from_secs_f64(delay)).await;
            }
            Ok(Some(_)) => {
                // Ansible reports one attempt fewer than it made once they are used up
                let mut single = with_attempts(single, attempt);
                if let Value::Object(m) = &mut single.result {
                    m.insert("failed".into(), Value::Bool(true));
                }
                // a `failed_when` that held the try successful still decides (Ansible's task
                // result reads `failed_when_result` before `failed`)
                if single.result.get("failed_when_result") != Some(&Value::Bool(false)) {
                    single.status = Status::Failed;
                }
                return single;
            }
            Err(e) => return error_result(e.to_string()),
        }
    }
}

/// Whether the try is the last: `None` when `until` holds (without `until`, when the try did
/// not fail), else the condition that did not. It sees the registered result as
/// `changed_when`/`failed_when` left it, as Ansible's retry loop does.
fn retry_verdict(
    run: &Run,
    task: &Task,
    vars: &Vars,
    single: &Single,
) -> Result<Option<String>, fleet_templates::TemplateError> {
    if task.until.is_empty() {
        return Ok((single.status == Status::Failed).then(|| "not failed".to_string()));
    }
    match &task.register {
        Some(reg) => {
            let mut with_result = vars.clone();
            with_result.insert(reg.clone(), never_templated(single.result.clone()));
            conditions(run, &task.until, &with_result)
        }
        None => conditions(run, &task.until, vars),
    }
}

/// `retries` and `delay` as Ansible defaults them: 3 retries when `until` is set, 5 seconds.
/// Either may be a template, evaluated for each loop item (`retries: "{{ idx + 2 }}"`).
fn retry_policy(run: &Run, task: &Task, vars: &Vars) -> (i64, f64) {
    let retries = match super::task::integer(run, task.retries.as_ref(), vars) {
        Some(n) => n,
        None if !task.until.is_empty() => 3,
        None => 0,
    };
    let delay = super::task::number(run, task.delay.as_ref(), vars);
    (retries, delay.unwrap_or(5.0))
}

/// The result with the number of tries `until` took.
fn with_attempts(mut single: Single, attempts: i64) -> Single {
    if let Value::Object(m) = &mut single.result {
        m.insert("attempts".into(), json!(attempts));
    }
    single
}

/// Reports a try `until` rejected (`FAILED - RETRYING: ... (N retries left)`).
fn report_retry(
    run: &Run,
    task: &Task,
    host: &HostState,
    delegated: Option<&str>,
    single: &Single,
    left: i64,
) {
    run.report(Event::Result(Box::new(HostResult {
        host: host.name.clone(),
        delegated_to: delegated.map(str::to_string),
        status: Status::Failed,
        ignored: false,
        item_label: None,
        result: single.result.clone(),
        diffs: Vec::new(),
        action: task.action.clone(),
        retries_left: Some(left),
    })));
}

/// ansible-core 2.19's normalization of an executed result, then `changed_when` and
/// `failed_when` evaluated with the registered result in scope. `failed` is always set; a
/// failure carries an `exception` (`(traceback unavailable)` when the module gave none), which
/// a `failed_when` that clears the failure keeps as `failed_when_suppressed_exception`. A
/// condition that cannot be evaluated fails the task with the module's result kept and the
/// error in `changed_when_result`/`failed_when_result`.
fn apply_overrides(run: &Run, task: &Task, vars: &Vars, single: &mut Single) {
    if matches!(single.status, Status::Skipped | Status::Unreachable) {
        return;
    }
    let Value::Object(result) = &mut single.result else {
        return;
    };
    let failed = result
        .get("failed")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    result.insert("failed".into(), Value::Bool(failed));
    if failed && !result.contains_key("exception") {
        result.insert("exception".into(), json!("(traceback unavailable)"));
    }
    let holds = |conds: &[String]| {
        conditions(run, conds, vars)
            .map(|failed| failed.is_none())
            .map_err(|error| ExecError::Conditional {
                conditions: conds.join(" and "),
                error,
            })
    };
    let mut evaluated = Ok(());
    if !task.changed_when.is_empty() {
        match holds(&task.changed_when) {
            Ok(changed) => {
                result.insert("changed".into(), Value::Bool(changed));
            }
            Err(e) => evaluated = Err(("changed_when_result", e)),
        }
    }
    if evaluated.is_ok() && !task.failed_when.is_empty() {
        match holds(&task.failed_when) {
            Ok(failed) => {
                result.insert("failed_when_result".into(), Value::Bool(failed));
                result.insert("failed".into(), Value::Bool(failed));
                if !failed {
                    if let Some(exception) = result.remove("exception") {
                        result.insert("failed_when_suppressed_exception".into(), exception);
                    }
                }
            }
            Err(e) => evaluated = Err(("failed_when_result", e)),
        }
    }
    if let Err((key, e)) = evaluated {
        result.insert("failed".into(), Value::Bool(true));
        result.insert(key.into(), json!(e.to_string()));
        result.insert("msg".into(), json!(e.to_string()));
    }
    let set = |key: &str| result.get(key).and_then(Value::as_bool).unwrap_or(false);
    single.status = if set("failed") {
        Status::Failed
    } else if set("changed") {
        Status::Changed
    } else {
        Status::Ok
    };
}
