//! Python's `%` formatting of a string (`'%s-%05d' % (name, n)`, `'%(host)s' % vars`), which
//! Jinja2 in Ansible evaluates as Python does and Jinja2's `format` filter calls
//! (`'%s' | format(x)` is `'%s' % (x,)`).
//!
//! Each conversion (`%[(key)][flags][width][.precision]type`) is turned into the equivalent
//! `str.format` spec and formatted by `spec.rs`, so both of Python's formatting languages
//! share one implementation of padding, signs, bases and float digits.

use minijinja::value::{Value, ValueKind};

use super::spec::{self, MAX_FIELD};
use crate::repr::{py_repr, py_string, py_type_name};

/// What stands right of the `%`: a tuple's items, a mapping for `%(key)s`, or one value.
pub(crate) enum Args<'a> {
    Positional(&'a [Value]),
    Mapping(&'a Value),
    Single(&'a Value),
}

/// `format % args` in Python, or Python's error message.
pub(crate) fn percent_format(format: &str, args: Args<'_>) -> Result<String, String> {
    let (positional, mapping): (Vec<Value>, Option<&Value>) = match args {
        Args::Positional(items) => (items.to_vec(), None),
        Args::Mapping(map) => (Vec::new(), Some(map)),
        Args::Single(value) if value.kind() == ValueKind::Map => (vec![value.clone()], Some(value)),
        Args::Single(value) => (vec![value.clone()], None),
    };
    let mut next = positional.iter();
    let mut out = String::with_capacity(format.len());
    let mut rest = format;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let (text, after) = conversion(&rest[at + 1..], &mut next, mapping)?;
        out.push_str(&text);
        rest = after;
    }
    out.push_str(rest);
    // a mapping may hold more than the format uses; a tuple may not
    if next.next().is_some() && mapping.is_none() {
        return Err("not all arguments converted during string formatting".to_string());
    }
    Ok(out)
}

/// One conversion after its `%`: its text and what follows it.
fn conversion<'f>(
    text: &'f str,
    next: &mut std::slice::Iter<'_, Value>,
    mapping: Option<&Value>,
) -> Result<(String, &'f str), String> {
    let mut rest = text;
    let mut keyed: Option<Value> = None;
    if let Some(after) = rest.strip_prefix('(') {
        let map = mapping.ok_or("format requires a mapping")?;
        let close = after.find(')').ok_or("incomplete format key")?;
        let key = &after[..close];
        keyed = Some(
            map.get_item(&Value::from(key))
                .ok()
                .filter(|v| !v.is_undefined())
                .ok_or_else(|| format!("KeyError: {}", py_repr(&Value::from(key))))?,
        );
        rest = &after[close + 1..];
    }
    let flags_end = rest.find(|c| !"#0- +".contains(c)).unwrap_or(rest.len());
    let flags = &rest[..flags_end];
    rest = &rest[flags_end..];
    let mut take_arg = || -> Result<Value, String> {
        next.next()
            .cloned()
            .ok_or_else(|| "not enough arguments for format string".to_string())
    };
    let mut number = |rest: &mut &'f str, what: &str| -> Result<Option<usize>, String> {
        if let Some(after) = rest.strip_prefix('*') {
            *rest = after;
            let n = take_arg()?;
            return usize::try_from(n.clone())
                .map(Some)
                .map_err(|_| "* wants int".to_string());
        }
        let end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let digits = &rest[..end];
        *rest = &rest[end..];
        if digits.is_empty() {
            return Ok(None);
        }
        match digits.parse::<usize>() {
            Ok(n) if n <= MAX_FIELD => Ok(Some(n)),
            _ => Err(format!("{what} too big")),
        }
    };
    let width = number(&mut rest, "width")?;
    let precision = match rest.strip_prefix('.') {
        Some(after) => {
            rest = after;
            Some(number(&mut rest, "precision")?.unwrap_or(0))
        }
        None => None,
    };
    // length modifiers are accepted and ignored, as in Python
    rest = rest.trim_start_matches(['h', 'l', 'L']);
    let mut chars = rest.chars();
    let kind = chars
        .next()
        .ok_or_else(|| "incomplete format".to_string())?;
    let rest = chars.as_str();
    if kind == '%' {
        return Ok(("%".to_string(), rest));
    }
    let value = match keyed {
        Some(value) => value,
        None => take_arg()?,
    };
    let field = Field {
        flags,
        width,
        precision,
        kind,
    };
    Ok((field.format(&value)?, rest))
}

