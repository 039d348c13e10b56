//! `wait_for`: waits on the host for a port, a file or a string, in one remote script that polls
//! (`wait_for.sh`: bash's /dev/tcp or `nc` for ports, `test`/`grep` for files, /proc/net/tcp for
//! drained ports) until the condition holds or the timeout passes.

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::common::{choice, opt_f64, opt_str, BadArg};
use crate::remote::{shell_quote, RemoteError};
use crate::{ArgSpec, Args, Module, ModuleCtx, ModuleResult};
use fleet_templates::pyre::{self, Flags};

const WAIT_SCRIPT: &str = include_str!("wait_for.sh");

/// `ansible.builtin.wait_for`.
pub struct WaitFor;

#[async_trait]
impl Module for WaitFor {
    fn name(&self) -> &'static str {
        "wait_for"
    }
    fn spec(&self) -> ArgSpec {
        ArgSpec {
            free_form: false,
            params: &[
                "host",
                "port",
                "path",
                "state",
                "search_regex",
                "regex",
                "delay",
                "timeout",
                "sleep",
                "connect_timeout",
                "msg",
                "active_connection_states",
                "exclude_hosts",
            ],
            required: &[],
        }
    }
    async fn run(&self, args: &Args, ctx: &mut ModuleCtx<'_>) -> Result<ModuleResult, RemoteError> {
        if ctx.check_mode {
            let mut r = ModuleResult::ok().with("skipped", true);
            r.msg = Some("remote module (wait_for) does not support check mode".into());
            return Ok(r);
        }
        let w = match Wait::from_args(args) {
            Ok(w) => w,
            Err(e) => return Ok(e.into()),
        };
        let vars = [
            ("HOST", w.host.clone()),
            ("PORT", w.port.map(|p| p.to_string()).unwrap_or_default()),
            ("FILE", w.path.clone().unwrap_or_default()),
            ("STATE", w.state.clone()),
            ("REGEX", w.regex.clone().unwrap_or_default()),
            ("DELAY", w.delay.to_string()),
            ("TIMEOUT", w.timeout.to_string()),
            ("SLEEP", w.sleep.to_string()),
            ("CONNECT_TIMEOUT", w.connect_timeout.to_string()),
        ];
        let assigns: Vec<String> = vars
            .iter()
            .map(|(k, v)| format!("{k}={}", shell_quote(v)))
            .collect();
        let out = ctx
            .sh(&format!("{}\n{WAIT_SCRIPT}", assigns.join("\n")))
            .await?;
        let text = out.stdout_text();
        let value = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
                .map(str::to_string)
        };
        let elapsed: u64 = value("elapsed").and_then(|e| e.parse().ok()).unwrap_or(0);
        let mut r = ModuleResult::ok()
            .with("elapsed", elapsed)
            .with("state", w.state.as_str());
        if let Some(p) = w.port {
            r = r.with("port", p);
        }
        if let Some(p) = &w.path {
            r = r.with("path", p.as_str());
        }
        match value("result").as_deref() {
            Some("ok") => {}
            Some("timeout") => {
                r.failed = true;
                r.msg = Some(w.msg.clone().unwrap_or_else(|| w.timeout_message()));
                return Ok(r);
            }
            _ => {
                r.failed = true;
                r.msg = Some(value("error").unwrap_or_else(|| {
                    format!(
                        "wait_for script failed (rc {}): {}",
                        out.rc,
                        out.stderr_text().trim()
                    )
                }));
                return Ok(r);
            }
        }
        if let (Some(re), Some(line)) = (&w.regex, value("matched")) {
            r = r.with("search_regex", re.as_str());
            let (groups, named) = match_groups(re, &line);
            r = r
                .with("match_groups", groups)
                .with("match_groupdict", named);
        }
        Ok(r)
    }
}

/// A `wait_for` task's parameters after validation.
struct Wait {
    host: String,
    port: Option<u16>,
    path: Option<String>,
    state: String,
    regex: Option<String>,
    delay: u64,
    timeout: u64,
    sleep: u64,
    connect_timeout: u64,
    msg: Option<String>,
}

impl Wait {
    fn from_args(args: &Args) -> Result<Wait, BadArg> {
        let secs = |key: &str, default: f64| -> Result<u64, BadArg> {
            Ok(opt_f64(args, key)?.unwrap_or(default).max(0.0).ceil() as u64)
        };
        let port = match opt_f64(args, "port")? {
            Some(p) if (1.0..=65535.0).contains(&p) => Some(p as u16),
            Some(p) => return Err(BadArg(format!("invalid port {p}"))),
            None => None,
        };
        let path = opt_str(args, "path");
        if port.is_some() && path.is_some() {
            return Err(BadArg(
                "parameters are mutually exclusive: port|path".into(),
            ));
        }
        let state = choice(
            args,
            "state",
            &["absent", "drained", "present", "started", "stopped"],
            Some("started"),
        )?
        .unwrap_or_default();
        let regex = opt_str(args, "search_regex").or_else(|| opt_str(args, "regex"));
        if regex.is_some() && !matches!(state.as_str(), "started" | "present") {
            return Err(BadArg(
                "search_regex should only be used with state=started or present".into(),
            ));
        }
        if path.is_some() && state == "drained" {
            return Err(BadArg(
                "state=drained should only be used for checking a port".into(),
            ));
        }
        Ok(Wait {
            host: opt_str(args, "host").unwrap_or_else(|| "127.0.0.1".into()),
            port,
            path,
            state,
            regex,
            delay: secs("delay", 0.0)?,
            timeout: secs("timeout", 300.0)?,
            sleep: secs("sleep", 1.0)?.max(1),
            connect_timeout: secs("connect_timeout", 5.0)?.max(1),
            msg: opt_str(args, "msg"),
        })
    }

