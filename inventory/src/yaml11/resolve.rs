//! YAML 1.1 implicit typing of plain scalars, as PyYAML (hence Ansible) resolves them.
//!
//! Rust YAML parsers follow YAML 1.2, where `yes` is a string and `0644` is decimal. Ansible reads
//! YAML 1.1, so we re-implement PyYAML's resolver regexes and constructors here.

use super::marked::MarkedValue;

/// Resolves an unquoted (plain) scalar the way PyYAML's `SafeLoader` does.
///
/// Integers that do not fit in an `i64` stay strings (Python would make a big int, JSON cannot).
pub fn resolve_plain(text: &str) -> MarkedValue {
    if is_null(text) {
        return MarkedValue::Null;
    }
    if let Some(b) = parse_bool(text) {
        return MarkedValue::Bool(b);
    }
    if let Some(v) = parse_int(text) {
        return v;
    }
    if let Some(f) = parse_float(text) {
        return MarkedValue::Float(f);
    }
    MarkedValue::Str(text.to_string())
}

/// `~`, `null`, `Null`, `NULL` or the empty scalar.
pub fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// YAML 1.1 booleans as PyYAML knows them (`y`/`n` are deliberately not booleans there).
pub fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => Some(true),
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

/// Splits an optional leading sign; returns (negative, rest).
fn split_sign(text: &str) -> (bool, &str) {
    match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    }
}

/// True if `s` is non-empty and every byte satisfies `f` or is `_`.
fn all_digits_or_underscore(s: &str, f: impl Fn(u8) -> bool) -> bool {
    !s.is_empty() && s.bytes().all(|b| b == b'_' || f(b))
}

/// PyYAML's int resolver: `0b…`, `0x…`, `0…` (octal), decimal with `_`, and sexagesimal `1:30`.
///
/// Returns `Some(Str)` for an int-shaped scalar too large for `i64`, `None` if not int-shaped.
pub fn parse_int(text: &str) -> Option<MarkedValue> {
    let (neg, body) = split_sign(text);
    let (digits, radix) = if let Some(rest) = body.strip_prefix("0b") {
        if !all_digits_or_underscore(rest, |b| b == b'0' || b == b'1') {
            return None;
        }
        (rest, 2)
    } else if let Some(rest) = body.strip_prefix("0x") {
        if !all_digits_or_underscore(rest, |b| b.is_ascii_hexdigit()) {
            return None;
        }
        (rest, 16)
    } else if body.len() > 1 && body.starts_with('0') {
        if !all_digits_or_underscore(&body[1..], |b| (b'0'..=b'7').contains(&b)) {
            return None;
        }
        (body, 8)
    } else if body == "0" {
        (body, 10)
    } else if body.starts_with(|c: char| c.is_ascii_digit() && c != '0') {
        if body.contains(':') {
            return parse_sexagesimal_int(neg, body).map(|v| big_or_int(v, text));
        }
        if !all_digits_or_underscore(body, |b| b.is_ascii_digit()) {
            return None;
        }
        (body, 10)
    } else {
        return None;
    };
    let cleaned: String = digits.chars().filter(|&c| c != '_').collect();
    if cleaned.is_empty() {
        // "0b_" / "0x_" match PyYAML's regex and then fail in int(); treat as a string.
        return Some(MarkedValue::Str(text.to_string()));
    }
    let value = i128::from_str_radix(&cleaned, radix).ok();
    Some(big_or_int(value.map(|v| if neg { -v } else { v }), text))
}

/// An `Int` if the value fits in i64, otherwise the original text.
fn big_or_int(value: Option<i128>, text: &str) -> MarkedValue {
    match value.and_then(|v| i64::try_from(v).ok()) {
        Some(v) => MarkedValue::Int(v),
        None => MarkedValue::Str(text.to_string()),
    }
}

/// `[1-9][0-9_]*(:[0-5]?[0-9])+` → base-60 value.
fn parse_sexagesimal_int(neg: bool, body: &str) -> Option<Option<i128>> {
    let mut parts = body.split(':');
    let head = parts.next()?;
    if !all_digits_or_underscore(head, |b| b.is_ascii_digit()) {
        return None;
    }
    let mut value: Option<i128> = head.replace('_', "").parse().ok();
    for part in parts {
        let digit = sexagesimal_digit(part)?;
        value = value
            .and_then(|v| v.checked_mul(60))
            .and_then(|v| v.checked_add(digit));
    }
    Some(value.map(|v| if neg { -v } else { v }))
}

/// One `[0-5]?[0-9]` group of a sexagesimal number.
fn sexagesimal_digit(part: &str) -> Option<i128> {
    let b = part.as_bytes();
    let ok = match b.len() {
        1 => b[0].is_ascii_digit(),
        2 => (b'0'..=b'5').contains(&b[0]) && b[1].is_ascii_digit(),
        _ => false,
    };
    if ok {
        part.parse().ok()
    } else {
        None
    }
}

/// PyYAML's float resolver (a `.` is required; exponents need a sign; `.inf`, `.nan`, base 60).
pub fn parse_float(text: &str) -> Option<f64> {
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    if let Some(rest) = text.strip_prefix('.') {
        // `\.[0-9][0-9_]*([eE][-+][0-9]+)?` (no sign allowed in this form)
        if !rest.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        return decimal_float(false, "0", rest);
    }
    let (neg, body) = split_sign(text);
    let (int_part, frac) = body.split_once('.')?;
    if !int_part.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    if int_part.contains(':') {
        return sexagesimal_float(neg, int_part, frac);
    }
    if !all_digits_or_underscore(int_part, |b| b.is_ascii_digit()) {
        return None;
    }
    decimal_float(neg, int_part, frac)
}

