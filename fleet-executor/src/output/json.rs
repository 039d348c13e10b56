//! `--json`: one JSON object per line, for scripts and CI.
//!
//! Every line has an `"event"` key; the others depend on it:
//!
//! | event | keys |
//! |---|---|
//! | `play_start` | `name` (string), `hosts` (array of host names) |
//! | `task_start` | `name` (string), `handler` (bool), `hosts` (number of hosts running it) |
//! | `result` | `host`, `delegated_to` (string or null), `task` (the running task's name), `status` (`"ok"`, `"changed"`, `"failed"`, `"skipped"` or `"unreachable"`), `ignored` (bool), `item` (loop item label or null), `result` (the result dictionary, `_ansible_*` keys removed), `diffs` (array of `{before_header, after_header, before, after}`) |
//! | `retry` | `host`, `task`, `retries_left` (number), `result` |
//! | `no_more_hosts` | none |
//! | `warning` | `msg` |
//! | `verbose` | `msg` (with `-v`: the path a task's module takes, native or through Ansible's code) |
//! | `recap` | `hosts`: object from host name to `{ok, changed, unreachable, failed, skipped, rescued, ignored}` (numbers), in inventory order |
//!
//! A loop sends one `result` per item (`item` set), then the loop's overall `result` (`item`
//! null, `result.results` holding the items).

use std::io::Write;

use serde_json::{json, Map, Value};

use super::dump::strip_internal_keys;
use super::{Event, HostResult, Reporter};

/// Writes each event as one JSON line (schema in the module documentation).
pub struct JsonReporter<W: Write + Send> {
    out: W,
    task: String,
}

impl<W: Write + Send> JsonReporter<W> {
    /// A reporter writing to `out` (usually stdout).
    pub fn new(out: W) -> Self {
        JsonReporter {
            out,
            task: String::new(),
        }
    }

    /// The writer back (tests read what was printed).
    pub fn into_inner(self) -> W {
        self.out
    }

    fn result(&self, r: &HostResult) -> Value {
        let result = match &r.result {
            Value::Object(map) => Value::Object(strip_internal_keys(map)),
            other => other.clone(),
        };
        if let Some(left) = r.retries_left {
            return json!({
                "event": "retry",
                "host": r.host,
                "task": self.task,
                "retries_left": left,
                "result": result,
            });
        }
        let diffs: Vec<Value> = r
            .diffs
            .iter()
            .map(|d| {
                json!({
                    "before_header": d.before_header,
                    "after_header": d.after_header,
                    "before": d.before,
                    "after": d.after,
                })
            })
            .collect();
        json!({
            "event": "result",
            "host": r.host,
            "delegated_to": r.delegated_to,
            "task": self.task,
            "status": r.status,
            "ignored": r.ignored,
            "item": r.item_label,
            "result": result,
            "diffs": diffs,
        })
    }
}

impl<W: Write + Send> Reporter for JsonReporter<W> {
    fn report(&mut self, event: &Event) {
        let line = match event {
            Event::PlayStart { name, hosts } => {
                json!({"event": "play_start", "name": name, "hosts": hosts})
            }
            Event::TaskStart {
                name,
                handler,
                hosts,
            } => {
                self.task = name.clone();
                json!({"event": "task_start", "name": name, "handler": handler, "hosts": hosts})
            }
            Event::Result(r) => self.result(r),
            Event::Included {
                file,
                hosts,
                item_label,
            } => json!({"event": "included", "file": file, "hosts": hosts, "item": item_label}),
            Event::NoMoreHosts => json!({"event": "no_more_hosts"}),
            Event::Warning(msg) => json!({"event": "warning", "msg": msg}),
            Event::Verbose(msg) => json!({"event": "verbose", "msg": msg}),
            Event::Recap(stats) => {
                let hosts: Map<String, Value> = stats
                    .iter()
                    .map(|(host, s)| (host.clone(), json!(s)))
                    .collect();
                json!({"event": "recap", "hosts": hosts})
            }
        };
        let _ = writeln!(self.out, "{line}");
        let _ = self.out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{HostStats, Status};
    use fleet_modules::Diff;

    #[test]
    fn one_object_per_line() {
        let mut r = JsonReporter::new(Vec::new());
        r.report(&Event::PlayStart {
            name: "p".into(),
            hosts: vec!["web1".into(), "web2".into()],
        });
        r.report(&Event::TaskStart {
            name: "copy it".into(),
            handler: false,
            hosts: 2,
        });
        r.report(&Event::Result(Box::new(HostResult {
            host: "web1".into(),
            delegated_to: Some("web2".into()),
            status: Status::Changed,
            ignored: false,
            item_label: Some("a".into()),
            result: json!({"changed": true, "_ansible_no_log": false, "item": "a"}),
            diffs: vec![Diff {
                before_header: "/f".into(),
                after_header: "/f".into(),
                before: "".into(),
                after: "x\n".into(),
            }],
            action: "copy".into(),
            retries_left: None,
        })));
        r.report(&Event::Recap(vec![
            (
                "web2".into(),
                HostStats {
                    ok: 1,
                    ..Default::default()
                },
            ),
            (
                "web1".into(),
                HostStats {
                    changed: 1,
                    ok: 1,
                    ..Default::default()
                },
            ),
        ]));
        let text = String::from_utf8(r.into_inner()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                r#"{"event":"play_start","name":"p","hosts":["web1","web2"]}"#,
                r#"{"event":"task_start","name":"copy it","handler":false,"hosts":2}"#,
                r#"{"event":"result","host":"web1","delegated_to":"web2","task":"copy it","status":"changed","ignored":false,"item":"a","result":{"changed":true,"item":"a"},"diffs":[{"before_header":"/f","after_header":"/f","before":"","after":"x\n"}]}"#,
                r#"{"event":"recap","hosts":{"web2":{"ok":1,"changed":0,"unreachable":0,"failed":0,"skipped":0,"rescued":0,"ignored":0},"web1":{"ok":1,"changed":1,"unreachable":0,"failed":0,"skipped":0,"rescued":0,"ignored":0}}}"#,
            ]
        );
    }

    #[test]
    fn retries_are_their_own_event() {
        let mut r = JsonReporter::new(Vec::new());
        r.report(&Event::Result(Box::new(HostResult {
            host: "h".into(),
            delegated_to: None,
            status: Status::Failed,
            ignored: false,
            item_label: None,
            result: json!({"rc": 1}),
            diffs: vec![],
            action: "shell".into(),
            retries_left: Some(2),
        })));
        let v: Value = serde_json::from_slice(&r.into_inner()).unwrap();
        assert_eq!(
            v,
            json!({"event": "retry", "host": "h", "task": "", "retries_left": 2, "result": {"rc": 1}})
        );
    }
}
