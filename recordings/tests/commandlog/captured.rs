//! Sessions captured from a real bash 5.2 under a PTY (tests/fixtures/commandlog/*.json).

use std::path::Path;

use crate::harness::{check, Dir, Session};

/// All captured sessions.
pub fn sessions() -> Vec<Session> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/commandlog");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("fixtures directory")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths.iter().map(|p| load(p)).collect()
}

fn load(path: &Path) -> Session {
    let text = std::fs::read_to_string(path).expect("fixture");
    let v: serde_json::Value = serde_json::from_str(&text).expect("fixture JSON");
    let strings = |key: &str| -> Vec<String> {
        v[key]
            .as_array()
            .unwrap_or(&Vec::new())
            .iter()
            .map(|s| s.as_str().expect("string").to_string())
            .collect()
    };
    let steps = v["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            let dir = match e[0].as_str() {
                Some("i") => Dir::In,
                Some("w") => Dir::Resize,
                _ => Dir::Out,
            };
            (dir, e[1].as_str().expect("chunk").as_bytes().to_vec())
        })
        .collect();
    Session {
        name: v["name"].as_str().expect("name").to_string(),
        steps,
        expected: strings("expected"),
        secrets: strings("secrets"),
    }
}

#[test]
fn captured_bash_sessions() {
    let sessions = sessions();
    assert!(sessions.len() >= 9);
    for s in &sessions {
        check(s);
    }
}
