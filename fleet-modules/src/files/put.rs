//! Putting whole files on the host, atomically and only when their content differs: the engine
//! behind `copy` and `template`.
//!
//! One script compares each destination's sha1 with the wanted one and, when it differs, writes
//! the new bytes to a temporary file in the same directory, gives it the old file's mode and owner
//! (or the requested ones), and renames it over the destination. Small contents travel with that
//! first script, so an upload usually costs one round trip; large ones are only sent when the
//! first script reports it needs them.

use super::args::{FileAttrs, Mode};
use super::remote_file::{self, attr_vars, parse_report, Record, StatLine, PRELUDE};
use crate::remote::{shell_quote, RemoteError};
use crate::{ModuleCtx, ModuleError};

/// Contents up to this size go with the first script, bigger ones only when needed.
const INLINE_LIMIT: usize = 64 * 1024;

/// Where one file's bytes come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// Bytes from the controller.
    Bytes(Vec<u8>),
    /// A file already on the host (`remote_src: true`).
    Remote(String),
}

/// One file to put.
#[derive(Debug, Clone)]
pub struct Upload {
    /// Destination path on the host.
    pub dest: String,
    /// When the destination is an existing directory, put the file inside it under this name.
    pub into_dir_as: Option<String>,
    /// The content.
    pub source: Source,
}

/// How the files are put.
#[derive(Debug, Clone, Default)]
pub struct PutOptions {
    /// Mode, owner and group for the files.
    pub attrs: FileAttrs,
    /// Replace existing files whose content differs (`force`).
    pub force: bool,
    /// Keep a timestamped copy of a replaced file.
    pub backup: bool,
    /// Command run on the temporary file (`%s`) before it replaces the destination.
    pub validate: Option<String>,
    /// Write through a symlink at the destination instead of replacing it.
    pub follow: bool,
    /// Directories to create first (missing ones), with `dir_mode` on new ones.
    pub dirs: Vec<String>,
    /// Mode for directories created from `dirs`.
    pub dir_mode: Option<Mode>,
    /// Report the destination's stat (for single-file results).
    pub want_stat: bool,
    /// Symlinks to make (path, target) after the files, as Ansible's copy does for the links
    /// of a directory tree it does not follow.
    pub links: Vec<(String, String)>,
}

/// What happened to one file.
#[derive(Debug, Clone, Default)]
pub struct FileOutcome {
    /// The destination as resolved on the host.
    pub dest: String,
    /// The content was (or in check mode would be) replaced.
    pub content_changed: bool,
    /// Mode, owner or group was (or would be) changed.
    pub attrs_changed: bool,
    /// Content before the change, in diff mode.
    pub before: Option<Vec<u8>>,
    /// Backup file, when one was made.
    pub backup: Option<String>,
}

/// The result of [`put`].
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Per-file outcomes, in upload order.
    pub files: Vec<FileOutcome>,
    /// Directories created (or that would be).
    pub created_dirs: usize,
    /// Stat of the last destination when `want_stat`.
    pub stat: Option<StatLine>,
    /// Symlinks made or repointed (or that would be).
    pub links_changed: usize,
}

impl Outcome {
    /// Whether anything changed.
    pub fn changed(&self) -> bool {
        self.created_dirs > 0
            || self.links_changed > 0
            || self
                .files
                .iter()
                .any(|f| f.content_changed || f.attrs_changed)
    }
}

