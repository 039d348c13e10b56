//! Python's text for a float: `repr(x)` and the `e`, `f`, `g` and `%` presentation types of
//! `format(x, spec)`.
//!
//! Rust's own formatter already rounds correctly from the exact binary value, as Python's
//! `dtoa` does (`'{:.0f}'.format(2.5)` is `2` in both), and gives the shortest digits that read
//! back to the same float (`repr`). What differs is only the layout: where Python switches to
//! an exponent, the exponent's sign and two-digit minimum (`1e+16`, `1e-05`), which zeros `g`
//! strips, and what `#` keeps. So this module takes the digits from `std::fmt` and lays them
//! out as CPython's `format_float_short` does.

/// One float's magnitude laid out, before sign, grouping and padding: the integer digits
/// (which `,` and `_` group) and the rest (decimal point, fraction, exponent, `%`).
pub(super) struct Magnitude {
    pub(super) digits: String,
    pub(super) rest: String,
}

impl Magnitude {
    fn from_text(text: String) -> Magnitude {
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let rest = text[split..].to_string();
        let mut digits = text;
        digits.truncate(split);
        Magnitude { digits, rest }
    }

    /// Whether every digit is zero (`-0.0`, or `-0.04` at one decimal): the `z` option drops
    /// the sign of such a result.
    pub(super) fn is_zero(&self) -> bool {
        self.digits
            .chars()
            .chain(self.rest.chars())
            .filter(char::is_ascii_alphanumeric)
            .take_while(|c| *c != 'e' && *c != 'E')
            .all(|c| c == '0')
    }
}

/// How a float is presented: the type letter of the spec, already resolved.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Style {
    /// No type and no precision: `repr(x)`.
    Repr,
    /// No type with a precision: like `g`, but a fixed result keeps one fractional digit and
    /// the exponent comes one place sooner (`format(100.0, '.3')` is `1e+02`).
    General {
        add_dot_zero: bool,
    },
    Exponent,
    Fixed,
    Percent,
}

/// `x`'s magnitude (its sign is the caller's) in `style`, `upper` for `E`, `F` and `G`.
pub(super) fn magnitude(
    x: f64,
    style: Style,
    precision: usize,
    alt: bool,
    upper: bool,
) -> Magnitude {
    let x = x.abs();
    let text = if x.is_nan() {
        "nan".to_string()
    } else if x.is_infinite() {
        "inf".to_string()
    } else {
        match style {
            Style::Repr => repr_magnitude(x),
            Style::General { add_dot_zero } => general(x, precision.max(1), alt, add_dot_zero),
            Style::Exponent => exponent(x, precision, alt),
            Style::Fixed => fixed(x, precision, alt),
            Style::Percent => fixed(x * 100.0, precision, alt),
        }
    };
    let mut text = if upper { text.to_uppercase() } else { text };
    if style == Style::Percent {
        text.push('%');
    }
    Magnitude::from_text(text)
}

/// `repr(x)` in Python: the shortest digits that read back as `x`, fixed from 1e-4 up to
/// 1e16 (always with a fractional digit), an exponent beyond.
pub(crate) fn py_float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if x.is_infinite() {
        return format!("{sign}inf");
    }
    format!("{sign}{}", repr_magnitude(x.abs()))
}

fn repr_magnitude(x: f64) -> String {
    let (digits, exp) = scientific(&format!("{x:e}"));
    if (-4..16).contains(&exp) {
        with_point(&digits, exp, false, true)
    } else {
        with_exponent(&digits, exp, false)
    }
}

fn general(x: f64, precision: usize, alt: bool, add_dot_zero: bool) -> String {
    let (digits, exp) = scientific(&format!("{x:.*e}", precision - 1));
    let fixed_below = if add_dot_zero {
        precision as i64 - 1
    } else {
        precision as i64
    };
    if exp < -4 || exp >= fixed_below {
        with_exponent(&digits, exp, alt)
    } else {
        with_point(&digits, exp, alt, add_dot_zero)
    }
}

fn exponent(x: f64, precision: usize, alt: bool) -> String {
    let (digits, exp) = scientific(&format!("{x:.precision$e}"));
    let mut out = digits[..1].to_string();
    if precision > 0 || alt {
        out.push('.');
    }
    out.push_str(&digits[1..]);
    push_exponent(&mut out, exp);
    out
}

fn fixed(x: f64, precision: usize, alt: bool) -> String {
    let mut out = format!("{x:.precision$}");
    if precision == 0 && alt {
        out.push('.');
    }
    out
}

/// Rust's `1.2345e3` as its digits (`12345`) and decimal exponent (`3`).
fn scientific(text: &str) -> (String, i64) {
    let (mantissa, exp) = text.split_once('e').unwrap_or((text, "0"));
    let digits = mantissa.replace('.', "");
    (digits, exp.parse().unwrap_or(0))
}

/// `digits` × 10^(exp + 1 − len) in fixed notation; `strip` unless `alt` drops the trailing
/// zeros of the fraction, `dot_zero` keeps at least one fractional digit.
fn with_point(digits: &str, exp: i64, alt: bool, dot_zero: bool) -> String {
    let (whole, fraction) = if exp >= 0 {
        let point = (exp as usize + 1).min(digits.len());
        let zeros = "0".repeat(exp as usize + 1 - point);
        (format!("{}{zeros}", &digits[..point]), &digits[point..])
    } else {
        let zeros = "0".repeat((-exp - 1) as usize);
        return finish_fraction("0".to_string(), &format!("{zeros}{digits}"), alt, dot_zero);
    };
    finish_fraction(whole, fraction, alt, dot_zero)
}

fn finish_fraction(whole: String, fraction: &str, alt: bool, dot_zero: bool) -> String {
    let fraction = if alt {
        fraction
    } else {
        fraction.trim_end_matches('0')
    };
    match (fraction.is_empty(), alt, dot_zero) {
        (false, _, _) => format!("{whole}.{fraction}"),
        (true, true, _) => format!("{whole}."),
        (true, false, true) => format!("{whole}.0"),
        (true, false, false) => whole,
    }
}

/// `d.ddd` and `e±NN`; trailing zeros of the fraction go unless `alt`.
fn with_exponent(digits: &str, exp: i64, alt: bool) -> String {
    let fraction = if alt {
        &digits[1..]
    } else {
        digits[1..].trim_end_matches('0')
    };
    let mut out = digits[..1].to_string();
    if !fraction.is_empty() || alt {
        out.push('.');
        out.push_str(fraction);
    }
    push_exponent(&mut out, exp);
    out
}

fn push_exponent(out: &mut String, exp: i64) {
    let sign = if exp < 0 { '-' } else { '+' };
    out.push_str(&format!("e{sign}{:02}", exp.abs()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_matches_python() {
        for (x, want) in [
            (1e16, "1e+16"),
            (1e-5, "1e-05"),
            (1e15, "1000000000000000.0"),
            (0.1, "0.1"),
            (-0.0, "-0.0"),
            (1.5e-7, "1.5e-07"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (0.0001, "0.0001"),
            (f64::NEG_INFINITY, "-inf"),
        ] {
            assert_eq!(py_float_repr(x), want, "{x}");
        }
    }
}
