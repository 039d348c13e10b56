//! The `ansible` ad-hoc screen (`fleet exec`), as ansible-core's `minimal` callback prints it:
//! `host | CHANGED | rc=0 >>` and the raw output for command-like modules, `host | SUCCESS =>
//! {...}` with an indented, sorted result dictionary for the others.

use std::io::Write;

use super::color::{self, Color, Palette};
use super::dump::{displayable, python_json, short_action};
use super::{diff, Event, HostResult, Reporter, Status};

/// Modules whose output is shown as text, not JSON (Ansible's `MODULE_NO_JSON`).
const TEXT_OUTPUT_MODULES: &[&str] = &["command", "shell", "raw", "win_command", "win_shell"];

/// How [`AdhocReporter`] prints.
#[derive(Debug, Clone, Copy, Default)]
pub struct AdhocOptions {
    /// ANSI colours (a terminal); never an escape code when false.
    pub color: bool,
    /// The `-v` count (3 and above keep `invocation` and `diff` in results).
    pub verbose: u8,
    /// `--diff`: print unified diffs before the result.
    pub diff: bool,
}

/// Renders `fleet exec` results like the `ansible` command; plays, tasks and the recap print
/// nothing, as with `ansible`. Warnings are printed as `[WARNING]: ...`.
pub struct AdhocReporter<W: Write + Send> {
    out: W,
    opts: AdhocOptions,
    palette: Palette,
}

impl<W: Write + Send> AdhocReporter<W> {
    /// A reporter writing to `out` (usually stdout).
    pub fn new(out: W, opts: AdhocOptions) -> Self {
        AdhocReporter {
            out,
            opts,
            palette: Palette {
                enabled: opts.color,
            },
        }
    }

    /// The writer back (tests read what was printed).
    pub fn into_inner(self) -> W {
        self.out
    }

    fn display(&mut self, msg: &str, color: Option<Color>) {
        let text = self.palette.line(msg, color);
        let _ = self.out.write_all(text.as_bytes());
    }

    fn result(&mut self, r: &HostResult) {
        if self.opts.diff && !r.diffs.is_empty() {
            let text = diff::render(&r.diffs, self.palette);
            if !text.is_empty() {
                self.display(&text, None);
            }
        }
        let text_output = TEXT_OUTPUT_MODULES.contains(&short_action(&r.action));
        let dump = || {
            python_json(
                &displayable(&r.result, &r.action, self.opts.verbose, false),
                true,
            )
        };
        let (msg, color) = match r.status {
            Status::Ok | Status::Changed => {
                let (state, color) = if r.status == Status::Changed {
                    ("CHANGED", color::CHANGED)
                } else {
                    ("SUCCESS", color::OK)
                };
                if text_output && r.result.get("ansible_job_id").is_none() {
                    (command_output(r, state), color)
                } else {
                    (format!("{} | {state} => {}", r.host, dump()), color)
                }
            }
            Status::Failed => {
                if text_output && r.result.get("module_stderr").is_none() {
                    (command_output(r, "FAILED"), color::ERROR)
                } else {
                    (format!("{} | FAILED! => {}", r.host, dump()), color::ERROR)
                }
            }
            Status::Skipped => (format!("{} | SKIPPED", r.host), color::SKIP),
            Status::Unreachable => (
                format!("{} | UNREACHABLE! => {}", r.host, dump()),
                color::UNREACHABLE,
            ),
        };
        self.display(&msg, Some(color));
    }
}

impl<W: Write + Send> Reporter for AdhocReporter<W> {
    fn report(&mut self, event: &Event) {
        match event {
            Event::Result(r) if r.retries_left.is_none() => self.result(r),
            Event::Warning(msg) => self.display(&format!("[WARNING]: {msg}"), Some(color::WARN)),
            _ => {}
        }
        let _ = self.out.flush();
    }
}

