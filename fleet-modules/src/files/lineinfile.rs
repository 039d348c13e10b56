//! `lineinfile`: ensures one line is present (added, or replacing the line a `regexp` or
//! `search_string` finds) or absent. The placement rules are a port of Ansible's `present()` and
//! `absent()`, so files end up byte-identical.

use async_trait::async_trait;

use super::args::{self, FileAttrs};
use super::line_placement::{absent, present, Opts};
use super::text_edit::{self, split_lines, Edit};
use crate::remote::RemoteError;
use crate::{ArgSpec, Args, BadArg, Module, ModuleCtx, ModuleResult};

/// The `lineinfile` module.
pub struct LineInFile;

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
        let result = edit_lines(args, ctx).await?;
        Ok(match empty_pattern_warning(args) {
            Some(w) => result.with_warning(w),
            None => result,
        })
    }
}

/// Ansible's warning for an empty `regexp` or `search_string` (it matches every line).
fn empty_pattern_warning(args: &Args) -> Option<String> {
    let regexp = args::text(args, &["regexp", "regex"]);
    let search = args::text(args, &["search_string"]);
    let (name, tail) = if regexp.as_deref() == Some("") {
        (
            "regular expression",
            " If this is desired, use '^' to match every line in the file and avoid this warning.",
        )
    } else if search.as_deref() == Some("") {
        ("search string", "")
    } else {
        return None;
    };
    Some(format!(
        "The {name} is an empty string, which will match every line in the file. This may have \
         unintended consequences, such as replacing the last line in the file rather than \
         appending.{tail}"
    ))
}

