//! Reading a template's text without evaluating it: whether it holds markup at all, whether it
//! is exactly one `{{ expr }}` (which Ansible evaluates to a native value, not a string), where
//! an expression's `}}` is, and the trailing newlines Ansible keeps. These scans decide which
//! evaluation path a string takes, so they stay cheap and free of minijinja.

use minijinja::ErrorKind;

/// Whether a string holds Jinja2 markup and so must be templated.
pub(crate) fn has_template_markers(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#")
}

/// The expression of a template that is exactly one `{{ expr }}`, which Ansible evaluates to
/// a native value.
pub(crate) fn single_expression(text: &str) -> Option<&str> {
    let body = text.strip_prefix("{{")?;
    let close = expression_end(body)?;
    if close + 2 != body.len() {
        return None;
    }
    let inner = &body[..close];
    let inner = inner.strip_prefix(['-', '+']).unwrap_or(inner);
    Some(inner.strip_suffix('-').unwrap_or(inner))
}

/// Where the `}}` closing an expression starts (brackets and string literals skipped).
fn expression_end(body: &str) -> Option<usize> {
    let bytes = body.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            q @ (b'\'' | b'"') => {
                i += 1;
                while i < bytes.len() && bytes[i] != q {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' => depth = depth.saturating_sub(1),
            b'}' if depth == 0 && bytes.get(i + 1) == Some(&b'}') => return Some(i),
            b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Refuses an expression that closes a `{{ }}` it never opened and goes on (`a }} b`):
/// minijinja 2.24's lexer panics on any text after such a `}}` ("empty lexer stack"), and a
/// `when:` a user wrote must not bring the controller down.
pub(crate) fn refuse_early_close(expr: &str) -> Result<(), minijinja::Error> {
    match expression_end(expr) {
        Some(at) if at + 2 < expr.len() => Err(minijinja::Error::new(
            ErrorKind::SyntaxError,
            "unexpected '}}' in an expression",
        )),
        _ => Ok(()),
    }
}

/// Ansible keeps the template's trailing newlines (Jinja2 drops one).
pub(crate) fn keep_trailing_newlines(source: &str, out: &mut String) {
    let wanted = source.len() - source.trim_end_matches('\n').len();
    let have = out.len() - out.trim_end_matches('\n').len();
    for _ in have..wanted {
        out.push('\n');
    }
}