/// `_command_generic_msg`: the header, then stdout, stderr and msg run together.
fn command_output(r: &HostResult, state: &str) -> String {
    let text = |key: &str| match r.result.get(key) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    let rc = match r.result.get("rc") {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(v) if !v.is_null() => v.to_string(),
        _ => "-1".to_string(),
    };
    format!(
        "{} | {state} | rc={rc} >>\n{}{}{}\n",
        r.host,
        text("stdout"),
        text("stderr"),
        text("msg")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn result(host: &str, action: &str, status: Status, result: serde_json::Value) -> Event {
        Event::Result(Box::new(HostResult {
            host: host.into(),
            delegated_to: None,
            status,
            ignored: false,
            item_label: None,
            result,
            diffs: vec![],
            action: action.into(),
            retries_left: None,
        }))
    }

    fn render(events: &[Event], color: bool) -> String {
        let mut r = AdhocReporter::new(
            Vec::new(),
            AdhocOptions {
                color,
                ..Default::default()
            },
        );
        for e in events {
            r.report(e);
        }
        String::from_utf8(r.into_inner()).unwrap()
    }

    // Expected texts: real `ansible` ad-hoc runs, ansible-core 2.19.14, local connection
    // (`ansible web1 -i inv -a 'echo hi'`, `-m shell -a 'echo out; echo err >&2; exit 3'`,
    // `-a true`, `-m ping`, `-m file -a 'path=... state=touch'`, `-m debug -a msg=hi`, and `-m ping`
    // against a closed port). The `[ERROR]: Task failed:` context block 2.19 prints before a
    // failure is not part of these results.
    #[test]
    fn command_modules_print_raw_output() {
        let events = [
            result(
                "web1",
                "command",
                Status::Changed,
                json!({"changed": true, "rc": 0, "stdout": "hi", "stderr": "", "msg": "", "cmd": ["echo", "hi"]}),
            ),
            result(
                "web1",
                "shell",
                Status::Failed,
                json!({"changed": true, "failed": true, "rc": 3, "stdout": "out", "stderr": "err", "msg": "non-zero return code"}),
            ),
            result(
                "web1",
                "ansible.builtin.command",
                Status::Changed,
                json!({"changed": true, "rc": 0, "stdout": "", "stderr": "", "msg": ""}),
            ),
        ];
        assert_eq!(
            render(&events, false),
            "web1 | CHANGED | rc=0 >>\nhi\nweb1 | FAILED | rc=3 >>\nouterrnon-zero return code\nweb1 | CHANGED | rc=0 >>\n\n"
        );
    }

    #[test]
    fn other_modules_print_indented_json() {
        let events = [
            result(
                "web1",
                "ping",
                Status::Ok,
                json!({"ping": "pong", "changed": false, "invocation": {"module_args": {"data": "pong"}}}),
            ),
            result(
                "web1",
                "file",
                Status::Changed,
                json!({"changed": true, "dest": "/tmp/ans/adhoc", "gid": 0, "group": "root", "mode": "0644", "owner": "root", "size": 0, "state": "file", "uid": 0}),
            ),
            result(
                "web1",
                "debug",
                Status::Ok,
                json!({"msg": "hi", "changed": false}),
            ),
            result(
                "db1",
                "ping",
                Status::Unreachable,
                json!({"changed": false, "msg": "Task failed: Failed to connect to the host via ssh: ssh: connect to host 127.0.0.1 port 1: Connection refused", "unreachable": true}),
            ),
        ];
        let want = r#"web1 | SUCCESS => {
    "changed": false,
    "ping": "pong"
}
web1 | CHANGED => {
    "changed": true,
    "dest": "/tmp/ans/adhoc",
    "gid": 0,
    "group": "root",
    "mode": "0644",
    "owner": "root",
    "size": 0,
    "state": "file",
    "uid": 0
}
web1 | SUCCESS => {
    "msg": "hi"
}
db1 | UNREACHABLE! => {
    "changed": false,
    "msg": "Task failed: Failed to connect to the host via ssh: ssh: connect to host 127.0.0.1 port 1: Connection refused",
    "unreachable": true
}
"#;
        assert_eq!(render(&events, false), want);
    }

    #[test]
    fn diff_comes_before_the_result() {
        let Event::Result(mut r) = result(
            "web1",
            "copy",
            Status::Changed,
            json!({"changed": true, "dest": "/tmp/ans/adc", "size": 2}),
        ) else {
            unreachable!()
        };
        r.diffs.push(fleet_modules::Diff {
            before_header: String::new(),
            after_header: "/tmp/ans/adc".into(),
            before: String::new(),
            after: "zz".into(),
        });
        let mut reporter = AdhocReporter::new(
            Vec::new(),
            AdhocOptions {
                diff: true,
                ..Default::default()
            },
        );
        reporter.report(&Event::Result(r));
        let got = String::from_utf8(reporter.into_inner()).unwrap();
        // `ansible web1 -m copy -a 'content=zz dest=/tmp/ans/adc' --diff`, result keys trimmed.
        assert_eq!(
            got,
            "--- before\n+++ after: /tmp/ans/adc\n@@ -0,0 +1 @@\n+zz\n\\ No newline at end of file\n\n\
             web1 | CHANGED => {\n    \"changed\": true,\n    \"dest\": \"/tmp/ans/adc\",\n    \"size\": 2\n}\n"
        );
    }

    #[test]
    fn colour_wraps_every_line() {
        let events = [result(
            "web1",
            "command",
            Status::Changed,
            json!({"changed": true, "rc": 0, "stdout": "hi"}),
        )];
        assert_eq!(
            render(&events, true),
            "\x1b[0;33mweb1 | CHANGED | rc=0 >>\x1b[0m\n\x1b[0;33mhi\x1b[0m\n"
        );
    }
}
