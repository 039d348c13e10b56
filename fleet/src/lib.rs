//! fleet: an agentless parallel executor for Ansible-syntax playbooks.
//!
//! Data flows one way: inventory + playbook parsing (`playbook`) → per-host execution
//! (`executor`) of modules (`modules`) over connections (`connection`, behind the
//! [`remote::Remote`] trait) → results and recap (`output`). Templates and expressions go through
//! `template` (minijinja).

pub mod connection;
pub mod executor;
pub mod modules;
pub mod output;
pub mod playbook;
pub mod remote;
pub mod template;
