//! How `command` and `shell` run on the host: the free-form line and options parsed into a
//! request, the script that checks `chdir`/`creates`/`removes`, executes argv (or hands the line
//! to a shell), and the result keys read back.
//!
//! `start`, `end` and `delta` are in the host's local time, as Ansible reports them. Reading the
//! host's clock costs a `date` process, and two per task were a third of the processes a small
//! play started on each host. So the host's clock is read once per connection, at the end of
//! its first command, and kept as an offset from the controller's clock
//! ([`Remote::clock_offset`](crate::remote::Remote::clock_offset)); every later time is the
//! controller's clock when the request left and when its answer came back, moved by that
//! offset. A `delta` then includes the round trip (on a LAN well under a millisecond).

use serde_json::Value;

use super::common::{self, bool_or, opt_list, opt_str, HostTime, DATE_NOW};
use super::words::{self, expanded_word, EXPAND_PRELUDE};
use crate::remote::{shell_quote, RemoteError};
use crate::{Args, ModuleCtx, ModuleResult};

pub(super) const MARK: &str = "@@fleet-cmd@@";

/// The options of one `command`/`shell` task after free-form parsing.
pub(super) struct Request {
    /// `cmd` as Ansible reports it: the argv list for `command`, the string for `shell`.
    cmd: Value,
    /// Shell code running the command.
    run: String,
    chdir: Option<String>,
    creates: Option<String>,
    removes: Option<String>,
    pub(super) stdin: Option<Vec<u8>>,
    strip: bool,
}

/// The request, or the failed result to report.
#[allow(clippy::result_large_err)] // built once per task; boxing buys nothing here
pub(super) fn parse_request(args: &Args, shell: bool) -> Result<Request, ModuleResult> {
    let mut args = args.clone();
    let mut raw = opt_str(&args, "_raw_params").or_else(|| opt_str(&args, "cmd"));
    if let Some(text) = &raw {
        let (rest, inline) = words::split_inline_options(text);
        for (k, v) in inline {
            args.insert(k, Value::String(v));
        }
        raw = Some(rest);
    }
    let raw = raw.filter(|r| !r.trim().is_empty());
    let argv = opt_list(&args, "argv").filter(|a| !a.is_empty());

    let (cmd, run) = match (raw, argv) {
        // the module's argument spec speaks first in Ansible (required_one_of, mutually_exclusive)
        (None, None) => {
            return Err(ModuleResult::fail(
                "one of the following is required: _raw_params, cmd, argv",
            ))
        }
        (Some(_), Some(_)) => {
            return Err(ModuleResult::fail(
                "parameters are mutually exclusive: _raw_params|cmd|argv",
            ))
        }
        (Some(text), None) if shell => {
            let exe = opt_str(&args, "executable").unwrap_or_else(|| "/bin/sh".into());
            let run = format!("{} -c {}", shell_quote(&exe), shell_quote(&text));
            (Value::String(text), run)
        }
        (text, argv) => {
            let argv = match (text, argv) {
                (Some(text), _) => {
                    words::split(&text).ok_or_else(|| ModuleResult::fail("No closing quotation"))?
                }
                (None, Some(argv)) => argv,
                (None, None) => unreachable!("handled above"),
            };
            (
                Value::Array(argv.iter().cloned().map(Value::String).collect()),
                exec_argv(&argv, bool_or(&args, "expand_argument_vars", true)?),
            )
        }
    };
    let add_newline = bool_or(&args, "stdin_add_newline", true)?;
    let stdin = opt_str(&args, "stdin").map(|s| {
        let mut data = s.into_bytes();
        if add_newline {
            data.push(b'\n');
        }
        data
    });
    Ok(Request {
        cmd,
        run,
        chdir: opt_str(&args, "chdir"),
        creates: opt_str(&args, "creates"),
        removes: opt_str(&args, "removes"),
        stdin,
        strip: bool_or(&args, "strip_empty_ends", true)?,
    })
}

