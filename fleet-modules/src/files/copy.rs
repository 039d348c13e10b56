//! `copy`: puts a file (from `content`, a controller file or directory, or a file already on the
//! host with `remote_src`) at `dest`, only when its content differs.

use async_trait::async_trait;
use serde_json::Value;

use super::args::{self, FileAttrs, IGNORED_FILE_PARAMS};
use super::put::{put, Outcome, PutOptions, Source, Upload};
use super::remote_file::{base_name, diff_text, md5_hex, sha1_hex};
use crate::remote::{shell_quote, RemoteError};
use crate::{ArgSpec, Args, BadArg, Diff, Module, ModuleCtx, ModuleError, ModuleResult};

/// The `copy` module.
pub struct Copy;

const PARAMS: &[&str] = &[
    "src",
    "content",
    "dest",
    "mode",
    "owner",
    "group",
    "backup",
    "force",
    "remote_src",
    "directory_mode",
    "follow",
    "local_follow",
    "validate",
    "checksum",
    "decrypt",
    "attributes",
    "attr",
    "seuser",
    "serole",
    "setype",
    "selevel",
    "unsafe_writes",
];

#[async_trait]
impl Module for Copy {
    fn name(&self) -> &'static str {
        "copy"
    }

    fn spec(&self) -> ArgSpec {
        debug_assert!(IGNORED_FILE_PARAMS.iter().all(|p| PARAMS.contains(p)));
        ArgSpec {
            free_form: false,
            params: PARAMS,
            // Ansible's copy action checks dest itself first ("dest is required", in plan)
            required: &[],
        }
    }

    async fn run(&self, args: &Args, ctx: &mut ModuleCtx<'_>) -> Result<ModuleResult, RemoteError> {
        match plan(args, ctx) {
            Ok(plan) => execute(plan, ctx).await,
            Err(e) => Ok(e.into()),
        }
    }
}

/// A copy worked out on the controller, ready to run.
struct Plan {
    uploads: Vec<Upload>,
    opts: PutOptions,
    dest: String,
    src_label: Option<String>,
    single: bool,
    /// `remote_src` with `mode: preserve`: the host file whose mode the copy takes.
    preserve_from: Option<String>,
}

fn plan(args: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan, ModuleError> {
    let dest = args::text(args, &["dest"]).unwrap_or_default();
    if dest.is_empty() {
        return Err(BadArg::from("dest is required").into());
    }
    // Ansible: `if not source and content is None` (an empty src is no src)
    let src = args::text(args, &["src"]).filter(|s| !s.is_empty());
    let mut opts = PutOptions {
        attrs: FileAttrs::from_args(args).or_else(|e| match &src {
            // `mode: preserve` needs the source, resolved below
            Some(_) if args::text(args, &["mode"]).as_deref() == Some("preserve") => {
                Ok(FileAttrs::default())
            }
            _ => Err(e),
        })?,
        force: args::flag(args, "force", true)?,
        backup: args::flag(args, "backup", false)?,
        validate: args::text(args, &["validate"]),
        follow: args::flag(args, "follow", false)?,
        dir_mode: args::mode(args, "directory_mode")?,
        ..PutOptions::default()
    };
    let dest_is_dir = dest.ends_with('/');
    let content = match args.get("content") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone().into_bytes()),
        Some(v @ (Value::Object(_) | Value::Array(_))) => Some(v.to_string().into_bytes()),
        Some(_) => args::text(args, &["content"]).map(String::into_bytes),
    };
    let mut uploads = Vec::new();
    let mut single = true;
    let mut preserve_from = None;
    match (content, src) {
        (Some(_), Some(_)) => {
            return Err(BadArg::from("src and content are mutually exclusive").into())
        }
        (None, None) => return Err(BadArg::from("src (or content) is required").into()),
        (Some(bytes), None) => {
            if dest_is_dir {
                return Err(BadArg::from("can not use content with a dir as dest").into());
            }
            check_expected(args, &bytes)?;
            uploads.push(Upload {
                dest: dest.clone(),
                into_dir_as: None,
                source: Source::Bytes(bytes),
            });
        }
        (None, Some(src)) if args::flag(args, "remote_src", false)? => {
            if args::text(args, &["mode"]).as_deref() == Some("preserve") {
                preserve_from = Some(src.clone());
            }
            if dest_is_dir {
                opts.dirs.push(dest.trim_end_matches('/').to_string());
            }
            uploads.push(Upload {
                dest: dest.clone(),
                into_dir_as: Some(base_name(&src).to_string()),
                source: Source::Remote(src),
            });
        }
        (None, Some(src)) => {
            let local = ctx.find_local("files", &src).ok_or_else(|| {
                ModuleError::Local(format!(
                    "Could not find or access '{src}' on the Ansible Controller.\nIf you are using a module and expect the file to exist on the remote, see the remote_src option"
                ))
            })?;
            let decrypt = args::flag(args, "decrypt", true)?;
            if local.is_dir() {
                single = false;
                let root = if src.ends_with('/') {
                    dest.trim_end_matches('/').to_string()
                } else {
                    format!("{}/{}", dest.trim_end_matches('/'), base_name(&src))
                };
                let follow = args::flag(args, "local_follow", true)?;
                let tree = super::tree::walk(&local, &root, follow, decrypt)?;
                opts.dirs = tree.dirs;
                opts.links = tree.links;
                uploads = tree.uploads;
            } else {
                let bytes = super::tree::read_source(&local, decrypt)?;
                opts.attrs = FileAttrs::preserving(args, Some(&local))?;
                check_expected(args, &bytes)?;
                if dest_is_dir {
                    opts.dirs.push(dest.trim_end_matches('/').to_string());
                }
                uploads.push(Upload {
                    dest: dest.clone(),
                    into_dir_as: Some(base_name(&src).to_string()),
                    source: Source::Bytes(bytes),
                });
            }
        }
    }
    opts.want_stat = single;
    Ok(Plan {
        uploads,
        opts,
        dest,
        src_label: args::text(args, &["src"]),
        single,
        preserve_from,
    })
}

