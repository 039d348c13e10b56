//! `k=v` argument strings (`file: path=/x state=touch`, `command: echo hi chdir=/tmp`), split the
//! way Ansible's `parse_kv` and `split_args` do: on spaces, but never inside quotes or Jinja2
//! `{{ }}`/`{% %}`/`{# #}` blocks, keeping newlines of multi-line commands.

use serde_json::{Map, Value};

/// Options of command-like modules that may be written inside their free-form string.
pub const COMMAND_OPTIONS: &[&str] = &[
    "creates",
    "removes",
    "chdir",
    "executable",
    "warn",
    "stdin",
    "stdin_add_newline",
    "strip_empty_ends",
];

/// Why an argument string could not be split, in Ansible's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KvError {
    /// A continuation with nothing to continue.
    #[error("unable to parse argument string")]
    Unparsable,
    /// An unclosed quote or Jinja2 block (the whole string).
    #[error("failed at splitting arguments, either an unbalanced jinja2 block or quotes: {0}")]
    Unbalanced(String),
}

/// Parses an argument string into a mapping. Words that are not `k=v` (and, when `check_raw`
/// is set, `k=v` words whose key is not in [`COMMAND_OPTIONS`]) are joined back into
/// `_raw_params`. Values are unquoted; keys are trimmed.
pub fn parse_kv(text: &str, check_raw: bool) -> Result<Map<String, Value>, KvError> {
    let mut options = Map::new();
    let mut raw_params = Vec::new();
    for original in split_args(text)? {
        let word = decode_escapes(&original);
        if !word.contains('=') {
            raw_params.push(original);
            continue;
        }
        // The first `=` not preceded by a backslash, searching from the second character.
        let chars: Vec<char> = word.chars().collect();
        let split = (1..chars.len()).find(|&i| chars[i] == '=' && chars[i - 1] != '\\');
        let Some(split) = split else {
            raw_params.push(word.replace("\\=", "="));
            continue;
        };
        let key: String = chars[..split].iter().collect();
        let value: String = chars[split + 1..].iter().collect();
        if check_raw && !COMMAND_OPTIONS.contains(&key.as_str()) {
            raw_params.push(original);
        } else {
            options.insert(
                key.trim().to_string(),
                Value::String(unquote(value.trim()).to_string()),
            );
        }
    }
    if !raw_params.is_empty() {
        options.insert("_raw_params".into(), Value::String(join_args(&raw_params)));
    }
    Ok(options)
}

/// Splits on spaces, keeping quoted strings and Jinja2 blocks whole (quotes stay in the words)
/// and newlines at the end of the word before them. Unbalanced quotes or blocks are an error.
pub fn split_args(text: &str) -> Result<Vec<String>, KvError> {
    let mut params: Vec<String> = Vec::new();
    let mut quote_char: Option<char> = None;
    let mut print_depth = 0usize;
    let mut block_depth = 0usize;
    let mut comment_depth = 0usize;
    let lines: Vec<&str> = text.split('\n').collect();
    for (line_index, line) in lines.iter().enumerate() {
        let tokens: Vec<&str> = line.split(' ').collect();
        let mut line_continuation = false;
        for (index, token) in tokens.iter().copied().enumerate() {
            if token.is_empty() && index != 0 {
                // Consecutive spaces are kept, so commands keep their spacing.
                if let Some(last) = params.last_mut() {
                    last.push(' ');
                }
                continue;
            }
            let inside_quotes_before = quote_char.is_some();
            if token == "\\" && !inside_quotes_before {
                line_continuation = true;
                continue;
            }
            quote_char = quote_state(token, quote_char);
            let inside_quotes = quote_char.is_some();
            let in_jinja = print_depth > 0 || block_depth > 0 || comment_depth > 0;
            let mut appended = false;
            if inside_quotes && !inside_quotes_before && !in_jinja {
                params.push(token.to_string());
                appended = true;
            } else if in_jinja || inside_quotes || inside_quotes_before {
                let last = params.last_mut().ok_or(KvError::Unparsable)?;
                if index == 0 && inside_quotes_before {
                    last.push_str(token);
                } else if tokens.len() > 1 {
                    if index > 0 {
                        last.push(' ');
                    }
                    last.push_str(token);
                } else {
                    last.push('\n');
                    last.push_str(token);
                }
                appended = true;
            }
            for (depth, open, close) in [
                (&mut print_depth, "{{", "}}"),
                (&mut block_depth, "{%", "%}"),
                (&mut comment_depth, "{#", "#}"),
            ] {
                let before = *depth;
                *depth = jinja_depth(token, before, open, close);
                if *depth != before && !appended {
                    params.push(token.to_string());
                    appended = true;
                }
            }
            let in_jinja = print_depth > 0 || block_depth > 0 || comment_depth > 0;
            if !in_jinja && !inside_quotes && !appended && !token.is_empty() {
                params.push(token.to_string());
            }
        }
        if lines.len() > 1 && line_index != lines.len() - 1 && !line_continuation {
            if let Some(last) = params.last_mut() {
                last.push('\n');
            }
        }
    }
    if print_depth > 0 || block_depth > 0 || comment_depth > 0 || quote_char.is_some() {
        return Err(KvError::Unbalanced(text.to_string()));
    }
    Ok(params)
}

