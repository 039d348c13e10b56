//! Modules that run commands or manage system state: command, shell, raw, script, apt, package,
//! service, systemd, user, group, cron, wait_for, ping, setup.

use super::Module;

/// The system modules, for the registry in `modules::all`.
pub fn modules() -> Vec<&'static dyn Module> {
    vec![]
}
