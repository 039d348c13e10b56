//! Ansible's terminal colours (`ansible.utils.color`): the default `COLOR_*` settings and
//! `stringc`, which wraps every line of a message separately so a colour never spills over.

/// An SGR colour code, as in Ansible's `COLOR_CODES`.
pub(crate) type Color = &'static str;

/// `COLOR_OK` (green).
pub(crate) const OK: Color = "0;32";
/// `COLOR_CHANGED` (yellow).
pub(crate) const CHANGED: Color = "0;33";
/// `COLOR_ERROR` (red).
pub(crate) const ERROR: Color = "0;31";
/// `COLOR_SKIP` (cyan).
pub(crate) const SKIP: Color = "0;36";
/// `COLOR_UNREACHABLE` (bright red).
pub(crate) const UNREACHABLE: Color = "1;31";
/// `COLOR_DEBUG` (dark gray): retry lines.
pub(crate) const DEBUG: Color = "1;30";
/// `COLOR_WARN` (bright purple): warnings and the recap's `ignored=`.
pub(crate) const WARN: Color = "1;35";
/// `COLOR_DIFF_ADD` (green).
pub(crate) const DIFF_ADD: Color = "0;32";
/// `COLOR_DIFF_REMOVE` (red).
pub(crate) const DIFF_REMOVE: Color = "0;31";
/// `COLOR_DIFF_LINES` (cyan): `@@` hunk headers.
pub(crate) const DIFF_LINES: Color = "0;36";

/// Whether colours are on; the one place escape codes are written.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Palette {
    pub enabled: bool,
}

impl Palette {
    /// Ansible's `stringc`: each `\n`-separated piece wrapped on its own (an empty last piece
    /// too, exactly as Python's `split('\n')` yields it).
    pub(crate) fn paint(&self, text: &str, color: Option<Color>) -> String {
        match color {
            Some(code) if self.enabled => text
                .split('\n')
                .map(|piece| format!("\x1b[{code}m{piece}\x1b[0m"))
                .collect::<Vec<_>>()
                .join("\n"),
            _ => text.to_string(),
        }
    }

    /// Ansible's `Display.display`: CRLF becomes LF, one trailing newline is kept out of the
    /// colour, and the message always ends with a newline.
    pub(crate) fn line(&self, msg: &str, color: Option<Color>) -> String {
        let msg = msg.replace("\r\n", "\n");
        let body = msg.strip_suffix('\n').unwrap_or(&msg);
        let mut out = self.paint(body, color);
        out.push('\n');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paint_wraps_each_line_and_nothing_when_disabled() {
        let on = Palette { enabled: true };
        assert_eq!(
            on.paint("a\nb", Some(OK)),
            "\x1b[0;32ma\x1b[0m\n\x1b[0;32mb\x1b[0m"
        );
        assert_eq!(
            on.paint("+c\n", Some(DIFF_ADD)),
            "\x1b[0;32m+c\x1b[0m\n\x1b[0;32m\x1b[0m"
        );
        let off = Palette { enabled: false };
        assert_eq!(off.paint("a\nb", Some(OK)), "a\nb");
        assert_eq!(off.line("x\r\n", Some(ERROR)), "x\n");
        assert_eq!(on.line("x\n", Some(ERROR)), "\x1b[0;31mx\x1b[0m\n");
    }
}
