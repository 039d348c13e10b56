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
        let field = |tag: &str| {
            find(&records, tag)
                .map(|r| r.rest.clone())
                .unwrap_or_default()
        };
        let warned = |mut result: ModuleResult| {
            for warning in records.iter().filter(|r| r.tag == "warn") {
                result = result.with_warning(warning.rest.clone());
            }
            result
        };
        if let Some(msg) = failure(&records) {
            let mut failed = ModuleResult::fail(msg.clone());
            let linking = matches!(field("state").as_str(), "link" | "hard");
            if linking && !msg.starts_with("src is required") && !msg.starts_with("refusing") {
                // Ansible's symlink/hardlink failures name dest and src
                let src = args::text(args, &["src"]).map_or(Value::Null, Value::from);
                failed = failed.with("dest", path).with("src", src);
            } else {
                failed = failed.with("path", path);
            }
            if msg.ends_with(", cannot continue") {
                // Ansible's ensure_file_attributes names the state the path is in
                failed = failed.with("state", field("prev"));
            }
            return Ok(warned(failed));
        }
        if out.rc != 0 || find(&records, "did").is_none() {
            return Ok(ModuleResult::fail(format!(
                "file module script failed (rc {}): {}",
                out.rc,
                out.stderr_text().trim()
            )));
        }
        let (prev, state) = (field("prev"), field("state"));
        let mut result = warned(ModuleResult {
            changed: field("did") == "1",
            ..ModuleResult::default()
        });
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
        match last_stat(&records) {
            Some(st) if state != "absent" => st.add_to(&mut result.data),
            _ => result = result.with("state", if state == "absent" { "absent" } else { &state }),
        }
        // Ansible's file module returns its before/after dictionaries, kept in diff mode
        if ctx.diff {
            let src = args::text(args, &["src"]);
            let dict = diff_dict(&records, &path, (&prev, &state), src.as_deref());
            result = result.with("diff", dict);
        }
        if ctx.diff && result.changed && prev != state {
            let side = |s: &str| {
                let v = json!({"path": path, "state": s});
                let mut buf = Vec::new();
                let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
                let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
                serde::Serialize::serialize(&v, &mut ser).expect("json serializes");
                String::from_utf8_lossy(&buf).into_owned() + "\n"
            };
            result.diffs.push(Diff {
                before_header: "before".into(),
                after_header: "after".into(),
                before: side(&prev),
                after: side(&state),
            });
        }
        Ok(result)
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
mod tests {
    use std::fs;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    use serde_json::json;

    use super::File;
    use crate::files::testkit::{mode_of, Harness};

    /// Issue 18: `_diff_peek` reports whether the file looks binary, changes nothing, warns not.
    #[tokio::test]
    async fn diff_peek_reports_binary_files() {
        let h = Harness::new();
        let (text, bin) = (h.path("t.txt"), h.path("b.bin"));
        fs::write(&text, "plain\n").unwrap();
        fs::write(&bin, b"a\0b").unwrap();
        let r = h
            .run(&File, json!({"path": text, "_diff_peek": true}))
            .await;
        assert!(!r.changed && !r.failed, "{:?}", r.to_json());
        assert_eq!(r.data["appears_binary"], json!(false));
        assert!(r.data.get("warnings").is_none());
        let r = h.run(&File, json!({"path": bin, "_diff_peek": true})).await;
        assert_eq!(r.data["appears_binary"], json!(true));
    }