fn check_expected(args: &Args, bytes: &[u8]) -> Result<(), ModuleError> {
    match args::text(args, &["checksum"]) {
        Some(want) if want != sha1_hex(bytes) => Err(ModuleError::Host(
            "Copied file does not match the expected checksum. Transfer failed.".into(),
        )),
        _ => Ok(()),
    }
}

async fn execute(mut plan: Plan, ctx: &mut ModuleCtx<'_>) -> Result<ModuleResult, RemoteError> {
    if let [Upload {
        source: Source::Remote(src),
        ..
    }] = plan.uploads.as_slice()
    {
        // a directory on the host: Ansible's copy_directory (merging into an existing tree,
        // trailing slashes, symlinks, permissions) is left to Ansible's own module
        let out = ctx.sh(&format!("[ -d {} ]", shell_quote(src))).await?;
        if out.rc == 0 {
            return Ok(ModuleResult::defer_to_ansible(
                "a remote_src copy of a directory",
            ));
        }
    }
    if let Some(src) = &plan.preserve_from {
        // the host file's own mode, as Ansible's module reads it there
        let out = ctx
            .sh(&format!("stat -L -c %a -- {}", shell_quote(src)))
            .await?;
        match u32::from_str_radix(out.stdout_text().trim(), 8) {
            Ok(bits) if out.rc == 0 => plan.opts.attrs.mode = Some(args::Mode::Octal(bits)),
            _ => return Ok(ModuleResult::fail(format!("Source {src} not found"))),
        }
    }
    let outcome = match put(ctx, &plan.uploads, &plan.opts).await? {
        Ok(outcome) => outcome,
        // content has no file name to put into a directory: the copy action's own message
        Err(ModuleError::Host(msg))
            if plan.src_label.is_none() && msg.ends_with(" is a directory") =>
        {
            return Ok(ModuleResult::fail("can not use content with a dir as dest"))
        }
        Err(e) => return Ok(e.into()),
    };
    let mut result = if plan.single {
        let bytes = match &plan.uploads[0].source {
            Source::Bytes(b) => Some(b.as_slice()),
            Source::Remote(_) => None,
        };
        single_result(&outcome, bytes, &plan.dest)
    } else {
        ModuleResult {
            changed: outcome.changed(),
            ..ModuleResult::default()
        }
        .with("dest", plan.dest.clone())
    };
    if let Some(src) = &plan.src_label {
        result = result.with("src", src.clone());
    }
    if ctx.diff {
        for (file, upload) in outcome.files.iter().zip(&plan.uploads) {
            if let (true, Source::Bytes(after)) = (file.content_changed, &upload.source) {
                let before = file.before.as_deref().unwrap_or_default();
                if let (Some(before), Some(after)) = (diff_text(before), diff_text(after)) {
                    result.diffs.push(Diff {
                        before_header: file.dest.clone(),
                        // content's diff is headed by its destination, as Ansible's
                        after_header: plan.src_label.clone().unwrap_or_else(|| file.dest.clone()),
                        before,
                        after,
                    });
                }
            }
        }
    }
    Ok(result)
}

