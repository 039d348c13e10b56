//! `template`: renders a controller-side Jinja2 file against the host's variables and puts the
//! result at `dest` exactly as `copy` puts `content`.

use async_trait::async_trait;
use serde_json::Value;

use super::args::{self, FileAttrs};
use super::copy::single_result;
use super::put::{put, PutOptions, Source, Upload};
use super::remote_file::{base_name, diff_text};
use crate::remote::RemoteError;
use crate::{ArgSpec, Args, Diff, Module, ModuleCtx, ModuleError, ModuleResult};
use fleet_templates::{Delimiters, Templar, TemplateOptions};

/// The `template` module.
pub struct Template;

#[async_trait]
impl Module for Template {
    fn name(&self) -> &'static str {
        "template"
    }

    fn spec(&self) -> ArgSpec {
        ArgSpec {
            free_form: false,
            params: &[
                "src",
                "dest",
                "mode",
                "owner",
                "group",
                "backup",
                "force",
                "follow",
                "validate",
                "newline_sequence",
                "trim_blocks",
                "lstrip_blocks",
                "block_start_string",
                "block_end_string",
                "variable_start_string",
                "variable_end_string",
                "comment_start_string",
                "comment_end_string",
                "output_encoding",
                "attributes",
                "seuser",
                "serole",
                "setype",
                "selevel",
                "unsafe_writes",
            ],
            required: &[&["src"], &["dest"]],
        }
    }

    async fn run(&self, args: &Args, ctx: &mut ModuleCtx<'_>) -> Result<ModuleResult, RemoteError> {
        let (upload, opts, src) = match prepare(args, ctx) {
            Ok(prepared) => prepared,
            Err(e) => return Ok(e.into()),
        };
        let outcome = match put(ctx, std::slice::from_ref(&upload), &opts).await? {
            Ok(outcome) => outcome,
            Err(e) => return Ok(e.into()),
        };
        let Source::Bytes(rendered) = &upload.source else {
            unreachable!("templates are rendered on the controller")
        };
        let mut result = single_result(&outcome, Some(rendered), &upload.dest).with("src", src);
        if let (true, Some(file)) = (ctx.diff, outcome.files.first()) {
            let before = file.before.as_deref().unwrap_or_default();
            if let (true, Some(before), Some(after)) =
                (file.content_changed, diff_text(before), diff_text(rendered))
            {
                result.diffs.push(Diff {
                    before_header: file.dest.clone(),
                    after_header: upload.dest.clone(),
                    before,
                    after,
                });
            }
        }
        Ok(result)
    }
}