/// `int.frac[eE][-+]exp` where `frac` may be empty and contain `_`.
fn decimal_float(neg: bool, int_part: &str, frac_and_exp: &str) -> Option<f64> {
    let (frac, exp) = match frac_and_exp.find(['e', 'E']) {
        Some(i) => (&frac_and_exp[..i], Some(&frac_and_exp[i + 1..])),
        None => (frac_and_exp, None),
    };
    if !frac.bytes().all(|b| b == b'_' || b.is_ascii_digit()) {
        return None;
    }
    if let Some(exp) = exp {
        let digits = exp.strip_prefix(['-', '+'])?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    let mut s = String::with_capacity(int_part.len() + frac_and_exp.len() + 3);
    if neg {
        s.push('-');
    }
    s.extend(int_part.chars().filter(|&c| c != '_'));
    s.push('.');
    s.extend(frac.chars().filter(|&c| c != '_'));
    s.push('0');
    if let Some(exp) = exp {
        s.push('e');
        s.push_str(exp);
    }
    s.parse().ok()
}

/// `[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*` → base-60 float.
fn sexagesimal_float(neg: bool, int_part: &str, frac: &str) -> Option<f64> {
    if !frac.bytes().all(|b| b == b'_' || b.is_ascii_digit()) {
        return None;
    }
    let mut parts = int_part.split(':');
    let head = parts.next()?;
    if !all_digits_or_underscore(head, |b| b.is_ascii_digit()) {
        return None;
    }
    let mut value: f64 = head.replace('_', "").parse().ok()?;
    let mut last_digit_seen = false;
    for part in parts {
        value = value * 60.0 + sexagesimal_digit(part)? as f64;
        last_digit_seen = true;
    }
    if !last_digit_seen {
        return None;
    }
    let frac: String = frac.chars().filter(|&c| c != '_').collect();
    let frac_value: f64 = format!("0.{frac}0").parse().ok()?;
    let value = value + frac_value;
    Some(if neg { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;
    use MarkedValue::*;

    #[test]
    fn booleans_follow_pyyaml() {
        for t in ["yes", "Yes", "YES", "on", "ON", "true", "True", "TRUE"] {
            assert_eq!(resolve_plain(t), Bool(true), "{t}");
        }
        for t in ["no", "No", "NO", "off", "Off", "false", "False", "FALSE"] {
            assert_eq!(resolve_plain(t), Bool(false), "{t}");
        }
        for t in ["y", "n", "Y", "N", "yES", "tRUE"] {
            assert_eq!(resolve_plain(t), Str(t.into()), "{t}");
        }
    }

    #[test]
    fn nulls() {
        for t in ["", "~", "null", "Null", "NULL"] {
            assert_eq!(resolve_plain(t), Null);
        }
        assert_eq!(resolve_plain("nULL"), Str("nULL".into()));
    }

    #[test]
    fn integers() {
        assert_eq!(resolve_plain("0644"), Int(420));
        assert_eq!(resolve_plain("-010"), Int(-8));
        assert_eq!(resolve_plain("0x1F"), Int(31));
        assert_eq!(resolve_plain("0x_1f"), Int(31));
        assert_eq!(resolve_plain("0b101"), Int(5));
        assert_eq!(resolve_plain("1_000"), Int(1000));
        assert_eq!(resolve_plain("+12"), Int(12));
        assert_eq!(resolve_plain("0"), Int(0));
        assert_eq!(resolve_plain("-0"), Int(0));
        assert_eq!(resolve_plain("190:20:30"), Int(685_230));
        assert_eq!(resolve_plain("0o644"), Str("0o644".into()));
        assert_eq!(resolve_plain("08"), Str("08".into()));
        assert_eq!(resolve_plain("0x"), Str("0x".into()));
        assert_eq!(resolve_plain("0b_"), Str("0b_".into()));
        assert_eq!(resolve_plain("1:60"), Str("1:60".into()));
        assert_eq!(
            resolve_plain("99999999999999999999"),
            Str("99999999999999999999".into())
        );
        assert_eq!(resolve_plain("12abc"), Str("12abc".into()));
    }

    #[test]
    fn floats() {
        assert_eq!(resolve_plain("1.0"), Float(1.0));
        assert_eq!(resolve_plain("1."), Float(1.0));
        assert_eq!(resolve_plain("-2.5"), Float(-2.5));
        assert_eq!(resolve_plain(".5"), Float(0.5));
        assert_eq!(resolve_plain("1_000.5"), Float(1000.5));
        assert_eq!(resolve_plain("6.8523015e+5"), Float(685_230.15));
        assert_eq!(resolve_plain("190:20:30.15"), Float(685_230.15));
        assert_eq!(resolve_plain(".inf"), Float(f64::INFINITY));
        assert_eq!(resolve_plain("-.Inf"), Float(f64::NEG_INFINITY));
        assert!(matches!(resolve_plain(".NaN"), Float(f) if f.is_nan()));
        // YAML 1.2-only spellings stay strings under 1.1.
        for t in ["1e3", "1.0e3", "-.5", "1.2.3", ".", "inf", "nan", "1.5x"] {
            assert_eq!(resolve_plain(t), Str(t.into()), "{t}");
        }
    }
}
