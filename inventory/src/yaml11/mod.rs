//! YAML loading with Ansible's YAML 1.1 scalar rules, positions kept.
//!
//! Rust YAML crates implement YAML 1.2; Ansible (PyYAML) reads YAML 1.1, where unquoted `yes` is a
//! boolean and `0644` is octal. We take saphyr-parser's event stream, which tells whether a scalar
//! was quoted, and build the tree ourselves: scalar typing ([`resolve`]), anchors and aliases,
//! `<<` merge keys, core tags (`!!str`, `!!int`, ...), and Ansible's `!unsafe`/`!vault` (kept as
//! strings). The playbook executor reuses this module, hence the public, position-keeping
//! [`load_yaml11_marked`].

mod builder;
mod marked;
pub mod resolve;

pub(crate) use marked::float_to_json as marked_float_to_json;
pub use marked::{Marked, MarkedValue};

use crate::error::InventoryError;

/// Parses one YAML document into JSON, with YAML 1.1 scalar typing; mapping keys become strings.
///
/// An empty document gives `Value::Null`. More than one document is an error (as in Ansible).
pub fn load_yaml11(text: &str, origin: &str) -> Result<serde_json::Value, InventoryError> {
    Ok(load_yaml11_marked(text, origin)?.to_json())
}

/// Parses one YAML document into a [`Marked`] tree: like [`load_yaml11`] but every node keeps its
/// 1-based line and column, so later checks can report `file:line:col`.
pub fn load_yaml11_marked(text: &str, origin: &str) -> Result<Marked, InventoryError> {
    // The parser is fuzzed upstream, but a panic on hostile input must never take the caller down.
    match std::panic::catch_unwind(|| builder::build(text, origin)) {
        Ok(result) => result,
        Err(_) => Err(InventoryError::parse(
            origin,
            1,
            1,
            "internal YAML parser failure on this input",
        )),
    }
}

#[cfg(test)]
mod tests;
