//! Python's methods on strings, dicts and lists (`x.startswith('a')`, `d.items()`,
//! `d.get('k', 1)`), which playbooks call constantly; minijinja-contrib's pycompat provides
//! most, a few more are added here.

use minijinja::value::{Value, ValueKind};
use minijinja::{Error, ErrorKind, State};

/// Resolves a method call minijinja does not know natively.
pub(crate) fn call_method(
    state: &State,
    value: &Value,
    method: &str,
    args: &[Value],
) -> Result<Value, Error> {
    match (value.kind(), method) {
        (ValueKind::String, "format") => {
            let text = value.as_str().unwrap_or_default();
            crate::pyformat::str_format(text, args).map(Value::from)
        }
        (ValueKind::String, "rsplit") => {
            let text = value.as_str().unwrap_or_default();
            let (sep, maxsplit): (Option<Value>, Option<i64>) = minijinja::value::from_args(args)?;
            let sep = sep.filter(|s| !s.is_none()).map(|s| s.to_string());
            rsplit(text, sep.as_deref(), maxsplit.unwrap_or(-1)).map(Value::from)
        }
        (ValueKind::String, "zfill") => {
            let text = value.as_str().unwrap_or_default();
            let width = args.first().and_then(|w| w.as_usize()).unwrap_or(0);
            let (sign, digits) = match text.strip_prefix(['-', '+']) {
                Some(rest) => (&text[..1], rest),
                None => ("", text),
            };
            let pad = width.saturating_sub(text.chars().count());
            Ok(Value::from(format!("{sign}{}{digits}", "0".repeat(pad))))
        }
        (ValueKind::Seq, "index") => {
            let wanted = args
                .first()
                .ok_or_else(|| Error::from(ErrorKind::MissingArgument))?;
            value
                .try_iter()?
                .position(|item| &item == wanted)
                .map(Value::from)
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::InvalidOperation,
                        format!("{} is not in list", super::repr::py_repr(wanted)),
                    )
                })
        }
        _ => minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args),
    }
}

/// Python's `str.rsplit(sep=None, maxsplit=-1)`: at most `maxsplit` splits from the right;
/// without `sep`, at runs of whitespace, the leftover keeping its leading whitespace.
fn rsplit(text: &str, sep: Option<&str>, maxsplit: i64) -> Result<Vec<String>, Error> {
    let limit = usize::try_from(maxsplit).unwrap_or(usize::MAX);
    let mut parts: Vec<String> = Vec::new();
    match sep {
        Some("") => return Err(Error::new(ErrorKind::InvalidOperation, "empty separator")),
        Some(sep) => {
            let mut rest = text;
            while parts.len() < limit {
                let Some((left, right)) = rest.rsplit_once(sep) else {
                    break;
                };
                parts.push(right.to_string());
                rest = left;
            }
            parts.push(rest.to_string());
        }
        None => {
            let mut rest = text.trim_end();
            while parts.len() < limit && !rest.is_empty() {
                match rest.rfind(char::is_whitespace) {
                    Some(at) => {
                        let width = rest[at..].chars().next().map_or(1, char::len_utf8);
                        parts.push(rest[at + width..].to_string());
                        rest = rest[..at].trim_end();
                    }
                    None => {
                        parts.push(rest.to_string());
                        rest = "";
                    }
                }
            }
            if !rest.is_empty() {
                parts.push(rest.to_string());
            }
        }
    }
    parts.reverse();
    Ok(parts)
}
