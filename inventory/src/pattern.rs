//! Ansible host patterns: which hosts does `web:&prod:!web3` mean?
//!
//! A pattern is a list of terms separated by `,` or `:` (colons inside `[...]` do not split, and
//! a term equal to a host name, such as an IPv6 address, is kept whole). Each term is:
//! - `all` or `*`: every host;
//! - a group name (its hosts and its descendants' hosts) or a host name;
//! - a glob with `*`, `?` and `[...]` classes, matched against group and host names;
//! - `~regex`: a regular expression matched at the start of group and host names;
//! - any of these followed by a subscript: `web[0]`, `web[-1]`, `web[1:3]` (inclusive),
//!   `web[2:]`, picking from the matched hosts in group order.
//!
//! A term prefixed with `&` intersects, `!` excludes. As in Ansible, all plain terms are applied
//! first (union, left to right), then the `&` terms, then the `!` terms; a pattern with only `&`
//! and `!` terms starts from `all`. Unknown names match nothing. The result is in inventory
//! (file) order. The implicit `localhost` a playbook run adds is selected by its name alone.

use std::collections::HashSet;
use std::sync::OnceLock;

use regex::Regex;

use crate::error::InventoryError;
use crate::model::{Host, Inventory};

impl Inventory {
    /// Hosts matching an Ansible host pattern (see the `pattern` module docs), in file order.
    pub fn select(&self, pattern: &str) -> Result<Vec<&Host>, InventoryError> {
        let terms = split_terms(self, pattern);
        if terms.is_empty() {
            return Err(InventoryError::pattern(pattern, "empty host pattern"));
        }
        let (mut regular, mut rest): (Vec<&str>, Vec<&str>) = terms
            .iter()
            .map(String::as_str)
            .partition(|t| !t.starts_with(['&', '!']));
        rest.sort_by_key(|t| t.starts_with('!')); // stable: all `&` terms, then all `!` terms
        if regular.is_empty() {
            regular.push("all");
        }
        let mut selected: Vec<usize> = Vec::new();
        let mut seen: HashSet<usize> = HashSet::new();
        for term in regular.into_iter().chain(rest) {
            if let Some(&i) = self.host_index.get(term) {
                if seen.insert(i) {
                    selected.push(i);
                }
                continue;
            }
            let (op, body) = match term.as_bytes()[0] {
                b'&' | b'!' => (term.as_bytes()[0], &term[1..]),
                _ => (b'+', term),
            };
            if body.is_empty() {
                return Err(InventoryError::pattern(term, "nothing after the operator"));
            }
            let matched = self.match_term(body)?;
            match op {
                b'&' => {
                    let keep: HashSet<usize> = matched.into_iter().collect();
                    selected.retain(|i| keep.contains(i));
                }
                b'!' => {
                    let drop: HashSet<usize> = matched.into_iter().collect();
                    selected.retain(|i| !drop.contains(i));
                }
                _ => selected.extend(matched.into_iter().filter(|i| seen.insert(*i))),
            }
            seen = selected.iter().copied().collect();
        }
        selected.sort_unstable();
        Ok(selected.into_iter().map(|i| &self.hosts[i]).collect())
    }

    /// Host indices one term (without `&`/`!`) stands for, in group order, subscript applied.
    fn match_term(&self, term: &str) -> Result<Vec<usize>, InventoryError> {
        let (expr, subscript) = split_subscript(term);
        let matcher = Matcher::new(expr)?;
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let mut any_group = false;
        for g in &self.groups {
            if matcher.is_match(&g.name) {
                any_group = true;
                for i in self.group_host_indices(&g.name) {
                    if seen.insert(i) {
                        out.push(i);
                    }
                }
            }
        }
        let special = expr.starts_with('~') || expr.contains(['.', '?', '*', '[']);
        if !any_group || special {
            for (i, h) in self.hosts.iter().enumerate() {
                if !h.implicit && matcher.is_match(&h.name) && seen.insert(i) {
                    out.push(i);
                }
            }
        }
        match subscript {
            None => Ok(out),
            Some(s) => s
                .apply(out)
                .ok_or_else(|| InventoryError::pattern(term, "no hosts matched the subscript")),
        }
    }

    /// Hosts of a group and of its descendants: own hosts first, then breadth-first.
    fn group_host_indices(&self, name: &str) -> Vec<usize> {
        if name == "all" {
            return (0..self.hosts.len())
                .filter(|&i| !self.hosts[i].implicit)
                .collect();
        }
        let mut order = vec![name];
        let mut seen: HashSet<&str> = HashSet::from([name]);
        let mut i = 0;
        while i < order.len() {
            if let Some(g) = self.group(order[i]) {
                for c in &g.children {
                    if seen.insert(c) {
                        order.push(c);
                    }
                }
            }
            i += 1;
        }
        order
            .iter()
            .filter_map(|g| self.group(g))
            .flat_map(|g| g.hosts.iter())
            .filter_map(|h| self.host_index.get(h).copied())
            .collect()
    }
}

