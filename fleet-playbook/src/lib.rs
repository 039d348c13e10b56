//! fleet-playbook: playbooks parsed into plays, roles, blocks and tasks, with every error naming
//! `file:line:column`.
//!
//! - [`parse_playbook`] reads a playbook file ([`parse_playbook_str`]: text) with everything
//!   static in it: `import_playbook`, `import_tasks` and `import_role` are inlined, `roles:`
//!   are found and loaded (tasks, handlers, defaults, vars, `meta/main.yml` dependencies).
//!   Dynamic `include_tasks` and `include_role` stay tasks; the executor loads them with
//!   [`parse_task_file`] and [`load_role`].
//! - YAML is read with Ansible's YAML 1.1 typing ([`inventory::load_yaml11_marked`]).
//! - Values stay raw (untemplated); see [`model`].
//! - Task actions follow Ansible's rules: `module: {k: v}`, `module: k=v` (see [`kv`]),
//!   `action:`/`local_action:`, `args:`; unknown keys and modules (not in the `fleet-modules`
//!   registry) are errors.
//! - [`check::check_playbook`] backs `fleet check`.
//!
//! Owns: the playbook language (YAML 1.1 typing, task keywords, `k=v` arguments, roles and static
//! imports), the model the executor walks, and `fleet check`.
//!
//! Must not know: hosts, connections, templating at run time or how a module works. Which
//! actions exist and what arguments they accept come from the module registry in
//! `fleet-modules` alone.

mod action;
pub mod check;
mod deferred;
mod error;
mod fields;
mod include;
mod keyword_values;
mod keywords;
pub mod kv;
mod loop_spec;
pub mod model;
mod parse;
mod play;
mod roles;
mod source;
mod task;

pub use action::{is_known_action, raw_params_refusal, FREEFORM_ACTIONS, RAW_PARAM_ACTIONS};
pub use check::{check_playbook, CheckReport};
pub use error::{PlaybookError, PlaybookErrors};
pub use model::*;
pub use parse::{parse_playbook, parse_playbook_str, parse_task_file, ParseOptions};
pub use roles::{load_role, RoleRequest};
