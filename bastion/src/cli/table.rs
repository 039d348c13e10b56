//! Aligned text tables for terminal output.
//!
//! Cells often hold what users typed or targets printed (commands, file names, reasons): every
//! control character is shown escaped (`\x1b`, `\n`), so a recorded command can never move the
//! auditor's cursor, retitle the window or hide a row.

/// Prints rows under a header with columns padded to the widest cell.
pub fn print(header: &[&str], rows: &[Vec<String>]) {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| inert(c)).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let line = |cells: &[String]| {
        let mut out = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                out.push_str(c);
            } else {
                out.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        println!("{}", out.trim_end());
    };
    line(&header.iter().map(|h| h.to_string()).collect::<Vec<_>>());
    for r in &rows {
        line(r);
    }
}

/// The text with control characters (C0, DEL, C1) written as escapes.
fn inert(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    text.chars()
        .map(|c| match c {
            '\n' => "\\n".to_string(),
            '\r' => "\\r".to_string(),
            '\t' => "\\t".to_string(),
            c if c.is_control() => format!("\\x{:02x}", c as u32),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::inert;

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(inert("ls -l"), "ls -l");
        assert_eq!(
            inert("echo \x1b]0;pwned\x07\x1b[2Jx\r\n\u{9b}"),
            "echo \\x1b]0;pwned\\x07\\x1b[2Jx\\r\\n\\x9b"
        );
    }
}
