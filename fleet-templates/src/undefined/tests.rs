//! The undefined-value rewrites checked on expression text: which identifier a message names,
//! which chains are rewritten and retried. Kept beside undefined.rs so that file reads as the
//! rules.

use super::*;

#[test]
fn parses_access_chains() {
    let chain = parse_chain(" a.b['c d'][x.y].0 ").unwrap();
    assert_eq!(chain.root, "a");
    assert_eq!(
        chain.accesses,
        vec![
            Access::Attr("b"),
            Access::Item("'c d'"),
            Access::Item("x.y"),
            Access::Attr("0")
        ]
    );
    assert!(parse_chain("a.split(',')").is_none());
    assert!(parse_chain("a + b").is_none());
    assert!(parse_chain("'a'").unwrap().accesses.is_empty());
    assert_eq!(
        parse_chain("'a'.b").unwrap().accesses,
        vec![Access::Attr("b")]
    );
}

#[test]
fn rewrites_every_chain_outside_strings_filters_and_calls() {
    let out = rewrite_all_chains("a.b == 'x.y' and c['k'].d | f(e.g) and h.split(',')").unwrap();
    assert!(out.contains(&format!("{CHAIN_FN}(")), "{out}");
    assert!(out.contains("'x.y'"), "strings untouched: {out}");
    assert!(out.contains("| f("), "filter names untouched: {out}");
    assert!(out.contains("h.split(','"), "method calls untouched: {out}");
    assert_eq!(out.matches(CHAIN_FN).count(), 3, "{out}");
    assert!(rewrite_all_chains("a == 1 and f(b)").is_none());
}

#[test]
fn finds_first_plain_identifier() {
    assert_eq!(first_identifier("'x' ~ foo | upper"), Some("foo"));
    assert_eq!(first_identifier("not bar and baz"), Some("bar"));
    assert_eq!(first_identifier("range(3) + qux.y"), Some("qux"));
}
