//! `lineinfile`: ensures one line is present (added, or replacing the line a `regexp` or
//! `search_string` finds) or absent. The placement rules are a port of Ansible's `present()` and
//! `absent()`, so files end up byte-identical.

use async_trait::async_trait;

use super::args::{self, FileAttrs};
use super::text_edit::{self, compile, python_template, split_lines, strip_eol, Edit};
use crate::remote::RemoteError;
use crate::{ArgSpec, Args, BadArg, Module, ModuleCtx, ModuleResult};

/// The `lineinfile` module.
pub struct LineInFile;

/// The module's options after validation.
struct Opts {
    path: String,
    line: Option<String>,
    regexp: Option<String>,
    search_string: Option<String>,
    present: bool,
    insertafter: Option<String>,
    insertbefore: Option<String>,
    create: bool,
    backrefs: bool,
    firstmatch: bool,
}

#[async_trait]
impl Module for LineInFile {
    fn name(&self) -> &'static str {
        "lineinfile"
    }

    fn spec(&self) -> ArgSpec {
        ArgSpec {
            free_form: false,
            params: &[
                "path",
                "dest",
                "destfile",
                "name",
                "line",
                "value",
                "regexp",
                "regex",
                "search_string",
                "state",
                "insertafter",
                "insertbefore",
                "create",
                "backrefs",
                "backup",
                "firstmatch",
                "mode",
                "owner",
                "group",
                "validate",
                "others",
                "attributes",
                "seuser",
                "serole",
                "setype",
                "selevel",
                "unsafe_writes",
            ],
            required: &[&["path", "dest", "destfile", "name"]],
        }
    }

    async fn run(&self, args: &Args, ctx: &mut ModuleCtx<'_>) -> Result<ModuleResult, RemoteError> {
        let (opts, attrs, backup) = match parse(args) {
            Ok(parsed) => parsed,
            Err(e) => return Ok(e.into()),
        };
        let current = match text_edit::read(ctx, &opts.path, &attrs).await? {
            Ok(current) => current,
            Err(e) => return Ok(e.into()),
        };
        if current.is_dir {
            return Ok(
                ModuleResult::fail(format!("Destination {} is a directory !", opts.path))
                    .with("rc", 256),
            );
        }
        let (new_lines, msg, found) = match (&current.content, opts.present) {
            (None, false) => return Ok(ModuleResult::ok().with("msg", "file not present")),
            (None, true) if !opts.create => {
                return Ok(ModuleResult::fail(format!(
                    "Destination {} does not exist !",
                    opts.path
                ))
                .with("rc", 257))
            }
            (content, true) => {
                let lines = split_lines(content.as_deref().unwrap_or_default());
                match present(&opts, lines) {
                    Ok((lines, msg)) => (lines, msg, None),
                    Err(e) => return Ok(e.into()),
                }
            }
            (Some(content), false) => match absent(&opts, split_lines(content)) {
                Ok((lines, found)) => {
                    let msg = if found > 0 {
                        format!("{found} line(s) removed")
                    } else {
                        String::new()
                    };
                    (lines, msg, Some(found))
                }
                Err(e) => return Ok(e.into()),
            },
        };
        let before = current.content.clone().unwrap_or_default();
        let after = new_lines.concat();
        let content_changed = !msg.is_empty() && (after != before || current.content.is_none());
        let edit = Edit {
            path: &opts.path,
            current: &current,
            new: content_changed.then(|| after.clone()),
            msg,
            attrs: &attrs,
            backup,
            validate: args::text(args, &["validate"]),
        };
        let applied = match text_edit::apply(ctx, edit).await? {
            Ok(applied) => applied,
            Err(e) => return Ok(e.into()),
        };
        let mut result = ModuleResult {
            changed: applied.changed,
            msg: Some(applied.msg),
            ..ModuleResult::default()
        }
        .with("backup", applied.backup.unwrap_or_default());
        if let Some(found) = found {
            result = result.with("found", found);
        }
        if ctx.diff {
            result
                .diffs
                .push(text_edit::content_diff(&opts.path, &before, &after));
        }
        Ok(result)
    }
}

fn parse(args: &Args) -> Result<(Opts, FileAttrs, bool), BadArg> {
    let state = args::text(args, &["state"]).unwrap_or_else(|| "present".into());
    if state != "present" && state != "absent" {
        return Err(format!("value of state must be one of: absent, present, got: {state}").into());
    }
    let opts = Opts {
        path: args::text(args, &["path", "dest", "destfile", "name"]).unwrap_or_default(),
        line: args::text(args, &["line", "value"]),
        regexp: args::text(args, &["regexp", "regex"]),
        search_string: args::text(args, &["search_string"]),
        present: state == "present",
        insertafter: args::text(args, &["insertafter"]),
        insertbefore: args::text(args, &["insertbefore"]),
        create: args::flag(args, "create", false)?,
        backrefs: args::flag(args, "backrefs", false)?,
        firstmatch: args::flag(args, "firstmatch", false)?,
    };
    if opts.insertafter.is_some() && opts.insertbefore.is_some() {
        return Err("parameters are mutually exclusive: insertafter|insertbefore".into());
    }
    if opts.regexp.is_some() && opts.search_string.is_some() {
        return Err("parameters are mutually exclusive: regexp|search_string".into());
    }
    if opts.backrefs && opts.search_string.is_some() {
        return Err("backrefs=true is not supported with search_string".into());
    }
    if opts.present {
        if opts.backrefs && opts.regexp.is_none() {
            return Err("regexp is required with backrefs=true".into());
        }
        if opts.line.is_none() {
            return Err("line is required with state=present".into());
        }
    } else if opts.regexp.is_none() && opts.line.is_none() && opts.search_string.is_none() {
        return Err("one of line, search_string, or regexp is required with state=absent".into());
    }
    Ok((
        opts,
        FileAttrs::from_args(args)?,
        args::flag(args, "backup", false)?,
    ))
}

