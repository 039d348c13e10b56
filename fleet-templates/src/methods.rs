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
            // str.format with positional `{}`/`{0}` fields
            let text = value.as_str().unwrap_or_default();
            Ok(Value::from(str_format(text, args)))
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

/// Python's `str.format` for positional fields (`{}` and `{0}`); other fields are kept.
fn str_format(text: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut next = 0;
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        if let Some(stripped) = after.strip_prefix('{') {
            out.push('{');
            rest = stripped;
            continue;
        }
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let field = &after[..close];
        let index = if field.is_empty() {
            next += 1;
            Some(next - 1)
        } else {
            field.parse::<usize>().ok()
        };
        match index.and_then(|i| args.get(i)) {
            Some(arg) => out.push_str(&super::repr::py_string(arg)),
            None => out.push_str(&rest[open..open + close + 2]),
        }
        rest = &after[close + 1..];
    }
    out.push_str(&rest.replace("}}", "}"));
    out
}