const PUT_FN: &str = r#"fleet_skip() { if [ "$_sent" = 1 ]; then head -c "$_size" >/dev/null; fi; return 0; }
fleet_put() {
  _d=$1 _want=$2 _size=$3 _sent=$4 _src=$6 _fa_stat=
  if [ -n "$5" ] && [ -d "$_d" ]; then _d="${_d%/}/$5"; fi
  if [ "$F_FOLLOW" = 1 ] && [ -L "$_d" ]; then _d=$(readlink -f -- "$_d"); fi
  if [ -n "$_src" ]; then
    [ -e "$_src" ] || { echo "fail Source $_src not found"; return 1; }
    [ -f "$_src" ] || { echo "fail Cannot copy invalid source '$_src': not a file"; return 1; }
    _want=$(sha1sum < "$_src"); _want=${_want%% *} _sent=0
  fi
  _have=absent
  if [ -d "$_d" ]; then
    fleet_skip; echo "fail Destination $_d is a directory"; return 1
  elif [ -e "$_d" ] || [ -L "$_d" ]; then
    _have=$(sha1sum < "$_d" 2>/dev/null); _have=${_have%% *}
    [ -n "$_have" ] || { fleet_skip; echo "fail Destination $_d not readable"; return 1; }
  fi
  if [ "$_have" = "$_want" ] || { [ "$_have" != absent ] && [ "$F_FORCE" = 0 ]; }; then
    fleet_skip
    if [ "$_have" = "$_want" ]; then
      attrs_changed=0; fleet_attrs "$_d" || return 1; echo "same $attrs_changed $7 $_d"
    else
      echo "kept 0 $7 $_d"
    fi
    return 0
  fi
  if [ "$F_DIFF" = 1 ] && [ "$_have" != absent ]; then fleet_blob "$_d"; echo "old 0 $7 $_d"; fi
  if [ "$F_CHECK" = 1 ]; then fleet_skip; echo "changed 1 $7 $_d"; return 0; fi
  if [ "$_sent" = 0 ] && [ -z "$_src" ]; then echo "need 0 $7 $_d"; return 0; fi
  fleet_parent "$_d"; _dir=$_parent
  [ -d "$_dir" ] || { fleet_skip; echo "fail Destination directory $_dir does not exist"; return 1; }
  fleet_write "$_d" "$_size" "$_src" "$_want" || return 1
  echo "changed 1 $7 $_d"
}
fleet_link() {
  if [ -L "$1" ] && [ "$(readlink -- "$1")" = "$2" ]; then return 0; fi
  echo "link $1"
  [ "$F_CHECK" = 1 ] && return 0
  if [ -d "$1" ] && [ ! -L "$1" ]; then
    rmdir -- "$1" 2>/dev/null || { echo "fail the directory $1 is not empty, refusing to convert it"; return 1; }
  fi
  ln -sfn -- "$2" "$1" || { echo "fail Error while linking: $1"; return 1; }
}
"#;

/// Puts `uploads` on the host. `Ok(Err(msg))` is a module failure with Ansible's message.
pub async fn put(
    ctx: &mut ModuleCtx<'_>,
    uploads: &[Upload],
    opts: &PutOptions,
) -> Result<Result<Outcome, ModuleError>, RemoteError> {
    let all: Vec<(usize, &Upload)> = uploads.iter().enumerate().collect();
    let records = run_round(ctx, &all, opts, true).await?;
    if let Some(msg) = remote_file::failure(&records) {
        return Ok(Err(ModuleError::Host(msg)));
    }
    let mut outcome = Outcome {
        files: vec![FileOutcome::default(); uploads.len()],
        ..Outcome::default()
    };
    let again: Vec<(usize, &Upload)> = absorb(&records, &mut outcome)
        .into_iter()
        .filter_map(|i| Some((i, uploads.get(i)?)))
        .collect();
    if !again.is_empty() {
        let records = run_round(ctx, &again, opts, false).await?;
        if let Some(msg) = remote_file::failure(&records) {
            return Ok(Err(ModuleError::Host(msg)));
        }
        absorb(&records, &mut outcome);
    }
    Ok(Ok(outcome))
}

