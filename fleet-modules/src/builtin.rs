//! The names of every `ansible.builtin` module (ansible-core 2.19's `ansible/modules`), so that
//! a playbook naming one fleet does not implement natively still parses — a `dnf` task under a
//! `when` that is false on this host must not stop the run — and fails only if it runs, saying
//! precisely why ([`unavailable_message`]), as Ansible only resolves modules when it runs them.

/// Every module of ansible-core 2.19's `ansible.builtin` collection.
pub const ANSIBLE_BUILTIN_MODULES: &[&str] = &[
    "add_host",
    "apt",
    "apt_key",
    "apt_repository",
    "assemble",
    "assert",
    "async_status",
    "async_wrapper",
    "blockinfile",
    "command",
    "copy",
    "cron",
    "deb822_repository",
    "debconf",
    "debug",
    "dnf",
    "dnf5",
    "dpkg_selections",
    "expect",
    "fail",
    "fetch",
    "file",
    "find",
    "gather_facts",
    "get_url",
    "getent",
    "git",
    "group",
    "group_by",
    "hostname",
    "import_playbook",
    "import_role",
    "import_tasks",
    "include_role",
    "include_tasks",
    "include_vars",
    "iptables",
    "known_hosts",
    "lineinfile",
    "meta",
    "mount_facts",
    "package",
    "package_facts",
    "pause",
    "ping",
    "pip",
    "raw",
    "reboot",
    "replace",
    "rpm_key",
    "script",
    "service",
    "service_facts",
    "set_fact",
    "set_stats",
    "setup",
    "shell",
    "slurp",
    "stat",
    "subversion",
    "systemd",
    "systemd_service",
    "sysvinit",
    "tempfile",
    "template",
    "unarchive",
    "uri",
    "user",
    "validate_argument_spec",
    "wait_for",
    "wait_for_connection",
    "yum_repository",
];

/// Whether `name` (short, `ansible.builtin.` or `ansible.legacy.`) is an `ansible.builtin`
/// module, implemented by fleet or not.
pub fn is_builtin(name: &str) -> bool {
    ANSIBLE_BUILTIN_MODULES.contains(&crate::short_name(name))
}

/// Whether `name` is a collection-qualified name (`community.general.ufw`): a module Ansible
/// resolves only when the task runs, so a parse cannot refuse it.
pub fn is_collection_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() >= 3
        && !name.starts_with("ansible.builtin.")
        && !name.starts_with("ansible.legacy.")
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// Why a task naming `name` cannot run under fleet: a known `ansible.builtin` module fleet has
/// no native implementation of, or Ansible's message for a module that cannot be resolved.
pub fn unavailable_message(name: &str) -> String {
    if is_builtin(name) {
        format!(
            "fleet has no native implementation of module 'ansible.builtin.{}' (a module of \
             Ansible's ansible.builtin collection)",
            crate::short_name(name)
        )
    } else {
        format!(
            "couldn't resolve module/action '{name}'. This often indicates a misspelling, \
             missing collection, or incorrect module path."
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_and_collection_names() {
        assert!(is_builtin("dnf") && is_builtin("ansible.builtin.dnf"));
        assert!(!is_builtin("cpoy") && !is_builtin("community.general.ufw"));
        assert!(is_collection_name("community.general.ufw"));
        assert!(!is_collection_name("ansible.builtin.nope") && !is_collection_name("cpoy"));
        assert!(unavailable_message("dnf").contains("'ansible.builtin.dnf'"));
        assert!(unavailable_message("x.y.z").starts_with("couldn't resolve module/action 'x.y.z'"));
    }
}