/// One conversion's parts.
struct Field<'f> {
    flags: &'f str,
    width: Option<usize>,
    precision: Option<usize>,
    kind: char,
}

impl Field<'_> {
    fn format(&self, value: &Value) -> Result<String, String> {
        match self.kind {
            's' => self.pad(py_string(value), self.precision),
            'r' => self.pad(py_repr(value), self.precision),
            'a' => self.pad(super::ascii(&py_repr(value)), self.precision),
            'c' => self.pad(character(value)?, None),
            'd' | 'i' | 'u' | 'o' | 'x' | 'X' | 'e' | 'E' | 'f' | 'F' | 'g' | 'G' => {
                self.number(value)
            }
            other => Err(format!(
                "unsupported format character '{other}' (0x{:x})",
                other as u32
            )),
        }
    }

    /// `text` padded with spaces to the width (on the right with `-`), cut to `cut`
    /// characters.
    fn pad(&self, text: String, cut: Option<usize>) -> Result<String, String> {
        let align = if self.flags.contains('-') { '<' } else { '>' };
        let width = self.width.map(|w| w.to_string()).unwrap_or_default();
        let cut = cut.map(|p| format!(".{p}")).unwrap_or_default();
        spec::format_value(&Value::from(text), &format!("{align}{width}{cut}"))
    }

    fn number(&self, value: &Value) -> Result<String, String> {
        let integral = matches!(self.kind, 'd' | 'i' | 'u' | 'o' | 'x' | 'X');
        let number = match value.kind() {
            ValueKind::Number | ValueKind::Bool => value.clone(),
            _ => {
                let wanted = if matches!(self.kind, 'o' | 'x' | 'X') {
                    "an integer is required"
                } else {
                    "a real number is required"
                };
                return Err(format!(
                    "%{} format: {wanted}, not {}",
                    self.kind,
                    py_type_name(value)
                ));
            }
        };
        let number = if integral && !number.is_integer() && number.kind() != ValueKind::Bool {
            if !matches!(self.kind, 'd' | 'i' | 'u') {
                return Err(format!(
                    "%{} format: an integer is required, not float",
                    self.kind
                ));
            }
            let f = f64::try_from(number).unwrap_or(0.0);
            Value::from(f.trunc() as i128)
        } else if !integral {
            Value::from(f64::try_from(number).unwrap_or(f64::NAN))
        } else {
            number
        };
        let sign = if self.flags.contains('+') {
            "+"
        } else if self.flags.contains(' ') {
            " "
        } else {
            ""
        };
        let alternate = if self.flags.contains('#') { "#" } else { "" };
        let align = if self.flags.contains('-') {
            "<"
        } else if self.flags.contains('0') {
            "0="
        } else {
            ">"
        };
        let kind = match self.kind {
            'i' | 'u' => 'd',
            k => k,
        };
        if let (true, Some(digits)) = (integral, self.precision) {
            // `%.3d` pads the digits in Python; a format spec has no precision for integers
            let bare = spec::format_value(&number, &format!("{sign}{alternate}{kind}"))?;
            return self.pad(pad_digits(&bare, digits), None);
        }
        let width = self.width.map(|w| w.to_string()).unwrap_or_default();
        let precision = self.precision.map(|p| format!(".{p}")).unwrap_or_default();
        spec::format_value(
            &number,
            &format!("{align}{sign}{alternate}{width}{precision}{kind}"),
        )
    }
}

/// `%c`'s character: a one-character string, or the character of a code point.
fn character(value: &Value) -> Result<String, String> {
    match (value.as_str(), i64::try_from(value.clone())) {
        (Some(s), _) if s.chars().count() == 1 => Ok(s.to_string()),
        (None, Ok(n)) => u32::try_from(n)
            .ok()
            .and_then(char::from_u32)
            .map(String::from)
            .ok_or_else(|| "%c arg not in range(0x110000)".to_string()),
        _ => Err("%c requires an int or a unicode character".to_string()),
    }
}

/// `%.5d`: at least `digits` digits, zeros after the sign and the `0x` of `%#.4x`.
fn pad_digits(bare: &str, digits: usize) -> String {
    let sign_len = usize::from(bare.starts_with(['+', '-', ' ']));
    let (sign, rest) = bare.split_at(sign_len);
    let (prefix, number) = match rest.get(..2) {
        Some("0x" | "0X" | "0o") => rest.split_at(2),
        _ => ("", rest),
    };
    let zeros = digits.saturating_sub(number.len());
    format!("{sign}{prefix}{}{number}", "0".repeat(zeros))
}