/// Records what the script reported in `outcome`; returns the indices of uploads whose content
/// the host still needs.
fn absorb(records: &[Record], outcome: &mut Outcome) -> Vec<usize> {
    let mut backup = None;
    let mut needed = Vec::new();
    for r in records {
        if r.tag == "mkdir" {
            outcome.created_dirs += 1;
            continue;
        }
        if r.tag == "link" {
            outcome.links_changed += 1;
            continue;
        }
        if r.tag == "backup" {
            backup = Some(r.rest.clone());
            continue;
        }
        let mut fields = r.rest.splitn(3, ' ');
        let (Some(flag), Some(index), Some(dest)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let Some(file) = index
            .parse()
            .ok()
            .and_then(|i: usize| outcome.files.get_mut(i))
        else {
            continue;
        };
        file.dest = dest.to_string();
        match r.tag.as_str() {
            "old" => file.before = r.blob.clone(),
            "need" => needed.extend(index.parse::<usize>().ok()),
            "same" | "kept" | "changed" => {
                file.content_changed = r.tag == "changed";
                file.attrs_changed = r.tag == "same" && flag == "1";
                file.backup = backup.take();
            }
            _ => {}
        }
    }
    if let Some(st) = remote_file::last_stat(records) {
        outcome.stat = Some(st);
    }
    needed
}

async fn run_round(
    ctx: &mut ModuleCtx<'_>,
    uploads: &[(usize, &Upload)],
    opts: &PutOptions,
    first: bool,
) -> Result<Vec<Record>, RemoteError> {
    let (script, stdin) = round_script(uploads, opts, first, ctx.check_mode, ctx.diff);
    let out = ctx.sh_with_input(&script, &stdin).await?;
    let mut records = parse_report(&out.stdout);
    if out.rc != 0 && remote_file::failure(&records).is_none() {
        records.push(Record {
            tag: "fail".into(),
            rest: format!("file transfer script failed: {}", out.stderr_text().trim()),
            blob: None,
        });
    }
    Ok(records)
}

/// One round's script and the contents it reads from standard input: the settings, then (first
/// round only) the directories, one `fleet_put` per upload, and (first round only) the links.
fn round_script(
    uploads: &[(usize, &Upload)],
    opts: &PutOptions,
    first: bool,
    check_mode: bool,
    diff: bool,
) -> (String, Vec<u8>) {
    let mut script = String::from(PRELUDE);
    script.push_str(&attr_vars(&opts.attrs, check_mode));
    script.push_str(&format!(
        "F_FORCE={}\nF_BACKUP={}\nF_DIFF={}\nF_FOLLOW={}\nF_VALIDATE={}\nF_DIRMODE={}\n",
        u8::from(opts.force),
        u8::from(opts.backup),
        u8::from(diff && first),
        u8::from(opts.follow),
        shell_quote(opts.validate.as_deref().unwrap_or("")),
        shell_quote(
            &opts
                .dir_mode
                .as_ref()
                .map(Mode::chmod_arg)
                .unwrap_or_default()
        ),
    ));
    script.push_str(PUT_FN);
    if first {
        for dir in &opts.dirs {
            script.push_str(&format!("fleet_mkdirs {} || exit 1\n", shell_quote(dir)));
        }
    }
    let mut stdin = Vec::new();
    for &(index, u) in uploads {
        push_put(&mut script, &mut stdin, index, u, first, check_mode);
        if opts.want_stat {
            script.push_str("fleet_stat_known \"$_d\"\n");
        }
    }
    if first {
        for (path, target) in &opts.links {
            script.push_str(&format!(
                "fleet_link {} {} || exit 1\n",
                shell_quote(path),
                shell_quote(target)
            ));
        }
    }
    (script, stdin)
}

/// The `fleet_put` line for one upload. Its content, when sent this round, is embedded in the
/// script (`sent` 2) or queued on standard input (`sent` 1); otherwise (`sent` 0) the host only
/// compares checksums and asks for it.
fn push_put(
    script: &mut String,
    stdin: &mut Vec<u8>,
    index: usize,
    u: &Upload,
    first: bool,
    check_mode: bool,
) {
    let (sum, size, sent, src) = match &u.source {
        Source::Bytes(bytes) => {
            // the first round sends only small contents; the second what was asked for
            let sent = (!first || bytes.len() <= INLINE_LIMIT) && !check_mode;
            let embedded = sent.then(|| remote_file::embedded_content(bytes)).flatten();
            let sent = match embedded {
                Some(assignment) => {
                    script.push_str(&assignment);
                    2
                }
                None if sent => {
                    stdin.extend_from_slice(bytes);
                    1
                }
                None => 0,
            };
            (
                remote_file::sha1_hex(bytes),
                bytes.len().to_string(),
                sent,
                "",
            )
        }
        Source::Remote(path) => (String::new(), "-".to_string(), 0, path.as_str()),
    };
    script.push_str(&format!(
        "fleet_put {} {} {} {} {} {} {index} || exit 1\n",
        shell_quote(&u.dest),
        shell_quote(&sum),
        size,
        sent,
        shell_quote(u.into_dir_as.as_deref().unwrap_or("")),
        shell_quote(src),
    ));
}
