//! Fault injection for the end-to-end tests: with `BASTION_FAILPOINTS=NAME[,NAME...]` in the
//! server's environment, the named points panic, so tests can check what a bug in a session
//! costs (the user is told, the session is sealed and audited, everyone else carries on); with
//! `BASTION_FAULT_DELAYS=NAME=MILLIS[,...]`, the named [`delay`] points are slow, so tests can
//! widen a race window that timing alone leaves too narrow to check (a resumed node's first
//! heartbeat, `server/nodes.rs`). Only debug builds look at the variables; a release build has
//! no fault points.

/// Panics here if the failpoint `name` is switched on.
pub fn point(name: &str) {
    #[cfg(debug_assertions)]
    {
        static ON: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        let on = ON.get_or_init(|| {
            std::env::var("BASTION_FAILPOINTS")
                .map(|v| v.split(',').map(str::to_string).collect())
                .unwrap_or_default()
        });
        if on.iter().any(|p| p == name) {
            panic!("failpoint {name} hit");
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = name;
}

/// Sleeps here for the milliseconds `BASTION_FAULT_DELAYS` gives `name`, if any.
pub fn delay(name: &str) {
    #[cfg(debug_assertions)]
    {
        static DELAYS: std::sync::OnceLock<Vec<(String, u64)>> = std::sync::OnceLock::new();
        let delays = DELAYS.get_or_init(|| {
            std::env::var("BASTION_FAULT_DELAYS")
                .unwrap_or_default()
                .split(',')
                .filter_map(|d| {
                    let (n, ms) = d.split_once('=')?;
                    Some((n.to_string(), ms.parse().ok()?))
                })
                .collect()
        });
        if let Some((_, ms)) = delays.iter().find(|(n, _)| n == name) {
            std::thread::sleep(std::time::Duration::from_millis(*ms));
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = name;
}
