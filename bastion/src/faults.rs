//! Fault injection for the end-to-end tests: with `BASTION_FAILPOINTS=NAME[,NAME...]` in the
//! server's environment, the named points panic, so tests can check what a bug in a session
//! costs (the user is told, the session is sealed and audited, everyone else carries on).
//! Only debug builds look at the variable; a release build has no failpoints.

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
