//! Turning Ansible command text into shell words without shell interpretation: Python's
//! `shlex.split`, then `os.path.expanduser(os.path.expandvars(word))` done on the host (where the
//! environment lives), and the `key=value` options Ansible pulls out of a free-form command.

use std::sync::OnceLock;

use regex::Regex;

use crate::remote::shell_quote;

/// Splits a command line with POSIX shell quoting rules, as Python's `shlex.split`; `None` on an
/// unbalanced quote.
pub fn split(text: &str) -> Option<Vec<String>> {
    shlex::split(text)
}

/// Shell code for one argument word that the host expands exactly as Ansible's `run_command`
/// does: a leading `~` or `~user`, and `$NAME`/`${NAME}` only when the variable is set (otherwise
/// left as written); everything else literal. Needs [`EXPAND_PRELUDE`] earlier in the script.
pub fn expanded_word(word: &str) -> String {
    static VAR: OnceLock<Regex> = OnceLock::new();
    let var = VAR.get_or_init(|| Regex::new(r"\$(\w+|\{[^}]*\})").expect("valid regex"));
    let mut out = String::new();
    let mut rest = word;
    if let Some(after) = word.strip_prefix('~') {
        let end = after.find('/').unwrap_or(after.len());
        let user = &after[..end];
        if user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        {
            out.push('~');
            out.push_str(user);
            rest = &after[end..];
        }
    }
    let mut literal = String::new();
    let mut last = 0;
    for m in var.captures_iter(rest) {
        let whole = m.get(0).expect("match");
        let inner = m.get(1).expect("group").as_str();
        let braced = inner.starts_with('{');
        let name = inner.trim_start_matches('{').trim_end_matches('}');
        let valid = !name.is_empty()
            && !name.as_bytes()[0].is_ascii_digit()
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        literal.push_str(&rest[last..whole.start()]);
        last = whole.end();
        if !valid {
            literal.push_str(whole.as_str());
            continue;
        }
        if !literal.is_empty() {
            out.push_str(&shell_quote(&literal));
            literal.clear();
        }
        if braced {
            out.push_str(&format!("\"${{{name}-${{__fo}}{name}${{__fc}}}}\""));
        } else {
            out.push_str(&format!("\"${{{name}-${{__fd}}{name}}}\""));
        }
    }
    literal.push_str(&rest[last..]);
    if !literal.is_empty() || out.is_empty() {
        out.push_str(&shell_quote(&literal));
    }
    out
}

/// Variables [`expanded_word`] uses to write an unset `$NAME` back literally.
pub const EXPAND_PRELUDE: &str = "__fd='$' __fo='${' __fc='}'\n";

/// The options Ansible accepts inline in a free-form `command`/`shell` line (`chdir=/tmp ls`).
const INLINE_OPTIONS: &[&str] = &[
    "chdir",
    "creates",
    "removes",
    "executable",
    "stdin",
    "stdin_add_newline",
    "strip_empty_ends",
    "warn",
];

/// Pulls inline `key=value` options out of a free-form command line, as Ansible's `parse_kv` with
/// `check_raw` does. Returns the command text (unchanged when nothing was pulled out) and the
/// options with their quotes removed.
pub fn split_inline_options(raw: &str) -> (String, Vec<(String, String)>) {
    let tokens = raw_tokens(raw);
    let mut kept = Vec::new();
    let mut options = Vec::new();
    for token in &tokens {
        let option = token.split_once('=').and_then(|(k, v)| {
            INLINE_OPTIONS
                .contains(&k)
                .then(|| (k.to_string(), unquote(v)))
        });
        match option {
            Some(kv) => options.push(kv),
            None => kept.push(token.as_str()),
        }
    }
    if options.is_empty() {
        (raw.to_string(), options)
    } else {
        (kept.join(" "), options)
    }
}

/// Whitespace-separated tokens, keeping quotes and backslashes as written.
fn raw_tokens(raw: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (_, '\\') => {
                current.push(c);
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            (None, '\'' | '"') => {
                quote = Some(c);
                current.push(c);
            }
            (Some(q), c) if c == q => {
                quote = None;
                current.push(c);
            }
            (None, c) if c.is_whitespace() => {
                if !current.is_empty() {
                    tokens.push(std::mem::take(&mut current));
                }
            }
            _ => current.push(c),
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

fn unquote(v: &str) -> String {
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return v[1..v.len() - 1].to_string();
        }
    }
    v.to_string()
}

/// Python's `repr()` of a bytes value (`b'foo'`), as Ansible's errno messages show paths.
pub fn python_bytes_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = format!("b{quote}");
    for b in s.bytes() {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b if b == quote as u8 => {
                out.push('\\');
                out.push(quote);
            }
            0x20..=0x7e => out.push(b as char),
            b => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> String {
        let out = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(script)
            .env("FLEETUT_SET", "v a l")
            .env("HOME", "/home/ut")
            .env_remove("FLEETUT_UNSET")
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    }

    #[test]
    fn words_expand_set_variables_and_home_only() {
        let words = [
            "$FLEETUT_SET/x",
            "${FLEETUT_SET}y",
            "$FLEETUT_UNSET",
            "${FLEETUT_UNSET}",
            "~/d",
            "it's $1 ${a b} *",
        ];
        let script = words
            .iter()
            .map(|w| expanded_word(w))
            .collect::<Vec<_>>()
            .join(" ");
        let out = sh(&format!("{EXPAND_PRELUDE}printf '[%s]' {script}"));
        assert_eq!(
            out,
            "[v a l/x][v a ly][$FLEETUT_UNSET][${FLEETUT_UNSET}][/home/ut/d][it's $1 ${a b} *]"
        );
    }

    #[test]
    fn inline_options_are_pulled_out_with_quotes_removed() {
        let (cmd, opts) = split_inline_options("chdir=/tmp echo \"a=b  c\" creates='/x y'");
        assert_eq!(cmd, "echo \"a=b  c\"");
        assert_eq!(
            opts,
            vec![
                ("chdir".to_string(), "/tmp".to_string()),
                ("creates".to_string(), "/x y".to_string())
            ]
        );
        let (cmd, opts) = split_inline_options("echo  a=b   | cat");
        assert_eq!(cmd, "echo  a=b   | cat");
        assert!(opts.is_empty());
    }

    #[test]
    fn bytes_repr_matches_python() {
        assert_eq!(python_bytes_repr("foo"), "b'foo'");
        assert_eq!(python_bytes_repr("it's"), "b\"it's\"");
    }
}
