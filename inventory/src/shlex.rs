//! POSIX shell-like word splitting, as Python's `shlex.split(line, comments=True)` does it.
//!
//! Ansible splits INI host lines with shlex, so `host a="x y" # note` gives `host`, `a=x y`.

/// Splits `line` into words; `#` outside quotes starts a comment. The error says why it failed.
pub fn split(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '#' => break,
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => word.push(ch),
                        None => return Err("No closing quotation".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(ch @ ('"' | '\\')) => word.push(ch),
                            Some(ch) => {
                                word.push('\\');
                                word.push(ch);
                            }
                            None => return Err("No closing quotation".into()),
                        },
                        Some(ch) => word.push(ch),
                        None => return Err("No closing quotation".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(ch) => word.push(ch),
                    None => return Err("No escaped character".into()),
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn splits_like_python_shlex() {
        assert_eq!(split("a b  c").unwrap(), ["a", "b", "c"]);
        assert_eq!(
            split(r#"h a="x y" b='p q'"#).unwrap(),
            ["h", "a=x y", "b=p q"]
        );
        assert_eq!(split(r#"h a="q\"d\n""#).unwrap(), ["h", r#"a=q"d\n"#]);
        assert_eq!(split(r"h a=x\ y").unwrap(), ["h", "a=x y"]);
        assert_eq!(split("h a=1 # comment").unwrap(), ["h", "a=1"]);
        assert_eq!(split("h a=1#c").unwrap(), ["h", "a=1"]);
        assert_eq!(split("h a='#x'").unwrap(), ["h", "a=#x"]);
        assert_eq!(split("h a=''").unwrap(), ["h", "a="]);
        assert_eq!(split("").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn errors() {
        assert_eq!(split("h a='x").unwrap_err(), "No closing quotation");
        assert_eq!(split("h a=\"x").unwrap_err(), "No closing quotation");
        assert_eq!(split("h a\\").unwrap_err(), "No escaped character");
    }
}
