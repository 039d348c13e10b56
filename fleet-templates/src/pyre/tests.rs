//! Python `re` semantics checked against what Python itself answers: translation, flags,
//! backreferences and lookaround, replacement templates and Python's error messages. Kept
//! beside pyre.rs so that file reads as the engine.

use super::*;

/// Issue 18: replacement template errors read as Python's (the replace target asserts the
/// message).
#[test]
fn template_errors_name_the_position_as_python() {
    let re = compile("(a)", Flags::default()).unwrap();
    let err = |t: &str| match Template::parse(t, &re) {
        Err(PyReError::Template { reason, .. }) => reason,
        other => panic!("{other:?}"),
    };
    assert_eq!(err(r"\D"), r"bad escape \D at position 0");
    assert_eq!(err(r"x\3"), "invalid group reference 3 at position 2");
    assert_eq!(err("ab\\"), "bad escape (end of pattern) at position 2");
}

#[test]
fn multiline_flag_comes_from_flags_or_a_leading_group() {
    let plain = compile("a\\nb", Flags::default()).unwrap();
    assert!(!plain.multiline());
    assert!(compile("(?m)a\\nb", Flags::default()).unwrap().multiline());
    assert!(compile("(?im)a", Flags::default()).unwrap().multiline());
    assert!(!compile("(?i)a(?:m)", Flags::default()).unwrap().multiline());
    let flags = Flags {
        multiline: true,
        ..Flags::default()
    };
    assert!(compile("a", flags).unwrap().multiline());
}

fn re(p: &str) -> PyRegex {
    compile(p, Flags::default()).unwrap()
}

#[test]
fn backreferences_and_lookaround() {
    assert!(re(r"(\w)\1").is_match(b"hello").unwrap());
    assert!(!re(r"(\w)\1").is_match(b"helo").unwrap());
    assert!(re(r"(?P<q>['\x22]).*(?P=q)").is_match(b"'a'").unwrap());
    assert_eq!(
        re(r"foo(?=bar)").find(b"foobaz foobar").unwrap(),
        Some((7, 10))
    );
    assert_eq!(re(r"(?<!x)a").find(b"xa a").unwrap(), Some((3, 4)));
    let (out, n) = re(r"(?<==)(\d+)").subn(b"a=1 b=22", r"<\1>", 0).unwrap();
    assert_eq!((out.as_slice(), n), (&b"a=<1> b=<22>"[..], 2));
}

#[test]
fn python_templates_and_anchors() {
    let r = re(r"(?P<k>\w+)=(\d+)");
    let (out, _) = r.subn(b"port=80", r"\g<k>: \2\n\g<0>\\", 0).unwrap();
    assert_eq!(out, b"port: 80\nport=80\\");
    assert!(r.subn(b"x", r"\q", 0).is_err());
    assert!(r.subn(b"x", r"\3", 0).is_err());
    // Python 3.7+'s empty matches (values from CPython's re.sub)
    for (pattern, text, want) in [
        ("x*", "abxd", "-a-b--d-"),
        ("x*", "xa", "--a-"),
        ("", "ab", "-a-b-"),
        ("a|", "ab", "--b-"),
        (r"\b", "a b", "-a- -b-"),
        ("(?m)^", "a\nb\n", "-a\n-b\n-"),
        ("b*", "abb", "-a--"),
        ("x*", "é", "-é-"),
    ] {
        let (out, _) = re(pattern).subn(text.as_bytes(), "-", 0).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            want,
            "{pattern:?} on {text:?}"
        );
    }
    let (out, n) = re("a").subn(b"aaa", "b", 2).unwrap();
    assert_eq!((out.as_slice(), n), (&b"bba"[..], 2));
    // Python's \Z is the very end, not before a final newline.
    assert!(!re(r"a\Z").is_match(b"a\n").unwrap());
    // as in Python: `\Z` in a class is a bad escape
    assert!(compile(r"[\Z]", Flags::default()).is_err());
    // Python 3.11's {,n}; a literal `{,` elsewhere stays literal.
    assert_eq!(re(r"^a{,2}$").find(b"aa").unwrap(), Some((0, 2)));
    assert!(!re(r"^a{,2}$").is_match(b"aaa").unwrap());
    assert!(re(r"[{,]2").is_match(b",2").unwrap());
    assert!(re(r"a\Z").is_match(b"a").unwrap());
    let m = compile(
        "^b$",
        Flags {
            multiline: true,
            ..Flags::default()
        },
    )
    .unwrap();
    assert!(m.is_match(b"a\nb\nc").unwrap());
    // Not UTF-8: matched and kept byte for byte.
    let (out, _) = re("x").subn(b"\xffx\xfe", "y", 0).unwrap();
    assert_eq!(out, b"\xffy\xfe");
}
