//! `assemble`: one file made of the fragments in a directory (`conf.d`-style), put at `dest`
//! only when it differs. The fragments are on the host (`remote_src: true`, Ansible's default)
//! or in the controller's `files/` (`remote_src: false`, which Ansible's action plugin
//! assembles on the controller); both are assembled here, on the controller, as Ansible
//! assembles them, and then put like a `copy` of that content.
//!
//! Ansible's order and joining, kept byte for byte: fragments sorted by name, regular files
//! only, `regexp` (Python's `re.search` on the name) and `ignore_hidden` filter them; a newline
//! goes between two fragments when the first does not end with one; a `delimiter` (its escapes
//! such as `\n` decoded) goes between fragments, always followed by a newline (Python 3 compares
//! the delimiter's last byte with `b'\n'`, which is never equal).

use async_trait::async_trait;

use super::args::{self, FileAttrs};
use super::copy::single_result;
use super::put::{put, PutOptions, Source, Upload};
use super::remote_file::{diff_text, parse_report};
use crate::remote::{shell_quote, RemoteError};
use crate::{ArgSpec, Args, Diff, Module, ModuleCtx, ModuleError, ModuleResult};

/// The `assemble` module.
pub struct Assemble;

const PARAMS: &[&str] = &[
    "src",
    "dest",
    "backup",
    "delimiter",
    "remote_src",
    "regexp",
    "ignore_hidden",
    "validate",
    "decrypt",
    "follow",
    "mode",
    "owner",
    "group",
    "attributes",
    "seuser",
    "serole",
    "setype",
    "selevel",
    "unsafe_writes",
];

/// Sends each regular file of `$S` (not below it) as a blob followed by its name; `missing`
/// when `$S` is no directory.
const LIST_SCRIPT: &str = r#"
[ -d "$S" ] || { echo "missing"; exit 0; }
for _f in "$S"/* "$S"/.*; do
  [ -f "$_f" ] || continue
  printf 'blob %s\n' "$(stat -L -c %s -- "$_f")"; cat -- "$_f"
  printf 'frag %s\n' "${_f##*/}"
done
"#;

#[async_trait]
impl Module for Assemble {
    fn name(&self) -> &'static str {
        "assemble"
    }

    fn spec(&self) -> ArgSpec {
        ArgSpec {
            free_form: false,
            params: PARAMS,
            // Ansible's action checks them itself ("src and dest are required")
            required: &[],
        }
    }

    async fn run(&self, args: &Args, ctx: &mut ModuleCtx<'_>) -> Result<ModuleResult, RemoteError> {
        let (Some(src), Some(dest)) = (args::text(args, &["src"]), args::text(args, &["dest"]))
        else {
            return Ok(ModuleResult::fail("src and dest are required"));
        };
        let fragments = match fragments(args, ctx, &src).await? {
            Ok(fragments) => fragments,
            Err(e) => return Ok(e.into()),
        };
        let content = match joined(args, fragments) {
            Ok(content) => content,
            Err(e) => return Ok(e.into()),
        };
        let opts = match options(args) {
            Ok(opts) => opts,
            Err(e) => return Ok(e.into()),
        };
        let upload = Upload {
            dest: dest.clone(),
            into_dir_as: None,
            source: Source::Bytes(content.clone()),
        };
        let outcome = match put(ctx, std::slice::from_ref(&upload), &opts).await? {
            Ok(outcome) => outcome,
            Err(e) => return Ok(e.into()),
        };
        let mut result = single_result(&outcome, Some(&content), &dest)
            .with("src", src)
            .with("msg", "OK");
        if let (true, Some(file)) = (ctx.diff, outcome.files.first()) {
            let before = file.before.as_deref().unwrap_or_default();
            if let (true, Some(before), Some(after)) =
                (file.content_changed, diff_text(before), diff_text(&content))
            {
                // Ansible's assemble action registers its one diff as a mapping (copy's is a
                // list)
                let registered = serde_json::json!({
                    "before_header": file.dest, "after_header": file.dest,
                    "before": before, "after": after,
                });
                result = result.with("diff", registered);
                result.diffs.push(Diff {
                    before_header: file.dest.clone(),
                    after_header: file.dest.clone(),
                    before,
                    after,
                });
            }
        }
        Ok(result)
    }
}

fn options(args: &Args) -> Result<PutOptions, ModuleError> {
    Ok(PutOptions {
        attrs: FileAttrs::from_args(args)?,
        backup: args::flag(args, "backup", false)?,
        validate: args::text(args, &["validate"]),
        follow: args::flag(args, "follow", false)?,
        want_stat: true,
        ..PutOptions::default()
    })
}

