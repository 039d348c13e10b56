//! `file`: makes a path a file, directory, symlink or hard link (or removes it, or touches it)
//! and sets its mode, owner and group. One script inspects and applies, and reports what it did.

use async_trait::async_trait;
use serde_json::{json, Value};

use super::args::{self, FileAttrs};
use super::remote_file::{attr_vars, failure, find, last_stat, parse_report, Record, PRELUDE};
use crate::remote::{shell_quote, RemoteError};
use crate::{ArgSpec, Args, BadArg, Diff, Module, ModuleCtx, ModuleResult};

/// The `file` module.
pub struct File;

const STATES: &[&str] = &["file", "directory", "absent", "touch", "link", "hard"];

/// The whole module as one script. Inputs: P (path), S (state, empty: keep the current one),
/// SRC, FORCE, FOLLOW, RECURSE, ATIME/MTIME (`now`, `preserve` or a `touch -t` stamp).
const SCRIPT: &str = include_str!("file.sh");
#[async_trait]
impl Module for File {
    fn name(&self) -> &'static str {
        "file"
    }

    fn spec(&self) -> ArgSpec {
        ArgSpec {
            free_form: false,
            params: &[
                "path",
                "dest",
                "name",
                "state",
                "mode",
                "owner",
                "group",
                "recurse",
                "src",
                "force",
                "follow",
                "access_time",
                "modification_time",
                "access_time_format",
                "modification_time_format",
                "attributes",
                "attr",
                "seuser",
                "serole",
                "setype",
                "selevel",
                "unsafe_writes",
                "_diff_peek",
            ],
            required: &[&["path", "dest", "name"]],
        }
    }

    async fn run(&self, args: &Args, ctx: &mut ModuleCtx<'_>) -> Result<ModuleResult, RemoteError> {
        if args.get("_diff_peek").is_some_and(|v| !v.is_null()) {
            return diff_peek(args, ctx).await;
        }
        let script = match build(args, ctx.check_mode) {
            Ok(script) => script,
            Err(e) => return Ok(e.into()),
        };
        let path = args::text(args, &["path", "dest", "name"]).unwrap_or_default();
        let out = ctx.sh(&script).await?;
        let records = parse_report(&out.stdout);
        if let Some(msg) = failure(&records) {
            let failed = failed_result(args, &records, &msg, path);
            return Ok(with_warnings(&records, failed));
        }
        if out.rc != 0 || find(&records, "did").is_none() {
            return Ok(ModuleResult::fail(format!(
                "file module script failed (rc {}): {}",
                out.rc,
                out.stderr_text().trim()
            )));
        }
        Ok(done_result(args, &records, path, ctx.diff))
    }
}

/// The rest of the script's `tag` line, empty when it sent none.
fn field(records: &[Record], tag: &str) -> String {
    find(records, tag)
        .map(|r| r.rest.clone())
        .unwrap_or_default()
}

/// The script's `warn` lines as the result's warnings.
fn with_warnings(records: &[Record], mut result: ModuleResult) -> ModuleResult {
    for warning in records.iter().filter(|r| r.tag == "warn") {
        result = result.with_warning(warning.rest.clone());
    }
    result
}

/// A failure reported by the script, with the keys Ansible's failure carries.
fn failed_result(args: &Args, records: &[Record], msg: &str, path: String) -> ModuleResult {
    let mut failed = ModuleResult::fail(msg);
    let linking = matches!(field(records, "state").as_str(), "link" | "hard");
    if linking && !msg.starts_with("src is required") && !msg.starts_with("refusing") {
        // Ansible's symlink/hardlink failures name dest and src
        let src = args::text(args, &["src"]).map_or(Value::Null, Value::from);
        failed = failed.with("dest", path).with("src", src);
    } else {
        failed = failed.with("path", path);
    }
    if msg.ends_with(", cannot continue") {
        // Ansible's ensure_file_attributes names the state the path is in
        failed = failed.with("state", field(records, "prev"));
    }
    failed
}

/// The result of a run that worked: the path under the key Ansible uses for the state, its
/// stat (or state), and in diff mode the before/after dictionaries and the state change.
fn done_result(args: &Args, records: &[Record], path: String, diff: bool) -> ModuleResult {
    let (prev, state) = (field(records, "prev"), field(records, "state"));
    let mut result = with_warnings(
        records,
        ModuleResult {
            changed: field(records, "did") == "1",
            ..ModuleResult::default()
        },
    );
    if state == "link" || state == "hard" {
        result = result.with("dest", path.clone());
        let src = args::text(args, &["src"]);
        result = result.with("src", src.map_or(Value::Null, Into::into));
    } else if state == "touch" {
        // Ansible's execute_touch names the path `dest`
        result = result.with("dest", path.clone());
    } else {
        result = result.with("path", path.clone());
    }
    match last_stat(records) {
        Some(st) if state != "absent" => st.add_to(&mut result.data),
        _ => result = result.with("state", if state == "absent" { "absent" } else { &state }),
    }
    // Ansible's file module returns its before/after dictionaries, kept in diff mode
    if diff {
        let src = args::text(args, &["src"]);
        let dict = diff_dict(records, &path, (&prev, &state), src.as_deref());
        result = result.with("diff", dict);
    }
    if diff && result.changed && prev != state {
        result.diffs.push(state_diff(&path, &prev, &state));
    }
    result
}

