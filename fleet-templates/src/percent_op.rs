//! Python's `%` on a string in a template: `{{ '%s-%02d' % (name, n) }}`. minijinja's `%` is
//! the remainder of numbers only, and has no hook for other types, so a template whose `%`
//! meets a string on its left is rewritten where minijinja points at the failing operation:
//! `L % R` becomes `(L) | fleet_percent_op((R), R_IS_TUPLE)`, and the filter formats as Python
//! does (`pyformat::percent_format`). Whether `R` is a tuple is read from the source, since a
//! tuple and a list are both a sequence once evaluated and Python treats them differently
//! (`'%s' % [1, 2]` formats the list; `'%s-%s' % (1, 2)` its items). Templates without such a
//! `%` never pay for the rewrite.

use minijinja::value::{Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind};

use crate::pyformat::{percent_format, PercentArgs};

/// The filter the rewrite calls.
const FILTER: &str = "fleet_percent_op";

pub(crate) fn register(env: &mut Environment<'static>) {
    env.add_filter(FILTER, |format: &Value, args: &Value, tuple: bool| {
        let Some(format) = format.as_str() else {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                "tried to use % operator on unsupported types",
            ));
        };
        let args = if tuple {
            let items: Vec<Value> = args.try_iter()?.collect();
            return percent_format(format, PercentArgs::Positional(&items))
                .map_err(|e| Error::new(ErrorKind::InvalidOperation, e));
        } else if args.kind() == ValueKind::Map {
            PercentArgs::Mapping(args)
        } else {
            PercentArgs::Single(args)
        };
        percent_format(format, args).map_err(|e| Error::new(ErrorKind::InvalidOperation, e))
    });
}

/// `src` with the `%` operation at `range` (minijinja's span of the failing operation)
/// rewritten into the filter call, when `err` is a `%` with a string on its left.
pub(crate) fn rewrite(src: &str, err: &Error) -> Option<String> {
    let detail = err.detail()?;
    if err.kind() != ErrorKind::InvalidOperation
        || !detail.starts_with("tried to use % operator on unsupported types string and")
    {
        return None;
    }
    let range = err.range().filter(|r| r.end <= src.len())?;
    let span = src.get(range.clone())?;
    let at = last_top_level_percent(span)?;
    let (left, right) = (span[..at].trim(), span[at + 1..].trim());
    if left.is_empty() || right.is_empty() {
        return None;
    }
    let call = format!("(({left}) | {FILTER}(({right}), {}))", is_tuple(right));
    Some(format!(
        "{}{call}{}",
        &src[..range.start],
        &src[range.end..]
    ))
}

/// Byte offsets of `text`'s characters outside string literals, with their bracket depth.
pub(crate) fn outside_strings(text: &str) -> Vec<(usize, char, usize)> {
    let mut out = Vec::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        if let Some(q) = quote {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, c) if c == q => quote = None,
                _ => {}
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        out.push((i, c, depth));
    }
    out
}

/// The operator of a `L % R` span: its last `%` outside strings and brackets (`%` binds
/// left to right, so an earlier one belongs to `L`).
fn last_top_level_percent(span: &str) -> Option<usize> {
    outside_strings(span)
        .into_iter()
        .rev()
        .find(|&(_, c, depth)| c == '%' && depth == 0)
        .map(|(i, _, _)| i)
}

/// Whether `text` is a tuple literal: `(a, b)`, `(a,)` or `()`.
fn is_tuple(text: &str) -> bool {
    let chars = outside_strings(text);
    let Some(&(_, '(', _)) = chars.first() else {
        return false;
    };
    // the first `(` closes at the very end
    let closes_at_end = chars
        .iter()
        .position(|&(_, c, depth)| c == ')' && depth == 0)
        .is_some_and(|p| p == chars.len() - 1);
    closes_at_end
        && (text.trim() == "()" || chars.iter().any(|&(_, c, depth)| c == ',' && depth == 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_operator_and_tuples() {
        assert_eq!(last_top_level_percent("'%s %%' % x"), Some(8));
        assert_eq!(last_top_level_percent("('%d' % 1) % y"), Some(11));
        assert!(is_tuple("(1, 2)"));
        assert!(is_tuple("(1,)"));
        assert!(is_tuple("()"));
        assert!(!is_tuple("(1)"));
        assert!(!is_tuple("[1, 2]"));
        assert!(!is_tuple("(a, b) | list"));
        assert!(!is_tuple("f(1, 2)"));
        assert!(!is_tuple("(a) + (b, c)"));
    }
}
