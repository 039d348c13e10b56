//! `blockinfile`: keeps a block of lines between two marker lines (inserted, updated or
//! removed). A port of Ansible's algorithm so the file content matches byte for byte.

use async_trait::async_trait;

use super::args::{self, FileAttrs};
use super::text_edit::{self, compile, line_matches, split_lines, strip_eol, Edit};
use crate::remote::RemoteError;
use crate::{ArgSpec, Args, BadArg, Module, ModuleCtx, ModuleResult};

/// The `blockinfile` module.
pub struct BlockInFile;

#[async_trait]
impl Module for BlockInFile {
    fn name(&self) -> &'static str {
        "blockinfile"
    }

    fn spec(&self) -> ArgSpec {
        ArgSpec {
            free_form: false,
            params: &[
                "path",
                "dest",
                "destfile",
                "name",
                "block",
                "content",
                "marker",
                "marker_begin",
                "marker_end",
                "insertafter",
                "insertbefore",
                "create",
                "state",
                "backup",
                "mode",
                "owner",
                "group",
                "validate",
                "prepend_newline",
                "append_newline",
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
        let parsed = parse(args);
        let (path, spec, attrs, create, backup) = match parsed {
            Ok(parsed) => parsed,
            Err(e) => return Ok(e.into()),
        };
        let current = match text_edit::read(ctx, &path, &attrs).await? {
            Ok(current) => current,
            Err(e) => return Ok(e.into()),
        };
        if current.is_dir {
            return Ok(ModuleResult::fail(format!("Path {path} is a directory !")).with("rc", 256));
        }
        if current.content.is_none() {
            if !create {
                return Ok(
                    ModuleResult::fail(format!("Path {path} does not exist !")).with("rc", 257)
                );
            }
            if !spec.present {
                return Ok(ModuleResult::ok().with("msg", "File not present"));
            }
        }
        let result = match update(&spec, current.content.as_deref()) {
            Ok(result) => result,
            Err(e) => return Ok(e.into()),
        };
        let original = current.content.clone();
        let msg = if original.as_deref() == Some(result.as_slice()) {
            ""
        } else if original.is_none() {
            "File created"
        } else if !spec.present || spec.block.is_empty() {
            "Block removed"
        } else {
            "Block inserted"
        };
        let edit = Edit {
            path: &path,
            current: &current,
            new: (!msg.is_empty()).then(|| result.clone()),
            msg: msg.to_string(),
            attrs: &attrs,
            backup,
            validate: args::text(args, &["validate"]),
        };
        let applied = match text_edit::apply(ctx, edit).await? {
            Ok(applied) => applied,
            Err(e) => return Ok(e.into()),
        };
        let mut out = ModuleResult {
            changed: applied.changed,
            msg: Some(applied.msg),
            ..ModuleResult::default()
        };
        if let Some(backup) = applied.backup {
            out = out.with("backup_file", backup);
        }
        if ctx.diff {
            let before = original.unwrap_or_default();
            out.diffs
                .push(text_edit::content_diff(&path, &before, &result));
        }
        Ok(out)
    }
}

/// What to put where.
struct BlockSpec {
    block: String,
    marker_begin: Vec<u8>,
    marker_end: Vec<u8>,
    insertafter: Option<String>,
    insertbefore: Option<String>,
    present: bool,
    /// A blank line before the block unless at the start or after one.
    prepend_newline: bool,
    /// A blank line after the block unless at the end or before one.
    append_newline: bool,
}

type Parsed = (String, BlockSpec, FileAttrs, bool, bool);

fn parse(args: &Args) -> Result<Parsed, BadArg> {
    let state = args::text(args, &["state"]).unwrap_or_else(|| "present".into());
    if state != "present" && state != "absent" {
        return Err(format!("value of state must be one of: absent, present, got: {state}").into());
    }
    let insertafter = args::text(args, &["insertafter"]);
    let insertbefore = args::text(args, &["insertbefore"]);
    if insertafter.is_some() && insertbefore.is_some() {
        return Err("parameters are mutually exclusive: insertbefore|insertafter".into());
    }
    let marker =
        args::text(args, &["marker"]).unwrap_or_else(|| "# {mark} ANSIBLE MANAGED BLOCK".into());
    let begin = args::text(args, &["marker_begin"]).unwrap_or_else(|| "BEGIN".into());
    let end = args::text(args, &["marker_end"]).unwrap_or_else(|| "END".into());
    let spec = BlockSpec {
        block: args::text(args, &["block", "content"]).unwrap_or_default(),
        marker_begin: marker.replace("{mark}", &begin).into_bytes(),
        marker_end: marker.replace("{mark}", &end).into_bytes(),
        insertafter,
        insertbefore,
        present: state == "present",
        prepend_newline: args::flag(args, "prepend_newline", false)?,
        append_newline: args::flag(args, "append_newline", false)?,
    };
    let path = args::text(args, &["path", "dest", "destfile", "name"]).unwrap_or_default();
    Ok((
        path,
        spec,
        FileAttrs::from_args(args)?,
        args::flag(args, "create", false)?,
        args::flag(args, "backup", false)?,
    ))
}

/// Ansible's block placement: replace the old block between markers, or insert at the anchor.
fn update(spec: &BlockSpec, original: Option<&[u8]>) -> Result<Vec<u8>, BadArg> {
    let mut lines = split_lines(original.unwrap_or_default());
    let with_eol = |m: &[u8]| [m, b"\n"].concat();
    let block_lines: Vec<Vec<u8>> = if spec.present && !spec.block.is_empty() {
        let mut block = spec.block.clone().into_bytes();
        if !block.ends_with(b"\n") {
            block.push(b'\n');
        }
        let mut v = vec![with_eol(&spec.marker_begin)];
        v.extend(split_lines(&block));
        v.push(with_eol(&spec.marker_end));
        v
    } else {
        Vec::new()
    };
    let (mut n0, mut n1) = (None, None);
    for (i, line) in lines.iter().enumerate() {
        if strip_eol(line) == spec.marker_begin.as_slice() {
            n0 = Some(i);
        }
        if strip_eol(line) == spec.marker_end.as_slice() {
            n1 = Some(i);
        }
    }
    let at = match (n0, n1) {
        (Some(a), Some(b)) => {
            let (lo, hi) = (a.min(b), a.max(b));
            lines.drain(lo..=hi);
            lo
        }
        _ => anchor(spec, &lines, original.unwrap_or_default())?,
    };
    let mut at = at;
    if at > 0 && !lines[at - 1].ends_with(b"\n") {
        lines[at - 1].push(b'\n');
    }
    let present = spec.present;
    if spec.prepend_newline && present && at != 0 && lines[at - 1] != b"\n" {
        lines.insert(at, b"\n".to_vec());
        at += 1;
    }
    let after_block = at + block_lines.len();
    lines.splice(at..at, block_lines);
    if spec.append_newline && present && after_block < lines.len() && lines[after_block] != b"\n" {
        lines.insert(after_block, b"\n".to_vec());
    }
    Ok(lines.concat())
}

/// Where a new block goes: after (before) the last line matching `insertafter`
/// (`insertbefore`), or, for a pattern with `re.MULTILINE`, at the line of the first match in
/// the whole text (Ansible counts the newlines up to the match's end or start).
fn anchor(spec: &BlockSpec, lines: &[Vec<u8>], original: &[u8]) -> Result<usize, BadArg> {
    let after = spec.insertafter.as_deref().filter(|s| *s != "EOF");
    let before = spec.insertbefore.as_deref().filter(|s| *s != "BOF");
    let Some(pattern) = after.or(before) else {
        return Ok(if spec.insertbefore.is_some() {
            0
        } else {
            lines.len()
        });
    };
    let re = compile(pattern, false)?;
    let mut hit = None;
    if re.multiline() {
        if let Some((start, end)) = re.find(original).map_err(text_edit::regex_error)? {
            let upto = if after.is_some() { end } else { start };
            hit = Some(original[..upto].iter().filter(|b| **b == b'\n').count());
        }
    } else {
        for (i, l) in lines.iter().enumerate() {
            if line_matches(&re, l)? {
                hit = Some(i);
            }
        }
    }
    Ok(match hit {
        None => lines.len(),
        Some(i) if after.is_some() => i + 1,
        Some(i) => i,
    })
}

#[cfg(test)]
mod tests {
    use std::fs;

    use serde_json::json;

    use super::*;
    use crate::files::testkit::Harness;

    fn spec(after: Option<&str>, prepend: bool, append: bool) -> BlockSpec {
        BlockSpec {
            block: "B\n".into(),
            marker_begin: b"# BEGIN".to_vec(),
            marker_end: b"# END".to_vec(),
            insertafter: after.map(String::from),
            insertbefore: None,
            present: true,
            prepend_newline: prepend,
            append_newline: append,
        }
    }

    /// Issue 18: a `(?m)` insertafter matches across lines, in the whole text, as Ansible's.
    #[test]
    fn multiline_insertafter_matches_across_lines() {
        let text = b"a\nX =\n  (L =\nz\n";
        let got = update(&spec(Some(r"(?m)X =\n.*\(L ="), false, false), Some(text)).unwrap();
        assert_eq!(got, b"a\nX =\n  (L =\n# BEGIN\nB\n# END\nz\n");
        // without the flag no single line matches: the block goes at the end
        let got = update(&spec(Some(r"X =\n.*\(L ="), false, false), Some(text)).unwrap();
        assert_eq!(got, b"a\nX =\n  (L =\nz\n# BEGIN\nB\n# END\n");
    }

    /// Issue 18: `prepend_newline`/`append_newline` add a blank line unless one is there.
    #[test]
    fn prepend_and_append_newline() {
        let got = update(&spec(Some("^a"), true, true), Some(b"a\nb\n")).unwrap();
        assert_eq!(got, b"a\n\n# BEGIN\nB\n# END\n\nb\n");
        let got = update(&spec(Some("^a"), true, true), Some(b"a\n\nb\n")).unwrap();
        assert_eq!(got, b"a\n\n# BEGIN\nB\n# END\n\nb\n");
        let got = update(&spec(None, false, true), Some(b"a\n")).unwrap();
        assert_eq!(got, b"a\n# BEGIN\nB\n# END\n");
    }

    #[tokio::test]
    async fn inserts_updates_and_removes_a_block() {
        let h = Harness::new();
        let path = h.path("hosts");
        fs::write(&path, "127.0.0.1 localhost\n").unwrap();
        let args = json!({"path": path, "block": "10.0.0.1 a\n10.0.0.2 b"});
        let r = h.run(&BlockInFile, args.clone()).await;
        assert!(r.changed && !r.failed, "{:?}", r.to_json());
        assert_eq!(r.msg.as_deref(), Some("Block inserted"));
        let want = "127.0.0.1 localhost\n# BEGIN ANSIBLE MANAGED BLOCK\n10.0.0.1 a\n10.0.0.2 b\n# END ANSIBLE MANAGED BLOCK\n";
        assert_eq!(fs::read_to_string(&path).unwrap(), want);
        assert!(!h.run(&BlockInFile, args).await.changed);

        let r = h
            .run(
                &BlockInFile,
                json!({"path": path, "block": "10.0.0.3 c", "insertbefore": "BOF"}),
            )
            .await;
        assert!(r.changed);
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "127.0.0.1 localhost\n# BEGIN ANSIBLE MANAGED BLOCK\n10.0.0.3 c\n# END ANSIBLE MANAGED BLOCK\n",
            "an existing block is updated in place"
        );
        let r = h
            .run(&BlockInFile, json!({"path": path, "state": "absent"}))
            .await;
        assert_eq!(r.msg.as_deref(), Some("Block removed"));
        assert_eq!(fs::read_to_string(&path).unwrap(), "127.0.0.1 localhost\n");
    }

    #[tokio::test]
    async fn custom_markers_anchor_create_and_check_mode() {
        let mut h = Harness::new();
        let path = h.path("conf");
        fs::write(&path, "[a]\nx=1\n[b]\n").unwrap();
        let args =
            json!({"path": path, "block": "y=2", "marker": "; {mark} fleet", "insertafter": "^x="});
        h.check = true;
        h.diff = true;
        let r = h.run(&BlockInFile, args.clone()).await;
        assert!(r.changed);
        assert_eq!(fs::read_to_string(&path).unwrap(), "[a]\nx=1\n[b]\n");
        assert_eq!(
            r.diffs[0].after,
            "[a]\nx=1\n; BEGIN fleet\ny=2\n; END fleet\n[b]\n"
        );
        h.check = false;
        assert!(h.run(&BlockInFile, args).await.changed);
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "[a]\nx=1\n; BEGIN fleet\ny=2\n; END fleet\n[b]\n"
        );
        let missing = h.path("new");
        let r = h
            .run(&BlockInFile, json!({"path": missing, "block": "z"}))
            .await;
        assert!(r.failed && r.to_json()["rc"] == 257);
        let r = h
            .run(
                &BlockInFile,
                json!({"path": missing, "block": "z", "create": true}),
            )
            .await;
        assert_eq!(r.msg.as_deref(), Some("File created"));
    }
}
