//! Serialisation filters (JSON and YAML as Python's json and PyYAML write them), base64 and
//! hashes.

use base64::Engine as _;
use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::{Environment, Error};
use sha1::Digest;

use super::fail;
use crate::repr::{py_string, text_input};

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter(
        "to_json",
        |v: Value, kwargs: Kwargs| -> Result<String, Error> {
            let indent: Option<usize> = kwargs.get("indent")?;
            let sort_keys: Option<bool> = kwargs.get("sort_keys")?;
            let ensure_ascii: Option<bool> = kwargs.get("ensure_ascii")?;
            kwargs.assert_all_used()?;
            let style = JsonStyle {
                indent,
                sort_keys: sort_keys.unwrap_or(false),
                ensure_ascii: ensure_ascii.unwrap_or(true),
            };
            Ok(to_python_json(&v, &style))
        },
    );
    env.add_filter(
        "to_nice_json",
        |v: Value, kwargs: Kwargs| -> Result<String, Error> {
            let indent: Option<usize> = kwargs.get("indent")?;
            kwargs.assert_all_used()?;
            let style = JsonStyle {
                indent: Some(indent.unwrap_or(4)),
                sort_keys: true,
                ensure_ascii: true,
            };
            Ok(to_python_json(&v, &style))
        },
    );
    env.add_filter("from_json", |s: String| -> Result<Value, Error> {
        let parsed: serde_json::Value =
            serde_json::from_str(&s).map_err(|e| fail(format!("from_json: {e}")))?;
        Ok(Value::from_serialize(&parsed))
    });
    env.add_filter(
        "to_yaml",
        |v: Value, kwargs: Kwargs| -> Result<String, Error> {
            let indent: Option<usize> = kwargs.get("indent")?;
            kwargs.assert_all_used()?;
            Ok(super::yaml::yaml_dump(&v, indent.unwrap_or(2), true))
        },
    );
    env.add_filter(
        "to_nice_yaml",
        |v: Value, kwargs: Kwargs| -> Result<String, Error> {
            let indent: Option<usize> = kwargs.get("indent")?;
            kwargs.assert_all_used()?;
            Ok(super::yaml::yaml_dump(&v, indent.unwrap_or(4), false))
        },
    );
    env.add_filter("from_yaml", |s: String| -> Result<Value, Error> {
        let parsed =
            inventory::load_yaml11(&s, "from_yaml").map_err(|e| fail(format!("from_yaml: {e}")))?;
        Ok(Value::from_serialize(&parsed))
    });
    env.add_filter("b64encode", |v: &Value| {
        text_input(v).map(|s| base64::engine::general_purpose::STANDARD.encode(s))
    });
    env.add_filter("b64decode", |s: String| -> Result<String, Error> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(s.trim())
            .map_err(|e| fail(format!("b64decode: {e}")))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    });
    env.add_filter("hash", |v: &Value, algo: Option<String>| {
        hash(&text_input(v)?, algo.as_deref().unwrap_or("sha1"))
    });
    env.add_filter(
        "to_uuid",
        |v: &Value, namespace: Option<String>, kwargs: Kwargs| -> Result<String, Error> {
            let namespace: Option<String> = super::named(namespace, &kwargs, "namespace")?;
            kwargs.assert_all_used()?;
            to_uuid(&text_input(v)?, namespace.as_deref())
        },
    );
    env.add_filter("checksum", |v: &Value| hash(&text_input(v)?, "sha1"));
    env.add_filter("sha1", |v: &Value| hash(&text_input(v)?, "sha1"));
    env.add_filter("md5", |v: &Value| hash(&text_input(v)?, "md5"));
}

fn hash(data: &str, algo: &str) -> Result<String, Error> {
    let bytes = data.as_bytes();
    Ok(match algo {
        "sha1" => hex::encode(sha1::Sha1::digest(bytes)),
        "md5" => hex::encode(md5::Md5::digest(bytes)),
        "sha256" => hex::encode(sha2::Sha256::digest(bytes)),
        "sha512" => hex::encode(sha2::Sha512::digest(bytes)),
        other => return Err(fail(format!("unsupported hash type {other}"))),
    })
}

/// Ansible's namespace for `to_uuid`.
const ANSIBLE_UUID_NAMESPACE: &str = "361e6d51-faec-444a-9079-341386da8e2e";

/// Ansible's `to_uuid(namespace)`: Python's `uuid.uuid5(namespace, name)` (SHA-1 of the
/// namespace's 16 bytes and the name, version 5, RFC 4122 variant).
fn to_uuid(name: &str, namespace: Option<&str>) -> Result<String, Error> {
    let namespace = namespace.unwrap_or(ANSIBLE_UUID_NAMESPACE);
    let hex_digits: String = namespace
        .trim_start_matches("urn:")
        .trim_start_matches("uuid:")
        .trim_matches(['{', '}'])
        .replace('-', "");
    let ns = hex::decode(&hex_digits)
        .ok()
        .filter(|b| b.len() == 16)
        .ok_or_else(|| {
            fail(format!(
                "Invalid value '{namespace}' for 'namespace': badly formed hexadecimal UUID string"
            ))
        })?;
    let mut hasher = sha1::Sha1::new();
    hasher.update(&ns);
    hasher.update(name.as_bytes());
    let mut bytes = hasher.finalize()[..16].to_vec();
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let h = hex::encode(bytes);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))
}

/// How Python's `json.dumps` was asked to write.
struct JsonStyle {
    indent: Option<usize>,
    sort_keys: bool,
    ensure_ascii: bool,
}

/// `json.dumps(value)` as Python writes it (`", "` and `": "` separators; with an indent,
/// `","` at line ends).
fn to_python_json(value: &Value, style: &JsonStyle) -> String {
    let mut out = String::new();
    write_json(&mut out, value, style, 0);
    out
}

fn newline(out: &mut String, style: &JsonStyle, level: usize) {
    if let Some(n) = style.indent {
        out.push('\n');
        out.push_str(&" ".repeat(n * level));
    }
}

fn write_json(out: &mut String, value: &Value, style: &JsonStyle, level: usize) {
    let item_sep = if style.indent.is_some() { "," } else { ", " };
    match value.kind() {
        ValueKind::None | ValueKind::Undefined => out.push_str("null"),
        ValueKind::Bool => out.push_str(if value.is_true() { "true" } else { "false" }),
        ValueKind::Number => out.push_str(&crate::repr::py_repr(value)),
        ValueKind::String => write_json_str(out, value.as_str().unwrap_or_default(), style),
        ValueKind::Map => {
            let mut keys: Vec<Value> = value.try_iter().map(|i| i.collect()).unwrap_or_default();
            if keys.is_empty() {
                out.push_str("{}");
                return;
            }
            if style.sort_keys {
                keys.sort();
            }
            out.push('{');
            for (i, key) in keys.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                newline(out, style, level + 1);
                write_json_str(out, &py_string(key), style);
                out.push_str(": ");
                write_json(
                    out,
                    &value.get_item(key).unwrap_or_default(),
                    style,
                    level + 1,
                );
            }
            newline(out, style, level);
            out.push('}');
        }
        _ => {
            let items: Vec<Value> = value.try_iter().map(|i| i.collect()).unwrap_or_default();
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                newline(out, style, level + 1);
                write_json(out, item, style, level + 1);
            }
            newline(out, style, level);
            out.push(']');
        }
    }
}

fn write_json_str(out: &mut String, s: &str, style: &JsonStyle) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (style.ensure_ascii && (c as u32) > 0x7e) => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
