//! Playbooks (fleet's playbook parser) from arbitrary text, as if read from a file in a
//! directory that does not exist, so imports and roles resolve to nothing. Invariants: never
//! panics; every error that has a position has a 1-based one.
#![no_main]

use std::path::Path;

use fleet_playbook::{parse_playbook_str, ParseOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("/nonexistent-fuzz-dir/playbook.yml");
    match parse_playbook_str(path, text, &ParseOptions::default()) {
        Ok(playbook) => {
            for play in &playbook.plays {
                let _ = play.display_name();
            }
        }
        Err(errors) => {
            assert!(!errors.errors().is_empty());
            for error in errors.errors() {
                if let Some(at) = error.position() {
                    assert!(at.line >= 1 && at.col >= 1, "{error}");
                }
                let _ = error.to_string();
            }
        }
    }
});