/// The result of putting one file, shaped like Ansible's `copy`/`template` result.
pub fn single_result(outcome: &Outcome, content: Option<&[u8]>, dest: &str) -> ModuleResult {
    let mut result = ModuleResult {
        changed: outcome.changed(),
        ..ModuleResult::default()
    };
    let file = outcome.files.first();
    let dest = file.map_or(dest.to_string(), |f| f.dest.clone());
    result = result.with("dest", dest.clone());
    if let Some(bytes) = content {
        result = result.with("checksum", sha1_hex(bytes));
    }
    if file.is_some_and(|f| !f.content_changed) {
        result = result.with("path", dest);
    } else if let Some(bytes) = content {
        // the module ran and wrote the file: Ansible's result has the source's md5 too
        result = result.with("md5sum", md5_hex(bytes));
    }
    if let Some(st) = &outcome.stat {
        st.add_to(&mut result.data);
    } else if let Some(bytes) = content {
        result = result.with("size", bytes.len());
    }
    if let Some(backup) = file.and_then(|f| f.backup.clone()) {
        result = result.with("backup_file", backup);
    }
    result
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    use serde_json::json;

    use super::Copy;
    use crate::files::remote_file::{md5_hex, sha1_hex};
    use crate::files::testkit::{mode_of, Harness};

    /// Issue 18: an empty `src` is no source, and no `dest` is the action's own error, with
    /// Ansible's messages.
    #[tokio::test]
    async fn empty_src_and_missing_dest_errors() {
        let h = Harness::new();
        let r = h.run(&Copy, json!({"src": "", "dest": h.path("x")})).await;
        assert!(r.failed);
        assert_eq!(r.msg.as_deref(), Some("src (or content) is required"));
        let r = h.run(&Copy, json!({"src": "foo.txt"})).await;
        assert_eq!(r.msg.as_deref(), Some("dest is required"));
        let dir = h.path("d");
        fs::create_dir(&dir).unwrap();
        let r = h.run(&Copy, json!({"content": "x", "dest": dir})).await;
        assert_eq!(
            r.msg.as_deref(),
            Some("can not use content with a dir as dest")
        );
    }

    #[tokio::test]
    async fn content_is_written_once_then_left_alone() {
        let h = Harness::new();
        let dest = h.path("app.conf");
        let args = json!({"content": "host=a\n", "dest": dest, "mode": "0640"});
        let r = h.run(&Copy, args.clone()).await;
        assert!(r.changed && !r.failed, "{:?}", r.to_json());
        assert_eq!(fs::read_to_string(&dest).unwrap(), "host=a\n");
        assert_eq!(mode_of(&dest), 0o640);
        let j = r.to_json();
        assert_eq!(j["checksum"], sha1_hex(b"host=a\n"));
        assert_eq!(j["md5sum"], md5_hex(b"host=a\n"));
        assert_eq!(j["mode"], "0640");
        assert_eq!(j["size"], 7);
        assert_eq!(j["dest"], dest);

        let again = h.run(&Copy, args).await;
        assert!(!again.changed && !again.failed, "{:?}", again.to_json());
        // a mode change alone is a change
        let r = h
            .run(
                &Copy,
                json!({"content": "host=a\n", "dest": dest, "mode": 0o600}),
            )
            .await;
        assert!(r.changed);
        assert_eq!(mode_of(&dest), 0o600);
    }

    #[tokio::test]
    async fn existing_mode_is_kept_and_backup_made() {
        let h = Harness::new();
        let dest = h.path("f");
        fs::write(&dest, "old\n").unwrap();
        fs::set_permissions(&dest, fs::Permissions::from_mode(0o604)).unwrap();
        let r = h
            .run(
                &Copy,
                json!({"content": "new\n", "dest": dest, "backup": true}),
            )
            .await;
        assert!(r.changed);
        assert_eq!(mode_of(&dest), 0o604);
        let backup = r.to_json()["backup_file"].as_str().unwrap().to_string();
        assert!(backup.starts_with(&dest) && backup.ends_with('~'));
        assert_eq!(fs::read_to_string(backup).unwrap(), "old\n");
    }

    #[tokio::test]
    async fn check_mode_reports_without_writing_and_diff_shows_content() {
        let mut h = Harness::new();
        let dest = h.path("f");
        fs::write(&dest, "one\n").unwrap();
        h.check = true;
        h.diff = true;
        let r = h
            .run(&Copy, json!({"content": "two\n", "dest": dest}))
            .await;
        assert!(r.changed && !r.failed);
        assert_eq!(fs::read_to_string(&dest).unwrap(), "one\n");
        assert_eq!(r.diffs.len(), 1);
        assert_eq!(r.diffs[0].before, "one\n");
        assert_eq!(r.diffs[0].after, "two\n");
        let r = h
            .run(&Copy, json!({"content": "x", "dest": h.path("new")}))
            .await;
        assert!(r.changed);
        assert!(!h.root().join("new").exists());
    }

    #[tokio::test]
    async fn force_false_keeps_an_existing_file() {
        let h = Harness::new();
        let dest = h.path("mode.conf");
        let args = json!({"content": "mode=development\n", "dest": dest, "force": false});
        assert!(h.run(&Copy, args.clone()).await.changed);
        fs::write(&dest, "mode=production\n").unwrap();
        let r = h.run(&Copy, args).await;
        assert!(!r.changed && !r.failed);
        assert_eq!(fs::read_to_string(&dest).unwrap(), "mode=production\n");
    }

    #[tokio::test]
    async fn missing_src_and_missing_parent_fail_like_ansible() {
        let h = Harness::new();
        let r = h
            .run(&Copy, json!({"src": "nope.txt", "dest": h.path("x")}))
            .await;
        assert!(r.failed);
        assert!(r
            .msg
            .unwrap()
            .starts_with("Could not find or access 'nope.txt'"));
        let r = h
            .run(&Copy, json!({"content": "a", "dest": h.path("no/such/x")}))
            .await;
        assert!(r.failed);
        assert!(r.msg.unwrap().contains("does not exist"));
    }

    #[tokio::test]
    async fn a_mebibyte_of_binary_round_trips_exactly() {
        use rand::RngCore;
        let h = Harness::new();
        let mut data = vec![0u8; 1 << 20];
        rand::thread_rng().fill_bytes(&mut data);
        fs::create_dir(h.root().join("files")).unwrap();
        fs::write(h.root().join("files/blob.bin"), &data).unwrap();
        let dest = h.path("out/");
        let r = h.run(&Copy, json!({"src": "blob.bin", "dest": dest})).await;
        assert!(r.changed && !r.failed, "{:?}", r.to_json());
        let written = fs::read(h.root().join("out/blob.bin")).unwrap();
        assert!(written == data, "content differs");
        let r = h.run(&Copy, json!({"src": "blob.bin", "dest": dest})).await;
        assert!(!r.changed, "{:?}", r.to_json());
        assert_eq!(r.to_json()["checksum"], sha1_hex(&data));
    }

    #[tokio::test]
    async fn directories_copy_recursively_and_into_existing_dirs() {
        let h = Harness::new();
        let tree = h.root().join("tree");
        fs::create_dir_all(tree.join("sub/empty")).unwrap();
        fs::write(tree.join("a"), "A").unwrap();
        fs::write(tree.join("sub/b"), "B").unwrap();
        let dest = h.path("target");
        let args = json!({"src": tree.to_str().unwrap(), "dest": dest, "directory_mode": "0750"});
        let r = h.run(&Copy, args.clone()).await;
        assert!(r.changed && !r.failed, "{:?}", r.to_json());
        assert_eq!(
            fs::read_to_string(h.root().join("target/tree/sub/b")).unwrap(),
            "B"
        );
        assert!(h.root().join("target/tree/sub/empty").is_dir());
        assert_eq!(mode_of(&h.path("target/tree/sub")), 0o750);
        assert!(!h.run(&Copy, args).await.changed);

        // a file copied onto an existing directory lands inside it
        let r = h
            .run(
                &Copy,
                json!({"src": tree.join("a").to_str().unwrap(), "dest": dest}),
            )
            .await;
        assert!(r.changed);
        assert_eq!(fs::read_to_string(h.root().join("target/a")).unwrap(), "A");
    }

    #[tokio::test]
    async fn remote_src_copies_on_the_host() {
        let h = Harness::new();
        fs::write(h.path("from"), "data\n").unwrap();
        let args = json!({"src": h.path("from"), "dest": h.path("to"), "remote_src": true});
        assert!(h.run(&Copy, args.clone()).await.changed);
        assert_eq!(fs::read_to_string(h.path("to")).unwrap(), "data\n");
        assert!(!h.run(&Copy, args).await.changed);
    }

    /// Issue 18: a `remote_src` copy of a directory is left to Ansible's copy module (its
    /// copy_directory semantics); a file stays native.
    #[tokio::test]
    async fn remote_src_directory_defers_to_ansible() {
        let h = Harness::new();
        fs::create_dir(h.path("tree")).unwrap();
        for src in [h.path("tree"), format!("{}/", h.path("tree"))] {
            let args = json!({"src": src, "dest": h.path("out/"), "remote_src": true});
            let r = h.run(&Copy, args).await;
            assert_eq!(
                r.defer_to_ansible.as_deref(),
                Some("a remote_src copy of a directory")
            );
            assert!(!h.root().join("out").exists(), "nothing done natively");
        }
        fs::write(h.path("tree/f"), "x").unwrap();
        let args = json!({"src": h.path("tree/f"), "dest": h.path("g"), "remote_src": true});
        let r = h.run(&Copy, args).await;
        assert!(r.defer_to_ansible.is_none() && r.changed);
        // neither a file nor a directory: Ansible's message
        let args = json!({"src": "/dev/null", "dest": h.path("n"), "remote_src": true});
        let r = h.run(&Copy, args).await;
        assert_eq!(
            r.msg.as_deref(),
            Some("Cannot copy invalid source '/dev/null': not a file")
        );
    }

    #[tokio::test]
    async fn validate_rejects_bad_content() {
        let h = Harness::new();
        let dest = h.path("v");
        let r = h
            .run(
                &Copy,
                json!({"content": "bad\n", "dest": dest, "validate": "grep -q good %s"}),
            )
            .await;
        assert!(r.failed, "{:?}", r.to_json());
        assert!(!h.root().join("v").exists());
        let leftovers = fs::read_dir(h.root()).unwrap().count();
        assert_eq!(leftovers, 0, "no temporary file left behind");
        let r = h
            .run(
                &Copy,
                json!({"content": "good\n", "dest": dest, "validate": "grep -q good %s"}),
            )
            .await;
        assert!(r.changed && !r.failed);
    }

    #[tokio::test]
    async fn mode_preserve_takes_the_source_mode() {
        let h = Harness::new();
        let src = h.path("script.sh");
        fs::write(&src, "#!/bin/sh\n").unwrap();
        fs::set_permissions(&src, fs::Permissions::from_mode(0o751)).unwrap();
        let r = h
            .run(
                &Copy,
                json!({"src": src, "dest": h.path("out.sh"), "mode": "preserve"}),
            )
            .await;
        assert!(r.changed && !r.failed, "{:?}", r.to_json());
        assert_eq!(mode_of(&h.path("out.sh")), 0o751);
        // issue 18: with remote_src the host file's mode
        fs::set_permissions(&src, fs::Permissions::from_mode(0o547)).unwrap();
        let args = json!({"src": src, "dest": h.path("out2.sh"), "mode": "preserve",
                          "remote_src": true});
        let r = h.run(&Copy, args).await;
        assert!(r.changed && !r.failed, "{:?}", r.to_json());
        assert_eq!(mode_of(&h.path("out2.sh")), 0o547);
        assert_eq!(r.to_json()["mode"], "0547");
    }
}
