//! Python's format specification mini-language: what comes after the `:` in `'{:>8,.2f}'`, and
//! `format(value, spec)` for the values a template holds (text, integers, floats, booleans;
//! anything else only with an empty spec, as `object.__format__` allows).
//!
//! The parse and the checks follow CPython's `Python/formatter_unicode.c` in order, so that a
//! spec Python refuses is refused here with Python's message, which Ansible shows the user.

use minijinja::value::{Value, ValueKind};

use super::float::{self, Magnitude, Style};
use crate::repr::{py_string, py_type_name};

/// The widest field or longest precision accepted. Python accepts more and then runs out of
/// memory (`MemoryError`); here the whole host's task would go with it.
pub(crate) const MAX_FIELD: usize = 10_000_000;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Right,
    Center,
    /// `=`: padding between the sign (and `0x`) and the digits.
    AfterSign,
}

/// One parsed spec: `[[fill]align][sign][z][#][0][width][grouping][.precision][type]`.
struct Spec {
    fill: char,
    align: Option<Align>,
    sign: Option<char>,
    no_negative_zero: bool,
    alternate: bool,
    width: usize,
    grouping: Option<char>,
    precision: Option<usize>,
    kind: Option<char>,
}

/// `format(value, spec)` in Python, or Python's error message.
pub(super) fn format_value(value: &Value, spec: &str) -> Result<String, String> {
    if spec.is_empty() {
        return Ok(match value.kind() {
            ValueKind::Number if !value.is_integer() => float::py_float_repr(as_float(value)),
            ValueKind::Bool => (if value.is_true() { "True" } else { "False" }).to_string(),
            _ => py_string(value),
        });
    }
    let type_name = py_type_name(value);
    match value.kind() {
        ValueKind::String => {
            let spec = Spec::parse(spec, type_name, Align::Left)?;
            format_text(value.as_str().unwrap_or_default(), &spec)
        }
        ValueKind::Bool => {
            let spec = Spec::parse(spec, type_name, Align::Right)?;
            format_number(i128::from(value.is_true()), &spec, type_name)
        }
        ValueKind::Number if value.is_integer() => {
            let spec = Spec::parse(spec, type_name, Align::Right)?;
            let n = i128::try_from(value.clone()).map_err(|e| e.to_string())?;
            format_number(n, &spec, type_name)
        }
        ValueKind::Number => {
            let spec = Spec::parse(spec, type_name, Align::Right)?;
            format_float(as_float(value), &spec)
        }
        _ => Err(format!(
            "unsupported format string passed to {type_name}.__format__"
        )),
    }
}

fn as_float(value: &Value) -> f64 {
    f64::try_from(value.clone()).unwrap_or(f64::NAN)
}

impl Spec {
    fn parse(text: &str, type_name: &str, default_align: Align) -> Result<Spec, String> {
        let chars: Vec<char> = text.chars().collect();
        let mut at = 0;
        let mut spec = Spec {
            fill: ' ',
            align: None,
            sign: None,
            no_negative_zero: false,
            alternate: false,
            width: 0,
            grouping: None,
            precision: None,
            kind: None,
        };
        let mut fill_given = false;
        if let Some(align) = chars.get(1).and_then(|c| align_of(*c)) {
            (spec.fill, spec.align, fill_given, at) = (chars[0], Some(align), true, 2);
        } else if let Some(align) = chars.first().and_then(|c| align_of(*c)) {
            (spec.align, at) = (Some(align), 1);
        }
        let mut take = |wanted: &[char]| match chars.get(at) {
            Some(c) if wanted.contains(c) => {
                at += 1;
                Some(*c)
            }
            _ => None,
        };
        spec.sign = take(&['+', '-', ' ']);
        spec.no_negative_zero = take(&['z']).is_some();
        spec.alternate = take(&['#']).is_some();
        if !fill_given && take(&['0']).is_some() {
            spec.fill = '0';
            if spec.align.is_none() && default_align == Align::Right {
                spec.align = Some(Align::AfterSign);
            }
        }
        spec.width = number(&chars, &mut at)?.unwrap_or(0);
        spec.grouping = chars.get(at).copied().filter(|c| *c == ',' || *c == '_');
        if spec.grouping.is_some() {
            at += 1;
            if let Some(',' | '_') = chars.get(at) {
                return Err("Cannot specify both ',' and '_'.".to_string());
            }
        }
        if chars.get(at) == Some(&'.') {
            at += 1;
            spec.precision = number(&chars, &mut at)?;
            if spec.precision.is_none() {
                return Err("Format specifier missing precision".to_string());
            }
        }
        match &chars[at..] {
            [] => {}
            [kind] => spec.kind = Some(*kind),
            _ => {
                return Err(format!(
                    "Invalid format specifier '{text}' for object of type '{type_name}'"
                ))
            }
        }
        if spec.align.is_none() {
            spec.align = Some(default_align);
        }
        spec.check_grouping()?;
        Ok(spec)
    }