/// The state change as a text diff of `{"path", "state"}` on each side, indented as Ansible's
/// JSON.
fn state_diff(path: &str, prev: &str, state: &str) -> Diff {
    let side = |s: &str| {
        let v = json!({"path": path, "state": s});
        let mut buf = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
        serde::Serialize::serialize(&v, &mut ser).expect("json serializes");
        String::from_utf8_lossy(&buf).into_owned() + "\n"
    };
    Diff {
        before_header: "before".into(),
        after_header: "after".into(),
        before: side(prev),
        after: side(state),
    }
}

/// The `diff` result of Ansible's file module: `path` on both sides, the state when it changes
/// (with what a removed directory held), a symlink's old and new `src`, and each changed
/// mode and access/modification time.
fn diff_dict(records: &[Record], path: &str, states: (&str, &str), src: Option<&str>) -> Value {
    let (prev, state) = states;
    let mut before = json!({"path": path});
    let mut after = json!({"path": path});
    if prev != state {
        before["state"] = json!(prev);
        after["state"] = json!(state);
        if state == "absent" && prev == "directory" {
            let list = |tag: &str| -> Vec<&str> {
                records
                    .iter()
                    .filter(|r| r.tag == tag)
                    .map(|r| r.rest.as_str())
                    .collect()
            };
            before["path_content"] = json!({"directories": list("pcdir"), "files": list("pcfile")});
        }
    }
    if let (Some(old), Some(src)) = (find(records, "oldsrc"), src) {
        before["src"] = json!(old.rest);
        after["src"] = json!(src);
    }
    for (tag, key) in [("dmode", "mode"), ("dmtime", "mtime"), ("datime", "atime")] {
        let Some((was, now)) = find(records, tag).and_then(|r| r.rest.split_once(' ')) else {
            continue;
        };
        let shown = |v: &str| match key {
            "mode" => {
                json!(u32::from_str_radix(v, 8).map_or(v.to_string(), |m| format!("0{m:03o}")))
            }
            _ => v.parse::<f64>().map_or(json!(v), |t| json!(t)),
        };
        before[key] = shown(was);
        after[key] = shown(now);
    }
    json!({"before": before, "after": after})
}

/// `_diff_peek` (Ansible's internal option, sent before a diff): whether the file's first
/// 8 KiB hold a NUL byte, nothing changed.
async fn diff_peek(args: &Args, ctx: &mut ModuleCtx<'_>) -> Result<ModuleResult, RemoteError> {
    let path = args::text(args, &["path", "dest", "name"]).unwrap_or_default();
    let script = format!(
        "head -c 8192 {} 2>/dev/null | tr -d -c '\\000' | wc -c",
        shell_quote(&path)
    );
    let out = ctx.sh(&script).await?;
    let nuls: u64 = out.stdout_text().trim().parse().unwrap_or(0);
    Ok(ModuleResult::ok()
        .with("path", path)
        .with("appears_binary", nuls > 0))
}

fn build(args: &Args, check: bool) -> Result<String, BadArg> {
    let path = args::text(args, &["path", "dest", "name"]).unwrap_or_default();
    if path.is_empty() {
        return Err("missing required arguments: path".into());
    }
    let state = args::text(args, &["state"]).unwrap_or_default();
    if !state.is_empty() && !STATES.contains(&state.as_str()) {
        return Err(format!(
            "value of state must be one of: {}, got: {state}",
            STATES.join(", ")
        )
        .into());
    }
    let src = args::text(args, &["src"]).unwrap_or_default();
    if !src.is_empty() && !state.is_empty() && state != "link" && state != "hard" {
        return Err("src option requires state to be 'link' or 'hard'".into());
    }
    let attrs = FileAttrs::from_args(args)?;
    if args::flag(args, "recurse", false)? && !state.is_empty() && state != "directory" {
        return Err("recurse option requires state to be 'directory'".into());
    }
    let touch_default = if state == "touch" { "now" } else { "preserve" };
    let time = |name: &str, format_name: &str| -> Result<String, BadArg> {
        let value = args::text(args, &[name]).unwrap_or_else(|| touch_default.into());
        let format = args::text(args, &[format_name]).unwrap_or_else(|| "%Y%m%d%H%M".into());
        match value.as_str() {
            "now" | "preserve" => Ok(value),
            _ if format == "%Y%m%d%H%M" || format == "%Y%m%d%H%M.%S" => Ok(value),
            _ => Err(format!("{format_name} {format} is not supported by fleet").into()),
        }
    };
    let vars = format!(
        "P={}\nS={}\nSRC={}\nFORCE={}\nFOLLOW={}\nRECURSE={}\nATIME={}\nMTIME={}\n",
        shell_quote(&path),
        shell_quote(&state),
        shell_quote(&src),
        u8::from(args::flag(args, "force", false)?),
        u8::from(args::flag(args, "follow", true)?),
        u8::from(args::flag(args, "recurse", false)?),
        shell_quote(&time("access_time", "access_time_format")?),
        shell_quote(&time("modification_time", "modification_time_format")?),
    );
    Ok(format!(
        "{PRELUDE}{}{vars}{SCRIPT}",
        attr_vars(&attrs, check)
    ))
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;
