//! Filters and tests by their qualified names: `x | ansible.builtin.regex_replace(...)`,
//! `v is ansible.builtin.version('2', '>=')`. Ansible resolves `ansible.builtin.` (and
//! `ansible.legacy.`) to the same plugins as the short names, Jinja2's own included; minijinja
//! knows only the short names. A template that names an unknown filter or test is retried
//! with those prefixes dropped where a filter or test name stands (after `|`, `is`, `is not`);
//! templates without them never pay for the scan.
//!
//! A filter or test minijinja still does not know is routed to Ansible's own code
//! ([`crate::ansible_plugins`]): its calls are rewritten to the filter or test that carries the
//! name as its first argument.

use crate::ansible_plugins::{FILTER_FN, TEST_FN};

const PREFIXES: [&str; 2] = ["ansible.builtin.", "ansible.legacy."];

/// `src` without the collection prefixes of its filter and test names, or `None` when it has
/// none to drop.
pub(crate) fn strip_builtin_prefixes(src: &str) -> Option<String> {
    let mut out = String::with_capacity(src.len());
    let mut rest = src;
    let mut changed = false;
    while let Some((at, prefix)) = PREFIXES
        .iter()
        .filter_map(|p| rest.find(p).map(|at| (at, *p)))
        .min_by_key(|(at, _)| *at)
    {
        out.push_str(&rest[..at]);
        if names_a_filter_or_test(&out) {
            changed = true;
        } else {
            out.push_str(prefix);
        }
        rest = &rest[at + prefix.len()..];
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// `src` with the calls of the filter or test that `err` says is unknown rewritten to
/// [`FILTER_FN`] or [`TEST_FN`] with its name first: `x | a.b.f(1)` becomes
/// `x | fleet_ansible_filter('a.b.f', 1)`, `x is t` becomes `x is fleet_ansible_test('t')`.
/// `None` when `err` is not about an unknown filter or test, or the name is not in place.
pub(crate) fn route_unknown(src: &str, err: &minijinja::Error) -> Option<String> {
    let detail = err.detail()?;
    let (target, rest) = if let Some(rest) = detail.strip_prefix("filter ") {
        (FILTER_FN, rest)
    } else {
        (TEST_FN, detail.strip_prefix("test ")?)
    };
    let name = rest.strip_suffix(" is unknown")?;
    if !crate::ansible_plugins::is_plugin_name(name) || name == FILTER_FN || name == TEST_FN {
        return None;
    }
    let mut out = String::with_capacity(src.len() + 32);
    let mut rest = src;
    let mut changed = false;
    while let Some(at) = find_name(rest, name) {
        out.push_str(&rest[..at]);
        let after = &rest[at + name.len()..];
        if !names_a_filter_or_test(&out) {
            out.push_str(name);
            rest = after;
            continue;
        }
        changed = true;
        match after.trim_start().strip_prefix('(') {
            Some(args) if args.trim_start().starts_with(')') => {
                out.push_str(&format!("{target}('{name}'"));
                rest = args;
            }
            Some(args) => {
                out.push_str(&format!("{target}('{name}', "));
                rest = args;
            }
            None => {
                out.push_str(&format!("{target}('{name}')"));
                rest = after;
            }
        }
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// Where `name` stands as a whole (dotted) name in `text`.
fn find_name(text: &str, name: &str) -> Option<usize> {
    let part = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.';
    let mut from = 0;
    while let Some(found) = text[from..].find(name) {
        let at = from + found;
        let before_ok = !text[..at].ends_with(part);
        let after_ok = !text[at + name.len()..].starts_with(part);
        if before_ok && after_ok {
            return Some(at);
        }
        from = at + name.len();
    }
    None
}

/// Whether a name right after `before` is in a filter's or a test's place.
fn names_a_filter_or_test(before: &str) -> bool {
    let before = before.trim_end();
    if before.ends_with('|') {
        return true;
    }
    let before = before.strip_suffix("not").map_or(before, str::trim_end);
    before
        .strip_suffix("is")
        .is_some_and(|b| !b.ends_with(|c: char| c.is_alphanumeric() || c == '_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unknown(what: &str) -> minijinja::Error {
        minijinja::Error::new(
            minijinja::ErrorKind::UnknownFilter,
            format!("{what} is unknown"),
        )
    }

    #[test]
    fn unknown_filters_and_tests_are_routed_with_their_name_first() {
        let route = |src: &str, what: &str| route_unknown(src, &unknown(what));
        assert_eq!(
            route("x | a.b.f(1, k=2) | a.b.f", "filter a.b.f").as_deref(),
            Some("x | fleet_ansible_filter('a.b.f', 1, k=2) | fleet_ansible_filter('a.b.f')")
        );
        assert_eq!(
            route("x | vault() ~ y.vault", "filter vault").as_deref(),
            Some("x | fleet_ansible_filter('vault') ~ y.vault")
        );
        assert_eq!(
            route("x is not t and y is t ('a')", "test t").as_deref(),
            Some("x is not fleet_ansible_test('t') and y is fleet_ansible_test('t', 'a')")
        );
        assert_eq!(route("f(x) | g", "filter f"), None);
        assert_eq!(
            route(
                "x | fleet_ansible_filter('q')",
                "filter fleet_ansible_filter"
            ),
            None
        );
        assert_eq!(route("x | f", "filter f'); import os #"), None);
    }

    #[test]
    fn drops_prefixes_of_filters_and_tests_only() {
        assert_eq!(
            strip_builtin_prefixes("x | ansible.builtin.upper ~ ansible.builtin.y").as_deref(),
            Some("x | upper ~ ansible.builtin.y")
        );
        assert_eq!(
            strip_builtin_prefixes("v is not ansible.legacy.version('1', '>')").as_deref(),
            Some("v is not version('1', '>')")
        );
        assert_eq!(strip_builtin_prefixes("this ansible.builtin.x"), None);
        assert_eq!(strip_builtin_prefixes("x | upper"), None);
    }
}
