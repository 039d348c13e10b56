//! `--diff` output as Ansible's `CallbackBase._get_diff` builds it: `difflib.unified_diff` with
//! `--- before: path`/`+++ after: path` headers, 3 lines of context, `\ No newline at end of
//! file` glued to a last line without newline, each line coloured by its first character, and
//! a blank line after each diff.

use similar::{ChangeTag, TextDiff};

use super::color::{self, Palette};
use fleet_modules::Diff;

/// Lines of context around each hunk (Ansible's `DIFF_CONTEXT`).
const CONTEXT: usize = 3;

/// The text Ansible prints for these diffs (empty when nothing differs).
pub(crate) fn render(diffs: &[Diff], palette: Palette) -> String {
    diffs.iter().map(|d| render_one(d, palette)).collect()
}

fn render_one(diff: &Diff, palette: Palette) -> String {
    let header = |side: &str, label: &str| {
        if label.is_empty() {
            side.to_string()
        } else {
            format!("{side}: {label}")
        }
    };
    let before_lines = lines_with_marker(&diff.before);
    let after_lines = lines_with_marker(&diff.after);
    let before: Vec<&str> = before_lines.iter().map(String::as_str).collect();
    let after: Vec<&str> = after_lines.iter().map(String::as_str).collect();
    let text_diff = TextDiff::configure().diff_slices(&before, &after);
    let mut unified = text_diff.unified_diff();
    unified.context_radius(CONTEXT);
    let hunks: Vec<_> = unified.iter_hunks().collect();
    if hunks.is_empty() {
        return String::new();
    }
    let mut lines = vec![
        format!("--- {}\n", header("before", &diff.before_header)),
        format!("+++ {}\n", header("after", &diff.after_header)),
    ];
    for hunk in &hunks {
        lines.push(format!("{}\n", hunk.header()));
        for change in hunk.iter_changes() {
            let sign = match change.tag() {
                ChangeTag::Equal => ' ',
                ChangeTag::Delete => '-',
                ChangeTag::Insert => '+',
            };
            lines.push(format!("{sign}{}", change.value()));
        }
    }
    let mut out: String = lines
        .iter()
        .map(|line| {
            let color = if line.starts_with('+') {
                Some(color::DIFF_ADD)
            } else if line.starts_with('-') {
                Some(color::DIFF_REMOVE)
            } else if line.starts_with("@@") {
                Some(color::DIFF_LINES)
            } else {
                None
            };
            palette.paint(line, color)
        })
        .collect();
    out.push('\n');
    out
}

/// Python's `splitlines(True)` (for `\n`, `\r\n`, `\r`), with Ansible's no-newline marker
/// appended to a last line that lacks one.
fn lines_with_marker(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let end = match rest.find(['\n', '\r']) {
            Some(i) if rest[i..].starts_with("\r\n") => i + 2,
            Some(i) => i + 1,
            None => rest.len(),
        };
        lines.push(rest[..end].to_string());
        rest = &rest[end..];
    }
    if let Some(last) = lines.last_mut() {
        if !last.ends_with('\n') {
            last.push_str("\n\\ No newline at end of file\n");
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diff(before_header: &str, before: &str, after_header: &str, after: &str) -> Diff {
        Diff {
            before_header: before_header.into(),
            after_header: after_header.into(),
            before: before.into(),
            after: after.into(),
        }
    }

    // Expected texts: ansible-core 2.19.14, `copy` with --diff (see tests/text_output for the runs).
    #[test]
    fn changed_line_with_context() {
        let d = diff("/tmp/f", "a\nB\nc\n", "/tmp/f", "a\nb\nc\n");
        assert_eq!(
            render(&[d], Palette { enabled: false }),
            "--- before: /tmp/f\n+++ after: /tmp/f\n@@ -1,3 +1,3 @@\n a\n-B\n+b\n c\n\n"
        );
    }

    #[test]
    fn new_file_and_missing_newline() {
        let d = diff("", "", "/tmp/ans/l-p.txt", "p");
        assert_eq!(
            render(&[d], Palette { enabled: false }),
            "--- before\n+++ after: /tmp/ans/l-p.txt\n@@ -0,0 +1 @@\n+p\n\\ No newline at end of file\n\n"
        );
        let d = diff("/tmp/ans/nn.txt", "x\nz\n", "/tmp/ans/nn.txt", "x\ny");
        assert_eq!(
            render(&[d], Palette { enabled: false }),
            "--- before: /tmp/ans/nn.txt\n+++ after: /tmp/ans/nn.txt\n@@ -1,2 +1,2 @@\n x\n-z\n+y\n\\ No newline at end of file\n\n"
        );
    }

    #[test]
    fn identical_sides_print_nothing() {
        let d = diff("/x", "same\n", "/x", "same\n");
        assert_eq!(render(&[d], Palette { enabled: false }), "");
    }

    #[test]
    fn colours_each_line_like_stringc() {
        let d = diff("", "", "/f", "a\n");
        assert_eq!(
            render(&[d], Palette { enabled: true }),
            "\x1b[0;31m--- before\x1b[0m\n\x1b[0;31m\x1b[0m\x1b[0;32m+++ after: /f\x1b[0m\n\x1b[0;32m\x1b[0m\
             \x1b[0;36m@@ -0,0 +1 @@\x1b[0m\n\x1b[0;36m\x1b[0m\x1b[0;32m+a\x1b[0m\n\x1b[0;32m\x1b[0m\n"
        );
    }
}