/// Splits a pattern into terms; a comma list is split on commas, then each part on colons.
fn split_terms(inv: &Inventory, pattern: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in pattern.split(',') {
        let part = part.trim();
        if inv.host_index.contains_key(part) {
            out.push(part.to_string());
            continue;
        }
        let mut depth = 0i32;
        let mut current = String::new();
        for c in part.chars() {
            match c {
                '[' => depth += 1,
                ']' => depth -= 1,
                ':' if depth <= 0 => {
                    out.push(std::mem::take(&mut current));
                    continue;
                }
                _ => {}
            }
            current.push(c);
        }
        out.push(current);
    }
    out.into_iter()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

/// A subscript: `[i]` picks one host, `[a:b]` / `[a-b]` an inclusive slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Subscript {
    Index(i64),
    Slice(usize, Option<usize>),
}

impl Subscript {
    fn apply(self, hosts: Vec<usize>) -> Option<Vec<usize>> {
        match self {
            Subscript::Index(i) => {
                let len = hosts.len() as i64;
                let idx = if i < 0 { len + i } else { i };
                (0..len).contains(&idx).then(|| vec![hosts[idx as usize]])
            }
            Subscript::Slice(start, end) => {
                let end = end
                    .map_or(hosts.len(), |e| e.saturating_add(1))
                    .min(hosts.len());
                Some(
                    hosts
                        .get(start..end)
                        .map(<[usize]>::to_vec)
                        .unwrap_or_default(),
                )
            }
        }
    }
}

/// Splits `expr[subscript]`; `~regex` terms never have a subscript (Ansible's rule).
fn split_subscript(term: &str) -> (&str, Option<Subscript>) {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"^(.+)\[(?:(-?[0-9]+)|([0-9]+)?\s*[:-]\s*([0-9]+)?)\]$").expect("static regex")
    });
    if term.starts_with('~') {
        return (term, None);
    }
    let Some(c) = re.captures(term) else {
        return (term, None);
    };
    let expr = c.get(1).map_or(term, |m| m.as_str());
    let num = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<i64>().ok());
    let sub = if c.get(2).is_some() {
        match num(2) {
            Some(i) => Subscript::Index(i),
            None => return (term, None),
        }
    } else {
        let start = num(3).map_or(0, |v| usize::try_from(v).unwrap_or(usize::MAX));
        let end = num(4).map(|v| usize::try_from(v).unwrap_or(usize::MAX));
        Subscript::Slice(start, end)
    };
    (expr, Some(sub))
}

/// Matches names against one term: exact, glob (fnmatch) or `~regex`.
enum Matcher {
    Exact(String),
    Regex(Regex),
}

impl Matcher {
    fn new(expr: &str) -> Result<Matcher, InventoryError> {
        if let Some(re) = expr.strip_prefix('~') {
            return Regex::new(&format!(r"\A(?:{re})"))
                .map(Matcher::Regex)
                .map_err(|e| InventoryError::pattern(expr, format!("invalid regex: {e}")));
        }
        if expr == "*" {
            return Ok(Matcher::Exact("all".into()));
        }
        if !expr.contains(['*', '?', '[']) {
            return Ok(Matcher::Exact(expr.to_string()));
        }
        Regex::new(&fnmatch_to_regex(expr))
            .map(Matcher::Regex)
            .map_err(|e| InventoryError::pattern(expr, format!("invalid glob: {e}")))
    }

    fn is_match(&self, name: &str) -> bool {
        match self {
            Matcher::Exact(s) => s == name,
            Matcher::Regex(r) => r.is_match(name),
        }
    }
}

/// Python's `fnmatch.translate`: `*`, `?`, `[seq]`, `[!seq]`; everything else literal.
fn fnmatch_to_regex(glob: &str) -> String {
    let chars: Vec<char> = glob.chars().collect();
    let mut out = String::from(r"\A(?s:");
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            '[' => {
                let mut j = i;
                if j < chars.len() && chars[j] == '!' {
                    j += 1;
                }
                if j < chars.len() && chars[j] == ']' {
                    j += 1;
                }
                while j < chars.len() && chars[j] != ']' {
                    j += 1;
                }
                if j >= chars.len() {
                    out.push_str(r"\[");
                    continue;
                }
                let mut class: &[char] = &chars[i..j];
                out.push('[');
                if class.first() == Some(&'!') {
                    out.push('^');
                    class = &class[1..];
                }
                for &ch in class {
                    if matches!(ch, '\\' | '[' | ']' | '&' | '~' | '^') {
                        out.push('\\');
                    }
                    out.push(ch);
                }
                out.push(']');
                i = j + 1;
            }
            other => out.push_str(&regex::escape(&other.to_string())),
        }
    }
    out.push_str(r")\z");
    out
}
