//! Builders for the events a run reports.

use serde_json::{json, Value};

use fleet_executor::output::*;
use fleet_modules::Diff;

/// A result under construction.
pub(super) struct R(HostResult);

pub(super) fn res(host: &str, action: &str, status: Status, result: Value) -> R {
    R(HostResult {
        host: host.into(),
        delegated_to: None,
        status,
        ignored: false,
        item_label: None,
        result,
        diffs: vec![],
        action: action.into(),
        retries_left: None,
    })
}

impl R {
    pub(super) fn item(mut self, label: &str) -> R {
        self.0.item_label = Some(label.into());
        self
    }
    pub(super) fn ignored(mut self) -> R {
        self.0.ignored = true;
        self
    }
    pub(super) fn delegated(mut self, to: &str) -> R {
        self.0.delegated_to = Some(to.into());
        self
    }
    pub(super) fn diff(
        mut self,
        before_header: &str,
        before: &str,
        after_header: &str,
        after: &str,
    ) -> R {
        self.0.diffs.push(Diff {
            before_header: before_header.into(),
            after_header: after_header.into(),
            before: before.into(),
            after: after.into(),
        });
        self
    }
    pub(super) fn retry(mut self, left: i64) -> R {
        self.0.retries_left = Some(left);
        self
    }
    pub(super) fn ev(self) -> Event {
        Event::Result(Box::new(self.0))
    }
}

pub(super) fn play(name: &str, hosts: &[&str]) -> Event {
    Event::PlayStart {
        name: name.into(),
        hosts: hosts.iter().map(|h| h.to_string()).collect(),
    }
}

pub(super) fn task(name: &str, hosts: usize) -> Event {
    Event::TaskStart {
        name: name.into(),
        handler: false,
        hosts,
    }
}

pub(super) fn stats(
    ok: u32,
    changed: u32,
    unreachable: u32,
    failed: u32,
    skipped: u32,
    ignored: u32,
) -> HostStats {
    HostStats {
        ok,
        changed,
        unreachable,
        failed,
        skipped,
        rescued: 0,
        ignored,
    }
}

/// A `command`/`shell` result in the order the module returns it; `t` = start, end, delta
/// (times of day on 2026-11-25, delta in microseconds).
pub(super) fn cmd(argv: Value, rc: i64, stdout: &str, changed: bool, t: [&str; 3]) -> Value {
    let lines: Vec<&str> = stdout.lines().collect();
    let mut v = json!({
        "changed": changed, "stdout": stdout, "stderr": "", "rc": rc, "cmd": argv,
        "start": format!("2026-11-25 {}", t[0]), "end": format!("2026-11-25 {}", t[1]),
        "delta": format!("0:00:00.{}", t[2]),
        "msg": if rc == 0 { "" } else { "non-zero return code" },
        "invocation": {"module_args": {"_raw_params": "x", "_uses_shell": false}},
        "stdout_lines": lines, "stderr_lines": [], "_ansible_no_log": false,
    });
    if rc != 0 {
        v["failed"] = true.into();
    }
    v
}

pub(super) fn looped(mut v: Value, item: Value) -> Value {
    v["item"] = item;
    v["ansible_loop_var"] = "item".into();
    v
}

pub(super) fn skipped(condition: Value) -> Value {
    json!({"changed": false, "skipped": true, "skip_reason": "Conditional result was False", "false_condition": condition})
}

pub(super) fn debug_msg(msg: &str) -> Value {
    json!({"msg": msg, "_ansible_verbose_always": true, "changed": false, "failed": false})
}
