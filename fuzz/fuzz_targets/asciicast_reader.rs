//! The recordings crate's asciicast v2 reader on arbitrary bytes. Invariants: never panics;
//! errors name a 1-based line; a recording that reads back is printed by the writer's own
//! serializers into text that reads back to the same header and events (times to the
//! microsecond the writer keeps), and printing that again gives the same text (for times
//! below 142 years).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use recordings::{parse_cast, Cast, RecordingError};

fn print(cast: &Cast) -> String {
    let mut text = cast.header.to_json_line();
    text.push('\n');
    for event in &cast.events {
        text.push_str(&event.to_json_line());
        text.push('\n');
    }
    text
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz.cast");
    let cast = match parse_cast(text, path) {
        Ok(cast) => cast,
        Err(RecordingError::Format { line, .. }) => {
            assert!(line >= 1);
            return;
        }
        Err(e) => panic!("not a format error: {e}"),
    };
    let printed = print(&cast);
    let back = match parse_cast(&printed, path) {
        Ok(back) => back,
        Err(e) => panic!("the writer's output does not read back: {e}\n{printed}"),
    };
    assert_eq!(back.header, cast.header);
    assert_eq!(back.events.len(), cast.events.len());
    for (a, b) in cast.events.iter().zip(&back.events) {
        assert_eq!(a.kind, b.kind);
        assert_eq!(a.data, b.data);
        assert!(
            (a.time - b.time).abs() <= 1e-6 * a.time.max(1.0),
            "{} vs {}",
            a.time,
            b.time
        );
    }
    // serde_json's float parser may be one ulp off for 17-digit numbers; the writer's rounding
    // to the microsecond absorbs that for any time a recording can have (below 2^52 µs, about
    // 142 years), so only there must printing be exactly idempotent.
    if cast.events.iter().all(|e| e.time < 4.5e9) {
        assert_eq!(print(&back), printed);
    }
});
