//! Undefined values as Ansible treats them.
//!
//! minijinja's strict mode fails on any use of an undefined value, like Ansible, but it also
//! fails on an attribute of an undefined value (`result.stdout | default('')` with `result`
//! undefined), which Ansible allows, and its error does not name the variable. When an
//! evaluation fails on an undefined value, the failing access chain (`a.b['c']`) is rewritten
//! into a call of [`CHAIN_FN`], which walks the chain leniently and records why it came out
//! undefined, and the evaluation is retried; a failure on that call then carries Ansible's
//! message (`'foo' is undefined`, `object of type 'dict' has no attribute 'bar'`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use minijinja::value::{Rest, Value};
use minijinja::Error;

use super::repr::py_type_name;

/// Name of the lenient chain-walking function that rewritten chains call.
pub(crate) const CHAIN_FN: &str = "__fleet_chain";

static NEXT_SITE: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// Why each rewritten chain (by site number) came out undefined.
    static REASONS: RefCell<HashMap<u64, String>> = RefCell::new(HashMap::new());
    /// Why a value made by a filter came out undefined, when no access chain holds it (an item
    /// of `map(attribute=)` without the attribute): the first one noted in this evaluation.
    static LOOSE_REASON: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// One access after the root of a chain: `.name` or `[expr]`.
#[derive(Debug, PartialEq)]
enum Access<'a> {
    Attr(&'a str),
    Item(&'a str),
}

/// A variable followed by attribute or item accesses, as written in the template.
#[derive(Debug, PartialEq)]
struct Chain<'a> {
    root: &'a str,
    accesses: Vec<Access<'a>>,
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Parses `text` as exactly one access chain (surrounding whitespace allowed).
fn parse_chain(text: &str) -> Option<Chain<'_>> {
    let text = text.trim();
    match chain_prefix(text)? {
        (chain, end) if text[end..].trim().is_empty() => Some(chain),
        _ => None,
    }
}

/// The access chain `text` starts with, and where it ends (before any method call: in
/// `a.b.split(',')` the chain is `a.b`).
fn chain_prefix(text: &str) -> Option<(Chain<'_>, usize)> {
    let bytes = text.as_bytes();
    let mut pos = if let Some(q) = text.strip_prefix(['\'', '"']).map(|_| &text[..1]) {
        // a string literal as the root
        text[1..].find(q)? + 2
    } else if text.starts_with(is_ident_start) {
        text.find(|c| !is_ident_char(c)).unwrap_or(text.len())
    } else {
        return None;
    };
    let root = &text[..pos];
    let mut accesses = Vec::new();
    let mut end = pos;
    while pos < text.len() {
        while pos < text.len() && bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        match bytes.get(pos) {
            Some(b'.') => {
                pos += 1;
                let start = pos;
                while pos < text.len() && is_ident_char(bytes[pos] as char) {
                    pos += 1;
                }
                if start == pos {
                    return None;
                }
                if text[pos..].trim_start().starts_with('(') {
                    // a method call, not an access
                    break;
                }
                accesses.push(Access::Attr(&text[start..pos]));
            }
            Some(b'[') => {
                let close = matching_bracket(text, pos)?;
                accesses.push(Access::Item(text[pos + 1..close].trim()));
                pos = close + 1;
            }
            _ => break,
        }
        end = pos;
    }
    Some((Chain { root, accesses }, end))
}