    /// Issue 18: the `diff` result Ansible's file module always returns (the file target
    /// asserts on it): a symlink's old/new src, a removed directory's contents, changed times.
    #[tokio::test]
    async fn diff_result_has_ansibles_before_and_after() {
        let mut h = Harness::new();
        let r = h
            .run(&File, json!({"path": h.path("z"), "state": "touch"}))
            .await;
        assert!(r.data.get("diff").is_none(), "only in diff mode");
        assert_eq!(r.data["dest"], json!(h.path("z")), "touch names it dest");
        h.diff = true;
        // src without state: checked against the state the path has (none: file)
        let r = h
            .run(&File, json!({"src": "x", "dest": h.path("nope")}))
            .await;
        assert_eq!(
            r.msg.as_deref(),
            Some("src option requires state to be 'link' or 'hard'")
        );
        let r = h.run(&File, json!({"path": h.path("ghost")})).await;
        assert!(r
            .msg
            .as_deref()
            .unwrap()
            .ends_with("is absent, cannot continue"));
        assert_eq!(r.data["state"], json!("absent"));
        // a touched file whose owner cannot be set is removed again
        let args = json!({"path": h.path("t2"), "state": "touch", "owner": "no-such-user-x"});
        assert!(h.run(&File, args).await.failed);
        assert!(!h.root().join("t2").exists());
        // recurse with follow changes what the tree's links point at, without follow not
        fs::create_dir_all(h.path("rt/in")).unwrap();
        fs::write(h.path("outside"), "o").unwrap();
        std::os::unix::fs::symlink(h.path("outside"), h.path("rt/in/l")).unwrap();
        fs::set_permissions(h.path("outside"), fs::Permissions::from_mode(0o700)).unwrap();
        for (follow, want) in [(false, 0o700), (true, 0o600)] {
            let args =
                json!({"path": h.path("rt"), "recurse": true, "mode": "a-x", "follow": follow});
            assert!(!h.run(&File, args).await.failed);
            assert_eq!(mode_of(&h.path("outside")), want, "follow={follow}");
        }
        let r = h
            .run(&File, json!({"path": h.path("nl"), "state": "hard"}))
            .await;
        assert_eq!(
            r.msg.as_deref(),
            Some("src is required for creating new hardlinks")
        );
        let r = h
            .run(
                &File,
                json!({"path": h.path("nl"), "src": "nx", "state": "hard"}),
            )
            .await;
        assert_eq!(r.msg.as_deref(), Some("src does not exist"));
        assert_eq!(
            (&r.data["dest"], &r.data["src"]),
            (&json!(h.path("nl")), &json!("nx"))
        );
        // check mode warns of an owner or group that is not there
        h.check = true;
        let args = json!({"path": h.path("z"), "owner": "no-such-user-x", "group": "4242420"});
        let r = h.run(&File, args).await;
        assert_eq!(
            r.data["warnings"],
            json!(["failed to look up user no-such-user-x. Create user up to this point in real play",
                   "failed to look up group with gid 4242420. Create group up to this point in real play"])
        );
        h.check = false;
        // a sticky bit shows as Python's '0%03o' does
        let r = h
            .run(&File, json!({"path": h.path("z"), "mode": "01444"}))
            .await;
        assert_eq!(r.data["mode"], json!("01444"));
        let (link, target) = (h.path("l"), h.path("t"));
        fs::write(&target, "x").unwrap();
        let args = json!({"src": target, "dest": link, "state": "link"});
        let r = h.run(&File, args).await;
        assert_eq!(
            r.data["diff"]["before"],
            json!({"path": link, "state": "absent"})
        );
        assert_eq!(
            r.data["diff"]["after"],
            json!({"path": link, "state": "link"})
        );
        let r = h
            .run(&File, json!({"src": "t", "dest": link, "state": "link"}))
            .await;
        assert!(r.changed);
        assert_eq!(
            r.data["diff"]["before"],
            json!({"path": link, "src": target})
        );
        assert_eq!(r.data["diff"]["after"], json!({"path": link, "src": "t"}));

        fs::create_dir_all(h.path("d/sub")).unwrap();
        fs::write(h.path("d/sub/f"), "y").unwrap();
        let r = h
            .run(&File, json!({"path": h.path("d"), "state": "absent"}))
            .await;
        assert_eq!(
            r.data["diff"]["before"]["path_content"],
            json!({"directories": [h.path("d/sub")], "files": [h.path("d/sub/f")]})
        );

        let args = json!({"path": target, "modification_time": "202202081414.00",
                          "modification_time_format": "%Y%m%d%H%M.%S", "mode": "0600"});
        let r = h.run(&File, args.clone()).await;
        assert!(r.changed, "{:?}", r.to_json());
        let after = &r.data["diff"]["after"];
        assert!(after["mtime"].is_number(), "{after}");
        assert_eq!(after["mode"], json!("0600"));
        assert_eq!(r.data["diff"]["before"]["mode"], json!("0644"));
        let r = h.run(&File, args).await;
        assert!(!r.changed);
        assert_eq!(r.data["diff"]["after"], json!({"path": target}));
    }

    #[tokio::test]
    async fn directory_is_created_with_parents_then_unchanged() {
        let h = Harness::new();
        let path = h.path("a/b/c");
        let args = json!({"path": path, "state": "directory", "mode": "0750"});
        let r = h.run(&File, args.clone()).await;
        assert!(r.changed && !r.failed, "{:?}", r.to_json());
        assert_eq!(mode_of(&path), 0o750);
        assert_eq!(mode_of(&h.path("a")), 0o750, "new parents get the mode too");
        let j = r.to_json();
        assert_eq!(
            (j["state"].as_str(), j["mode"].as_str()),
            (Some("directory"), Some("0750"))
        );
        assert!(!h.run(&File, args).await.changed);
        let r = h
            .run(
                &File,
                json!({"path": path, "state": "directory", "mode": "u=rwx,g=rx,o=rx"}),
            )
            .await;
        assert!(r.changed);
        assert_eq!(mode_of(&path), 0o755);
    }

