//! Python's `str.format`, as playbooks call it inside templates:
//! `'{:<20} {:>8,}'.format(name, size)`, `'{0}-{host}'.format(env, host=inventory_hostname)`,
//! `'{0[port]}'.format(service)`, `'{!r}'.format(path)`.
//!
//! Written here rather than taken from a crate. `rustpython-format`, the one crate that
//! implements Python's spec language, truncates a string's *padded* text to the precision, by
//! bytes (`'{:>10.3}'.format('abcdef')` gives three spaces, and multi-byte text panics), and its
//! repository is archived. The two halves live in `spec.rs` (one field's spec) and `float.rs`
//! (a float's digits); this file walks the format string, finds each field's value and applies
//! its conversion, as CPython's `Objects/stringlib/unicode_format.h` does, with its messages.

mod float;
mod percent;
mod spec;

use minijinja::value::{Value, ValueKind};
use minijinja::{Error, ErrorKind};

use crate::repr::{py_repr, py_string, py_type_name};

pub(crate) use float::py_float_repr;
pub(crate) use percent::{percent_format, Args as PercentArgs};

/// `text.format(*args, **kwargs)`: minijinja passes keyword arguments as a last value that
/// `is_kwargs`.
pub(crate) fn str_format(text: &str, args: &[Value]) -> Result<String, Error> {
    let (positional, keywords) = match args.split_last() {
        Some((last, rest)) if last.is_kwargs() => (rest, Some(last)),
        _ => (args, None),
    };
    let mut fields = Fields {
        positional,
        keywords,
        next_auto: Some(0),
    };
    fields.render(text, 2)
}

/// Where replacement fields find their values, and the automatic numbering of `{}`.
struct Fields<'a> {
    positional: &'a [Value],
    keywords: Option<&'a Value>,
    /// The next `{}`'s index; `None` once a field named its index (`{0}`), since Python
    /// refuses to mix the two.
    next_auto: Option<usize>,
}

/// Python's exception text as a template error.
fn python_error(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message.into())
}

impl Fields<'_> {
    /// Renders `text`; `depth` counts how many more levels of nested fields a spec may hold
    /// (`'{:{width}}'` is one; Python allows no more).
    fn render(&mut self, text: &str, depth: u8) -> Result<String, Error> {
        if depth == 0 {
            return Err(python_error("Max string recursion exceeded"));
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find(['{', '}']) {
            out.push_str(&rest[..at]);
            let brace = rest.as_bytes()[at];
            let after = &rest[at + 1..];
            if after.as_bytes().first() == Some(&brace) {
                out.push(char::from(brace));
                rest = &after[1..];
                continue;
            }
            if brace == b'}' {
                return Err(python_error("Single '}' encountered in format string"));
            }
            if after.is_empty() {
                return Err(python_error("Single '{' encountered in format string"));
            }
            let (field, after_field) = parse_field(after)?;
            out.push_str(&self.replace(field, depth)?);
            rest = after_field;
        }
        out.push_str(rest);
        Ok(out)
    }

    /// One replacement field: its value, converted, formatted by its spec.
    fn replace(&mut self, field: Field<'_>, depth: u8) -> Result<String, Error> {
        let value = self.lookup(field.name)?;
        if value.is_undefined() {
            return Err(Error::from(ErrorKind::UndefinedError));
        }
        let value = match field.conversion {
            None => value,
            Some('s') => Value::from(py_string(&value)),
            Some('r') => Value::from(py_repr(&value)),
            Some('a') => Value::from(ascii(&py_repr(&value))),
            Some(other) => {
                return Err(python_error(format!(
                    "Unknown conversion specifier {other}"
                )))
            }
        };
        let spec = if field.spec.contains('{') {
            self.render(field.spec, depth - 1)?
        } else {
            field.spec.to_string()
        };
        spec::format_value(&value, &spec).map_err(python_error)
    }

    /// The value a field name stands for: an argument, then `.attribute` and `[key]` steps.
    fn lookup(&mut self, name: &str) -> Result<Value, Error> {
        let first_end = name.find(['.', '[']).unwrap_or(name.len());
        let (first, mut steps) = name.split_at(first_end);
        let mut value = if first.is_empty() {
            let index = self.next_auto.ok_or_else(|| {
                python_error(
                    "cannot switch from manual field specification to automatic field numbering",
                )
            })?;
            self.next_auto = Some(index + 1);
            self.positional_arg(index)?
        } else if first.bytes().all(|b| b.is_ascii_digit()) {
            if self.next_auto.is_some_and(|next| next > 0) {
                return Err(python_error(
                    "cannot switch from automatic field numbering to manual field specification",
                ));
            }
            self.next_auto = None;
            let index = first.parse().unwrap_or(usize::MAX);
            self.positional_arg(index)?
        } else {
            self.keywords
                .and_then(|k| k.get_attr(first).ok())
                .filter(|v| !v.is_undefined())
                .ok_or_else(|| python_error(format!("KeyError: {}", py_repr(&first.into()))))?
        };
        while !steps.is_empty() {
            (value, steps) = step(&value, steps)?;
        }
        Ok(value)
    }

    fn positional_arg(&self, index: usize) -> Result<Value, Error> {
        self.positional.get(index).cloned().ok_or_else(|| {
            python_error(format!(
                "Replacement index {index} out of range for positional args tuple"
            ))
        })
    }
}