    fn check_grouping(&self) -> Result<(), String> {
        let Some(separator) = self.grouping else {
            return Ok(());
        };
        match self.kind {
            None | Some('d' | 'e' | 'f' | 'g' | 'E' | 'G' | '%' | 'F') => Ok(()),
            Some('b' | 'o' | 'x' | 'X') if separator == '_' => Ok(()),
            Some(kind) => Err(format!("Cannot specify '{separator}' with '{kind}'.")),
        }
    }

    fn align(&self) -> Align {
        self.align.unwrap_or(Align::Right)
    }
}

fn align_of(c: char) -> Option<Align> {
    match c {
        '<' => Some(Align::Left),
        '>' => Some(Align::Right),
        '^' => Some(Align::Center),
        '=' => Some(Align::AfterSign),
        _ => None,
    }
}

/// A run of decimal digits (a width or a precision), refused past [`MAX_FIELD`].
fn number(chars: &[char], at: &mut usize) -> Result<Option<usize>, String> {
    let start = *at;
    let mut n: usize = 0;
    while let Some(d) = chars.get(*at).and_then(|c| c.to_digit(10)) {
        n = n.saturating_mul(10).saturating_add(d as usize);
        *at += 1;
    }
    if n > MAX_FIELD {
        return Err("Too many decimal digits in format string".to_string());
    }
    Ok((*at > start).then_some(n))
}

fn format_text(text: &str, spec: &Spec) -> Result<String, String> {
    if spec.sign.is_some() {
        return Err("Sign not allowed in string format specifier".to_string());
    }
    if spec.no_negative_zero {
        return Err(
            "Negative zero coercion (z) not allowed in string format specifier".to_string(),
        );
    }
    if spec.alternate {
        return Err("Alternate form (#) not allowed in string format specifier".to_string());
    }
    if spec.align() == Align::AfterSign {
        return Err("'=' alignment not allowed in string format specifier".to_string());
    }
    if let Some(kind) = spec.kind.filter(|k| *k != 's') {
        return Err(unknown_code(kind, "str"));
    }
    let shown: String = match spec.precision {
        Some(p) => text.chars().take(p).collect(),
        None => text.to_string(),
    };
    Ok(pad(spec, "", &shown))
}

fn unknown_code(kind: char, type_name: &str) -> String {
    format!("Unknown format code '{kind}' for object of type '{type_name}'")
}

/// An integer (or a boolean, which Python formats as one under a non-empty spec).
fn format_number(n: i128, spec: &Spec, type_name: &str) -> Result<String, String> {
    let radix = match spec.kind {
        Some('e' | 'E' | 'f' | 'F' | 'g' | 'G' | '%') => return format_float(n as f64, spec),
        None | Some('d' | 'n' | 'c') => 10,
        Some('b') => 2,
        Some('o') => 8,
        Some('x' | 'X') => 16,
        Some(kind) => return Err(unknown_code(kind, type_name)),
    };
    if spec.precision.is_some() {
        return Err("Precision not allowed in integer format specifier".to_string());
    }
    if spec.no_negative_zero {
        return Err(
            "Negative zero coercion (z) not allowed in integer format specifier".to_string(),
        );
    }
    if spec.kind == Some('c') {
        return format_character(n, spec);
    }
    let magnitude = n.unsigned_abs();
    let digits = match spec.kind {
        Some('b') => format!("{magnitude:b}"),
        Some('o') => format!("{magnitude:o}"),
        Some('x') => format!("{magnitude:x}"),
        Some('X') => format!("{magnitude:X}"),
        _ => magnitude.to_string(),
    };
    let prefix = match (spec.alternate, spec.kind) {
        (true, Some('b')) => "0b",
        (true, Some('o')) => "0o",
        (true, Some('x')) => "0x",
        (true, Some('X')) => "0X",
        _ => "",
    };
    let sign = sign_text(n < 0, spec);
    let interval = if radix == 10 { 3 } else { 4 };
    Ok(lay_out_number(spec, sign, prefix, &digits, "", interval))
}