/// `source` with every access chain of a variable (`a.b`, `x['k'].y`) rewritten into a
/// [`CHAIN_FN`] call, for a failure minijinja gives no position for (a comparison with an
/// undefined value): the retry records which access came out undefined. `None` when there is
/// no chain to rewrite.
pub(crate) fn rewrite_all_chains(source: &str) -> Option<String> {
    let bytes = source.as_bytes();
    let mut out = String::new();
    let (mut i, mut copied, mut quote) = (0, 0, None::<u8>);
    while i < bytes.len() {
        let c = bytes[i];
        if let Some(q) = quote {
            i += if c == b'\\' { 2 } else { 1 };
            if c == q {
                quote = None;
            }
            continue;
        }
        if c == b'\'' || c == b'"' {
            quote = Some(c);
            i += 1;
            continue;
        }
        let starts_word = is_ident_start(c as char)
            && (i == 0 || !is_ident_char(bytes[i - 1] as char) && bytes[i - 1] != b'.');
        if !starts_word {
            i += 1;
            continue;
        }
        match chain_prefix(&source[i..]) {
            Some((chain, end)) if !chain.accesses.is_empty() && chain.root != CHAIN_FN => {
                let before = source[..i].trim_end();
                if before.ends_with('|') || before.ends_with(" is") {
                    i += chain.root.len();
                    continue;
                }
                out.push_str(&source[copied..i]);
                out.push_str(&chain_call(&chain));
                i += end;
                copied = i;
            }
            Some((chain, _)) => i += chain.root.len(),
            None => i += 1,
        }
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&source[copied..]);
    Some(out)
}

/// The reason recorded for the first rewritten chain call in `source` that came out
/// undefined.
pub(crate) fn recorded_reason(source: &str) -> Option<String> {
    source
        .match_indices(CHAIN_FN)
        .filter_map(|(at, _)| chain_site(&source[at..]))
        .find_map(|site| REASONS.with(|r| r.borrow().get(&site).cloned()))
}

