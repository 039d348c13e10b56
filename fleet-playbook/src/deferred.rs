//! Syntax versus run-time validity. Ansible refuses a playbook up front only for what is wrong
//! with its syntax (YAML, task structure, keyword types); what it discovers only when a task
//! runs — a missing or unsupported module argument, a module it cannot resolve or that this
//! controller lacks, an unsupported `become_method` — fails that task alone, so a task under a
//! false `when`, or one the play expects to fail (`ignore_errors`, `rescue`), never stops the run.
//!
//! The parser keeps both kinds of check; the run-time kind goes through [`Parser::runtime`],
//! which reports it (`fleet check`, the linter, and the default) or leaves it to the executor
//! (`fleet run`, with [`ParseOptions::defer_runtime_checks`](super::ParseOptions)), which
//! checks the same things when the task runs. A module from a `library/` directory beside the
//! playbook or in a role is a valid action (fleet runs it through Ansible's code).

use inventory::Marked;

use super::error::PlaybookError;
use super::fields;
use super::keywords;
use super::model::{Keywords, Task};
use super::parse::Parser;
use super::source::Source;
use fleet_modules as modules;

impl Parser<'_> {
    /// A run-time validity check's outcome: the error when checking up front, nothing when the
    /// check is deferred to run time.
    pub(super) fn runtime(&self, check: Result<(), PlaybookError>) -> Result<(), PlaybookError> {
        if self.options.defer_runtime_checks {
            Ok(())
        } else {
            check
        }
    }

    /// [`keywords::set`], with the run-time part (`become_method`) through [`Self::runtime`].
    pub(super) fn keyword(
        &self,
        src: &Source,
        kw: &mut Keywords,
        key: &str,
        value: &Marked,
        owner: &str,
    ) -> Result<(), PlaybookError> {
        keywords::set(src, kw, key, value, owner)?;
        if key == "become_method" {
            let method = kw
                .become_method
                .as_deref()
                .filter(|m| *m != "sudo" && !fields::is_template(m));
            if let Some(method) = method {
                let message =
                    format!("become_method '{method}' is not supported (fleet only supports sudo)");
                self.runtime(Err(src.err(value, message)))?;
            }
        }
        Ok(())
    }

    /// The module a task names exists in fleet and accepts the task's arguments (unless they
    /// come from a variable); a run-time check.
    pub(super) fn module_valid(
        &self,
        src: &Source,
        node: &Marked,
        task: &Task,
    ) -> Result<(), PlaybookError> {
        if self.library_module(&task.action) {
            // a custom action plugin may take free-form text (`supports_raw_params`)
            return Ok(());
        }
        if let Some(refusal) = super::action::raw_params_refusal(&task.action, &task.args) {
            return self.runtime(Err(src.err(node, refusal)));
        }
        if modules::EXECUTOR_ACTIONS.contains(&task.action.as_str()) {
            let check = modules::check_action_args(&task.action, &task.args);
            return self.runtime(check.map_err(|e| src.err(node, e.to_string())));
        }
        let check = match modules::find(&task.action) {
            None => Err(modules::unavailable_message(&task.action)),
            Some(_) if task.args.contains_key("_variable_params") => Ok(()),
            Some(module) => modules::check_args(&task.action, &module.spec(), &task.args)
                .map_err(|e| e.to_string())
                .and_then(|()| native_args(module.name(), &task.args)),
        };
        self.runtime(check.map_err(|message| src.err(node, message)))
    }

    /// Whether `name` is a module in a `library/` directory (or an action plugin in an
    /// `action_plugins/` one) beside the playbook or in a role loaded so far: Ansible accepts it
    /// as a task's action, and fleet runs it through Ansible's code.
    pub(super) fn library_module(&self, name: &str) -> bool {
        let mut dirs = vec![self.base_dir.clone()];
        dirs.extend(self.import_stack.iter().filter(|p| p.is_dir()).cloned());
        dirs.extend(self.role_dirs.iter().cloned());
        modules::ansible::library_module(&dirs, name).is_some()
            || modules::ansible::action_plugin(&dirs, name).is_some()
    }
}

/// Arguments set in the playbook that fleet's module leaves to Ansible's code, as the error
/// `fleet check` reports for a module fleet lacks; values that are templates are only known
/// when the task runs, so they are left to then.
fn native_args(
    module: &str,
    args: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), String> {
    let literal: serde_json::Map<_, _> = args
        .iter()
        .filter(|(_, v)| {
            !v.as_str()
                .is_some_and(|s| s.contains("{{") || s.contains("{%"))
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    match modules::ansible_only::unimplemented_arg(module, &literal) {
        None => Ok(()),
        Some(what) => Err(format!(
            "fleet has no native implementation of {what} of module 'ansible.builtin.{module}' \
             (fleet run leaves it to Ansible's module code, which needs ansible-core on the \
             controller)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use crate::{parse_playbook, ParseOptions};

    #[test]
    fn a_library_module_of_a_loaded_role_or_the_playbook_is_an_action() {
        let tmp = tempfile::tempdir().unwrap();
        let write = |rel: &str, text: &str| {
            let path = tmp.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write("roles/r/library/role_mod.py", "#!/usr/bin/python\n");
        write("roles/r/tasks/main.yml", "- role_mod: {a: 1}\n");
        write("library/play_mod", "#!/bin/sh\n");
        let play =
            "- hosts: all\n  roles: [r]\n  tasks:\n    - role_mod: {b: 2}\n    - play_mod: x=1\n";
        write("site.yml", play);
        let options = ParseOptions::default();
        let book = parse_playbook(&tmp.path().join("site.yml"), &options).unwrap();
        assert_eq!(book.plays[0].roles.len(), 1);
        write(
            "bad.yml",
            "- hosts: all\n  tasks:\n    - nowhere_mod: {b: 2}\n",
        );
        let err = parse_playbook(&tmp.path().join("bad.yml"), &options).unwrap_err();
        assert!(
            err.to_string().contains("unknown module 'nowhere_mod'"),
            "{err}"
        );
    }
}
