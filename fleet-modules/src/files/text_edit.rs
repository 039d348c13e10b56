//! Editing a text file in place, for `lineinfile`, `blockinfile` and `replace`: one script reads
//! the file (and checks whether the requested mode/owner/group differ), the module computes the
//! new content on the controller, and a second script, only when something changes, writes it
//! atomically (temporary file in the same directory, old mode and owner kept, then `mv`).
//! Symlinks are followed, as Ansible writes to the real path.

use super::args::FileAttrs;
use super::remote_file::{self, attr_vars, failure, find, parse_report, PRELUDE};
use crate::remote::{shell_quote, RemoteError};
use crate::{BadArg, Diff, ModuleCtx, ModuleError};
use fleet_templates::pyre::{self, Flags, PyReError, PyRegex};

/// A file as the read script found it.
#[derive(Debug, Clone, Default)]
pub struct Current {
    /// The content, or `None` when the file does not exist.
    pub content: Option<Vec<u8>>,
    /// The path with symlinks resolved (where the write goes).
    pub real_path: String,
    /// The path is a directory.
    pub is_dir: bool,
    /// The requested mode/owner/group differ from the file's.
    pub attrs_differ: bool,
}

/// Reads `path` and compares its attributes with `attrs`.
pub async fn read(
    ctx: &mut ModuleCtx<'_>,
    path: &str,
    attrs: &FileAttrs,
) -> Result<Result<Current, ModuleError>, RemoteError> {
    let script = format!(
        "{PRELUDE}{}P={}\n{}",
        attr_vars(attrs, true),
        shell_quote(path),
        r#"if [ -d "$P" ]; then echo "isdir"; exit 0; fi
if [ ! -e "$P" ]; then echo "real $P"; echo "absent"; exit 0; fi
if [ -L "$P" ]; then echo "real $(readlink -f -- "$P")"; else echo "real $P"; fi
[ -r "$P" ] || { echo "fail file $P is not readable"; exit 0; }
fleet_attrs "$P" && echo "attrs $attrs_changed"
echo "tail content"; exec cat -- "$P"
"#
    );
    let out = ctx.sh(&script).await?;
    let records = parse_report(&out.stdout);
    if let Some(msg) = failure(&records) {
        return Ok(Err(ModuleError::Host(msg)));
    }
    if out.rc != 0 {
        return Ok(Err(ModuleError::Host(format!(
            "could not read {path}: {}",
            out.stderr_text().trim()
        ))));
    }
    Ok(Ok(Current {
        content: find(&records, "content").map(|r| r.blob.clone().unwrap_or_default()),
        real_path: find(&records, "real").map_or(path.to_string(), |r| r.rest.clone()),
        is_dir: find(&records, "isdir").is_some(),
        attrs_differ: find(&records, "attrs").is_some_and(|r| r.rest == "1"),
    }))
}

/// What a module computed, ready to be applied.
pub struct Edit<'a> {
    /// The path as given (for messages and diff headers).
    pub path: &'a str,
    /// What [`read`] found.
    pub current: &'a Current,
    /// New content, or `None` when the content stays.
    pub new: Option<Vec<u8>>,
    /// The module's message so far (`line added`).
    pub msg: String,
    /// Requested mode/owner/group.
    pub attrs: &'a FileAttrs,
    /// Keep a backup of the old file.
    pub backup: bool,
    /// Command that must accept the new file (`%s`) before it replaces the old one.
    pub validate: Option<String>,
}

/// The outcome of [`apply`].
#[derive(Debug, Clone, Default)]
pub struct Applied {
    /// Content or attributes changed (or would, in check mode).
    pub changed: bool,
    /// The message with Ansible's attribute note appended when they changed.
    pub msg: String,
    /// The backup file made, if any.
    pub backup: Option<String>,
}

