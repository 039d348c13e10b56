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
    let mut plan = Plan {
        uploads: Vec::new(),
        opts: put_options(args, src.is_some())?,
        dest,
        src_label: None,
        single: true,
        preserve_from: None,
    };
    match (content_arg(args), src) {
        (Some(_), Some(_)) => {
            return Err(BadArg::from("src and content are mutually exclusive").into())
        }
        (None, None) => return Err(BadArg::from("src (or content) is required").into()),
        (Some(bytes), None) => plan.add_content(args, bytes)?,
        (None, Some(src)) if args::flag(args, "remote_src", false)? => {
            plan.add_remote_file(args, src)
        }
        (None, Some(src)) => plan.add_controller_source(args, ctx, src)?,
    }
    plan.opts.want_stat = plan.single;
    plan.src_label = args::text(args, &["src"]);
    Ok(plan)
}

/// How the files are put: attributes, `force`, `backup`, `validate`, `follow`, `directory_mode`.
fn put_options(args: &Args, has_src: bool) -> Result<PutOptions, ModuleError> {
    Ok(PutOptions {
        attrs: FileAttrs::from_args(args).or_else(|e| {
            // `mode: preserve` needs the source, resolved in the plan
            if has_src && args::text(args, &["mode"]).as_deref() == Some("preserve") {
                Ok(FileAttrs::default())
            } else {
                Err(e)
            }
        })?,
        force: args::flag(args, "force", true)?,
        backup: args::flag(args, "backup", false)?,
        validate: args::text(args, &["validate"]),
        follow: args::flag(args, "follow", false)?,
        dir_mode: args::mode(args, "directory_mode")?,
        ..PutOptions::default()
    })
}

/// `content` as bytes: a string as is, a mapping or list as JSON, other scalars as text.
fn content_arg(args: &Args) -> Option<Vec<u8>> {
    match args.get("content") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone().into_bytes()),
        Some(v @ (Value::Object(_) | Value::Array(_))) => Some(v.to_string().into_bytes()),
        Some(_) => args::text(args, &["content"]).map(String::into_bytes),
    }
}

/// The three sources a copy takes its bytes from.
impl Plan {
    fn dest_is_dir(&self) -> bool {
        self.dest.ends_with('/')
    }

    /// A trailing-slash `dest` is a directory to create and put the file into.
    fn make_dest_dir(&mut self) {
        if self.dest_is_dir() {
            self.opts
                .dirs
                .push(self.dest.trim_end_matches('/').to_string());
        }
    }

    /// `content`: the bytes themselves, to `dest` (which cannot be a directory).
    fn add_content(&mut self, args: &Args, bytes: Vec<u8>) -> Result<(), ModuleError> {
        if self.dest_is_dir() {
            return Err(BadArg::from("can not use content with a dir as dest").into());
        }
        check_expected(args, &bytes)?;
        self.uploads.push(Upload {
            dest: self.dest.clone(),
            into_dir_as: None,
            source: Source::Bytes(bytes),
        });
        Ok(())
    }

    /// `remote_src`: a file already on the host (`mode: preserve` takes its mode there).
    fn add_remote_file(&mut self, args: &Args, src: String) {
        if args::text(args, &["mode"]).as_deref() == Some("preserve") {
            self.preserve_from = Some(src.clone());
        }
        self.make_dest_dir();
        self.uploads.push(Upload {
            dest: self.dest.clone(),
            into_dir_as: Some(base_name(&src).to_string()),
            source: Source::Remote(src),
        });
    }

    /// A controller file (found like Ansible's `files/` lookup) or a whole directory tree.
    fn add_controller_source(
        &mut self,
        args: &Args,
        ctx: &ModuleCtx<'_>,
        src: String,
    ) -> Result<(), ModuleError> {
        let local = ctx.find_local("files", &src).ok_or_else(|| {
            ModuleError::Local(format!(
                "Could not find or access '{src}' on the Ansible Controller.\nIf you are using a module and expect the file to exist on the remote, see the remote_src option"
            ))
        })?;
        let decrypt = args::flag(args, "decrypt", true)?;
        if local.is_dir() {
            self.single = false;
            let root = if src.ends_with('/') {
                self.dest.trim_end_matches('/').to_string()
            } else {
                format!("{}/{}", self.dest.trim_end_matches('/'), base_name(&src))
            };
            let follow = args::flag(args, "local_follow", true)?;
            let tree = super::tree::walk(&local, &root, follow, decrypt)?;
            self.opts.dirs = tree.dirs;
            self.opts.links = tree.links;
            self.uploads = tree.uploads;
        } else {
            let bytes = super::tree::read_source(&local, decrypt)?;
            self.opts.attrs = FileAttrs::preserving(args, Some(&local))?;
            check_expected(args, &bytes)?;
            self.make_dest_dir();
            self.uploads.push(Upload {
                dest: self.dest.clone(),
                into_dir_as: Some(base_name(&src).to_string()),
                source: Source::Bytes(bytes),
            });
        }
        Ok(())
    }
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
        result.diffs.extend(content_diffs(&plan, &outcome));
    }
    Ok(result)
}

/// In diff mode, the text diff of each file whose content changed (binary ones have none).
fn content_diffs(plan: &Plan, outcome: &Outcome) -> Vec<Diff> {
    let mut diffs = Vec::new();
    for (file, upload) in outcome.files.iter().zip(&plan.uploads) {
        if let (true, Source::Bytes(after)) = (file.content_changed, &upload.source) {
            let before = file.before.as_deref().unwrap_or_default();
            if let (Some(before), Some(after)) = (diff_text(before), diff_text(after)) {
                diffs.push(Diff {
                    before_header: file.dest.clone(),
                    // content's diff is headed by its destination, as Ansible's
                    after_header: plan.src_label.clone().unwrap_or_else(|| file.dest.clone()),
                    before,
                    after,
                });
            }
        }
    }
    diffs
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
#[path = "copy_tests.rs"]
mod tests;