fn prepare(args: &Args, ctx: &ModuleCtx<'_>) -> Result<(Upload, PutOptions, String), ModuleError> {
    let src = args::text(args, &["src"]).unwrap_or_default();
    let dest = args::text(args, &["dest"]).unwrap_or_default();
    let path = ctx
        .find_local("templates", &src)
        .filter(|p| p.is_file())
        .ok_or_else(|| ModuleError::Local(format!("Could not find or access '{src}'")))?;
    // a vault-encrypted template is rendered from its plaintext, as Ansible's loader reads it
    let text = vault::read_data_file(&path)
        .map_err(|e| ModuleError::Local(format!("Could not find or access '{src}': {e}")))?;
    // a `#jinja2:` first line overrides the task's options
    let (text, header_args) = header_overrides(&text, args).map_err(|e| {
        ModuleError::Local(format!(
            "AnsibleError: template error while templating string: {e}"
        ))
    })?;
    let args = &header_args;
    let mut vars = ctx.vars.clone();
    for (name, value) in template_vars(&path, &src, &dest) {
        if !vars.contains_key(name) {
            vars.insert(name.to_string(), value.into());
        }
    }
    // imports and includes: beside the template, then the role's and playbook's templates/
    let mut search: Vec<std::path::PathBuf> = path.parent().map(Into::into).into_iter().collect();
    search.extend(
        ["role_path", "playbook_dir"]
            .iter()
            .filter_map(|k| ctx.vars.get(k).and_then(Value::as_str))
            .map(|base| std::path::Path::new(base).join("templates")),
    );
    let templar = Templar::for_files(search)
        .with_delimiters(&delimiters(args))
        .map_err(|e| ModuleError::Local(format!("AnsibleError: {e}")))?;
    // the template module's own options; no backslash escaping (Ansible's escape_backslashes
    // is for playbook strings)
    let options = TemplateOptions {
        trim_blocks: args::flag(args, "trim_blocks", true)?,
        lstrip_blocks: args::flag(args, "lstrip_blocks", false)?,
    };
    let mut rendered = templar
        .render_file_str(&text, &vars, options)
        .map_err(|e| {
            ModuleError::Local(format!(
                "AnsibleError: template error while templating string: {e}"
            ))
        })?;
    if keeps_final_newline(&text) && !rendered.ends_with('\n') {
        rendered.push('\n');
    }
    if args::text(args, &["newline_sequence"]).as_deref() == Some("\\r\\n") {
        rendered = rendered.replace('\n', "\r\n");
    }
    let opts = PutOptions {
        attrs: FileAttrs::preserving(args, Some(&path))?,
        force: args::flag(args, "force", true)?,
        backup: args::flag(args, "backup", false)?,
        validate: args::text(args, &["validate"]),
        follow: args::flag(args, "follow", false)?,
        want_stat: true,
        ..PutOptions::default()
    };
    // Ansible: `args.get('output_encoding', 'utf-8') or 'utf-8'`
    let encoding = args::text(args, &["output_encoding"])
        .filter(|e| !e.is_empty())
        .unwrap_or_else(|| "utf-8".into());
    let bytes = encode_output(&rendered, &encoding).map_err(ModuleError::Local)?;
    let upload = Upload {
        dest,
        into_dir_as: Some(base_name(&src).to_string()),
        source: Source::Bytes(bytes),
    };
    Ok((upload, opts, src))
}

/// What a `#jinja2:` line may set.
const OVERRIDE_KEYS: &[&str] = &[
    "block_start_string",
    "block_end_string",
    "variable_start_string",
    "variable_end_string",
    "comment_start_string",
    "comment_end_string",
    "trim_blocks",
    "lstrip_blocks",
    "newline_sequence",
    "keep_trailing_newline",
    "line_statement_prefix",
    "line_comment_prefix",
];

/// The template without its `#jinja2: key: value, ...` first line, and `args` with those
/// values over the task's; Ansible's messages for a malformed line.
fn header_overrides(text: &str, args: &Args) -> Result<(String, Args), String> {
    const MARK: &str = "#jinja2:";
    let Some(rest) = text.strip_prefix(MARK) else {
        return Ok((text.to_string(), args.clone()));
    };
    let eol = rest
        .find('\n')
        .ok_or_else(|| format!("Missing newline after '{MARK}' override."))?;
    let mut args = args.clone();
    for pair in rest[..eol].split(',') {
        if pair.trim().is_empty() {
            return Err(format!("Empty '{MARK}' override pair not allowed."));
        }
        let Some((key, value)) = pair.split_once(':') else {
            return Err(format!(
                "Missing key-value separator `:` in '{MARK}' override pair '{pair}'."
            ));
        };
        let key = key.trim();
        if !OVERRIDE_KEYS.contains(&key) {
            return Err(format!("Invalid '{MARK}' override key '{key}'."));
        }
        let mut value = python_literal(value.trim())?;
        if let (Value::String(s), "newline_sequence") = (&value, key) {
            // the task's form: an escaped sequence
            value = Value::String(s.replace('\r', "\\r").replace('\n', "\\n"));
        }
        args.insert(key.to_string(), value);
    }
    Ok((rest[eol + 1..].to_string(), args))
}