/// Writes the new content and attributes (not in check mode) and words the result like
/// Ansible's `check_file_attrs`.
pub async fn apply(
    ctx: &mut ModuleCtx<'_>,
    edit: Edit<'_>,
) -> Result<Result<Applied, ModuleError>, RemoteError> {
    if let Some(validate) = edit.validate.as_deref().filter(|v| !v.contains("%s")) {
        return Ok(Err(
            BadArg(format!("validate must contain %s: {validate}")).into()
        ));
    }
    let exists = edit.current.content.is_some();
    let mut applied = Applied {
        changed: edit.new.is_some(),
        msg: edit.msg,
        backup: None,
    };
    let mut attrs_changed = edit.current.attrs_differ;
    let needs_write = edit.new.is_some() || (edit.current.attrs_differ && exists);
    if needs_write && !ctx.check_mode {
        let content = edit.new.as_deref();
        let embedded = content.and_then(remote_file::embedded_content);
        let body = match content {
            Some(bytes) => format!(
                r#"fleet_parent "$P"; _dir=$_parent
[ -d "$_dir" ] || mkdir -p -- "$_dir" 2>/dev/null || {{ echo "fail Error creating $_dir"; exit 0; }}
fleet_write "$P" {} || exit 0
echo "attrs $attrs_changed"
"#,
                bytes.len()
            ),
            None => "fleet_attrs \"$P\" && echo \"attrs $attrs_changed\"\n".to_string(),
        };
        let script = format!(
            "{PRELUDE}{}F_BACKUP={}\nF_VALIDATE={}\nP={}\n{}{body}",
            attr_vars(edit.attrs, false),
            u8::from(edit.backup && exists),
            shell_quote(edit.validate.as_deref().unwrap_or("")),
            shell_quote(&edit.current.real_path),
            embedded.as_deref().unwrap_or_default(),
        );
        let stdin = match embedded {
            Some(_) => &[][..],
            None => content.unwrap_or_default(),
        };
        let out = ctx.sh_with_input(&script, stdin).await?;
        let records = parse_report(&out.stdout);
        if let Some(msg) = failure(&records) {
            return Ok(Err(ModuleError::Host(msg)));
        }
        let Some(attrs) = find(&records, "attrs") else {
            return Ok(Err(ModuleError::Host(format!(
                "could not write {}: {}",
                edit.path,
                out.stderr_text().trim()
            ))));
        };
        attrs_changed = attrs.rest == "1";
        applied.backup = find(&records, "backup").map(|r| r.rest.clone());
    }
    if ctx.check_mode && !exists {
        return Ok(Ok(applied));
    }
    if attrs_changed {
        if applied.changed {
            applied.msg.push_str(" and ");
        }
        applied.changed = true;
        applied
            .msg
            .push_str("ownership, perms or SE linux context changed");
    }
    Ok(Ok(applied))
}

/// The `(content)` diff Ansible's text modules report.
pub fn content_diff(path: &str, before: &[u8], after: &[u8]) -> Diff {
    Diff {
        before_header: format!("{path} (content)"),
        after_header: format!("{path} (content)"),
        before: String::from_utf8_lossy(before).into_owned(),
        after: String::from_utf8_lossy(after).into_owned(),
    }
}

/// Splits into lines that keep their `\n`, like Python's `readlines()`.
pub fn split_lines(content: &[u8]) -> Vec<Vec<u8>> {
    content
        .split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

/// A line without its line ending.
pub fn strip_eol(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && (line[end - 1] == b'\n' || line[end - 1] == b'\r') {
        end -= 1;
    }
    &line[..end]
}

/// Compiles a Python-syntax regular expression (backreferences and lookaround included) with
/// the project's one regex compiler, [`pyre::compile`]; `multiline` is `re.MULTILINE`.
pub fn compile(pattern: &str, multiline: bool) -> Result<PyRegex, BadArg> {
    let flags = Flags {
        multiline,
        ..Flags::default()
    };
    pyre::compile(pattern, flags).map_err(regex_error)
}

/// A regex failure as the module's argument error.
pub fn regex_error(e: PyReError) -> BadArg {
    BadArg(e.to_string())
}

/// Whether `re` matches `line` without its final `\n` (as Ansible's `re.search` on a line).
pub fn line_matches(re: &PyRegex, line: &[u8]) -> Result<bool, BadArg> {
    re.is_match(line.strip_suffix(b"\n").unwrap_or(line))
        .map_err(regex_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_templates_expand() {
        let re = compile(r"^(\w+)=(\d+)$", false).unwrap();
        let (out, _) = re.subn(b"port=80", r"\1: \2", 0).unwrap();
        assert_eq!(out, b"port: 80");
        let re = compile(r"(?P<name>\w+)-(\d)", false).unwrap();
        let (out, _) = re.subn(b"a-1", r"\g<name>-\g<2>$ a\nb\\c", 0).unwrap();
        assert_eq!(out, b"a-1$ a\nb\\c");
        assert!(line_matches(&compile(r"(a)\1$", false).unwrap(), b"xaa\n").unwrap());
    }

    #[test]
    fn lines_keep_their_endings() {
        assert_eq!(split_lines(b"a\nb"), vec![b"a\n".to_vec(), b"b".to_vec()]);
        assert_eq!(strip_eol(b"a\r\n"), b"a");
        assert!(split_lines(b"").is_empty());
    }
}
