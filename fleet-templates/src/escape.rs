//! Ansible's `escape_backslashes`: in a template from a playbook (not a template file, not a
//! conditional), backslashes inside string literals of `{{ }}` expressions are doubled before
//! Jinja2 reads them, so `regex_replace('(a)', '\1')` in YAML means a backreference, not an
//! escape sequence.

use std::borrow::Cow;

/// `text` with backslashes doubled inside the string literals of its `{{ }}` expressions.
pub(crate) fn escape_backslashes(text: &str) -> Cow<'_, str> {
    if !text.contains('\\') || !text.contains("{{") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open + 2]);
        rest = &rest[open + 2..];
        // inside an expression until its `}}`, skipping string literals
        loop {
            let Some(i) = rest.find(['\'', '"', '}']) else {
                out.push_str(rest);
                return Cow::Owned(out);
            };
            let c = rest.as_bytes()[i];
            if c == b'}' {
                if rest[i..].starts_with("}}") {
                    out.push_str(&rest[..i + 2]);
                    rest = &rest[i + 2..];
                    break;
                }
                out.push_str(&rest[..=i]);
                rest = &rest[i + 1..];
                continue;
            }
            out.push_str(&rest[..=i]);
            rest = &rest[i + 1..];
            let end = literal_end(rest, c);
            out.push_str(&rest[..end].replace('\\', "\\\\"));
            let close = (end + 1).min(rest.len());
            out.push_str(&rest[end..close]);
            rest = &rest[close..];
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// The length of a string literal's body (up to, not including, its closing quote; a
/// backslash escapes the next character as in Jinja2's lexer).
fn literal_end(body: &str, quote: u8) -> usize {
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b if b == quote => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::escape_backslashes;

    #[test]
    fn doubles_backslashes_only_in_expression_literals() {
        assert_eq!(
            escape_backslashes(r"a\n{{ x | regex_replace('\d', '\1') }}\t"),
            r"a\n{{ x | regex_replace('\\d', '\\1') }}\t"
        );
        assert_eq!(escape_backslashes(r#"{{ "it\"s" }}"#), r#"{{ "it\\"s" }}"#);
        assert_eq!(escape_backslashes(r"{% if '\d' %}"), r"{% if '\d' %}");
    }
}