/// The fragments as `(name, bytes)`, from the host or the controller.
async fn fragments(
    args: &Args,
    ctx: &mut ModuleCtx<'_>,
    src: &str,
) -> Result<Result<Vec<(String, Vec<u8>)>, ModuleError>, RemoteError> {
    let not_a_dir = || ModuleError::Host(format!("Source ({src}) is not a directory"));
    let remote_src = match args::flag(args, "remote_src", true) {
        Ok(flag) => flag,
        Err(e) => return Ok(Err(e.into())),
    };
    if remote_src {
        let script = format!("S={}\n{LIST_SCRIPT}", shell_quote(src));
        let out = ctx.sh(&script).await?;
        let records = parse_report(&out.stdout);
        if records.iter().any(|r| r.tag == "missing") {
            return Ok(Err(not_a_dir()));
        }
        return Ok(Ok(records
            .into_iter()
            .filter(|r| r.tag == "frag")
            .map(|r| (r.rest, r.blob.unwrap_or_default()))
            .collect()));
    }
    let Some(dir) = ctx.find_local("files", src).filter(|p| p.is_dir()) else {
        return Ok(Err(ModuleError::Local(format!(
            "Source ({src}) is not a directory"
        ))));
    };
    let decrypt = match args::flag(args, "decrypt", true) {
        Ok(flag) => flag,
        Err(e) => return Ok(Err(e.into())),
    };
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) => return Ok(Err(ModuleError::Local(format!("{}: {e}", dir.display())))),
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        match super::tree::read_source(&path, decrypt) {
            Ok(bytes) => out.push((name, bytes)),
            Err(e) => return Ok(Err(e)),
        }
    }
    Ok(Ok(out))
}

/// The fragments joined as Ansible joins them (see the module doc).
fn joined(args: &Args, mut fragments: Vec<(String, Vec<u8>)>) -> Result<Vec<u8>, ModuleError> {
    fragments.sort_by(|a, b| a.0.cmp(&b.0));
    let regexp = match args::text(args, &["regexp"]) {
        Some(re) => Some(
            fleet_templates::pyre::compile(&re, fleet_templates::pyre::Flags::default()).map_err(
                |e| {
                    ModuleError::Host(format!(
                        "Invalid Regexp ({}) in \"{re}\"",
                        e.python_message()
                    ))
                },
            )?,
        ),
        None => None,
    };
    let ignore_hidden = args::flag(args, "ignore_hidden", false)?;
    let mut delimiter = args::text(args, &["delimiter"])
        .filter(|d| !d.is_empty())
        .map(String::into_bytes);
    let mut out = Vec::new();
    let (mut delimit, mut add_newline) = (false, false);
    for (name, content) in fragments {
        if let Some(re) = &regexp {
            if !re.is_match(name.as_bytes()).unwrap_or(false) {
                continue;
            }
        }
        if ignore_hidden && name.starts_with('.') {
            continue;
        }
        if add_newline {
            out.push(b'\n');
        }
        if let (true, Some(d)) = (delimit, delimiter.as_mut()) {
            // Ansible decodes the delimiter again before each use
            *d = escape_decode(d);
            out.extend_from_slice(d);
            out.push(b'\n');
        }
        add_newline = !content.ends_with(b"\n");
        out.extend_from_slice(&content);
        delimit = true;
    }
    Ok(out)
}

/// Python's `codecs.escape_decode`: `\n`, `\t`, `\\`, `\xNN`, octal `\NNN`... decoded; an
/// unknown escape is kept as written.
fn escape_decode(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] != b'\\' || i + 1 >= text.len() {
            out.push(text[i]);
            i += 1;
            continue;
        }
        let c = text[i + 1];
        i += 2;
        match c {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            b'\\' => out.push(b'\\'),
            b'\'' => out.push(b'\''),
            b'"' => out.push(b'"'),
            b'\n' => {}
            b'x' => {
                let hex = text.get(i..i + 2).and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.extend_from_slice(b"\\x"),
                }
            }
            b'0'..=b'7' => {
                let mut value = u32::from(c - b'0');
                for _ in 0..2 {
                    match text.get(i) {
                        Some(d @ b'0'..=b'7') => {
                            value = value * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push((value & 0xff) as u8);
            }
            other => out.extend_from_slice(&[b'\\', other]),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn join(args: serde_json::Value, frags: &[(&str, &str)]) -> String {
        let frags = frags
            .iter()
            .map(|(n, c)| (n.to_string(), c.as_bytes().to_vec()))
            .collect();
        let args = args.as_object().cloned().unwrap();
        String::from_utf8(joined(&args, frags).unwrap()).unwrap()
    }

    #[test]
    fn fragments_join_as_ansible_joins_them() {
        let frags = [
            ("b", "two"),
            ("a", "one\n"),
            (".h", "hidden\n"),
            ("c", "three\n"),
        ];
        assert_eq!(join(json!({}), &frags), "hidden\none\ntwo\nthree\n");
        assert_eq!(
            join(json!({"ignore_hidden": true, "delimiter": "# --"}), &frags),
            "one\n# --\ntwo\n# --\nthree\n"
        );
        assert_eq!(
            join(json!({"regexp": "^[ab]$", "delimiter": "#\\n"}), &frags),
            "one\n#\n\ntwo"
        );
    }

    #[test]
    fn delimiters_decode_python_escapes() {
        assert_eq!(escape_decode(br"a\tb\x41\101\\\q"), b"a\tbAA\\\\q".to_vec());
    }
}