/// Ansible's `present()`: returns the new lines and the message (empty when unchanged).
fn present(o: &Opts, mut lines: Vec<Vec<u8>>) -> Result<(Vec<Vec<u8>>, String), BadArg> {
    let line = o.line.clone().unwrap_or_default().into_bytes();
    let regexp = o.regexp.as_deref().map(|r| compile(r, false)).transpose()?;
    let after = o
        .insertafter
        .as_deref()
        .filter(|s| *s != "BOF" && *s != "EOF");
    let before = o.insertbefore.as_deref().filter(|s| *s != "BOF");
    let insert_re = after.or(before).map(|r| compile(r, false)).transpose()?;
    let (mut found, mut insert_at) = (None::<usize>, None::<usize>);
    let mut new_line = line.clone();
    let mut matched = false;
    if let Some(re) = &regexp {
        for (i, cur) in lines.iter().enumerate() {
            if let Some(caps) = re.captures(cur.strip_suffix(b"\n").unwrap_or(cur)) {
                found = Some(i);
                matched = true;
                new_line = if o.backrefs {
                    let mut out = Vec::new();
                    caps.expand(
                        python_template(&String::from_utf8_lossy(&line)).as_bytes(),
                        &mut out,
                    );
                    out
                } else {
                    line.clone()
                };
                if o.firstmatch {
                    break;
                }
            }
        }
    }
    if let Some(needle) = &o.search_string {
        for (i, cur) in lines.iter().enumerate() {
            if contains(cur, needle.as_bytes()) {
                found = Some(i);
                matched = true;
                if o.firstmatch {
                    break;
                }
            }
        }
    }
    if !matched {
        for (i, cur) in lines.iter().enumerate() {
            if strip_eol(cur) == line.as_slice() {
                found = Some(i);
            } else if insert_re
                .as_ref()
                .is_some_and(|re| re.is_match(cur.strip_suffix(b"\n").unwrap_or(cur)))
            {
                insert_at = Some(if o.insertafter.is_some() { i + 1 } else { i });
                if o.firstmatch {
                    break;
                }
            }
        }
    }
    let with_eol = |l: &[u8]| [l, b"\n"].concat();
    let added = "line added".to_string();
    let none = String::new();
    let ends_open = |lines: &[Vec<u8>]| {
        lines
            .last()
            .is_some_and(|l| !l.ends_with(b"\n") && !l.ends_with(b"\r"))
    };
    if let Some(index) = found {
        if !new_line.ends_with(b"\n") {
            new_line.push(b'\n');
        }
        if lines[index] != new_line {
            lines[index] = new_line;
            return Ok((lines, "line replaced".into()));
        }
        return Ok((lines, none));
    }
    if o.backrefs {
        return Ok((lines, none));
    }
    if o.insertbefore.as_deref() == Some("BOF") || o.insertafter.as_deref() == Some("BOF") {
        lines.insert(0, with_eol(&line));
        return Ok((lines, added));
    }
    match insert_at {
        _ if o.insertafter.as_deref() == Some("EOF") || insert_at.is_none() => {
            if ends_open(&lines) {
                lines.push(b"\n".to_vec());
            }
            lines.push(with_eol(&line));
            Ok((lines, added))
        }
        Some(at) if o.insertafter.is_some() => {
            if at == lines.len() {
                if strip_eol(&lines[at - 1]) != line.as_slice() {
                    lines.push(with_eol(&line));
                    return Ok((lines, added));
                }
                Ok((lines, none))
            } else if strip_eol(&lines[at]) != line.as_slice() {
                lines.insert(at, with_eol(&line));
                Ok((lines, added))
            } else {
                Ok((lines, none))
            }
        }
        Some(at) => {
            lines.insert(at, with_eol(&line));
            Ok((lines, added))
        }
        None => unreachable!("handled by the first arm"),
    }
}

/// Ansible's `absent()`: returns the kept lines and how many were removed.
fn absent(o: &Opts, lines: Vec<Vec<u8>>) -> Result<(Vec<Vec<u8>>, usize), BadArg> {
    let regexp = o.regexp.as_deref().map(|r| compile(r, false)).transpose()?;
    let line = o.line.clone().unwrap_or_default().into_bytes();
    let before = lines.len();
    let kept: Vec<Vec<u8>> = lines
        .into_iter()
        .filter(|cur| {
            let hit = if let Some(re) = &regexp {
                re.is_match(cur.strip_suffix(b"\n").unwrap_or(cur))
            } else if let Some(needle) = &o.search_string {
                contains(cur, needle.as_bytes())
            } else {
                strip_eol(cur) == line.as_slice()
            };
            !hit
        })
        .collect();
    let removed = before - kept.len();
    Ok((kept, removed))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
#[path = "lineinfile_tests.rs"]
mod tests;
