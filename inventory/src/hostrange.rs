//! Host name expansion in inventories: `web[01:03]`, `db[a:c]`, `[1:10:2]`, and `host:port`.
//!
//! Both the YAML and INI formats accept the same host "patterns" (not to be confused with the
//! selection patterns of `pattern.rs`); this is Ansible's `_expand_hostpattern`.

/// Most hosts one range may produce; a typo like `[0:99999999]` is refused, not allocated.
pub const MAX_EXPANSION: usize = 100_000;

/// A host entry after expansion: the names it stands for and the port it carried, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expanded {
    /// Host names, in range order.
    pub names: Vec<String>,
    /// Port given as `name:port`.
    pub port: Option<u16>,
}

/// Expands one host entry; the error is a message for the caller to place at a position.
pub fn expand(entry: &str) -> Result<Expanded, String> {
    let entry = entry.trim();
    if entry.is_empty() {
        return Err("empty host name".into());
    }
    let (name, port) = split_port(entry)?;
    if name == "---" {
        return Err("invalid host name '---' (is this a YAML file?)".into());
    }
    let names = if looks_like_ipv6(name) {
        vec![name.to_string()]
    } else {
        expand_ranges(name)?
    };
    Ok(Expanded { names, port })
}

/// True for a bare IPv6 address (several colons, hex digits and dots only).
fn looks_like_ipv6(s: &str) -> bool {
    s.matches(':').count() >= 2
        && s.chars()
            .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
}

/// Splits `name:port` / `[v6addr]:port`; colons inside range brackets are not port separators.
fn split_port(entry: &str) -> Result<(&str, Option<u16>), String> {
    if looks_like_ipv6(entry) {
        return Ok((entry, None));
    }
    if let Some(rest) = entry.strip_prefix('[') {
        if let Some((addr, after)) = rest.split_once(']') {
            if looks_like_ipv6(addr) {
                return match after.strip_prefix(':') {
                    Some(p) => Ok((addr, Some(parse_port(entry, p)?))),
                    None if after.is_empty() => Ok((addr, None)),
                    None => Err(format!("invalid host entry '{entry}'")),
                };
            }
        }
    }
    let mut depth = 0i32;
    let mut last_colon = None;
    for (i, c) in entry.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ':' if depth == 0 => last_colon = Some(i),
            _ => {}
        }
    }
    match last_colon {
        None => Ok((entry, None)),
        Some(i) => {
            let (name, port) = (&entry[..i], &entry[i + 1..]);
            if port.is_empty() {
                return Err(format!(
                    "invalid host entry '{entry}': a trailing ':' must be followed by a port"
                ));
            }
            Ok((name, Some(parse_port(entry, port)?)))
        }
    }
}

fn parse_port(entry: &str, port: &str) -> Result<u16, String> {
    match port.parse::<u16>() {
        Ok(p) if p > 0 && port.bytes().all(|b| b.is_ascii_digit()) => Ok(p),
        _ => Err(format!("invalid port '{port}' in host entry '{entry}'")),
    }
}

/// Expands every `[beg:end(:step)]` in `name`, left to right (cartesian product).
fn expand_ranges(name: &str) -> Result<Vec<String>, String> {
    let Some(open) = name.find('[') else {
        return Ok(vec![name.to_string()]);
    };
    let Some(close_rel) = name[open..].find(']') else {
        return Err(format!("unterminated '[' in host name '{name}'"));
    };
    let close = open + close_rel;
    let inner = &name[open + 1..close];
    if !inner.contains(':') {
        // Not a range: Ansible keeps such brackets literally.
        return Ok(vec![name.to_string()]);
    }
    let (head, tail) = (&name[..open], &name[close + 1..]);
    let items = range_items(inner, name)?;
    let tails = expand_ranges(tail)?;
    let total = items.len().saturating_mul(tails.len());
    if total > MAX_EXPANSION {
        return Err(format!(
            "host range in '{name}' expands to more than {MAX_EXPANSION} hosts"
        ));
    }
    let mut out = Vec::with_capacity(total);
    for item in &items {
        for t in &tails {
            out.push(format!("{head}{item}{t}"));
        }
    }
    Ok(out)
}