/// Python's `ast.literal_eval` for what a `#jinja2:` value holds: True/False and quoted strings
/// (with `\n`, `\r`, `\t` escapes).
fn python_literal(text: &str) -> Result<Value, String> {
    match text {
        "True" => return Ok(Value::Bool(true)),
        "False" => return Ok(Value::Bool(false)),
        _ => {}
    }
    let quoted = ['"', '\'']
        .iter()
        .find(|q| text.len() >= 2 && text.starts_with(**q) && text.ends_with(**q));
    match quoted {
        Some(_) => Ok(Value::String(
            text[1..text.len() - 1]
                .replace("\\n", "\n")
                .replace("\\r", "\r")
                .replace("\\t", "\t"),
        )),
        None => Err(format!("malformed node or string: {text}")),
    }
}

/// Windows-1252's characters for bytes 0x80-0x9F (0 where the code page has none).
const CP1252_HIGH: [u16; 32] = [
    0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039,
    0x0152, 0, 0x017D, 0, 0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC,
    0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
];

/// The rendered text in `output_encoding`: UTF-8, Latin-1 or Windows-1252 (Python's codec
/// names); a character the encoding lacks fails the task as Python's strict encoding does.
fn encode_output(text: &str, encoding: &str) -> Result<Vec<u8>, String> {
    let name = encoding.to_ascii_lowercase().replace('_', "-");
    let single_byte = |high: &dyn Fn(char) -> Option<u8>| {
        text.chars()
            .map(|c| match u32::from(c) {
                n @ 0..=0x7F => Ok(n as u8),
                _ => high(c)
                    .ok_or_else(|| format!("'{encoding}' codec can't encode character '{c}'")),
            })
            .collect::<Result<Vec<u8>, String>>()
    };
    match name.as_str() {
        "utf-8" | "utf8" => Ok(text.as_bytes().to_vec()),
        "latin-1" | "latin1" | "iso-8859-1" | "iso8859-1" => {
            single_byte(&|c| u8::try_from(u32::from(c)).ok())
        }
        "windows-1252" | "cp1252" => single_byte(&|c| {
            let n = u32::from(c);
            if let Some(i) = CP1252_HIGH
                .iter()
                .position(|&h| h != 0 && u32::from(h) == n)
            {
                return Some(0x80 + i as u8);
            }
            (0xA0..=0xFF).contains(&n).then_some(n as u8)
        }),
        _ => Err(format!("unknown encoding: {encoding}")),
    }
}

/// The delimiters the task sets (`block_start_string`, ...), Jinja2's otherwise.
fn delimiters(args: &Args) -> Delimiters {
    let d = Delimiters::default();
    let get = |key: &str, default: &str| args::text(args, &[key]).unwrap_or_else(|| default.into());
    Delimiters {
        block: (
            get("block_start_string", &d.block.0),
            get("block_end_string", &d.block.1),
        ),
        variable: (
            get("variable_start_string", &d.variable.0),
            get("variable_end_string", &d.variable.1),
        ),
        comment: (
            get("comment_start_string", &d.comment.0),
            get("comment_end_string", &d.comment.1),
        ),
        line_statement: args::text(args, &["line_statement_prefix"]),
        line_comment: args::text(args, &["line_comment_prefix"]),
    }
}

/// Ansible renders with `keep_trailing_newline`: a template ending in a newline yields one,
/// unless that newline follows a block or comment tag (which `trim_blocks` eats).
fn keeps_final_newline(text: &str) -> bool {
    match text.strip_suffix('\n') {
        Some(body) => !(body.ends_with("%}") || body.ends_with("#}")),
        None => false,
    }
}

