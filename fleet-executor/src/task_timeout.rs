//! The task keyword `timeout`: how long one task may run, and the result Ansible reports when
//! it runs out (kept apart from task.rs, which runs the task).

use fleet_templates::Vars;
use serde_json::{json, Value};

use super::context::Run;
use super::result::{error_result, Single};
use fleet_playbook::Keywords;

/// The task keyword `timeout` in seconds (a number or a template); `None` for no limit.
pub(super) fn task_timeout(run: &Run, kw: &Keywords, vars: &Vars) -> Option<u64> {
    let secs = super::task::integer(run, kw.timeout.as_ref(), vars)?;
    u64::try_from(secs).ok().filter(|s| *s > 0)
}

/// A task stopped by its `timeout`, as Ansible reports it.
pub(super) fn timed_out(secs: u64) -> Single {
    let mut single = error_result(format!("Task failed: Timed out after {secs} second(s)."));
    if let Value::Object(m) = &mut single.result {
        m.insert("timedout".into(), json!({"period": secs}));
    }
    single
}
