//! `replace`: substitutes every match of a multi-line regular expression in a file, optionally
//! only in the section between `after` and `before`, as Ansible's `re.subn` does.

use async_trait::async_trait;

use super::args::{self, FileAttrs};
use super::text_edit::{self, compile, regex_error, Edit};
use crate::remote::RemoteError;
use crate::{ArgSpec, Args, BadArg, Module, ModuleCtx, ModuleResult};
use fleet_templates::pyre::{self, Flags};

/// The `replace` module.
pub struct Replace;

#[async_trait]
impl Module for Replace {
    fn name(&self) -> &'static str {
        "replace"
    }

    fn spec(&self) -> ArgSpec {
        ArgSpec {
            free_form: false,
            params: &[
                "path",
                "dest",
                "destfile",
                "name",
                "regexp",
                "replace",
                "after",
                "before",
                "backup",
                "mode",
                "owner",
                "group",
                "validate",
                "encoding",
                "others",
                "attributes",
                "seuser",
                "serole",
                "setype",
                "selevel",
                "unsafe_writes",
            ],
            required: &[&["path", "dest", "destfile", "name"], &["regexp"]],
        }
    }

    async fn run(&self, args: &Args, ctx: &mut ModuleCtx<'_>) -> Result<ModuleResult, RemoteError> {
        let path = args::text(args, &["path", "dest", "destfile", "name"]).unwrap_or_default();
        let (attrs, backup) = match FileAttrs::from_args(args)
            .and_then(|a| Ok((a, args::flag(args, "backup", false)?)))
        {
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
        let Some(contents) = current.content.clone() else {
            return Ok(ModuleResult::fail(format!("Path {path} does not exist !")).with("rc", 257));
        };
        let (new, count) = match substitute(args, &contents) {
            Ok(Substituted::Done(new, count)) => (new, count),
            Ok(Substituted::NoSection(pattern)) => {
                return Ok(ModuleResult::ok().with(
                    "msg",
                    format!(
                        "Pattern for before/after params did not match the given file: {pattern}"
                    ),
                ))
            }
            Err(e) => return Ok(e.into()),
        };
        let changed = count > 0 && new != contents;
        let edit = Edit {
            path: &path,
            current: &current,
            new: changed.then(|| new.clone()),
            msg: if changed {
                format!("{count} replacements made")
            } else {
                String::new()
            },
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
        .with("rc", 0);
        if let Some(backup) = applied.backup {
            result = result.with("backup_file", backup);
        }
        if ctx.diff && changed {
            let mut diff = text_edit::content_diff(&path, &contents, &new);
            diff.before_header = path.clone();
            diff.after_header = path.clone();
            result.diffs.push(diff);
        }
        Ok(result)
    }
}

enum Substituted {
    /// New content and the number of substitutions.
    Done(Vec<u8>, usize),
    /// `after`/`before` did not match; the pattern that was tried.
    NoSection(String),
}

fn substitute(args: &Args, contents: &[u8]) -> Result<Substituted, BadArg> {
    let regexp = args::text(args, &["regexp"]).unwrap_or_default();
    let replacement = args::text(args, &["replace"]).unwrap_or_default();
    let after = args::text(args, &["after"]).filter(|s| !s.is_empty());
    let before = args::text(args, &["before"]).filter(|s| !s.is_empty());
    let section_pattern = match (&after, &before) {
        (Some(a), Some(b)) => Some(format!("{a}(?P<subsection>.*?){b}")),
        (Some(a), None) => Some(format!("{a}(?P<subsection>.*)")),
        (None, Some(b)) => Some(format!("(?P<subsection>.*){b}")),
        (None, None) => None,
    };
    let (start, end) = match &section_pattern {
        Some(pattern) => {
            let flags = Flags {
                dotall: true,
                ..Flags::default()
            };
            let re = pyre::compile(pattern, flags).map_err(regex_error)?;
            let index = re.group_index("subsection").unwrap_or(0);
            let caps = re.captures(contents).map_err(regex_error)?;
            match caps.and_then(|c| c.spans.get(index).copied().flatten()) {
                Some(span) => span,
                None => return Ok(Substituted::NoSection(pattern.clone())),
            }
        }
        None => (0, contents.len()),
    };
    let re = compile(&regexp, true)?;
    let section = &contents[start..end];
    let (replaced, count) = re.subn(section, &replacement, 0).map_err(|e| match e {
        // Ansible catches re.error around re.subn and says so
        pyre::PyReError::Template { reason, .. } => {
            BadArg::from(format!("Unable to process replace due to error: {reason}"))
        }
        other => regex_error(other),
    })?;
    let new = [&contents[..start], &replaced[..], &contents[end..]].concat();
    Ok(Substituted::Done(new, count))
}

#[cfg(test)]
mod tests {
    use std::fs;

    use serde_json::json;

    use super::*;
    use crate::files::testkit::Harness;

    #[tokio::test]
    async fn replaces_every_match_once() {
        let h = Harness::new();
        let path = h.path("mode.conf");
        fs::write(&path, "mode=development\nother\nmode=x\n").unwrap();
        let args = json!({"path": path, "regexp": "^mode=.*$", "replace": "mode=production"});
        let r = h.run(&Replace, args.clone()).await;
        assert!(r.changed && !r.failed, "{:?}", r.to_json());
        assert_eq!(r.msg.as_deref(), Some("2 replacements made"));
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "mode=production\nother\nmode=production\n"
        );
        let r = h.run(&Replace, args).await;
        assert!(!r.changed && !r.failed);
    }

    #[tokio::test]
    async fn backrefs_sections_check_and_missing_file() {
        let mut h = Harness::new();
        let path = h.path("f");
        fs::write(&path, "a=1\n[s]\na=2\n[t]\na=3\n").unwrap();
        let args = json!({"path": path, "regexp": "^a=(\\d)", "replace": "b=\\1", "after": "\\[s\\]", "before": "\\[t\\]"});
        h.check = true;
        h.diff = true;
        let r = h.run(&Replace, args.clone()).await;
        assert!(r.changed);
        assert_eq!(r.diffs[0].after, "a=1\n[s]\nb=2\n[t]\na=3\n");
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "a=1\n[s]\na=2\n[t]\na=3\n"
        );
        h.check = false;
        let r = h.run(&Replace, args).await;
        assert!(r.changed);
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "a=1\n[s]\nb=2\n[t]\na=3\n"
        );
        let r = h
            .run(&Replace, json!({"path": h.path("nope"), "regexp": "x"}))
            .await;
        assert!(r.failed);
        assert_eq!(r.to_json()["rc"], 257);
        assert_eq!(
            r.msg,
            Some(format!("Path {} does not exist !", h.path("nope")))
        );
    }

    #[tokio::test]
    async fn python_replacements_backreferences_and_lookaround() {
        let h = Harness::new();
        let path = h.path("q");
        fs::write(&path, "a b aa\n").unwrap();
        // `replace='"\1"'` as k=v parsing now leaves it: backslash-one, the group's text.
        let args = json!({"path": path, "regexp": "(a)", "replace": "\"\\1\""});
        let r = h.run(&Replace, args).await;
        assert_eq!(r.msg.as_deref(), Some("3 replacements made"));
        assert_eq!(fs::read_to_string(&path).unwrap(), "\"a\" b \"a\"\"a\"\n");
        fs::write(&path, "x=1 x=x y=2\n").unwrap();
        let args =
            json!({"path": path, "regexp": "(?<=x=)(?P<v>\\d)|(\\w)=\\2", "replace": "<\\g<v>>"});
        let r = h.run(&Replace, args).await;
        assert!(r.changed, "{:?}", r.to_json());
        assert_eq!(fs::read_to_string(&path).unwrap(), "x=<1> <> y=2\n");
    }
}