    #[tokio::test]
    async fn recurse_sets_modes_below() {
        let h = Harness::new();
        fs::create_dir_all(h.root().join("t/sub")).unwrap();
        fs::write(h.root().join("t/sub/f"), "x").unwrap();
        let args =
            json!({"path": h.path("t"), "state": "directory", "mode": "0700", "recurse": true});
        assert!(h.run(&File, args.clone()).await.changed);
        assert_eq!(mode_of(&h.path("t/sub/f")), 0o700);
        assert!(!h.run(&File, args).await.changed);
    }

    #[tokio::test]
    async fn check_mode_changes_nothing() {
        let mut h = Harness::new();
        h.check = true;
        h.diff = true;
        let r = h
            .run(&File, json!({"path": h.path("d"), "state": "directory"}))
            .await;
        assert!(r.changed);
        assert!(!h.root().join("d").exists());
        assert!(r.diffs[0].before.contains("\"state\": \"absent\""));
        assert!(r.diffs[0].after.contains("\"state\": \"directory\""));
        fs::write(h.path("f"), "").unwrap();
        let r = h
            .run(&File, json!({"path": h.path("f"), "state": "absent"}))
            .await;
        assert!(r.changed);
        assert!(h.root().join("f").exists());
    }

    #[tokio::test]
    async fn absent_touch_and_file_states() {
        let h = Harness::new();
        let path = h.path("x");
        let r = h.run(&File, json!({"path": path, "state": "absent"})).await;
        assert!(!r.changed && !r.failed);
        let r = h.run(&File, json!({"path": path, "state": "file"})).await;
        assert!(r.failed);
        assert_eq!(
            r.msg.as_deref(),
            Some(format!("file ({path}) is absent, cannot continue").as_str())
        );
        let r = h
            .run(
                &File,
                json!({"path": path, "state": "touch", "mode": "0600"}),
            )
            .await;
        assert!(r.changed && !r.failed, "{:?}", r.to_json());
        assert_eq!(mode_of(&path), 0o600);
        let r = h.run(&File, json!({"path": path, "state": "touch"})).await;
        assert!(r.changed, "touch always changes");
        let r = h
        .run(
            &File,
            json!({"path": path, "state": "touch", "access_time": "preserve", "modification_time": "preserve"}),
        )
        .await;
        assert!(!r.changed);
        let r = h
            .run(&File, json!({"path": path, "state": "directory"}))
            .await;
        assert_eq!(
            r.msg.as_deref(),
            Some(format!("{path} already exists as a file").as_str())
        );
        let r = h.run(&File, json!({"path": path, "state": "absent"})).await;
        assert!(r.changed);
        assert!(!h.root().join("x").exists());
    }

    #[tokio::test]
    async fn symlinks_and_hard_links() {
        let h = Harness::new();
        fs::write(h.path("target"), "t").unwrap();
        let link = h.path("link");
        let args = json!({"path": link, "src": "target", "state": "link"});
        let r = h.run(&File, args.clone()).await;
        assert!(r.changed && !r.failed, "{:?}", r.to_json());
        assert_eq!(fs::read_link(&link).unwrap().to_str(), Some("target"));
        assert_eq!(r.to_json()["dest"], link);
        assert!(!h.run(&File, args).await.changed);

        let r = h
            .run(
                &File,
                json!({"path": link, "src": "nowhere", "state": "link"}),
            )
            .await;
        assert!(r.failed && r.msg.unwrap().starts_with("src file does not exist"));
        let r = h
            .run(
                &File,
                json!({"path": link, "src": "nowhere", "state": "link", "force": true}),
            )
            .await;
        assert!(r.changed && !r.failed);

        let r = h
            .run(
                &File,
                json!({"path": h.path("target"), "src": "/", "state": "link"}),
            )
            .await;
        assert!(r.failed);
        assert!(r
            .msg
            .unwrap()
            .contains("refusing to convert from file to symlink"));

        let hard = h.path("hard");
        let args = json!({"path": hard, "src": h.path("target"), "state": "hard"});
        assert!(h.run(&File, args.clone()).await.changed);
        assert_eq!(
            fs::metadata(&hard).unwrap().ino(),
            fs::metadata(h.path("target")).unwrap().ino()
        );
        assert!(!h.run(&File, args).await.changed);
    }
}
