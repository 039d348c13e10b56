//! Display-width aware text helpers: sanitising, measuring, truncating, padding and wrapping.
//!
//! Widths are terminal columns as given by `unicode-width`, counted char by char the way a
//! terminal advances its cursor, so what we measure is what the screen shows.

use unicode_width::UnicodeWidthChar;

/// The marker put where text was cut.
const ELLIPSIS: char = '…';

/// Replaces control characters with `?` so that no text we draw can move the cursor or start
/// an escape sequence on the user's terminal.
pub fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Columns one char takes (0 for controls and combining marks).
pub fn char_width(c: char) -> usize {
    c.width().unwrap_or(0)
}

/// Columns a string takes.
pub fn width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

/// The longest prefix of `s` that fits in `w` columns.
fn prefix(s: &str, w: usize) -> (&str, usize) {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        let cw = char_width(c);
        if used + cw > w {
            return (&s[..i], used);
        }
        used += cw;
    }
    (s, used)
}

/// Cuts `s` to at most `w` columns, ending it with `…` when anything was cut.
pub fn truncate(s: &str, w: usize) -> String {
    if width(s) <= w {
        return s.to_string();
    }
    if w == 0 {
        return String::new();
    }
    let (head, _) = prefix(s, w - 1);
    let mut out = head.to_string();
    out.push(ELLIPSIS);
    out
}

/// Cuts `s` to at most `w` columns keeping its end, starting it with `…` when anything was cut.
pub fn truncate_left(s: &str, w: usize) -> String {
    if width(s) <= w {
        return s.to_string();
    }
    if w == 0 {
        return String::new();
    }
    let mut used = 0;
    let mut start = s.len();
    for (i, c) in s.char_indices().rev() {
        let cw = char_width(c);
        if used + cw > w - 1 {
            break;
        }
        used += cw;
        start = i;
    }
    let mut out = String::from(ELLIPSIS);
    out.push_str(&s[start..]);
    out
}

/// `s` made exactly `w` columns wide: cut with `…` if too long, padded with spaces if short.
pub fn fit(s: &str, w: usize) -> String {
    pad(&truncate(s, w), w)
}

/// `s` padded with spaces on the right up to `w` columns (never cut).
pub fn pad(s: &str, w: usize) -> String {
    let mut out = s.to_string();
    out.extend(std::iter::repeat_n(' ', w.saturating_sub(width(s))));
    out
}

/// `s` padded with spaces on the left up to `w` columns, then cut to `w`.
pub fn pad_left(s: &str, w: usize) -> String {
    let mut out: String = std::iter::repeat_n(' ', w.saturating_sub(width(s))).collect();
    out.push_str(s);
    truncate(&out, w)
}

/// `main` followed by `suffix` within `w` columns, cutting `main` first so the suffix
/// stays readable whenever there is room for a little of both.
pub fn with_suffix(main: &str, suffix: &str, w: usize) -> String {
    let sw = width(suffix);
    if width(main) + sw <= w {
        return format!("{main}{suffix}");
    }
    if w >= sw + 2 {
        return format!("{}{suffix}", truncate(main, w - sw));
    }
    truncate(&format!("{main}{suffix}"), w)
}

/// Splits `s` into lines of at most `w` columns, breaking at spaces where it can.
pub fn wrap(s: &str, w: usize) -> Vec<String> {
    let w = w.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in s.split(' ').filter(|x| !x.is_empty()) {
        let sep = usize::from(!line.is_empty());
        if width(&line) + sep + width(word) <= w {
            if sep == 1 {
                line.push(' ');
            }
            line.push_str(word);
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        let mut rest = word;
        while width(rest) > w {
            let (head, _) = prefix(rest, w);
            if head.is_empty() {
                // A char wider than the line: nothing sensible fits, drop it.
                let skip = rest.chars().next().map_or(rest.len(), char::len_utf8);
                rest = &rest[skip..];
                continue;
            }
            lines.push(head.to_string());
            rest = &rest[head.len()..];
        }
        line.push_str(rest);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_replaces_controls() {
        assert_eq!(sanitize("a\x1b[2Jb\r\n\u{9b}"), "a?[2Jb???");
    }

    #[test]
    fn widths_count_wide_chars_twice() {
        assert_eq!(width("abc"), 3);
        assert_eq!(width("日本"), 4);
        assert_eq!(width("e\u{301}"), 1);
    }

    #[test]
    fn truncate_adds_ellipsis_only_when_cut() {
        assert_eq!(truncate("hello", 5), "hello");
        assert_eq!(truncate("hello", 4), "hel…");
        assert_eq!(truncate("hello", 1), "…");
        assert_eq!(truncate("hello", 0), "");
        assert_eq!(truncate("日本語", 4), "日…");
        assert!(width(&truncate("日本語", 4)) <= 4);
    }

    #[test]
    fn truncate_left_keeps_the_end() {
        assert_eq!(truncate_left("abcdef", 4), "…def");
        assert_eq!(truncate_left("abc", 4), "abc");
        assert_eq!(truncate_left("abc", 0), "");
    }

    #[test]
    fn fit_and_pads_are_exact() {
        assert_eq!(fit("ab", 4), "ab  ");
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(width(&fit("日本語", 5)), 5);
        assert_eq!(pad_left("7", 3), "  7");
        assert_eq!(pad_left("1234", 3), "12…");
    }

    #[test]
    fn suffix_survives_cutting() {
        assert_eq!(with_suffix("db1", " (x)", 10), "db1 (x)");
        assert_eq!(with_suffix("database-01", " (x)", 10), "datab… (x)");
        assert_eq!(with_suffix("database-01", " (x)", 4), "dat…");
    }

    #[test]
    fn wrap_breaks_at_spaces_and_splits_long_words() {
        assert_eq!(wrap("aa bb cc", 5), vec!["aa bb", "cc"]);
        assert_eq!(wrap("abcdefgh", 3), vec!["abc", "def", "gh"]);
        assert_eq!(wrap("日本", 1), Vec::<String>::new());
        assert!(wrap("", 10).is_empty());
    }
}