/// The variables Ansible's template action adds (`generate_ansible_template_vars`), about the
/// template file on the controller: the controller's host name, the file's owner and
/// modification time, the time of the run (Python's `str()` of its naive local datetimes), the
/// paths, and `ansible_managed` (the default `Ansible managed`).
fn template_vars(path: &std::path::Path, src: &str, dest: &str) -> Vec<(&'static str, String)> {
    use chrono::{DateTime, Local};
    let py_datetime = |at: DateTime<Local>| {
        let naive = at.naive_local();
        match naive.and_utc().timestamp_subsec_micros() {
            0 => naive.format("%Y-%m-%d %H:%M:%S").to_string(),
            _ => naive.format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
        }
    };
    let meta = std::fs::metadata(path).ok();
    let uid = meta.as_ref().map(std::os::unix::fs::MetadataExt::uid);
    let owner = uid
        .and_then(|uid| nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)).ok())
        .flatten()
        .map(|u| u.name)
        .or(uid.map(|uid| uid.to_string()))
        .unwrap_or_default();
    let mtime = meta
        .and_then(|m| m.modified().ok())
        .map(|t| py_datetime(t.into()))
        .unwrap_or_default();
    let host = nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default();
    vec![
        ("template_host", host),
        ("template_path", src.to_string()),
        ("template_mtime", mtime),
        ("template_uid", owner),
        ("template_run_date", py_datetime(Local::now())),
        ("template_destpath", dest.to_string()),
        ("template_fullpath", path.to_string_lossy().into_owned()),
        ("ansible_managed", "Ansible managed".to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use std::fs;

    use serde_json::json;

    use super::*;
    use crate::files::testkit::{mode_of, Harness};

    /// Issue 18: a `#jinja2:` first line sets options; a malformed one fails as Ansible's.
    #[test]
    fn jinja2_header_overrides() {
        let args = json!({"src": "x"}).as_object().cloned().unwrap();
        let (body, got) = header_overrides(
            "#jinja2: lstrip_blocks: True, comment_start_string: '[#'\nB",
            &args,
        )
        .unwrap();
        assert_eq!(body, "B");
        assert_eq!(got["lstrip_blocks"], json!(true));
        assert_eq!(got["comment_start_string"], json!("[#"));
        let err = header_overrides("#jinja2: lstrip_blocks=True\nB", &args).unwrap_err();
        assert!(err.contains("Missing key-value separator"), "{err}");
        assert!(header_overrides("#jinja2: nope: True\nB", &args).is_err());
        assert_eq!(header_overrides("plain", &args).unwrap().0, "plain");
    }

    /// Issue 18: output_encoding as Python's codecs (the template target compares bytes).
    #[test]
    fn output_encodings() {
        assert_eq!(encode_output("é€", "utf-8").unwrap(), "é€".as_bytes());
        assert_eq!(
            encode_output("aé€Ÿ", "windows-1252").unwrap(),
            b"a\xe9\x80\x9f"
        );
        assert_eq!(encode_output("é", "latin-1").unwrap(), b"\xe9");
        assert!(encode_output("€", "latin-1").is_err());
        assert!(encode_output("x", "klingon").is_err());
    }

    /// Issue 18: custom delimiters, trim_blocks off, and an import from templates/.
    #[tokio::test]
    async fn delimiters_options_and_imports() {
        let h = harness_with_template("[# gone #]{% if true %}\nX{% endif %}\n");
        fs::write(
            h.root().join("templates/m.j2"),
            "{% macro m() %}M{% endmacro %}",
        )
        .unwrap();
        let dest = h.path("out.txt");
        let args = json!({"src": "app.conf.j2", "dest": dest, "comment_start_string": "[#",
                          "comment_end_string": "#]", "trim_blocks": false});
        let r = h.run(&Template, args).await;
        assert!(r.changed && !r.failed, "{:?}", r.to_json());
        assert_eq!(fs::read_to_string(&dest).unwrap(), "\nX\n");
        fs::write(
            h.root().join("templates/app.conf.j2"),
            "{% import 'm.j2' as mm %}{{ mm.m() }}\n",
        )
        .unwrap();
        let r = h
            .run(&Template, json!({"src": "app.conf.j2", "dest": dest}))
            .await;
        assert!(!r.failed, "{:?}", r.to_json());
        assert_eq!(fs::read_to_string(&dest).unwrap(), "M\n");
    }

    /// Issue 20: `lstrip_blocks` reaches the renderer (Ansible's template module writes
    /// `"  X\n  \n"` without it and `"X\n"` with it, for this template).
    #[tokio::test]
    async fn lstrip_blocks_strips_indentation_before_block_tags() {
        let h = harness_with_template("  {% if true %}\nX\n  {% endif %}\n");
        let dest = h.path("out.txt");
        let r = h
            .run(&Template, json!({"src": "app.conf.j2", "dest": dest}))
            .await;
        assert!(!r.failed, "{:?}", r.to_json());
        assert_eq!(fs::read_to_string(&dest).unwrap(), "  X\n  \n");
        let args = json!({"src": "app.conf.j2", "dest": dest, "lstrip_blocks": true});
        let r = h.run(&Template, args).await;
        assert!(r.changed && !r.failed, "{:?}", r.to_json());
        assert_eq!(fs::read_to_string(&dest).unwrap(), "X\n");
    }

    fn harness_with_template(body: &str) -> Harness {
        let mut h = Harness::new();
        fs::create_dir(h.root().join("templates")).unwrap();
        fs::write(h.root().join("templates/app.conf.j2"), body).unwrap();
        h.vars = fleet_templates::Vars::from_map(
            json!({"port": 8080, "name": "web"})
                .as_object()
                .cloned()
                .unwrap(),
        );
        h
    }

    #[tokio::test]
    async fn renders_keeps_newline_and_is_idempotent() {
        let h = harness_with_template("name={{ name }}\nport={{ port }}\n");
        let dest = h.path("app.conf");
        let args = json!({"src": "app.conf.j2", "dest": dest, "mode": "0644"});
        let r = h.run(&Template, args.clone()).await;
        assert!(r.changed && !r.failed, "{:?}", r.to_json());
        assert_eq!(fs::read_to_string(&dest).unwrap(), "name=web\nport=8080\n");
        assert_eq!(mode_of(&dest), 0o644);
        assert_eq!(r.to_json()["src"], "app.conf.j2");
        let again = h.run(&Template, args).await;
        assert!(!again.changed, "{:?}", again.to_json());
    }

    #[tokio::test]
    async fn check_and_diff_modes() {
        let mut h = harness_with_template("port={{ port }}\n");
        let dest = h.path("app.conf");
        fs::write(&dest, "port=80\n").unwrap();
        h.check = true;
        h.diff = true;
        let r = h
            .run(&Template, json!({"src": "app.conf.j2", "dest": dest}))
            .await;
        assert!(r.changed);
        assert_eq!(fs::read_to_string(&dest).unwrap(), "port=80\n");
        assert_eq!(r.diffs[0].before, "port=80\n");
        assert_eq!(r.diffs[0].after, "port=8080\n");
    }

    #[tokio::test]
    async fn missing_template_and_bad_variable_fail() {
        let h = harness_with_template("{{ nope }}\n");
        let r = h
            .run(&Template, json!({"src": "missing.j2", "dest": h.path("x")}))
            .await;
        assert_eq!(
            r.msg.as_deref(),
            Some("Could not find or access 'missing.j2'")
        );
        let r = h
            .run(
                &Template,
                json!({"src": "app.conf.j2", "dest": h.path("x")}),
            )
            .await;
        assert!(r.failed, "{:?}", r.to_json());
        assert!(r.msg.unwrap().contains("template error"));
        assert!(!h.root().join("x").exists());
    }

    #[test]
    fn final_newline_rule() {
        assert!(keeps_final_newline("a\n"));
        assert!(!keeps_final_newline("a"));
        assert!(!keeps_final_newline("{% endif %}\n"));
    }
}
