//! Python `re` semantics for every place where Ansible hands a user's regex to Python: the
//! `regex_*` filters and tests, and the `lineinfile`, `replace` and `blockinfile` modules.
//!
//! Why: the `regex` crate has no backreferences and no lookaround, both of which real playbooks
//! (and Ansible's own integration tests) use, and its replacement syntax is `${1}`, not Python's
//! `\1`/`\g<name>`. [`fancy_regex`] is a maintained backtracking engine layered on `regex` that
//! implements both, with Python's `(?P<name>...)`/`(?P=name)` spelling. What it still spells
//! differently is translated here ([`translate`]: Python's `\Z` is the absolute end), and
//! Python's replacement templates are parsed here ([`Template`]), so there is one compile
//! function and one expansion for all callers. Matching is on bytes in Unicode-aware bytes mode,
//! so a file that is not valid UTF-8 is edited without loss (as Ansible's `surrogateescape`).

use std::borrow::Cow;

use fancy_regex::{BytesMode, Captures, Regex, RegexBuilder};

/// Why a regex could not be compiled or run.
#[derive(Debug, thiserror::Error)]
pub enum PyReError {
    /// The pattern does not compile.
    #[error("invalid regular expression '{pattern}': {source}")]
    Compile {
        /// The pattern as written.
        pattern: String,
        /// The engine's reason.
        source: Box<fancy_regex::Error>,
    },
    /// Matching gave up (backtracking limit).
    #[error("regular expression '{pattern}' failed while matching: {source}")]
    Run {
        /// The pattern as written.
        pattern: String,
        /// The engine's reason.
        source: Box<fancy_regex::Error>,
    },
    /// A replacement template Python's `re` refuses.
    #[error("invalid replacement template '{template}': {reason}")]
    Template {
        /// The template as written.
        template: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl PyReError {
    /// What Python's `re.error` says for a pattern it cannot compile, where fleet's engine
    /// names the same fault (`nothing to repeat at position 0`); the engine's own words
    /// otherwise.
    pub fn python_message(&self) -> String {
        use fancy_regex::{Error as E, ParseError as P};
        let PyReError::Compile { source, .. } = self else {
            return self.to_string();
        };
        match source.as_ref() {
            E::ParseError(at, P::TargetNotRepeatable | P::InvalidRepeat) => {
                format!("nothing to repeat at position {at}")
            }
            E::ParseError(at, P::UnclosedOpenParen) => {
                format!("missing ), unterminated subpattern at position {at}")
            }
            E::ParseError(at, P::TrailingBackslash) => {
                format!("bad escape (end of pattern) at position {at}")
            }
            other => other.to_string(),
        }
    }
}

/// Python's `re` flags fleet's callers use.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flags {
    /// `re.IGNORECASE`.
    pub ignorecase: bool,
    /// `re.MULTILINE`: `^`/`$` at every line.
    pub multiline: bool,
    /// `re.DOTALL`: `.` matches a newline.
    pub dotall: bool,
}

/// A compiled Python-syntax regular expression.
#[derive(Debug, Clone)]
pub struct PyRegex {
    pattern: String,
    re: Regex,
    multiline: bool,
}

/// Compiles `pattern` with Python's syntax and `flags`: the one compile function of fleet.
pub fn compile(pattern: &str, flags: Flags) -> Result<PyRegex, PyReError> {
    let re = RegexBuilder::new(&translate(pattern))
        .case_insensitive(flags.ignorecase)
        .multi_line(flags.multiline)
        .dot_matches_new_line(flags.dotall)
        .bytes_mode(BytesMode::UnicodeBytes)
        .build()
        .map_err(|e| PyReError::Compile {
            pattern: pattern.to_string(),
            source: Box::new(e),
        })?;
    Ok(PyRegex {
        pattern: pattern.to_string(),
        re,
        multiline: flags.multiline || leading_flags(pattern).contains('m'),
    })
}

/// The letters of a global inline flag group at the start of `pattern` (`(?mi)` -> `mi`),
/// which Python 3.11 allows only there.
fn leading_flags(pattern: &str) -> &str {
    pattern
        .strip_prefix("(?")
        .and_then(|rest| rest.split_once(')'))
        .map(|(flags, _)| flags)
        .filter(|f| !f.is_empty() && f.chars().all(|c| "aiLmsux".contains(c)))
        .unwrap_or("")
}

/// Rewrites what Python spells differently from fancy-regex: `\Z` (Python: the very end of the
/// text; fancy-regex: before trailing newlines) becomes `\z`, and Python 3.11's `{,n}`
/// quantifier becomes `{0,n}`. Escapes and character classes are copied as they are.
fn translate(pattern: &str) -> Cow<'_, str> {
    if !pattern.contains("\\Z") && !pattern.contains("{,") {
        return Cow::Borrowed(pattern);
    }
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 4);
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '\\' => match chars.get(i) {
                Some('Z') if !in_class => {
                    out.push_str("\\z");
                    i += 1;
                }
                Some(&next) => {
                    out.push('\\');
                    out.push(next);
                    i += 1;
                }
                None => out.push('\\'),
            },
            '[' if !in_class => {
                in_class = true;
                out.push(c);
                // a `]` right after `[` or `[^` is a literal
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i) == Some(&']') {
                    out.push(']');
                    i += 1;
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            '{' if !in_class && chars.get(i) == Some(&',') && is_upper_bound(&chars[i + 1..]) => {
                out.push_str("{0");
            }
            _ => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `n}` after `{,`: digits then a closing brace.
fn is_upper_bound(rest: &[char]) -> bool {
    let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    digits > 0 && rest.get(digits) == Some(&'}')
}

impl PyRegex {
    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    fn run_err(&self, e: fancy_regex::Error) -> PyReError {
        PyReError::Run {
            pattern: self.pattern.clone(),
            source: Box::new(e),
        }
    }

    /// Whether the compiled pattern has `re.MULTILINE` (`re.compile(...).flags & re.MULTILINE`):
    /// from the flags it was compiled with or a leading `(?m)`.
    pub fn multiline(&self) -> bool {
        self.multiline
    }

    /// `re.search(...) is not None`.
    pub fn is_match(&self, text: &[u8]) -> Result<bool, PyReError> {
        self.re.is_match(text).map_err(|e| self.run_err(e))
    }

    /// The byte range of the first match.
    pub fn find(&self, text: &[u8]) -> Result<Option<(usize, usize)>, PyReError> {
        let found = self.re.find(text).map_err(|e| self.run_err(e))?;
        Ok(found.map(|m| (m.start(), m.end())))
    }

    /// The first match's groups (index 0 is the whole match; `None` for a group that did not
    /// take part).
    pub fn captures(&self, text: &[u8]) -> Result<Option<Groups>, PyReError> {
        let caps = self.re.captures(text).map_err(|e| self.run_err(e))?;
        Ok(caps.map(|c| self.groups(&c)))
    }

    /// Every non-overlapping match's groups, as `re.finditer` (Python 3.7+): an empty match
    /// may follow a non-empty one at the same position (`re.sub('x*', '-', 'abxd')` is
    /// `-a-b--d-`), and after an empty match the search goes on one character further. Known
    /// gap: Python would first try a non-empty match at the empty match's position (`'|a'`).
    pub fn captures_all(&self, text: &[u8]) -> Result<Vec<Groups>, PyReError> {
        let mut all = Vec::new();
        let mut pos = 0;
        let mut after_empty = false;
        loop {
            let start = if after_empty {
                next_char(text, pos)
            } else {
                pos
            };
            if start > text.len() {
                break;
            }
            let caps = self
                .re
                .captures_from_pos(text, start)
                .map_err(|e| self.run_err(e))?;
            let Some(caps) = caps else { break };
            let groups = self.groups(&caps);
            let (s, e) = groups.spans[0].unwrap_or((start, start));
            after_empty = s == e;
            pos = e;
            all.push(groups);
        }
        Ok(all)
    }

    fn groups(&self, caps: &Captures<'_, [u8]>) -> Groups {
        Groups {
            spans: (0..caps.len())
                .map(|i| caps.get(i).map(|m| (m.start(), m.end())))
                .collect(),
            names: self
                .re
                .capture_names()
                .enumerate()
                .filter_map(|(i, n)| n.map(|n| (n.to_string(), i)))
                .collect(),
        }
    }

    /// The group index of `name` (a number or a group name).
    pub fn group_index(&self, name: &str) -> Option<usize> {
        if let Ok(n) = name.parse::<usize>() {
            return (n < self.re.captures_len()).then_some(n);
        }
        self.re.capture_names().position(|n| n == Some(name))
    }

    /// `re.subn(template, text, count)`: the new text and the number of substitutions
    /// (`count` 0: all).
    pub fn subn(
        &self,
        text: &[u8],
        template: &str,
        count: usize,
    ) -> Result<(Vec<u8>, usize), PyReError> {
        let template = Template::parse(template, self)?;
        let mut out = Vec::with_capacity(text.len());
        let mut last = 0;
        let mut n = 0;
        for groups in self.captures_all(text)? {
            if count > 0 && n == count {
                break;
            }
            let (start, end) = groups.spans[0].unwrap_or((last, last));
            out.extend_from_slice(&text[last..start]);
            template.expand_into(&groups, text, &mut out);
            last = end;
            n += 1;
        }
        out.extend_from_slice(&text[last..]);
        Ok((out, n))
    }
}

/// The position one character after `pos` (UTF-8 aware; past the end: `len + 1`).
fn next_char(text: &[u8], pos: usize) -> usize {
    let mut next = pos + 1;
    while next < text.len() && text[next] & 0xC0 == 0x80 {
        next += 1;
    }
    next
}

/// One match's group spans.
#[derive(Debug, Clone)]
pub struct Groups {
    /// Byte ranges by group index; 0 is the whole match.
    pub spans: Vec<Option<(usize, usize)>>,
    names: Vec<(String, usize)>,
}

impl Groups {
    /// Group `i`'s text in `text` (`None` when it did not take part).
    pub fn get<'t>(&self, text: &'t [u8], i: usize) -> Option<&'t [u8]> {
        self.spans
            .get(i)
            .copied()
            .flatten()
            .map(|(s, e)| &text[s..e])
    }

    /// The names of the pattern's named groups, in pattern order.
    pub fn group_names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(|(n, _)| n.as_str())
    }

    /// The named group's text.
    pub fn name<'t>(&self, text: &'t [u8], name: &str) -> Option<&'t [u8]> {
        let i = self.names.iter().find(|(n, _)| n == name)?.1;
        self.get(text, i)
    }
}

