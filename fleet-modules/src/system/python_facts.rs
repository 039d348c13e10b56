//! `ansible_python` and `ansible_python_version`: Ansible reads them from the interpreter that
//! runs its setup module (`sys.executable`, `sys.version_info`). Fleet's facts script runs no
//! Python of its own, and starting one only to ask costs the target ~7 ms of CPU per host, the
//! largest single process of a gathering. `python3 --version` answers without starting the
//! interpreter (~0.5 ms), so the script sends its banner (`Python 3.11.2`, `Python 3.13.0rc1`)
//! and the path it found on `PATH`, and this module turns them into the same facts. A banner of
//! another form makes the script ask the interpreter, whose five fields are read here too.

use std::collections::BTreeMap;

use serde_json::{json, Value};

/// `sys.version_info` as (major, minor, micro, releaselevel, serial).
pub type VersionInfo = (u64, u64, u64, String, u64);

/// Reads `Python X.Y.Z[{a|b|rc}N][+]` as Python's own `sys.version_info` would say it: `a` is
/// `alpha`, `b` `beta`, `rc` `candidate`, none `final` (serial 0). `+` marks a build after that
/// tag and changes nothing here.
pub fn from_banner(banner: &str) -> Option<VersionInfo> {
    let text = banner.trim().strip_prefix("Python ")?.trim_end_matches('+');
    let mut parts = text.splitn(3, '.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let rest = parts.next()?;
    let digits = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let micro = rest[..digits].parse().ok()?;
    let (level, serial) = match &rest[digits..] {
        "" => ("final", 0),
        tag => {
            let at = tag.find(|c: char| c.is_ascii_digit())?;
            let level = match &tag[..at] {
                "a" => "alpha",
                "b" => "beta",
                "rc" => "candidate",
                _ => return None,
            };
            (level, tag[at..].parse().ok()?)
        }
    };
    Some((major, minor, micro, level.to_string(), serial))
}

/// Reads the interpreter's own `major minor micro releaselevel serial` line.
fn from_fields(line: &str) -> Option<VersionInfo> {
    let parts: Vec<&str> = line.split_whitespace().collect();
    let n = |i: usize| parts.get(i).and_then(|p| p.parse::<u64>().ok());
    let level = parts.get(3).copied().unwrap_or("final").to_string();
    Some((n(0)?, n(1)?, n(2).unwrap_or(0), level, n(4).unwrap_or(0)))
}

/// `(ansible_python, ansible_python_version)` from the script's `python.*` items; `({}, None)`
/// when the host has no `python3`.
pub fn facts(raw: &BTreeMap<String, String>) -> (Value, Option<String>) {
    let info = match (raw.get("python.banner"), raw.get("python.version")) {
        (Some(banner), _) => from_banner(banner),
        (None, Some(fields)) => from_fields(fields),
        (None, None) => None,
    };
    let (Some(exe), Some((major, minor, micro, level, serial))) =
        (raw.get("python.executable"), info)
    else {
        return (json!({}), None);
    };
    let python = json!({
        "executable": exe, "has_sslcontext": true, "type": "cpython",
        "version": {"major": major, "minor": minor, "micro": micro,
                    "releaselevel": level, "serial": serial},
        "version_info": [major, minor, micro, level, serial],
    });
    (python, Some(format!("{major}.{minor}.{micro}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banners_read_as_sys_version_info() {
        let v = |b: &str| from_banner(b).map(|(a, b, c, d, e)| format!("{a} {b} {c} {d} {e}"));
        assert_eq!(v("Python 3.11.2\n").as_deref(), Some("3 11 2 final 0"));
        assert_eq!(v("Python 3.13.0rc1").as_deref(), Some("3 13 0 candidate 1"));
        assert_eq!(v("Python 3.12.0b4").as_deref(), Some("3 12 0 beta 4"));
        assert_eq!(v("Python 3.14.0a3+").as_deref(), Some("3 14 0 alpha 3"));
        assert_eq!(v("Python 3.14"), None);
        assert_eq!(v("Python 3.11.2x1"), None);
        assert_eq!(v("Pypy 7.3.1"), None);
    }

    #[test]
    fn the_interpreters_own_fields_still_read() {
        let raw: BTreeMap<String, String> = [
            ("python.executable", "/usr/bin/python3"),
            ("python.version", "3 11 2 final 0"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let (python, version) = facts(&raw);
        assert_eq!(version.as_deref(), Some("3.11.2"));
        assert_eq!(python["version_info"], json!([3, 11, 2, "final", 0]));
        assert_eq!(facts(&BTreeMap::new()), (json!({}), None));
    }
}
