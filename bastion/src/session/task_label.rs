//! The label a client gives an exec channel for the command log: fleet's task (name, module,
//! arguments) instead of the wrapper script it runs.
//!
//! Why: `fleet run --via` runs each task as a generated shell script; an auditor reading the
//! command log wants "TASK [install nginx] apt: name=nginx", not forty lines of `sh`. fleet
//! sends the label as the environment variable [`ENV`] on the exec channel (an SSH `env`
//! request, which the bastion otherwise refuses and never passes to targets).
//!
//! The label is the client's word, so it is only ever *shown*: `deny_commands`, the access
//! decision and the `session_start`/`command_blocked` audit events still see the real script,
//! and the command-log row says it came from a label (origin `fleet`). It is made one line and
//! bounded here so a label cannot forge extra log lines or fill the store.

/// The environment variable fleet sets on each exec channel.
pub const ENV: &str = "FLEET_TASK";

/// Longest label kept, in characters (the rest is cut with `…`).
const MAX_CHARS: usize = 1000;

/// The label as stored: control characters (newlines included) become spaces, at most
/// [`MAX_CHARS`] characters, surrounding blanks trimmed; `None` when nothing is left.
pub fn clean(value: &str) -> Option<String> {
    let one_line: String = value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let trimmed = one_line.trim();
    if trimmed.is_empty() {
        return None;
    }
    let mut out: String = trimmed.chars().take(MAX_CHARS).collect();
    if trimmed.chars().count() > MAX_CHARS {
        out.push('…');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_is_one_bounded_line() {
        assert_eq!(
            clean("TASK [x]\nfake: line\r\n").as_deref(),
            Some("TASK [x] fake: line")
        );
        assert_eq!(clean(" \n\t "), None);
        let long = clean(&"a".repeat(MAX_CHARS + 5)).unwrap();
        assert_eq!(long.chars().count(), MAX_CHARS + 1);
        assert!(long.ends_with('…'));
    }
}
