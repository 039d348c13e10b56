//! Filters and tests by their qualified names: `x | ansible.builtin.regex_replace(...)`,
//! `v is ansible.builtin.version('2', '>=')`. Ansible resolves `ansible.builtin.` (and
//! `ansible.legacy.`) to the same plugins as the short names, Jinja2's own included; minijinja
//! knows only the short names. A template that names an unknown filter or test is retried
//! with those prefixes dropped where a filter or test name stands (after `|`, `is`, `is not`);
//! templates without them never pay for the scan.

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