fn format_character(n: i128, spec: &Spec) -> Result<String, String> {
    if spec.sign.is_some() {
        return Err("Sign not allowed with integer format specifier 'c'".to_string());
    }
    if spec.alternate {
        return Err("Alternate form (#) not allowed with integer format specifier 'c'".to_string());
    }
    let c = u32::try_from(n)
        .ok()
        .and_then(char::from_u32)
        .ok_or_else(|| "%c arg not in range(0x110000)".to_string())?;
    Ok(pad(spec, "", &c.to_string()))
}

fn format_float(x: f64, spec: &Spec) -> Result<String, String> {
    let upper = matches!(spec.kind, Some('E' | 'F' | 'G'));
    let (style, default_precision) = match (spec.kind, spec.precision) {
        (None, None) => (Style::Repr, 0),
        (None, Some(_)) => (Style::General { add_dot_zero: true }, 0),
        (Some('g' | 'G' | 'n'), _) => (
            Style::General {
                add_dot_zero: false,
            },
            6,
        ),
        (Some('e' | 'E'), _) => (Style::Exponent, 6),
        (Some('f' | 'F'), _) => (Style::Fixed, 6),
        (Some('%'), _) => (Style::Percent, 6),
        (Some(kind), _) => return Err(unknown_code(kind, "float")),
    };
    let precision = spec.precision.unwrap_or(default_precision);
    let magnitude = float::magnitude(x, style, precision, spec.alternate, upper);
    let negative = x.is_sign_negative() && !x.is_nan();
    let negative = negative && !(spec.no_negative_zero && magnitude.is_zero());
    let Magnitude { digits, rest } = magnitude;
    Ok(lay_out_number(
        spec,
        sign_text(negative, spec),
        "",
        &digits,
        &rest,
        3,
    ))
}

fn sign_text(negative: bool, spec: &Spec) -> &'static str {
    match (negative, spec.sign) {
        (true, _) => "-",
        (false, Some('+')) => "+",
        (false, Some(' ')) => " ",
        _ => "",
    }
}

/// Sign, prefix, grouped digits and the rest, padded to the width as CPython's
/// `fill_number` does. With `0` padding after the sign, the padding zeros are grouped too
/// (`'{:08,}'.format(1234)` is `0,001,234`, nine characters: a separator never leads).
fn lay_out_number(
    spec: &Spec,
    sign: &str,
    prefix: &str,
    digits: &str,
    rest: &str,
    interval: usize,
) -> String {
    let grouped = match spec.grouping {
        Some(separator) => {
            let fixed = sign.len() + prefix.len() + rest.chars().count();
            let min_width = if spec.fill == '0' && spec.align() == Align::AfterSign {
                spec.width.saturating_sub(fixed)
            } else {
                0
            };
            group(digits, separator, interval, min_width)
        }
        None => digits.to_string(),
    };
    pad(
        spec,
        &format!("{sign}{prefix}"),
        &format!("{grouped}{rest}"),
    )
}

/// `digits` in groups of `interval` from the right, zero-padded to `min_width` characters.
fn group(digits: &str, separator: char, interval: usize, min_width: usize) -> String {
    let mut groups: Vec<String> = Vec::new();
    let mut remaining = digits.len();
    let mut min_width = min_width as i64;
    loop {
        let size = interval.min(remaining.max(min_width.max(1) as usize));
        let taken = remaining.min(size);
        let zeros = size - taken;
        groups.push(format!(
            "{}{}",
            "0".repeat(zeros),
            &digits[remaining - taken..remaining]
        ));
        remaining -= taken;
        min_width -= size as i64;
        if remaining == 0 && min_width <= 0 {
            break;
        }
        min_width -= 1;
    }
    groups.reverse();
    groups.join(&separator.to_string())
}

/// `lead` (sign and prefix) and `body`, padded with the fill to the width.
fn pad(spec: &Spec, lead: &str, body: &str) -> String {
    let length = lead.chars().count() + body.chars().count();
    let missing = spec.width.saturating_sub(length);
    let fill = |n: usize| spec.fill.to_string().repeat(n);
    match spec.align() {
        Align::Left => format!("{lead}{body}{}", fill(missing)),
        Align::Right => format!("{}{lead}{body}", fill(missing)),
        Align::AfterSign => format!("{lead}{}{body}", fill(missing)),
        Align::Center => {
            let left = missing / 2;
            format!("{}{lead}{body}{}", fill(left), fill(missing - left))
        }
    }
}