/// One replacement field: `name[!conversion][:spec]`.
struct Field<'t> {
    name: &'t str,
    conversion: Option<char>,
    spec: &'t str,
}

/// The field that starts `text` (just after its `{`) and the text after its closing `}`, read
/// as CPython's `parse_field` reads it: the name ends at `}`, `!` or `:` outside `[`…`]`; the
/// spec ends at the `}` that balances the `{`s inside it (a nested field's).
fn parse_field(text: &str) -> Result<(Field<'_>, &str), Error> {
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'{' => return Err(python_error("unexpected '{' in field name")),
            b'[' => {
                at += bytes[at..]
                    .iter()
                    .position(|&b| b == b']')
                    .unwrap_or(bytes.len() - at)
            }
            b'}' | b':' | b'!' => break,
            _ => at += 1,
        }
    }
    let name = &text[..at];
    let mut field = Field {
        name,
        conversion: None,
        spec: "",
    };
    match bytes.get(at) {
        Some(b'}') => return Ok((field, &text[at + 1..])),
        Some(b'!') => {
            let mut rest = text[at + 1..].chars();
            let conversion = rest.next().ok_or_else(|| {
                python_error("end of string while looking for conversion specifier")
            })?;
            field.conversion = Some(conversion);
            let rest = rest.as_str();
            match rest.as_bytes().first() {
                Some(b'}') => return Ok((field, &rest[1..])),
                Some(b':') => at = text.len() - rest.len(),
                Some(_) => return Err(python_error("expected ':' after conversion specifier")),
                None => return Err(python_error("unmatched '{' in format spec")),
            }
        }
        Some(_) => {}
        None => return Err(python_error("expected '}' before end of string")),
    }
    let spec_start = at + 1;
    let mut level = 1;
    for (i, b) in text[spec_start..].bytes().enumerate() {
        match b {
            b'{' => level += 1,
            b'}' => {
                level -= 1;
                if level == 0 {
                    field.spec = &text[spec_start..spec_start + i];
                    return Ok((field, &text[spec_start + i + 1..]));
                }
            }
            _ => {}
        }
    }
    Err(python_error("unmatched '{' in format spec"))
}

/// One `.attribute` or `[key]` step from the start of `steps`, and what follows it.
fn step<'s>(value: &Value, steps: &'s str) -> Result<(Value, &'s str), Error> {
    if let Some(rest) = steps.strip_prefix('.') {
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        let (attribute, rest) = rest.split_at(end);
        if attribute.is_empty() {
            return Err(python_error("Empty attribute in format string"));
        }
        // Python's dicts and lists have no attributes by their keys' names.
        let found = match value.kind() {
            ValueKind::Map | ValueKind::Seq => None,
            _ => value.get_attr(attribute).ok().filter(|v| !v.is_undefined()),
        };
        let found = found.ok_or_else(|| {
            python_error(format!(
                "'{}' object has no attribute '{attribute}'",
                py_type_name(value)
            ))
        })?;
        return Ok((found, rest));
    }
    let rest = steps.strip_prefix('[').unwrap_or(steps);
    let close = rest
        .find(']')
        .ok_or_else(|| python_error("Missing ']' in format string"))?;
    let (key, rest) = (&rest[..close], &rest[close + 1..]);
    if key.is_empty() {
        return Err(python_error("Empty attribute in format string"));
    }
    let key = match key.parse::<i64>() {
        Ok(n) if key.bytes().all(|b| b.is_ascii_digit()) => Value::from(n),
        _ => Value::from(key),
    };
    let found = match value.kind() {
        ValueKind::Seq | ValueKind::String if !key.is_integer() => {
            return Err(python_error(if value.kind() == ValueKind::Seq {
                "list indices must be integers or slices, not str"
            } else {
                "string indices must be integers, not 'str'"
            }));
        }
        ValueKind::Seq | ValueKind::Map | ValueKind::String => value
            .get_item(&key)
            .ok()
            .filter(|v| !v.is_undefined())
            .ok_or_else(|| match value.kind() {
                ValueKind::Seq => python_error("IndexError: list index out of range"),
                ValueKind::String => python_error("IndexError: string index out of range"),
                _ => python_error(format!("KeyError: {}", py_repr(&key))),
            })?,
        _ => {
            return Err(python_error(format!(
                "'{}' object is not subscriptable",
                py_type_name(value)
            )))
        }
    };
    if !rest.is_empty() && !rest.starts_with(['.', '[']) {
        return Err(python_error(
            "Only '.' or '[' may follow ']' in format field specifier",
        ));
    }
    Ok((found, rest))
}

/// Python's `ascii()` of a `repr`: non-ASCII characters as `\xhh`, `\uhhhh` or `\Uhhhhhhhh`.
fn ascii(repr: &str) -> String {
    let mut out = String::with_capacity(repr.len());
    for c in repr.chars() {
        match c as u32 {
            0..=0x7f => out.push(c),
            n @ 0x80..=0xff => out.push_str(&format!("\\x{n:02x}")),
            n @ 0x100..=0xffff => out.push_str(&format!("\\u{n:04x}")),
            n => out.push_str(&format!("\\U{n:08x}")),
        }
    }
    out
}

#[cfg(test)]
mod tests;