/// The edit itself: read, place or remove the line, write back.
async fn edit_lines(args: &Args, ctx: &mut ModuleCtx<'_>) -> Result<ModuleResult, RemoteError> {
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
            return Ok(
                ModuleResult::fail(format!("Destination {} does not exist !", opts.path))
                    .with("rc", 257),
            )
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

#[cfg(test)]
mod tests {
    use std::fs;

    use serde_json::{json, Value};

    use super::{empty_pattern_warning, LineInFile};
    use crate::files::testkit::{mode_of, Harness};

    /// Issue 18: an empty regexp or search_string warns as Ansible does.
    #[test]
    fn empty_patterns_warn() {
        let args = |v: Value| v.as_object().cloned().unwrap();
        let w = empty_pattern_warning(&args(json!({"regexp": "", "line": "x"}))).unwrap();
        assert!(
            w.starts_with("The regular expression is an empty string"),
            "{w}"
        );
        assert!(w.ends_with("avoid this warning."), "{w}");
        let w = empty_pattern_warning(&args(json!({"search_string": ""}))).unwrap();
        assert!(w.starts_with("The search string is an empty string") && w.ends_with("appending."));
        assert!(empty_pattern_warning(&args(json!({"regexp": "^x"}))).is_none());
    }

    async fn edit(
        h: &Harness,
        initial: Option<&str>,
        args: Value,
    ) -> (String, crate::ModuleResult) {
        let path = h.path("f.conf");
        match initial {
            Some(text) => fs::write(&path, text).unwrap(),
            None => {
                let _ = fs::remove_file(&path);
            }
        }
        let mut args = args.as_object().unwrap().clone();
        args.insert("path".into(), path.clone().into());
        let r = h.run(&LineInFile, Value::Object(args)).await;
        (fs::read_to_string(&path).unwrap_or_default(), r)
    }

    #[tokio::test]
    async fn adds_then_leaves_alone() {
        let h = Harness::new();
        let (text, r) = edit(&h, Some("a=1\nb=2"), json!({"line": "port=8080"})).await;
        assert_eq!(text, "a=1\nb=2\nport=8080\n");
        assert!(r.changed);
        assert_eq!(r.msg.as_deref(), Some("line added"));
        let r = h
            .run(
                &LineInFile,
                json!({"path": h.path("f.conf"), "line": "port=8080"}),
            )
            .await;
        assert!(!r.changed && !r.failed);
        assert_eq!(r.msg.as_deref(), Some(""));
    }

    #[tokio::test]
    async fn regexp_replaces_the_last_match_or_the_first_with_firstmatch() {
        let h = Harness::new();
        let (text, r) = edit(
            &h,
            Some("port=1\nx\nport=2\n"),
            json!({"regexp": "^port=", "line": "port=9"}),
        )
        .await;
        assert_eq!(text, "port=1\nx\nport=9\n");
        assert_eq!(r.msg.as_deref(), Some("line replaced"));
        let (text, _) = edit(
            &h,
            Some("port=1\nx\nport=2\n"),
            json!({"regexp": "^port=", "line": "port=9", "firstmatch": true}),
        )
        .await;
        assert_eq!(text, "port=9\nx\nport=2\n");
        let (text, r) = edit(&h, Some("a\n"), json!({"search_string": "zz", "line": "b"})).await;
        assert_eq!((text.as_str(), r.changed), ("a\nb\n", true));
    }

    #[tokio::test]
    async fn insertafter_insertbefore_and_bof() {
        let h = Harness::new();
        let start = "[main]\nkey=1\n[other]\n";
        let (text, _) = edit(
            &h,
            Some(start),
            json!({"line": "new=2", "insertafter": "^\\[main\\]"}),
        )
        .await;
        assert_eq!(text, "[main]\nnew=2\nkey=1\n[other]\n");
        let (text, _) = edit(
            &h,
            Some(start),
            json!({"line": "new=2", "insertbefore": "^\\[other\\]"}),
        )
        .await;
        assert_eq!(text, "[main]\nkey=1\nnew=2\n[other]\n");
        let (text, _) = edit(
            &h,
            Some(start),
            json!({"line": "# top", "insertbefore": "BOF"}),
        )
        .await;
        assert_eq!(text, "# top\n[main]\nkey=1\n[other]\n");
        let (text, _) = edit(
            &h,
            Some(start),
            json!({"line": "end", "insertafter": "nomatch"}),
        )
        .await;
        assert_eq!(text, "[main]\nkey=1\n[other]\nend\n");
    }

    #[tokio::test]
    async fn backrefs_expand_and_do_nothing_without_a_match() {
        let h = Harness::new();
        let args = json!({"regexp": "^(\\w+)=(\\d+)$", "line": "\\1 = \\2", "backrefs": true});
        let (text, r) = edit(&h, Some("port=80\n"), args.clone()).await;
        assert_eq!(text, "port = 80\n");
        assert!(r.changed);
        let (text, r) = edit(&h, Some("nothing here\n"), args).await;
        assert_eq!(text, "nothing here\n");
        assert!(!r.changed);
    }

    #[tokio::test]
    async fn python_regexes_backreferences_and_lookaround() {
        let h = Harness::new();
        // A backreference in the pattern and Python's `\g<name>` in the line.
        let args = json!({"regexp": "^(?P<k>\\w+)=(['\"])(.*)\\2$", "line": "\\g<k>=\\3", "backrefs": true});
        let (text, r) = edit(&h, Some("a=1\nname='x y'\n"), args).await;
        assert_eq!(text, "a=1\nname=x y\n", "{:?}", r.to_json());
        // Lookahead in insertafter, negative lookbehind in regexp with state=absent.
        let args = json!({"line": "new", "insertafter": "^opt(?==)"});
        let (text, _) = edit(&h, Some("opt\nopt=1\nz\n"), args).await;
        assert_eq!(text, "opt\nopt=1\nnew\nz\n");
        let args = json!({"regexp": "(?<!#)port", "state": "absent"});
        let (text, _) = edit(&h, Some("#port\nport\n"), args).await;
        assert_eq!(text, "#port\n");
    }

    #[tokio::test]
    async fn absent_removes_every_match() {
        let h = Harness::new();
        let (text, r) = edit(
            &h,
            Some("a\nb\na\n"),
            json!({"line": "a", "state": "absent"}),
        )
        .await;
        assert_eq!(text, "b\n");
        assert_eq!(r.msg.as_deref(), Some("2 line(s) removed"));
        assert_eq!(r.to_json()["found"], 2);
        let (_, r) = edit(&h, None, json!({"line": "a", "state": "absent"})).await;
        assert!(!r.changed && !r.failed);
        assert_eq!(r.to_json()["msg"], "file not present");
    }

    #[tokio::test]
    async fn missing_file_needs_create() {
        let h = Harness::new();
        let (_, r) = edit(&h, None, json!({"line": "x"})).await;
        assert!(r.failed);
        assert_eq!(
            r.msg.as_deref(),
            Some(format!("Destination {} does not exist !", h.path("f.conf")).as_str())
        );
        assert_eq!(r.to_json()["rc"], 257);
        let path = h.path("sub/dir/new.conf");
        let r = h
            .run(
                &LineInFile,
                json!({"path": path, "line": "x", "create": true, "mode": "0600"}),
            )
            .await;
        assert!(r.changed && !r.failed, "{:?}", r.to_json());
        assert_eq!(fs::read_to_string(&path).unwrap(), "x\n");
        assert_eq!(mode_of(&path), 0o600);
    }

    #[tokio::test]
    async fn check_diff_attrs_and_backup() {
        let mut h = Harness::new();
        h.check = true;
        h.diff = true;
        let (text, r) = edit(&h, Some("a\n"), json!({"line": "b"})).await;
        assert_eq!(text, "a\n");
        assert!(r.changed);
        assert_eq!(
            (r.diffs[0].before.as_str(), r.diffs[0].after.as_str()),
            ("a\n", "a\nb\n")
        );
        h.check = false;
        let (_, r) = edit(&h, Some("a\n"), json!({"line": "a", "mode": "0600"})).await;
        assert!(r.changed);
        assert_eq!(
            r.msg.as_deref(),
            Some("ownership, perms or SE linux context changed")
        );
        let (_, r) = edit(&h, Some("a\n"), json!({"line": "b", "backup": true})).await;
        let backup = r.to_json()["backup"].as_str().unwrap().to_string();
        assert_eq!(fs::read_to_string(backup).unwrap(), "a\n");
    }

    #[tokio::test]
    async fn validate_guards_the_write() {
        let h = Harness::new();
        let (text, r) = edit(
            &h,
            Some("a\n"),
            json!({"line": "b", "validate": "grep -q '^b$' %s"}),
        )
        .await;
        assert!(r.changed && !r.failed, "{:?}", r.to_json());
        assert_eq!(text, "a\nb\n");
        let (text, r) = edit(
            &h,
            Some("a\n"),
            json!({"line": "c", "validate": "grep -q '^zzz$' %s"}),
        )
        .await;
        assert!(r.failed);
        assert!(r.msg.unwrap().starts_with("failed to validate"));
        assert_eq!(text, "a\n");
        let (_, r) = edit(&h, Some("a\n"), json!({"line": "c", "validate": "true"})).await;
        assert_eq!(r.msg.as_deref(), Some("validate must contain %s: true"));
    }
}
