//! Ansible inventories, shared by the bastion (which hosts exist, how to reach them) and the
//! fleet executor (which hosts a play targets, with which variables).
//!
//! - Formats: YAML ([`Inventory::parse_yaml`]) and INI ([`Inventory::parse_ini`]), detected by
//!   [`Inventory::load`], which also reads an inventory directory and the `group_vars/` and
//!   `host_vars/` next to the inventory. [`Inventory::load_vars_dirs`] adds the playbook's.
//! - Host ranges `web[01:03]`, `db[a:c]`, `n[1:9:2]`; `host:port` entries.
//! - Implicit groups `all` and `ungrouped`; group depth and `ansible_group_priority`.
//! - Variable precedence as in Ansible (documented in the `precedence` module):
//!   `all` < groups by (depth, priority, name) < `group_vars/all` < `group_vars/<group>` <
//!   inventory host vars < `host_vars/<host>`; whole top-level keys replace (no deep merge).
//!   Merged vars hold inventory variables only (no magic vars such as `inventory_hostname`).
//! - Host patterns ([`Inventory::select`]): `all`, `*`, names, globs, `~regex`, subscripts,
//!   `a:b`, `a,b`, `a:&b`, `a:!b`.
//! - YAML 1.1 scalar typing as Ansible reads it ([`yaml11`]): `yes`/`on` are booleans, `0644` is
//!   octal, quoted scalars stay strings; also exposed for playbooks.
//! - Errors ([`InventoryError`]) name `file:line:column`. No input makes this crate panic.
//!
//! It must not know what its users do with hosts: no SSH, no policies, no playbooks.

#![warn(missing_docs)]

mod dynamic;
pub mod error;
mod finalize;
mod graph;
mod hostrange;
mod ini;
mod list;
mod load;
mod model;
mod pattern;
mod precedence;
pub mod pyliteral;
mod shlex;
mod vars_dirs;
mod yaml;
pub mod yaml11;

pub use dynamic::{GroupJoin, HostAdd};
pub use error::InventoryError;
pub use model::{Group, Host, Inventory, Vars};
pub use vault::read_data_file;
pub use yaml11::{load_yaml11, load_yaml11_marked, Marked, MarkedValue};
