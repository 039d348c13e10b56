//! Arguments a native module accepts (they are valid Ansible) but does not implement itself.
//!
//! Why this exists: a module that took such an argument and then ignored it would report
//! success for something it never did (issue 20: `cron` with `env: true` once installed an
//! every-minute job running the variable's value). Instead, a call that sets one of these
//! arguments to anything but Ansible's default is handed to Ansible's own module code through
//! [`ModuleResult::defer_to_ansible`]; where ansible-core is not on the controller the task
//! fails with a message naming the argument. A call that leaves them at the default (or
//! unset) stays native, because the native module already behaves as that default.

use serde_json::Value;

use crate::system::common::display;
use crate::{Args, ModuleResult};

/// What counts as "left at Ansible's default" for one argument.
#[derive(Debug, Clone, Copy)]
enum Default {
    /// Unset, null, `false`-like, empty string, empty list or empty mapping.
    Empty,
    /// A string (or list whose items join with `,` to it) that must keep this value.
    Text(&'static str),
    /// Unset or null only: an option with no default whose `false` acts too
    /// (`password_lock: false` unlocks the account).
    Unset,
}

/// `(modules, argument, default)`: which module names the rule applies to.
const RULES: &[(&[&str], &str, Default)] = &[
    (&["get_url"], "url_username", Default::Empty),
    (&["get_url"], "username", Default::Empty),
    (&["get_url"], "url_password", Default::Empty),
    (&["get_url"], "password", Default::Empty),
    (
        &["systemd", "systemd_service"],
        "scope",
        Default::Text("system"),
    ),
    // lgroupadd and friends (libuser), for groups kept apart from a central directory
    (&["group"], "local", Default::Empty),
    (&["service"], "arguments", Default::Empty),
    (&["service"], "args", Default::Empty),
    (&["service"], "pattern", Default::Empty),
    (&["service"], "sleep", Default::Empty),
    (&["service"], "runlevel", Default::Text("default")),
    (
        &["systemd", "systemd_service"],
        "daemon_reexec",
        Default::Empty,
    ),
    (&["systemd", "systemd_service"], "no_block", Default::Empty),
    (&["systemd", "systemd_service"], "force", Default::Empty),
    (
        &["setup", "gather_facts"],
        "gather_subset",
        Default::Text("all"),
    ),
    (
        &["setup", "gather_facts"],
        "fact_path",
        Default::Text("/etc/ansible/facts.d"),
    ),
    // file attributes (chattr) and SELinux contexts: Ansible's modules set them
    (FILE_FAMILY, "attributes", Default::Empty),
    (FILE_FAMILY, "attr", Default::Empty),
    (FILE_FAMILY, "seuser", Default::Empty),
    (FILE_FAMILY, "serole", Default::Empty),
    (FILE_FAMILY, "setype", Default::Empty),
    (FILE_FAMILY, "selevel", Default::Empty),
    (&["replace"], "encoding", Default::Text("utf-8")),
    (&["wait_for"], "exclude_hosts", Default::Empty),
    (&["user"], "login_class", Default::Empty),
    (&["user"], "password_expire_max", Default::Empty),
    (&["user"], "password_expire_min", Default::Empty),
    (&["user"], "password_expire_warn", Default::Empty),
    (&["user"], "password_expire_account_disable", Default::Empty),
    (&["user"], "hidden", Default::Empty),
    (&["user"], "seuser", Default::Empty),
    (&["user"], "skeleton", Default::Empty),
    (&["user"], "generate_ssh_key", Default::Empty),
    (&["user"], "expires", Default::Empty),
    (&["user"], "password_lock", Default::Unset),
    (&["user"], "local", Default::Empty),
    (&["user"], "profile", Default::Empty),
    (&["user"], "authorization", Default::Empty),
    (&["user"], "role", Default::Empty),
    (&["user"], "umask", Default::Empty),
    (&["user"], "uid_min", Default::Empty),
    (&["user"], "uid_max", Default::Empty),
    (
        &["wait_for"],
        "active_connection_states",
        Default::Text("ESTABLISHED,FIN_WAIT1,FIN_WAIT2,SYN_RECV,SYN_SENT,TIME_WAIT"),
    ),
];

/// The modules that take Ansible's common file arguments.
const FILE_FAMILY: &[&str] = &[
    "copy",
    "template",
    "file",
    "lineinfile",
    "blockinfile",
    "replace",
    "assemble",
    "get_url",
];

/// The first argument of this call that the native `module` leaves to Ansible's code, as the
/// reason for [`ModuleResult::defer_to_ansible`] (`"the argument 'env'"`), if any.
pub fn unimplemented_arg(module: &str, args: &Args) -> Option<String> {
    RULES
        .iter()
        .filter(|(modules, _, _)| modules.contains(&module))
        .find(|(_, key, default)| !is_default(args, key, *default))
        .map(|(_, key, _)| format!("the argument '{key}'"))
}

/// [`unimplemented_arg`] as the result a module returns before doing anything.
pub fn defer_if_unimplemented(module: &str, args: &Args) -> Option<ModuleResult> {
    unimplemented_arg(module, args).map(ModuleResult::defer_to_ansible)
}

fn is_default(args: &Args, key: &str, default: Default) -> bool {
    let Some(value) = args.get(key).filter(|v| !v.is_null()) else {
        return true;
    };
    match default {
        Default::Empty => match value {
            Value::String(s) => s.is_empty(),
            Value::Array(a) => a.is_empty(),
            Value::Object(o) => o.is_empty(),
            Value::Bool(b) => !b,
            _ => false,
        },
        Default::Unset => false,
        Default::Text(want) => match value {
            Value::Array(items) => items.iter().map(display).collect::<Vec<_>>().join(",") == want,
            other => display(other) == want,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(v: Value) -> Args {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn non_default_values_are_named_and_defaults_stay_native() {
        let get = args(json!({"url": "u", "dest": "d", "url_password": "p"}));
        assert_eq!(
            unimplemented_arg("get_url", &get).as_deref(),
            Some("the argument 'url_password'")
        );
        let get = args(json!({"url": "u", "dest": "d", "headers": {"A": "b"}, "url_username": ""}));
        assert_eq!(unimplemented_arg("get_url", &get), None);
        let setup = args(json!({"gather_subset": ["all"]}));
        assert_eq!(unimplemented_arg("setup", &setup), None);
        let setup = args(json!({"gather_subset": "!all,network"}));
        assert!(unimplemented_arg("setup", &setup).is_some());
        let svc = args(json!({"name": "x", "scope": "user"}));
        assert!(unimplemented_arg("systemd", &svc).is_some());
        assert_eq!(unimplemented_arg("service", &svc), None);
        let svc = args(json!({"name": "x", "pattern": "nginx: master"}));
        assert!(unimplemented_arg("service", &svc).is_some());
    }

    #[test]
    fn file_attributes_and_selinux_contexts_go_to_ansible() {
        let set = args(json!({"path": "/x", "attributes": "+i"}));
        assert_eq!(
            unimplemented_arg("file", &set).as_deref(),
            Some("the argument 'attributes'")
        );
        let selinux = args(json!({"dest": "/x", "content": "", "setype": "etc_t"}));
        assert!(unimplemented_arg("copy", &selinux).is_some());
        let plain = args(json!({"path": "/x", "attributes": "", "unsafe_writes": true}));
        assert_eq!(unimplemented_arg("file", &plain), None);
        let subset = args(json!({"gather_subset": ["!all", "network"]}));
        assert!(unimplemented_arg("gather_facts", &subset).is_some());
        let level = args(json!({"name": "x", "runlevel": "default"}));
        assert_eq!(unimplemented_arg("service", &level), None);
    }
}
