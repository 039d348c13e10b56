//! `policies.yaml` (policies crate): parse arbitrary text, then ask the parsed policy a few
//! questions. Invariants: never panics; errors carry a 1-based position; an allow names its
//! role and login; durations print and parse back to the same value.
#![no_main]

use chrono::{Local, TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use policies::{format_duration, parse_duration, AccessRequest, ChannelKind, PolicySet};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let set = match PolicySet::parse(text, "fuzz.yaml") {
        Ok(set) => set,
        Err(e) => {
            assert!(e.line >= 1 && e.col >= 1, "unpositioned error: {e}");
            assert!(e.to_string().starts_with("fuzz.yaml:"));
            return;
        }
    };
    let at = Local.timestamp_opt(1_700_000_000, 0).unwrap();
    let groups = vec!["db".to_string(), "web".to_string()];
    // A few roles and members are enough to reach every decision path; all of them would make
    // large inputs quadratic.
    for role in set.roles().iter().take(8) {
        for d in [role.max_session, role.idle_timeout].into_iter().flatten() {
            assert_eq!(parse_duration(&format_duration(d)), Ok(d));
        }
        if let Some(hours) = &role.hours {
            let _ = hours.contains(&at);
            let _ = hours.window_end(Utc.timestamp_opt(1_700_000_000, 0).unwrap());
        }
        let members: Vec<&str> = role
            .members
            .iter()
            .take(4)
            .map(|m| m.text.as_str())
            .collect();
        for user in members.into_iter().chain(["alice"]) {
            for host in ["web1", "db1"] {
                let _ = set.reachable(user, (host, &groups, None), at, &[]);
                for login in [None, role.logins.first().map(String::as_str), Some("root")] {
                    let decision = set.decide(&AccessRequest {
                        user,
                        host,
                        groups: &groups,
                        login,
                        channel: ChannelKind::Shell,
                        at,
                        grants: &[],
                        host_user: Some("deploy"),
                    });
                    if decision.allowed {
                        assert!(!decision.roles.is_empty() && decision.login.is_some());
                    }
                }
            }
        }
    }
});
