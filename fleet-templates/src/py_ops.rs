//! Python's `-`, `+` and `**` where minijinja's refuse: `when - now()` on datetimes, and
//! `2 ** -1` (Python's `0.5`; minijinja's integer power takes no negative exponent).
//!
//! As with `%` (`percent_op`, whose scanner this shares), minijinja has no hook for
//! operators, so a template whose operation fails is rewritten at minijinja's span of it:
//! `L - R` becomes `(L) | fleet_py_binop('-', (R))`, and the filter computes what Python
//! would (`datetime::binop`), or fails with Python's `unsupported operand type(s)`. Only
//! failures that involve an object (`plain` in minijinja's words) or a negative power are
//! rewritten; every other error stays minijinja's, and templates that never fail never pay.

use minijinja::value::Value;
use minijinja::{Environment, Error, ErrorKind};

use crate::percent_op::outside_strings;

/// The filter the rewrite calls.
const FILTER: &str = "fleet_py_binop";

pub(crate) fn register(env: &mut Environment<'static>) {
    env.add_filter(FILTER, |left: &Value, op: &str, right: &Value| {
        if op == "**" {
            return power(left, right);
        }
        crate::datetime::binop(op, left, right).unwrap_or_else(|| {
            Err(Error::new(
                ErrorKind::InvalidOperation,
                format!(
                    "unsupported operand type(s) for {op}: '{}' and '{}'",
                    crate::repr::py_type_name(left),
                    crate::repr::py_type_name(right)
                ),
            ))
        })
    });
}

/// `left ** right` for an integer raised to a negative integer: a float, as in Python.
fn power(left: &Value, right: &Value) -> Result<Value, Error> {
    let (Ok(base), Ok(exp)) = (f64::try_from(left.clone()), i64::try_from(right.clone())) else {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("unable to calculate {left} ** {right}"),
        ));
    };
    if base == 0.0 && exp < 0 {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "0.0 cannot be raised to a negative power",
        ));
    }
    Ok(Value::from(base.powf(exp as f64)))
}

/// `src` with the failing `-`, `+` or `**` at minijinja's span rewritten into the filter
/// call, when `err` is one this module answers.
pub(crate) fn rewrite(src: &str, err: &Error) -> Option<String> {
    let detail = err.detail()?;
    if err.kind() != ErrorKind::InvalidOperation || detail.contains("undefined") {
        return None;
    }
    let op = if detail.starts_with("tried to use - operator") && detail.contains("plain") {
        "-"
    } else if detail.starts_with("tried to use + operator") && detail.contains("plain") {
        "+"
    } else if detail.starts_with("unable to calculate") && detail.contains(" ** -") {
        "**"
    } else {
        return None;
    };
    let range = err.range().filter(|r| r.end <= src.len())?;
    let span = src.get(range.clone())?;
    let at = operator_at(span, op)?;
    let (left, right) = (span[..at].trim(), span[at + op.len()..].trim());
    if left.is_empty() || right.is_empty() {
        return None;
    }
    let call = format!("(({left}) | {FILTER}('{op}', ({right})))");
    Some(format!(
        "{}{call}{}",
        &src[..range.start],
        &src[range.end..]
    ))
}

/// Where the span's own operator is: `**` binds right to left, so its first one at the top
/// level; `+` and `-` left to right, so their last one that is binary (after an operand, not
/// after another operator or in a number's exponent like `1e-5`).
fn operator_at(span: &str, op: &str) -> Option<usize> {
    let chars: Vec<(usize, char, usize)> = outside_strings(span);
    if op == "**" {
        return chars
            .windows(2)
            .find(|w| w[0].1 == '*' && w[1].1 == '*' && w[0].2 == 0 && w[1].0 == w[0].0 + 1)
            .map(|w| w[0].0);
    }
    let sign = op.chars().next()?;
    (0..chars.len()).rev().find_map(|i| {
        let (at, c, depth) = chars[i];
        if c != sign || depth != 0 {
            return None;
        }
        let mut prior = chars[..i]
            .iter()
            .rev()
            .map(|&(_, c, _)| c)
            .filter(|c| !c.is_whitespace());
        let prev = prior.next()?;
        let operand_end =
            prev.is_alphanumeric() || matches!(prev, '_' | ')' | ']' | '}' | '\'' | '"');
        let exponent = matches!(prev, 'e' | 'E')
            && prior.next().is_some_and(|c| c.is_ascii_digit())
            && is_number_end(&span[..at]);
        (operand_end && !exponent).then_some(at)
    })
}

/// Whether the text ends in a number's mantissa and `e` (`1.5e`), not a name (`date`).
fn is_number_end(text: &str) -> bool {
    let word: String = text
        .trim_end()
        .chars()
        .rev()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
        .collect();
    word.chars().last().is_some_and(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_operator() {
        assert_eq!(operator_at("a - b", "-"), Some(2));
        assert_eq!(operator_at("(x | f) - (y | f)", "-"), Some(8));
        assert_eq!(operator_at("a - -1", "-"), Some(2));
        assert_eq!(operator_at("a - 1e-5", "-"), Some(2));
        assert_eq!(operator_at("date - d2", "-"), Some(5));
        assert_eq!(operator_at("'a-b' + c", "+"), Some(6));
        assert_eq!(operator_at("2 ** -1", "**"), Some(2));
        assert_eq!(operator_at("2 ** 3 ** -1", "**"), Some(2));
    }
}