/// A Python `re.sub` replacement template, parsed once: `\1`..`\99`, `\g<1>`, `\g<name>`, and
/// Python's character escapes (`\n`, `\t`, `\\`, ...). An unknown ASCII-letter escape is an
/// error, as in Python; any other escaped character stays as written.
#[derive(Debug, Clone)]
pub struct Template {
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone)]
enum Piece {
    Literal(Vec<u8>),
    Group(usize),
}

impl Template {
    /// Parses `template` against `re`'s groups.
    pub fn parse(template: &str, re: &PyRegex) -> Result<Template, PyReError> {
        let bad = |reason: String| PyReError::Template {
            template: template.to_string(),
            reason,
        };
        // Python's messages end with the position: of the backslash for a bad escape, of
        // the group for a bad reference
        let group = |name: &str, at: usize| {
            re.group_index(name)
                .map(Piece::Group)
                .ok_or_else(|| bad(format!("invalid group reference {name} at position {at}")))
        };
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let chars: Vec<char> = template.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            i += 1;
            if c != '\\' {
                literal.push(c);
                continue;
            }
            let Some(&next) = chars.get(i) else {
                return Err(bad(format!(
                    "bad escape (end of pattern) at position {}",
                    i - 1
                )));
            };
            i += 1;
            let at = i - 2;
            let piece = match next {
                '1'..='9' => Some(group(&group_number(&chars, &mut i, next), at + 1)?),
                '0' => {
                    literal.push(octal_escape(&chars, &mut i));
                    None
                }
                'g' => {
                    let Some(name) = group_name(&chars, &mut i) else {
                        return Err(bad("missing group name".into()));
                    };
                    Some(group(&name, at + 3)?)
                }
                other => match char_escape(other) {
                    Some(bytes) => Some(Piece::Literal(bytes.to_vec())),
                    None if other.is_ascii_alphabetic() => {
                        return Err(bad(format!("bad escape \\{other} at position {at}")))
                    }
                    None => {
                        literal.push('\\');
                        literal.push(other);
                        None
                    }
                },
            };
            if let Some(piece) = piece {
                if !literal.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut literal).into_bytes()));
                }
                pieces.push(piece);
            }
        }
        if !literal.is_empty() {
            pieces.push(Piece::Literal(literal.into_bytes()));
        }
        Ok(Template { pieces })
    }

    /// Appends the expansion for one match (a group that did not take part expands to nothing,
    /// as in Python 3.5+).
    pub fn expand_into(&self, groups: &Groups, text: &[u8], out: &mut Vec<u8>) {
        for piece in &self.pieces {
            match piece {
                Piece::Literal(bytes) => out.extend_from_slice(bytes),
                Piece::Group(i) => out.extend_from_slice(groups.get(text, *i).unwrap_or_default()),
            }
        }
    }

    /// The expansion for one match.
    pub fn expand(&self, groups: &Groups, text: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        self.expand_into(groups, text, &mut out);
        out
    }
}

