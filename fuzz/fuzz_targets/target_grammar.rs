//! The `USER+LOGIN@HOST` login-name grammar and the exec-word split (bastion/src/target.rs).
//! Invariants: never panics; what parses prints back to exactly the input; the exec split
//! yields a whitespace-free first word and a rest without leading blanks.
#![no_main]

use bastion::target::{parse_login_name, parse_target, split_exec, TargetSpec};
use libfuzzer_sys::fuzz_target;

fn word(t: &TargetSpec) -> String {
    match &t.login {
        Some(login) => format!("{login}@{}", t.host),
        None => t.host.clone(),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(login) = parse_login_name(text) {
        let printed = match &login.target {
            Some(t) => format!("{}+{}", login.user, word(t)),
            None => login.user.clone(),
        };
        assert_eq!(printed, text);
        assert_eq!(parse_login_name(&printed), Some(login));
    }
    if let Some(t) = parse_target(text) {
        assert_eq!(word(&t), text);
        assert!(!t.host.is_empty());
    }
    let (first, rest) = split_exec(text);
    assert!(!first.contains(char::is_whitespace));
    assert!(!rest.starts_with(char::is_whitespace));
    assert!(first.len() + rest.len() <= text.len());
    assert!(!first.is_empty() || rest.is_empty());
    if let Some(t) = parse_target(first) {
        assert_eq!(word(&t), first);
    }
});