/// Where the access chain that continues at `pos` (`.x`, `[k]`) starts.
fn chain_start(source: &str, mut pos: usize) -> usize {
    let bytes = source.as_bytes();
    if !matches!(bytes.get(pos), Some(b'.') | Some(b'[')) {
        return pos;
    }
    loop {
        let mut start = pos;
        while start > 0 && is_ident_char(bytes[start - 1] as char) {
            start -= 1;
        }
        if start < pos {
            pos = start;
        }
        match pos.checked_sub(1).map(|p| bytes[p]) {
            Some(b'.') => pos -= 1,
            Some(q @ (b'\'' | b'"')) => {
                return match source[..pos - 1].rfind(q as char) {
                    Some(open) => open,
                    None => pos,
                };
            }
            Some(b']') => {
                let mut depth = 0;
                let mut open = None;
                for i in (0..pos).rev() {
                    match bytes[i] {
                        b']' => depth += 1,
                        b'[' => {
                            depth -= 1;
                            if depth == 0 {
                                open = Some(i);
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                match open {
                    Some(i) => pos = i,
                    None => return pos,
                }
            }
            _ => return pos,
        }
    }
}

/// The index of the `]` closing the `[` at `open`, skipping quoted strings.
fn matching_bracket(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in text[open..].char_indices() {
        if let Some(q) = quote {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                c if c == q => quote = None,
                _ => {}
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '[' | '(' | '{' => depth += 1,
            ']' | ')' | '}' => {
                depth -= 1;
                if depth == 0 {
                    return (c == ']').then_some(open + i);
                }
            }
            _ => {}
        }
    }
    None
}

/// What to do about an evaluation that failed on an undefined value at `span` of `source`.
pub(crate) enum Remedy {
    /// Evaluate this rewritten source instead.
    Retry(String),
    /// Report this message.
    Fail(String),
}

/// What [`remedy`] needs to know about the variables.
pub(crate) trait Names {
    /// The recorded reason a top-level variable is undefined (its template used an undefined
    /// name), if any.
    fn reason_for(&self, name: &str) -> Option<String>;
    /// Whether `name` is neither a variable nor a global.
    fn is_missing(&self, name: &str) -> bool;
}

/// The names `source` uses but does not set itself that are missing from the variables,
/// nearest before `pos` first.
fn missing_names(source: &str, is_expression: bool, pos: usize, names: &dyn Names) -> Vec<String> {
    let env = minijinja::Environment::new();
    let used = if is_expression {
        super::markup::refuse_early_close(source)
            .and_then(|()| env.compile_expression(source))
            .map(|e| e.undeclared_variables(false))
            .unwrap_or_default()
    } else {
        env.template_from_str(source)
            .map(|t| t.undeclared_variables(false))
            .unwrap_or_default()
    };
    let mut missing: Vec<(usize, String)> = used
        .into_iter()
        .filter(|name| name != CHAIN_FN && names.is_missing(name))
        .map(|name| {
            let before = source[..pos.min(source.len())].rfind(name.as_str());
            let distance = before.map_or(usize::MAX, |at| pos - at);
            (distance, name)
        })
        .collect();
    missing.sort();
    missing.into_iter().map(|(_, name)| name).collect()
}

/// Decides how to handle an undefined failure whose span is `span` within `source`.
pub(crate) fn remedy(
    source: &str,
    is_expression: bool,
    span: std::ops::Range<usize>,
    names: &dyn Names,
) -> Remedy {
    let reason_for = |name: &str| names.reason_for(name);
    // an attribute access's span starts at its `.`: widen it to the whole chain
    let span = chain_start(source, span.start)..span.end;
    let text = &source[span.clone()];
    if let Some(site) = chain_site(text) {
        if let Some(reason) = REASONS.with(|r| r.borrow().get(&site).cloned()) {
            return Remedy::Fail(reason);
        }
    }
    if let Some(chain) = parse_chain(text) {
        let before = source[..span.start].trim_end();
        let is_filter_or_test =
            before.ends_with('|') || before.ends_with(" is") || before.ends_with(" not");
        let is_name = chain.root.starts_with(is_ident_start);
        if chain.accesses.is_empty()
            && is_name
            && !is_filter_or_test
            && names.is_missing(chain.root)
        {
            return Remedy::Fail(
                reason_for(chain.root).unwrap_or_else(|| undefined_name(chain.root)),
            );
        }
        if !chain.accesses.is_empty() {
            return Remedy::Retry(format!(
                "{}{}{}",
                &source[..span.start],
                chain_call(&chain),
                &source[span.end..]
            ));
        }
    }
    if let Some(name) = missing_names(source, is_expression, span.start, names).first() {
        return Remedy::Fail(reason_for(name).unwrap_or_else(|| undefined_name(name)));
    }
    // an operation on an undefined access (`d.b == 1`): the retry finds which one
    if let Some(reason) = recorded_reason(text) {
        return Remedy::Fail(reason);
    }
    if !text.contains(CHAIN_FN) {
        if let Some(rewritten) = rewrite_all_chains(text) {
            return Remedy::Retry(format!(
                "{}{rewritten}{}",
                &source[..span.start],
                &source[span.end..]
            ));
        }
    }
    // the failing part holds no access (a filter given an undefined value): the accesses of
    // the whole source, then what the retry recorded
    if let Some(reason) = recorded_reason(source) {
        return Remedy::Fail(reason);
    }
    if !source.contains(CHAIN_FN) {
        if let Some(rewritten) = rewrite_all_chains(source) {
            return Remedy::Retry(rewritten);
        }
    }
    Remedy::Fail(match first_identifier(text) {
        Some(name) => reason_for(name).unwrap_or_else(|| undefined_name(name)),
        None => format!("undefined value in '{}'", text.trim()),
    })
}

fn undefined_name(name: &str) -> String {
    format!("'{name}' is undefined")
}

/// The first plain identifier (not a keyword, attribute or call) in an expression.
fn first_identifier(text: &str) -> Option<&str> {
    const KEYWORDS: &[&str] = &[
        "and", "or", "not", "in", "is", "if", "else", "true", "false", "none", "True", "False",
        "None",
    ];
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let c = bytes[i];
        if let Some(q) = quote {
            if c == b'\\' {
                i += 1;
            } else if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        if c == b'\'' || c == b'"' {
            quote = Some(c);
            i += 1;
            continue;
        }
        if is_ident_start(c as char) {
            let start = i;
            while i < bytes.len() && is_ident_char(bytes[i] as char) {
                i += 1;
            }
            let word = &text[start..i];
            let before = text[..start].trim_end();
            let after = text[i..].trim_start();
            let is_member = before.ends_with('.') || before.ends_with('|');
            let is_test = before.ends_with(" is") || before.ends_with(" is not");
            if !is_member && !is_test && !after.starts_with('(') && !KEYWORDS.contains(&word) {
                return Some(word);
            }
            continue;
        }
        i += 1;
    }
    None
}

fn chain_call(chain: &Chain<'_>) -> String {
    let site = NEXT_SITE.fetch_add(1, Ordering::Relaxed);
    let name = serde_json::to_string(chain.root).unwrap_or_default();
    let mut call = format!("{CHAIN_FN}({site}, {name}, {}", chain.root);
    for access in &chain.accesses {
        match access {
            Access::Attr(name) if name.bytes().all(|b| b.is_ascii_digit()) => {
                call.push_str(&format!(", ('.', {name})"));
            }
            Access::Attr(name) => call.push_str(&format!(", ('.', '{name}')")),
            Access::Item(expr) => call.push_str(&format!(", ('[]', {expr})")),
        }
    }
    call.push(')');
    call
}

/// The site number of a rewritten chain call spanning `text`, if it is one.
fn chain_site(text: &str) -> Option<u64> {
    let rest = text.trim().strip_prefix(CHAIN_FN)?.strip_prefix('(')?;
    rest.split(',').next()?.trim().parse().ok()
}

/// Forgets the reasons recorded on this thread (called when a top-level evaluation ends).
pub(crate) fn clear_reasons() {
    REASONS.with(|r| r.borrow_mut().clear());
    LOOSE_REASON.with(|r| r.borrow_mut().take());
}

/// Notes why a filter produced an undefined value outside any access chain; the first note of
/// an evaluation is kept.
pub(crate) fn note_loose_reason(reason: String) {
    LOOSE_REASON.with(|r| {
        r.borrow_mut().get_or_insert(reason);
    });
}

/// The reason noted by [`note_loose_reason`] in this evaluation, if any.
pub(crate) fn loose_reason() -> Option<String> {
    LOOSE_REASON.with(|r| r.borrow().clone())
}

/// Ansible's text for an access to `key` that `container` lacks (`object of type 'dict' has
/// no attribute 'name'`; a number key unquoted).
pub(crate) fn no_attribute(container: &Value, key: &Value) -> String {
    let shown = match key.as_str() {
        Some(name) => format!("'{name}'"),
        None => key.to_string(),
    };
    format!(
        "object of type '{}' has no attribute {shown}",
        py_type_name(container)
    )
}

/// `__fleet_chain(site, root_name, root, (kind, key)...)`: walks the accesses leniently, like
/// Ansible's undefined values, and records why the result is undefined.
pub(crate) fn chain_fn(
    site: u64,
    root_name: String,
    root: Value,
    accesses: Rest<Value>,
) -> Result<Value, Error> {
    if root.is_undefined() {
        REASONS.with(|r| r.borrow_mut().insert(site, undefined_name(&root_name)));
        return Ok(Value::UNDEFINED);
    }
    let mut current = root;
    for access in accesses.iter() {
        let kind = access.get_item(&Value::from(0))?;
        let key = access.get_item(&Value::from(1))?;
        let key = &key;
        let next = if kind.as_str() == Some(".") {
            match key.as_str() {
                Some(name) => current.get_attr(name)?,
                None => current.get_item(key)?,
            }
        } else {
            let item = current.get_item(key)?;
            match (item.is_undefined(), key.as_str()) {
                (true, Some(name)) => current.get_attr(name)?,
                _ => item,
            }
        };
        if next.is_undefined() {
            let reason = no_attribute(&current, key);
            REASONS.with(|r| r.borrow_mut().insert(site, reason));
            return Ok(Value::UNDEFINED);
        }
        current = next;
    }
    Ok(current)
}

#[cfg(test)]
mod tests;
