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

const MARK: &str = "@@fleet-cmd@@";

/// The options of one `command`/`shell` task after free-form parsing.
struct Request {
    /// `cmd` as Ansible reports it: the argv list for `command`, the string for `shell`.
    cmd: Value,
    /// Shell code running the command.
    run: String,
    chdir: Option<String>,
    creates: Option<String>,
    removes: Option<String>,
    stdin: Option<Vec<u8>>,
    strip: bool,
}

/// The request, or the failed result to report.
#[allow(clippy::result_large_err)] // built once per task; boxing buys nothing here
fn parse_request(args: &Args, shell: bool) -> Result<Request, ModuleResult> {
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
    let offset = ctx.remote.clock_offset();
    if ctx.check_mode {
        script.push_str("exit 0\n");
    } else if offset.is_some() {
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
    let sent = common::controller_micros();
    let out = match &req.stdin {
        Some(data) if !ctx.check_mode => ctx.sh_with_input(&script, data).await?,
        _ => ctx.sh(&script).await?,
    };
    let answered = common::controller_micros();
    let stdout = out.stdout_text();
    let stderr = out.stderr_text();
    let base = |changed: bool| {
        let mut r = if changed {
            ModuleResult::changed()
        } else {
            ModuleResult::ok()
        };
        r.msg = Some(String::new());
        r.with("cmd", req.cmd.clone())
            .with("start", Value::Null)
            .with("end", Value::Null)
            .with("delta", Value::Null)
    };
    let shoulda = if ctx.check_mode { "Would" } else { "Did" };
    if let Some(rest) = stderr.strip_prefix(MARK) {
        let (kind, detail) = rest
            .trim_end()
            .split_once(' ')
            .unwrap_or((rest.trim_end(), ""));
        return Ok(match kind {
            "chdir" => {
                let dir = req.chdir.clone().unwrap_or_default();
                let mut r = base(false).with("rc", Value::Null);
                r.failed = true;
                r.msg = Some(format!(
                    "Unable to change directory before execution: [Errno 2] No such file or directory: {}",
                    python_str_repr(&dir)
                ));
                common::with_output(r, 0, "", "").with("rc", Value::Null)
            }
            "creates" | "removes" => {
                let (path, what) = if kind == "creates" {
                    (req.creates.clone().unwrap_or_default(), "exists")
                } else {
                    (req.removes.clone().unwrap_or_default(), "does not exist")
                };
                let mut r = common::with_output(
                    base(false),
                    0,
                    &format!("skipped, since {path} {what}"),
                    "",
                );
                r.msg = Some(format!("{shoulda} not run command since '{path}' {what}"));
                r
            }
            _ => {
                let (errno, program) = detail.split_once(' ').unwrap_or(("2", detail));
                let text = if errno == "13" {
                    "Permission denied"
                } else {
                    "No such file or directory"
                };
                let cmd_text = match &req.cmd {
                    Value::Array(words) => words
                        .iter()
                        .map(|w| shell_quote(w.as_str().unwrap_or("")))
                        .collect::<Vec<_>>()
                        .join(" "),
                    other => common::display(other),
                };
                let mut r =
                    common::with_output(ModuleResult::ok(), errno.parse().unwrap_or(2), "", "")
                        .with("cmd", cmd_text);
                r.failed = true;
                r.msg = Some(format!(
                    "[Errno {errno}] {text}: {}",
                    words::python_bytes_repr(program)
                ));
                r
            }
        });
    }
    if ctx.check_mode {
        let mut r = common::with_output(base(true), 0, "", "");
        r.msg = Some("Command would have run if not in check mode".into());
        if req.creates.is_none() && req.removes.is_none() {
            r.changed = false;
            r = r.with("skipped", true);
        }
        return Ok(r);
    }
    let (stderr, ended) = split_markers(&stderr);
    let (start, end) = match (offset, ended) {
        (Some(offset), _) => (
            Some(HostTime::from_local_micros(sent + offset)),
            Some(HostTime::from_local_micros(answered + offset)),
        ),
        (None, Some(end)) => {
            let offset = end.local_micros() - answered;
            ctx.remote.set_clock_offset(offset);
            (Some(HostTime::from_local_micros(sent + offset)), Some(end))
        }
        (None, None) => (None, None),
    };
    let (mut stdout, mut stderr) = (stdout, stderr);
    if req.strip {
        stdout = stdout.trim_end_matches(['\r', '\n']).to_string();
        stderr = stderr.trim_end_matches(['\r', '\n']).to_string();
    }
    let mut r = common::with_output(base(true), out.rc, &stdout, &stderr);
    if let (Some(start), Some(end)) = (start, end) {
        r = r
            .with("delta", start.delta(&end))
            .with("start", start.text)
            .with("end", end.text);
    }
    if out.rc != 0 {
        r.failed = true;
        r.msg = Some("non-zero return code".into());
    }
    Ok(r)
}

/// Separates the command's own stderr from the end line the script wrapped it in, and reads the
/// host's time from that line when it carries one.
fn split_markers(stderr: &str) -> (String, Option<HostTime>) {
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
fn python_str_repr(s: &str) -> String {
    words::python_bytes_repr(s)[1..].to_string()
}