/// The items of one `beg:end(:step)` range: numbers (zero-padded like `beg`) or letters.
fn range_items(inner: &str, name: &str) -> Result<Vec<String>, String> {
    let parts: Vec<&str> = inner.split(':').collect();
    let (beg, end, step) = match parts.as_slice() {
        [b, e] => (*b, *e, "1"),
        [b, e, s] => (*b, *e, *s),
        _ => return Err(format!("invalid range '[{inner}]' in host name '{name}'")),
    };
    let beg = if beg.is_empty() { "0" } else { beg };
    if end.is_empty() {
        return Err(format!("range '[{inner}]' in '{name}' needs an end"));
    }
    let step: usize = match step.parse() {
        Ok(s) if s > 0 => s,
        _ => return Err(format!("invalid range step '{step}' in host name '{name}'")),
    };
    let is_letter = |s: &str| s.len() == 1 && s.as_bytes()[0].is_ascii_alphabetic();
    if is_letter(beg) && is_letter(end) {
        // Ansible indexes into string.ascii_letters: a..z then A..Z.
        const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let pos = |s: &str| LETTERS.iter().position(|&c| c == s.as_bytes()[0]);
        let (Some(b), Some(e)) = (pos(beg), pos(end)) else {
            return Err(format!("invalid range '[{inner}]' in host name '{name}'"));
        };
        if b > e {
            return Err(format!(
                "range '[{inner}]' in '{name}' must have begin <= end"
            ));
        }
        return Ok((b..=e)
            .step_by(step)
            .map(|i| (LETTERS[i] as char).to_string())
            .collect());
    }
    let (Ok(b), Ok(e)) = (beg.parse::<u64>(), end.parse::<u64>()) else {
        return Err(format!("invalid range '[{inner}]' in host name '{name}'"));
    };
    if b > e {
        return Err(format!(
            "range '[{inner}]' in '{name}' must have begin <= end"
        ));
    }
    let width = if beg.len() > 1 && beg.starts_with('0') {
        if beg.len() != end.len() {
            return Err(format!(
                "range '[{inner}]' in '{name}' must use equal-length begin and end"
            ));
        }
        beg.len()
    } else {
        0
    };
    if (e - b) / step as u64 >= MAX_EXPANSION as u64 {
        return Err(format!(
            "host range in '{name}' expands to more than {MAX_EXPANSION} hosts"
        ));
    }
    Ok((b..=e)
        .step_by(step)
        .map(|i| format!("{i:0width$}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(e: &str) -> Vec<String> {
        expand(e).unwrap().names
    }

    #[test]
    fn numeric_ranges_keep_padding() {
        assert_eq!(names("web[01:03]"), ["web01", "web02", "web03"]);
        assert_eq!(
            names("web[1:3].example.com"),
            ["web1.example.com", "web2.example.com", "web3.example.com"]
        );
        assert_eq!(names("n[1:10:4]"), ["n1", "n5", "n9"]);
        assert_eq!(names("n[:2]"), ["n0", "n1", "n2"]);
    }

    #[test]
    fn letter_ranges_and_products() {
        assert_eq!(names("db[a:c]"), ["dba", "dbb", "dbc"]);
        assert_eq!(names("r[1:2]c[a:b]"), ["r1ca", "r1cb", "r2ca", "r2cb"]);
        assert_eq!(names("x[y:B]"), ["xy", "xz", "xA", "xB"]);
    }

    #[test]
    fn ports() {
        assert_eq!(expand("web1:2222").unwrap().port, Some(2222));
        let e = expand("web[1:2]:2200").unwrap();
        assert_eq!((e.names.len(), e.port), (2, Some(2200)));
        assert_eq!(names("fe80::1"), ["fe80::1"]);
        let v6 = expand("[2001:db8::1]:22").unwrap();
        assert_eq!(
            (v6.names, v6.port),
            (vec!["2001:db8::1".to_string()], Some(22))
        );
    }

    #[test]
    fn literal_brackets_and_errors() {
        assert_eq!(names("odd[1]"), ["odd[1]"]);
        for bad in [
            "web:",
            "web:x",
            "web:0",
            "w[3:1]",
            "w[01:3]",
            "w[1:]",
            "w[1:2:0]",
            "w[1:2",
            "w[0:99999999]",
            "w[0:18446744073709551615]",
            "w[1:2:3:4]",
            "w[a:9]",
            "---",
            "",
        ] {
            assert!(expand(bad).is_err(), "{bad}");
        }
    }
}
