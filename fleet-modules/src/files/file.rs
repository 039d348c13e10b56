//! `file`: makes a path a file, directory, symlink or hard link (or removes it, or touches it)
//! and sets its mode, owner and group. One script inspects and applies, and reports what it did.

use async_trait::async_trait;
use serde_json::json;

use super::args::{self, FileAttrs};
use super::remote_file::{attr_vars, failure, find, last_stat, parse_report, PRELUDE};
use crate::remote::{shell_quote, RemoteError};
use crate::{ArgSpec, Args, BadArg, Diff, Module, ModuleCtx, ModuleResult};

/// The `file` module.
pub struct File;

const STATES: &[&str] = &["file", "directory", "absent", "touch", "link", "hard"];

/// The whole module as one script. Inputs: P (path), S (state, empty: keep the current one),
/// SRC, FORCE, FOLLOW, RECURSE, ATIME/MTIME (`now`, `preserve` or a `touch -t` stamp).
const SCRIPT: &str = r#"
did=0
fleet_prev() {
  if [ -L "$P" ]; then prev=link
  elif [ -d "$P" ]; then prev=directory
  elif [ -e "$P" ]; then
    if [ "$(stat -c %h -- "$P")" -gt 1 ]; then prev=hard; else prev=file; fi
  else prev=absent; fi
}
fleet_mkdir_attrs() {
  [ -d "$1" ] && return 0
  fleet_parent "$1"
  fleet_mkdir_attrs "$_parent" || return 1
  did=1
  [ "$F_CHECK" = 1 ] && return 0
  # another run may create it at the same moment (Ansible accepts EEXIST for a directory too)
  mkdir -- "$1" 2>/dev/null || [ -d "$1" ] || { echo "fail There was an issue creating $1 as requested"; return 1; }
  fleet_attrs "$1"
}
fleet_recurse() {
  [ "$attrs_changed" = 1 ] && did=1
  _fa_stat=
  if [ -n "$F_OWNER" ] && [ -n "$(find "$P" ! -user "$F_OWNER" | head -n 1)" ]; then
    did=1; [ "$F_CHECK" = 1 ] || chown -R -h -- "$F_OWNER" "$P" || { echo "fail chown failed"; exit 1; }
  fi
  if [ -n "$F_GROUP" ] && [ -n "$(find "$P" ! -group "$F_GROUP" | head -n 1)" ]; then
    did=1; [ "$F_CHECK" = 1 ] || chgrp -R -h -- "$F_GROUP" "$P" || { echo "fail chgrp failed"; exit 1; }
  fi
  [ -n "$F_MODE" ] || return 0
  if [ "$F_MODE_SYM" = 1 ]; then
    find "$P" ! -type l > "${TMPDIR:-/tmp}/.fleet_list.$$"
    while IFS= read -r _f; do attrs_changed=0; fleet_attrs "$_f"; [ "$attrs_changed" = 0 ] || did=1; done < "${TMPDIR:-/tmp}/.fleet_list.$$"
    rm -f "${TMPDIR:-/tmp}/.fleet_list.$$"
  elif [ -n "$(find "$P" ! -type l ! -perm "$F_MODE" | head -n 1)" ]; then
    did=1; [ "$F_CHECK" = 1 ] || find "$P" ! -type l ! -perm "$F_MODE" -exec chmod -- "$F_MODE" {} +
  fi
}
fleet_times() {
  [ "$F_CHECK" = 1 ] && return 0
  case "$ATIME" in now) touch -a -- "$1";; preserve) ;; *) touch -a -t "$ATIME" -- "$1";; esac || return 1
  case "$MTIME" in now) touch -m -- "$1";; preserve) ;; *) touch -m -t "$MTIME" -- "$1";; esac
}
fleet_prev
echo "prev $prev"
[ -n "$S" ] || { if [ "$prev" = absent ]; then { [ "$RECURSE" = 1 ] && S=directory; } || S=file; elif [ "$prev" = hard ]; then S=file; else S=$prev; fi; }
echo "state $S"
if [ "$FOLLOW" = 1 ] && [ "$prev" = link ] && { [ "$S" = file ] || [ "$S" = directory ] || [ "$S" = touch ]; } && [ -e "$P" ]; then
  P=$(readlink -f -- "$P"); fleet_prev
fi
case "$S" in
absent)
  if [ "$prev" != absent ]; then did=1; [ "$F_CHECK" = 1 ] || rm -rf -- "$P" || { echo "fail rmtree failed: $P"; exit 1; }; fi ;;
file)
  case "$prev" in
    file|hard) fleet_attrs "$P" || exit 1 ;;
    *) echo "fail file ($P) is $prev, cannot continue"; exit 1 ;;
  esac ;;