/// Shell code that executes argv directly (no builtins, no functions), reporting a missing or
/// non-executable program the way Python's `subprocess` fails.
fn exec_argv(argv: &[String], expand: bool) -> String {
    let words: Vec<String> = argv
        .iter()
        .map(|w| {
            if expand {
                expanded_word(w)
            } else {
                shell_quote(w)
            }
        })
        .collect();
    format!(
        r#"set -- {words}
__found=
case $1 in
*/*) if [ ! -e "$1" ]; then __found=; elif [ -x "$1" ] && [ ! -d "$1" ]; then __found=1; else __found=13; fi ;;
*) __ifs=$IFS; IFS=:; for __d in $PATH; do if [ -x "${{__d:-.}}/$1" ] && [ ! -d "${{__d:-.}}/$1" ]; then __found=1; break; fi; done; IFS=$__ifs ;;
esac
if [ "$__found" != 1 ]; then printf '{MARK}errno %s %s\n' "${{__found:-2}}" "$1" >&2; exit 127; fi
( exec "$@" )"#,
        words = words.join(" "),
    )
}

/// Shell code testing a `creates`/`removes` glob on the host: exit status 0 when it matches.
pub fn glob_matches(pattern: &str) -> String {
    format!(
        "( __p={}; IFS=; set -- $__p; [ -e \"$1\" ] || [ -L \"$1\" ] )",
        expanded_word(pattern)
    )
}

pub(super) async fn run_command(
    args: &Args,
    ctx: &mut ModuleCtx<'_>,
    shell: bool,
) -> Result<ModuleResult, RemoteError> {
    let req = match parse_request(args, shell) {
        Ok(req) => req,
        Err(result) => return Ok(result),
    };
    let offset = ctx.remote.clock_offset();
    let script = command_script(&req, ctx.check_mode, offset.is_some());
    let sent = common::controller_micros();
    let out = match &req.stdin {
        Some(data) if !ctx.check_mode => ctx.sh_with_input(&script, data).await?,
        _ => ctx.sh(&script).await?,
    };
    let answered = common::controller_micros();
    let stdout = out.stdout_text();
    let stderr = out.stderr_text();
    if let Some(rest) = stderr.strip_prefix(MARK) {
        return Ok(req.stopped_before_running(rest, ctx.check_mode));
    }
    if ctx.check_mode {
        return Ok(req.would_run());
    }
    let (stderr, ended) = split_markers(&stderr);
    let times = match (offset, ended) {
        (Some(offset), _) => Some((
            HostTime::from_local_micros(sent + offset),
            HostTime::from_local_micros(answered + offset),
        )),
        (None, Some(end)) => {
            // the first command on this connection: its end time sets the clock offset
            let offset = end.local_micros() - answered;
            ctx.remote.set_clock_offset(offset);
            Some((HostTime::from_local_micros(sent + offset), end))
        }
        (None, None) => None,
    };
    Ok(req.finished(out.rc, stdout, stderr, times))
}

/// The script for one request: the `chdir`/`creates`/`removes` checks, then the command (or,
/// in check mode, nothing), wrapped so its exit status (and, once per connection, the host's
/// clock) comes back on an end line after its own stderr.
pub(super) fn command_script(req: &Request, check_mode: bool, clock_known: bool) -> String {
    let mut script = String::from(EXPAND_PRELUDE);
    if let Some(dir) = &req.chdir {
        script.push_str(&format!(
            "cd -P {} 2>/dev/null || {{ printf '{MARK}chdir\\n' >&2; exit 1; }}\n",
            expanded_word(dir)
        ));
    }
    if let Some(p) = &req.creates {
        script.push_str(&format!(
            "if {}; then printf '{MARK}creates\\n' >&2; exit 0; fi\n",
            glob_matches(p)
        ));
    }
    if let Some(p) = &req.removes {
        script.push_str(&format!(
            "if ! {}; then printf '{MARK}removes\\n' >&2; exit 0; fi\n",
            glob_matches(p)
        ));
    }
    if check_mode {
        script.push_str("exit 0\n");
    } else if clock_known {
        script.push_str(&format!(
            "{}\n__rc=$?\nprintf '\\n{MARK}end %s\\n' \"$__rc\" >&2\nexit $__rc\n",
            req.run
        ));
    } else {
        // the host's clock, once per connection
        script.push_str(&format!(
            "{}\n__rc=$?\n\
             printf '\\n{MARK}end %s %s\\n' \"$__rc\" \"$({DATE_NOW})\" >&2\nexit $__rc\n",
            req.run
        ));
    }
    script
}

/// The results a request turns into, in Ansible's words.
impl Request {
    /// The keys every `command` result carries, times unknown yet.
    fn base(&self, changed: bool) -> ModuleResult {
        let mut r = if changed {
            ModuleResult::changed()
        } else {
            ModuleResult::ok()
        };
        r.msg = Some(String::new());
        r.with("cmd", self.cmd.clone())
            .with("start", Value::Null)
            .with("end", Value::Null)
            .with("delta", Value::Null)
    }

    /// The script stopped before the command with a marker line (`rest` follows the mark):
    /// `chdir` failed, `creates`/`removes` said skip, or the program was not found.
    pub(super) fn stopped_before_running(&self, rest: &str, check_mode: bool) -> ModuleResult {
        let (kind, detail) = rest
            .trim_end()
            .split_once(' ')
            .unwrap_or((rest.trim_end(), ""));
        match kind {
            "chdir" => self.chdir_failed(),
            "creates" | "removes" => self.skipped(kind == "creates", check_mode),
            _ => self.not_executed(detail),
        }
    }

    fn chdir_failed(&self) -> ModuleResult {
        let dir = self.chdir.clone().unwrap_or_default();
        let mut r = self.base(false).with("rc", Value::Null);
        r.failed = true;
        r.msg = Some(format!(
            "Unable to change directory before execution: [Errno 2] No such file or directory: {}",
            python_str_repr(&dir)
        ));
        common::with_output(r, 0, "", "").with("rc", Value::Null)
    }

    fn skipped(&self, by_creates: bool, check_mode: bool) -> ModuleResult {
        let (path, what) = if by_creates {
            (self.creates.clone().unwrap_or_default(), "exists")
        } else {
            (self.removes.clone().unwrap_or_default(), "does not exist")
        };
        let shoulda = if check_mode { "Would" } else { "Did" };
        let mut r = common::with_output(
            self.base(false),
            0,
            &format!("skipped, since {path} {what}"),
            "",
        );
        r.msg = Some(format!("{shoulda} not run command since '{path}' {what}"));
        r
    }

    /// The program was missing or not executable (`detail` is `errno program`), reported the
    /// way Python's `subprocess` fails.
    fn not_executed(&self, detail: &str) -> ModuleResult {
        let (errno, program) = detail.split_once(' ').unwrap_or(("2", detail));
        let text = if errno == "13" {
            "Permission denied"
        } else {
            "No such file or directory"
        };
        let cmd_text = match &self.cmd {
            Value::Array(words) => words
                .iter()
                .map(|w| shell_quote(w.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(" "),
            other => common::display(other),
        };
        let mut r = common::with_output(ModuleResult::ok(), errno.parse().unwrap_or(2), "", "")
            .with("cmd", cmd_text);
        r.failed = true;
        r.msg = Some(format!(
            "[Errno {errno}] {text}: {}",
            words::python_bytes_repr(program)
        ));
        r
    }

    /// Check mode: the checks passed and the command would have run.
    fn would_run(&self) -> ModuleResult {
        let mut r = common::with_output(self.base(true), 0, "", "");
        r.msg = Some("Command would have run if not in check mode".into());
        if self.creates.is_none() && self.removes.is_none() {
            r.changed = false;
            r = r.with("skipped", true);
        }
        r
    }

    /// The command ran: its output (stripped when asked), exit status and times.
    pub(super) fn finished(
        &self,
        rc: i32,
        mut stdout: String,
        mut stderr: String,
        times: Option<(HostTime, HostTime)>,
    ) -> ModuleResult {
        if self.strip {
            stdout = stdout.trim_end_matches(['\r', '\n']).to_string();
            stderr = stderr.trim_end_matches(['\r', '\n']).to_string();
        }
        let mut r = common::with_output(self.base(true), rc, &stdout, &stderr);
        if let Some((start, end)) = times {
            r = r
                .with("delta", start.delta(&end))
                .with("start", start.text)
                .with("end", end.text);
        }
        if rc != 0 {
            r.failed = true;
            r.msg = Some("non-zero return code".into());
        }
        r
    }
}

/// Separates the command's own stderr from the end line the script wrapped it in, and reads the
/// host's time from that line when it carries one.
pub(super) fn split_markers(stderr: &str) -> (String, Option<HostTime>) {
    let mut body = stderr;
    let mut end = None;
    let end_tag = format!("\n{MARK}end ");
    if let Some(pos) = body.rfind(&end_tag) {
        let line = body[pos + end_tag.len()..].trim_end();
        end = line.split_once(' ').and_then(|(_, t)| HostTime::parse(t));
        body = &body[..pos];
    }
    (body.to_string(), end)
}

/// Python's `repr()` of a text value (`'/tmp'`).
pub(super) fn python_str_repr(s: &str) -> String {
    words::python_bytes_repr(s)[1..].to_string()
}
