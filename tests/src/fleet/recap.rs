//! The PLAY RECAP: per-host ok/changed/unreachable/failed/skipped/rescued/ignored counts, parsed
//! from either tool's output and compared host by host.
//!
//! The recap is the one summary `fleet` and `ansible-playbook` print in the same format, so it
//! is how a comparison test states "both tools did the same thing to every host" in one line.

use std::collections::BTreeMap;

use super::FleetLab;

impl FleetLab {
    /// The PLAY RECAP counts of `stdout`, keyed by normalized host name (`lab-h1`, ...).
    pub fn recap(&self, stdout: &str) -> BTreeMap<String, Recap> {
        parse_recap(stdout)
            .into_iter()
            .map(|(h, r)| (self.normalize(&h), r))
            .collect()
    }
}

/// One host's PLAY RECAP line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recap {
    pub ok: u32,
    pub changed: u32,
    pub unreachable: u32,
    pub failed: u32,
    pub skipped: u32,
    pub rescued: u32,
    pub ignored: u32,
}

impl std::fmt::Display for Recap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ok={} changed={} unreachable={} failed={} skipped={} rescued={} ignored={}",
            self.ok,
            self.changed,
            self.unreachable,
            self.failed,
            self.skipped,
            self.rescued,
            self.ignored
        )
    }
}

/// Parses the `host : ok=N changed=N ...` lines after `PLAY RECAP` (empty if there are none).
pub fn parse_recap(stdout: &str) -> BTreeMap<String, Recap> {
    let mut out = BTreeMap::new();
    let Some(start) = stdout.rfind("PLAY RECAP") else {
        return out;
    };
    for line in stdout[start..].lines().skip(1) {
        let Some((host, counts)) = line.split_once(" : ") else {
            continue;
        };
        let mut r = Recap::default();
        let mut seen = false;
        for field in counts.split_whitespace() {
            let Some((k, v)) = field.split_once('=') else {
                continue;
            };
            let Ok(v) = v.parse::<u32>() else { continue };
            seen = true;
            match k {
                "ok" => r.ok = v,
                "changed" => r.changed = v,
                "unreachable" => r.unreachable = v,
                "failed" => r.failed = v,
                "skipped" => r.skipped = v,
                "rescued" => r.rescued = v,
                "ignored" => r.ignored = v,
                _ => {}
            }
        }
        if seen {
            out.insert(host.trim().to_string(), r);
        }
    }
    out
}

/// Lines describing how the `actual` recap differs from `expected` (empty if equal).
pub fn diff_recaps(
    expected: &BTreeMap<String, Recap>,
    actual: &BTreeMap<String, Recap>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (host, want) in expected {
        match actual.get(host) {
            None => out.push(format!("{host}: no recap line (expected {want})")),
            Some(got) if got != want => out.push(format!(
                "{host}: {got}\n{:>w$}  expected {want}",
                "",
                w = host.len()
            )),
            Some(_) => {}
        }
    }
    for host in actual.keys().filter(|h| !expected.contains_key(*h)) {
        out.push(format!("{host}: unexpected recap line"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recap_lines_are_parsed_per_host() {
        let out = "TASK [x] ***\nok: [a]\n\nPLAY RECAP *********\n\
                   a-h1                  : ok=4    changed=3    unreachable=0    failed=0    skipped=1    rescued=0    ignored=0   \n\
                   a-h2 : ok=1 changed=0 unreachable=1 failed=2 skipped=0 rescued=1 ignored=5\n\n";
        let r = parse_recap(out);
        assert_eq!(r.len(), 2);
        assert_eq!(
            r["a-h1"],
            Recap {
                ok: 4,
                changed: 3,
                skipped: 1,
                ..Recap::default()
            }
        );
        assert_eq!(r["a-h2"].failed, 2);
        assert_eq!(r["a-h2"].ignored, 5);
        assert_eq!(r["a-h2"].unreachable, 1);
        assert!(parse_recap("no recap here").is_empty());
    }
}
