//! The task keyword `timeout`: how long one task may run, and the result Ansible reports when
//! it runs out (kept apart from task.rs, which runs the task).

use fleet_templates::Vars;
use serde_json::{json, Value};

use super::context::Run;
use super::result::{error_result, Single};
use fleet_playbook::Keywords;

/// The longest `timeout` Ansible accepts (BSD's `alarm` limit, which it checks everywhere).
const MAX_TIMEOUT: i64 = 100_000_000;

/// The task keyword `timeout` in seconds (a number or a template); `None` for no limit (unset
/// or 0). A value Ansible refuses fails the task with its message.
pub(super) fn task_timeout(run: &Run, kw: &Keywords, vars: &Vars) -> Result<Option<u64>, Single> {
    let Some(secs) = super::task::integer(run, kw.timeout.as_ref(), vars) else {
        return Ok(None);
    };
    if !(0..=MAX_TIMEOUT).contains(&secs) {
        return Err(error_result(format!(
            "Task failed: Timeout {secs} is invalid, it must be between 0 and {MAX_TIMEOUT}."
        )));
    }
    Ok(u64::try_from(secs).ok().filter(|s| *s > 0))
}

/// A task stopped by its `timeout`, as Ansible reports it.
pub(super) fn timed_out(secs: u64) -> Single {
    let mut single = error_result(format!("Task failed: Timed out after {secs} second(s)."));
    if let Value::Object(m) = &mut single.result {
        m.insert("timedout".into(), json!({"period": secs}));
    }
    single
}