directory)
  case "$prev" in
    absent) fleet_mkdir_attrs "$P" || exit 1 ;;
    directory) fleet_attrs "$P" || exit 1; if [ "$RECURSE" = 1 ]; then fleet_recurse; fi ;;
    *) echo "fail $P already exists as a $prev"; exit 1 ;;
  esac ;;
touch)
  if [ "$prev" = absent ]; then
    did=1
    if [ "$F_CHECK" != 1 ]; then
      touch -- "$P" 2>/dev/null || { echo "fail Error, could not touch target: $P"; exit 1; }
      fleet_times "$P"
    fi
  elif [ "$ATIME" != preserve ] || [ "$MTIME" != preserve ]; then
    did=1; fleet_times "$P" || { echo "fail Error while touching existing target: $P"; exit 1; }
  fi
  [ "$F_CHECK" = 1 ] && [ "$prev" = absent ] || fleet_attrs "$P" || exit 1 ;;
link|hard)
  if [ -z "$SRC" ]; then
    if [ "$S" = link ] && [ "$prev" = link ]; then SRC=$(readlink -- "$P"); else echo "fail src is required for creating new ${S}s"; exit 1; fi
  fi
  case "$SRC" in /*) abs=$SRC ;; *) if [ "$prev" = directory ]; then abs="$P/$SRC"; else fleet_parent "$P"; abs="$_parent/$SRC"; fi ;; esac
  if [ "$S" = hard ]; then
    [ -e "$abs" ] || { echo "fail src does not exist"; exit 1; }
    if [ "$prev" != absent ] && [ "$P" -ef "$abs" ] && [ "$prev" != link ]; then :
    else
      case "$prev" in absent) ;; *) [ "$FORCE" = 1 ] || { echo "fail Cannot link, $prev exists at destination"; exit 1; } ;; esac
      did=1
    fi
  else
    [ "$FORCE" = 1 ] || [ -e "$abs" ] || { echo "fail src file does not exist, use \"force=yes\" if you really want to create the link: $abs"; exit 1; }
    case "$prev" in
      directory) [ "$FORCE" = 1 ] || { echo "fail refusing to convert from directory to symlink for $P"; exit 1; }
                 [ -z "$(ls -A -- "$P")" ] || { echo "fail the directory $P is not empty, refusing to convert it"; exit 1; } ;;
      file|hard) [ "$FORCE" = 1 ] || { echo "fail refusing to convert from $prev to symlink for $P"; exit 1; } ;;
    esac
    if [ "$prev" = link ]; then
      _old=$(readlink -- "$P"); [ "$_old" = "$SRC" ] || { did=1; echo "oldsrc $_old"; }
    else did=1; fi
  fi
  if [ "$did" = 1 ] && [ "$F_CHECK" != 1 ]; then
    fleet_parent "$P"; _tmp="$_parent/.fleet_link.$$"
    [ "$prev" = directory ] && { rmdir -- "$P" || exit 1; }
    if [ "$S" = hard ]; then ln -f -- "$abs" "$_tmp"; else ln -sf -- "$SRC" "$_tmp"; fi || { echo "fail Error while linking: $P"; exit 1; }
    mv -fT -- "$_tmp" "$P" || { rm -f -- "$_tmp"; echo "fail Error while linking: $P"; exit 1; }
  fi
  if [ -L "$P" ] || [ -e "$P" ]; then
    if [ "$FOLLOW" = 1 ] && [ -L "$P" ]; then
      [ -e "$P" ] && { fleet_attrs "$(readlink -f -- "$P")" || exit 1; }
    else fleet_attrs "$P" || exit 1; fi
  fi ;;
esac
[ "$attrs_changed" = 1 ] && did=1
echo "did $did"
fleet_stat_known "$P"
"#;

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
        if let Some(msg) = failure(&records) {
            return Ok(ModuleResult::fail(msg).with("path", path));
        }
        if out.rc != 0 || find(&records, "did").is_none() {
            return Ok(ModuleResult::fail(format!(
                "file module script failed (rc {}): {}",
                out.rc,
                out.stderr_text().trim()
            )));
        }
        let (prev, state) = (field("prev"), field("state"));
        let mut result = ModuleResult {
            changed: field("did") == "1",
            ..ModuleResult::default()
        };
        if state == "link" || state == "hard" {
            result = result.with("dest", path.clone());
            let src = args::text(args, &["src"]);
            result = result.with("src", src.map_or(serde_json::Value::Null, Into::into));
        } else {
            result = result.with("path", path.clone());
        }
        match last_stat(&records) {
            Some(st) if state != "absent" => st.add_to(&mut result.data),
            _ => result = result.with("state", if state == "absent" { "absent" } else { &state }),
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
    use std::os::unix::fs::MetadataExt;

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
