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
