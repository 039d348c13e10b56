//! Where `lineinfile` puts its line: a port of Ansible's `present()` and `absent()`, so files
//! end up byte-identical. Works on the file's lines (each with its end of line); knows nothing
//! of hosts.

use super::text_edit::{compile, line_matches, regex_error, strip_eol};
use crate::BadArg;
use fleet_templates::pyre::{PyRegex, Template};

/// The module's options after validation.
pub(super) struct Opts {
    pub(super) path: String,
    pub(super) line: Option<String>,
    pub(super) regexp: Option<String>,
    pub(super) search_string: Option<String>,
    pub(super) present: bool,
    pub(super) insertafter: Option<String>,
    pub(super) insertbefore: Option<String>,
    pub(super) create: bool,
    pub(super) backrefs: bool,
    pub(super) firstmatch: bool,
}

/// Ansible's `present()`: returns the new lines and the message (empty when unchanged).
pub(super) fn present(o: &Opts, lines: Vec<Vec<u8>>) -> Result<(Vec<Vec<u8>>, String), BadArg> {
    let line = o.line.clone().unwrap_or_default().into_bytes();
    let spot = locate(o, &lines, &line)?;
    Ok(place(o, lines, &line, spot))
}

/// What the scan of the file found: the line to replace (and its replacement), or where a new
/// line would go.
struct Spot {
    /// The matching line (the last one, or the first with `firstmatch`).
    found: Option<usize>,
    /// Where `insertafter`/`insertbefore` put a new line.
    insert_at: Option<usize>,
    /// The line to write at `found`: `line`, or with `backrefs` the regexp's expansion.
    new_line: Vec<u8>,
}

/// Ansible's scan: `regexp`, then `search_string`; only when neither matched, the line itself
/// and the insert anchor.
fn locate(o: &Opts, lines: &[Vec<u8>], line: &[u8]) -> Result<Spot, BadArg> {
    let regexp = o.regexp.as_deref().map(|r| compile(r, false)).transpose()?;
    let after = o
        .insertafter
        .as_deref()
        .filter(|s| *s != "BOF" && *s != "EOF");
    let before = o.insertbefore.as_deref().filter(|s| *s != "BOF");
    let insert_re = after.or(before).map(|r| compile(r, false)).transpose()?;
    let mut spot = Spot {
        found: None,
        insert_at: None,
        new_line: line.to_vec(),
    };
    let mut matched = false;
    if let Some(re) = &regexp {
        if let Some((i, new_line)) = regexp_match(o, lines, line, re)? {
            (spot.found, spot.new_line, matched) = (Some(i), new_line, true);
        }
    }
    if let Some(needle) = &o.search_string {
        let mut hits = lines
            .iter()
            .enumerate()
            .filter(|(_, cur)| contains(cur, needle.as_bytes()))
            .map(|(i, _)| i);
        // the first hit with `firstmatch`, else the last (searched from the end)
        let hit = if o.firstmatch {
            hits.next()
        } else {
            hits.next_back()
        };
        if hit.is_some() {
            (spot.found, matched) = (hit, true);
        }
    }
    if !matched {
        for (i, cur) in lines.iter().enumerate() {
            if strip_eol(cur) == line {
                spot.found = Some(i);
            } else if match &insert_re {
                Some(re) => line_matches(re, cur)?,
                None => false,
            } {
                spot.insert_at = Some(if o.insertafter.is_some() { i + 1 } else { i });
                if o.firstmatch {
                    break;
                }
            }
        }
    }
    Ok(spot)
}

/// The line `regexp` matches and what replaces it (with `backrefs`, the line expanded with the
/// match's groups).
fn regexp_match(
    o: &Opts,
    lines: &[Vec<u8>],
    line: &[u8],
    re: &PyRegex,
) -> Result<Option<(usize, Vec<u8>)>, BadArg> {
    let template = match o.backrefs {
        true => Some(Template::parse(&String::from_utf8_lossy(line), re).map_err(regex_error)?),
        false => None,
    };
    let mut hit = None;
    for (i, cur) in lines.iter().enumerate() {
        let text = cur.strip_suffix(b"\n").unwrap_or(cur);
        if let Some(caps) = re.captures(text).map_err(regex_error)? {
            let new_line = if let Some(template) = &template {
                template.expand(&caps, text)
            } else {
                line.to_vec()
            };
            hit = Some((i, new_line));
            if o.firstmatch {
                break;
            }
        }
    }
    Ok(hit)
}

/// Ansible's placement: replace the found line, or insert at BOF, at the anchor, or at EOF
/// (ending an open last line first); nothing when the line is already there.
fn place(o: &Opts, mut lines: Vec<Vec<u8>>, line: &[u8], spot: Spot) -> (Vec<Vec<u8>>, String) {
    let with_eol = |l: &[u8]| [l, b"\n"].concat();
    let added = "line added".to_string();
    let none = String::new();
    let ends_open = |lines: &[Vec<u8>]| {
        lines
            .last()
            .is_some_and(|l| !l.ends_with(b"\n") && !l.ends_with(b"\r"))
    };
    let Spot {
        found,
        insert_at,
        mut new_line,
    } = spot;
    if let Some(index) = found {
        if !new_line.ends_with(b"\n") {
            new_line.push(b'\n');
        }
        if lines[index] != new_line {
            lines[index] = new_line;
            return (lines, "line replaced".into());
        }
        return (lines, none);
    }
    if o.backrefs {
        return (lines, none);
    }
    if o.insertbefore.as_deref() == Some("BOF") || o.insertafter.as_deref() == Some("BOF") {
        lines.insert(0, with_eol(line));
        return (lines, added);
    }
    match insert_at {
        _ if o.insertafter.as_deref() == Some("EOF") || insert_at.is_none() => {
            if ends_open(&lines) {
                lines.push(b"\n".to_vec());
            }
            lines.push(with_eol(line));
            (lines, added)
        }
        Some(at) if o.insertafter.is_some() => {
            if at == lines.len() {
                if strip_eol(&lines[at - 1]) != line {
                    lines.push(with_eol(line));
                    return (lines, added);
                }
                (lines, none)
            } else if strip_eol(&lines[at]) != line {
                lines.insert(at, with_eol(line));
                (lines, added)
            } else {
                (lines, none)
            }
        }
        Some(at) => {
            lines.insert(at, with_eol(line));
            (lines, added)
        }
        None => unreachable!("handled by the first arm"),
    }
}

/// Ansible's `absent()`: returns the kept lines and how many were removed.
pub(super) fn absent(o: &Opts, lines: Vec<Vec<u8>>) -> Result<(Vec<Vec<u8>>, usize), BadArg> {
    let regexp = o.regexp.as_deref().map(|r| compile(r, false)).transpose()?;
    let line = o.line.clone().unwrap_or_default().into_bytes();
    let before = lines.len();
    let mut kept: Vec<Vec<u8>> = Vec::with_capacity(before);
    for cur in lines {
        let hit = if let Some(re) = &regexp {
            line_matches(re, &cur)?
        } else if let Some(needle) = &o.search_string {
            contains(&cur, needle.as_bytes())
        } else {
            strip_eol(&cur) == line.as_slice()
        };
        if !hit {
            kept.push(cur);
        }
    }
    let removed = before - kept.len();
    Ok((kept, removed))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}