    /// Ansible's wording for each kind of timeout.
    fn timeout_message(&self) -> String {
        let target = match (&self.port, &self.path) {
            (Some(p), _) => format!("{}:{p}", self.host),
            (None, Some(path)) => path.clone(),
            (None, None) => String::new(),
        };
        match (self.state.as_str(), &self.regex, &self.path) {
            (_, Some(re), _) => format!("Timeout when waiting for search string {re} in {target}"),
            ("absent" | "stopped", _, Some(_)) => {
                format!("Timeout when waiting for {target} to be absent.")
            }
            ("absent" | "stopped", _, None) => {
                format!("Timeout when waiting for {target} to stop.")
            }
            ("drained", _, _) => format!("Timeout when waiting for {target} to drain"),
            (_, _, Some(_)) => format!("Timeout when waiting for file {target}"),
            _ => format!("Timeout when waiting for {target}"),
        }
    }
}

/// Python's `match.groups()` and `groupdict()` of the first match in the line (Python's `re`
/// through the project's one regex compiler).
fn match_groups(re: &str, line: &str) -> (Value, Value) {
    let empty = || (json!([]), json!({}));
    let Ok(re) = pyre::compile(re, Flags::default()) else {
        return empty();
    };
    let text = line.as_bytes();
    let Ok(Some(caps)) = re.captures(text) else {
        return empty();
    };
    let value = |m: Option<&[u8]>| m.map_or(Value::Null, |m| json!(String::from_utf8_lossy(m)));
    let groups: Vec<Value> = (1..caps.spans.len())
        .map(|i| value(caps.get(text, i)))
        .collect();
    let named: Map<String, Value> = caps
        .group_names()
        .map(|n| (n.to_string(), value(caps.name(text, n))))
        .collect();
    (Value::Array(groups), Value::Object(named))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::testing::{check, run};
    use super::*;

    #[tokio::test]
    async fn waits_for_a_file_and_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ready");
        let f = file.display().to_string();
        let writer = {
            let file = file.clone();
            std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(1200));
                std::fs::write(file, "booting\nlistening on port=8125\n").unwrap();
            })
        };
        let r = run(
            &WaitFor,
            json!({"path": f, "search_regex": "port=(?P<port>[0-9]+)", "timeout": 10}),
        )
        .await;
        writer.join().unwrap();
        assert!(!r.failed && !r.changed, "{r:?}");
        assert!(r.data["elapsed"].as_u64().unwrap() >= 1);
        assert_eq!(r.data["match_groups"], json!(["8125"]));
        assert_eq!(r.data["match_groupdict"], json!({"port": "8125"}));

        let r = run(
            &WaitFor,
            json!({"path": f, "state": "absent", "timeout": 1}),
        )
        .await;
        assert!(r.failed);
        assert_eq!(
            r.msg,
            Some(format!("Timeout when waiting for {f} to be absent."))
        );
        let r = run(
            &WaitFor,
            json!({"path": f, "search_regex": "nope", "timeout": 1, "msg": "custom"}),
        )
        .await;
        assert_eq!(r.msg.as_deref(), Some("custom"));
        let r = check(&WaitFor, json!({"path": f})).await;
        assert_eq!(r.data["skipped"], json!(true));
    }

    #[tokio::test]
    async fn waits_for_ports_to_open_and_close() {
        // A port below the kernel's ephemeral range (32768 up): once released, no other
        // process's outgoing connection takes it as its local port, which would count as a
        // connection and keep "drained" from ever holding (a TIME_WAIT lasts 60 s).
        let (listener, port) = (20000 + (std::process::id() % 10000) as u16..30000)
            .find_map(|p| {
                std::net::TcpListener::bind(("127.0.0.1", p))
                    .ok()
                    .map(|l| (l, p))
            })
            .expect("a free port below the ephemeral range");
        let r = run(&WaitFor, json!({"port": port, "timeout": 5})).await;
        assert!(!r.failed, "{r:?}");
        assert_eq!(r.data["port"], json!(port));
        let r = run(
            &WaitFor,
            json!({"port": port, "state": "stopped", "timeout": 1}),
        )
        .await;
        assert!(r.failed);
        assert_eq!(
            r.msg,
            Some(format!(
                "Timeout when waiting for 127.0.0.1:{port} to stop."
            ))
        );
        drop(listener);
        let r = run(
            &WaitFor,
            json!({"port": port, "state": "stopped", "timeout": 5}),
        )
        .await;
        assert!(!r.failed, "{r:?}");
        let r = run(
            &WaitFor,
            json!({"port": port, "state": "drained", "timeout": 3}),
        )
        .await;
        assert!(!r.failed, "no connections left: {r:?}");
        let r = run(&WaitFor, json!({"port": port, "timeout": 1})).await;
        assert_eq!(
            r.msg,
            Some(format!("Timeout when waiting for 127.0.0.1:{port}"))
        );
    }
}