/// `\N` or `\NN` after its first digit `first`: the group number (one or two digits).
fn group_number(chars: &[char], i: &mut usize, first: char) -> String {
    let mut digits = first.to_string();
    if let Some(&d) = chars.get(*i).filter(|d| d.is_ascii_digit()) {
        digits.push(d);
        *i += 1;
    }
    digits
}

/// `\0`, `\0o`, `\0oo`: the character of up to two more octal digits.
fn octal_escape(chars: &[char], i: &mut usize) -> char {
    let digits: String = chars[*i..]
        .iter()
        .take(2)
        .take_while(|d| d.is_digit(8))
        .collect();
    *i += digits.len();
    let code = u32::from_str_radix(&format!("0{digits}"), 8).unwrap_or(0);
    char::from_u32(code).unwrap_or('\0')
}

/// `\g<name>` after the `g`: the name, `None` when the brackets are missing.
fn group_name(chars: &[char], i: &mut usize) -> Option<String> {
    let rest: String = chars[*i..].iter().collect();
    let name = rest
        .strip_prefix('<')
        .and_then(|r| r.split_once('>'))
        .map(|(n, _)| n.to_string())?;
    *i += name.chars().count() + 2;
    Some(name)
}

/// The bytes of Python's character escape `\c` (`\n`, `\t`, `\\`...).
fn char_escape(c: char) -> Option<&'static [u8]> {
    Some(match c {
        'n' => b"\n",
        't' => b"\t",
        'r' => b"\r",
        'a' => b"\x07",
        'b' => b"\x08",
        'f' => b"\x0c",
        'v' => b"\x0b",
        '\\' => b"\\",
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