/// The quote still open after `token`, given the one open before it.
fn quote_state(token: &str, mut quote_char: Option<char>) -> Option<char> {
    let mut previous = None;
    for c in token.chars() {
        if (c == '"' || c == '\'') && previous != Some('\\') {
            match quote_char {
                Some(open) if open == c => quote_char = None,
                Some(_) => {}
                None => quote_char = Some(c),
            }
        }
        previous = Some(c);
    }
    quote_char
}

/// Jinja2 block depth after `token`.
fn jinja_depth(token: &str, depth: usize, open: &str, close: &str) -> usize {
    let opened = token.matches(open).count() as isize;
    let closed = token.matches(close).count() as isize;
    (depth as isize + opened - closed).max(0) as usize
}

/// Joins words split by [`split_args`] back, without a space after a newline.
pub fn join_args(words: &[String]) -> String {
    let mut out = String::new();
    for word in words {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Strips one pair of matching outer quotes (unless the closing one is escaped).
pub fn unquote(text: &str) -> &str {
    let bytes = text.as_bytes();
    let quoted = bytes.len() > 1
        && (bytes[0] == b'"' || bytes[0] == b'\'')
        && bytes[0] == bytes[bytes.len() - 1]
        && bytes[bytes.len() - 2] != b'\\';
    if quoted {
        &text[1..text.len() - 1]
    } else {
        text
    }
}

/// Ansible's `_decode_escapes`: only `\\`, `\'`, `\"`, `\a\b\f\n\r\t\v`, `\x41`, `\u00e9` and
/// `\U0001F600` are decoded. Everything else — octal-looking `\1` in particular, which is a
/// regex backreference in `replace='"\1"'` — is left as written, as Ansible's regex leaves it.
pub fn decode_escapes(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '\\' || i + 1 >= chars.len() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let next = chars[i + 1];
        let simple = match next {
            '\\' => Some('\\'),
            '\'' => Some('\''),
            '"' => Some('"'),
            'a' => Some('\x07'),
            'b' => Some('\x08'),
            'f' => Some('\x0c'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\x0b'),
            _ => None,
        };
        if let Some(c) = simple {
            out.push(c);
            i += 2;
            continue;
        }
        let hex_len = match next {
            'x' => 2,
            'u' => 4,
            'U' => 8,
            _ => 0,
        };
        if hex_len > 0 {
            let digits: String = chars.iter().skip(i + 2).take(hex_len).collect();
            let decoded = (digits.chars().count() == hex_len)
                .then(|| u32::from_str_radix(&digits, 16).ok())
                .flatten()
                .and_then(char::from_u32);
            if let Some(c) = decoded {
                out.push(c);
                i += 2 + hex_len;
                continue;
            }
        }
        out.push('\\');
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kv(text: &str, check_raw: bool) -> Value {
        Value::Object(parse_kv(text, check_raw).unwrap())
    }

    #[test]
    fn module_kv_pairs_are_split_and_unquoted() {
        assert_eq!(
            kv("path=/x state=touch mode='0644'", false),
            json!({"path": "/x", "state": "touch", "mode": "0644"})
        );
        assert_eq!(
            kv(r#"dest=/tmp/a content="a b  c""#, false),
            json!({"dest": "/tmp/a", "content": "a b  c"})
        );
    }

    #[test]
    fn command_keeps_free_form_and_extracts_its_options() {
        assert_eq!(
            kv("echo hi chdir=/tmp", true),
            json!({"_raw_params": "echo hi", "chdir": "/tmp"})
        );
        // Other k=v words belong to the command line.
        assert_eq!(
            kv("FOO=bar env creates=/x", true),
            json!({"_raw_params": "FOO=bar env", "creates": "/x"})
        );
        // Without check_raw, every k=v word is an option.
        assert_eq!(
            kv("FOO=bar env", false),
            json!({"_raw_params": "env", "FOO": "bar"})
        );
    }

    #[test]
    fn jinja_blocks_and_quotes_stay_whole() {
        assert_eq!(
            split_args(r#"echo {{ a | default("x y") }} 'q r'"#).unwrap(),
            vec!["echo", r#"{{ a | default("x y") }}"#, "'q r'"]
        );
        assert_eq!(
            kv("msg={{ a }} b", false),
            json!({"msg": "{{ a }}", "_raw_params": "b"})
        );
        assert_eq!(
            kv("msg=\"{{ a }} and {{ b }}\"", false),
            json!({"msg": "{{ a }} and {{ b }}"})
        );
    }

    #[test]
    fn multi_line_commands_keep_their_newlines_and_spacing() {
        let args = kv("echo a\necho  b\n", true);
        assert_eq!(args, json!({"_raw_params": "echo a\necho  b\n"}));
        // A lone backslash continues the line.
        assert_eq!(kv("echo a \\\nb", true), json!({"_raw_params": "echo a b"}));
    }

    #[test]
    fn unbalanced_quotes_or_blocks_are_errors() {
        assert!(split_args("echo 'a").is_err());
        assert!(split_args("echo {{ a").is_err());
    }

    #[test]
    fn escapes_are_decoded_in_values_only() {
        assert_eq!(
            kv(r"msg=a\nb\x41\u00e9", false),
            json!({"msg": "a\nbA\u{e9}"})
        );
        // The raw command keeps its backslashes.
        assert_eq!(
            kv(r"printf a\nb", true),
            json!({"_raw_params": r"printf a\nb"})
        );
        // An escaped `=` is not a separator.
        assert_eq!(kv(r"a\=b", false), json!({"_raw_params": "a=b"}));
    }

    #[test]
    fn backreferences_are_not_octal_escapes() {
        // Ansible's parse_kv decodes no octal escapes: `\1` stays backslash-one.
        let args = kv(r#"path=/f regexp='(a)' replace='"\1"'"#, false);
        assert_eq!(args["replace"], json!("\"\\1\""));
        assert_eq!(args["regexp"], json!("(a)"));
        assert_eq!(decode_escapes(r"\0\101\g<1>"), r"\0\101\g<1>");
    }

    #[test]
    fn unquote_needs_matching_unescaped_quotes() {
        assert_eq!(unquote("'a'"), "a");
        assert_eq!(unquote("\"a\""), "a");
        assert_eq!(unquote("'a\""), "'a\"");
        assert_eq!(unquote("'a\\'"), "'a\\'");
        assert_eq!(unquote("'"), "'");
    }
}
