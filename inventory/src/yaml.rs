//! The YAML inventory format (Ansible's `yaml` inventory plugin).
//!
//! ```yaml
//! all:
//!   vars: {ntp: 10.0.0.1}
//!   hosts:
//!     bastion1:
//!   children:
//!     web:
//!       hosts:
//!         web[01:03]: {ansible_user: deploy}
//! ```
//!
//! Each top-level key is a group; a group holds optional `hosts` (host → vars or null),
//! `vars` and `children` (group → same structure, recursively). As in Ansible, a string in
//! place of `hosts`/`children` names a single entry, unknown keys are ignored with a warning, and
//! a top-level entry that is not a mapping is skipped with a warning.

use crate::error::InventoryError;
use crate::hostrange;
use crate::model::Inventory;
use crate::yaml11::{Marked, MarkedValue};

/// Populates `inv` from an already-parsed YAML document.
pub(crate) fn parse_into(
    inv: &mut Inventory,
    doc: &Marked,
    origin: &str,
) -> Result<(), InventoryError> {
    let mut p = YamlInventory { inv, origin };
    match &doc.value {
        MarkedValue::Null => Ok(()),
        MarkedValue::Map(pairs) => {
            if let Some(plugin) = doc.get("plugin") {
                return Err(p.err(
                    plugin,
                    "this is an inventory plugin configuration ('plugin:'), not a YAML inventory",
                ));
            }
            for (name, node) in pairs {
                if matches!(node.value, MarkedValue::Map(_) | MarkedValue::Null) {
                    p.group(name, node)?;
                } else {
                    p.inv.warnings.push(format!(
                        "{}:{}:{}: skipping \"{name}\": a group must be a mapping, got {}",
                        origin,
                        node.line,
                        node.col,
                        node.kind()
                    ));
                }
            }
            Ok(())
        }
        _ => Err(p.err(
            doc,
            format!(
                "a YAML inventory must be a mapping of groups, got {}",
                doc.kind()
            ),
        )),
    }
}

/// Parsing state: the inventory being built and the file name for messages.
struct YamlInventory<'a> {
    inv: &'a mut Inventory,
    origin: &'a str,
}

impl YamlInventory<'_> {
    fn err(&self, node: &Marked, message: impl Into<String>) -> InventoryError {
        InventoryError::parse(self.origin, node.line, node.col, message)
    }

    /// One group definition (a mapping or null).
    fn group(&mut self, name: &str, node: &Marked) -> Result<(), InventoryError> {
        check_group_name(name).map_err(|m| self.err(node, m))?;
        self.inv.ensure_group(name);
        let MarkedValue::Map(pairs) = &node.value else {
            return Ok(());
        };
        for (key, value) in pairs {
            match key.as_str() {
                "hosts" => self.hosts(name, value)?,
                "vars" => self.vars(name, value)?,
                "children" => self.children(name, value)?,
                other => self.inv.warnings.push(format!(
                    "{}:{}:{}: group \"{name}\": ignoring unexpected key \"{other}\" \
                     (only hosts, vars and children are valid)",
                    self.origin, value.line, value.col
                )),
            }
        }
        Ok(())
    }

    /// Entries of a `hosts`/`children` section: a mapping, a single name, or nothing.
    fn entries<'n>(
        &self,
        group: &str,
        section: &str,
        node: &'n Marked,
    ) -> Result<Vec<(String, Option<&'n Marked>)>, InventoryError> {
        match &node.value {
            MarkedValue::Null => Ok(Vec::new()),
            MarkedValue::Str(s) => Ok(vec![(s.clone(), None)]),
            MarkedValue::Map(pairs) => {
                Ok(pairs.iter().map(|(k, v)| (k.clone(), Some(v))).collect())
            }
            _ => Err(self.err(
                node,
                format!(
                    "group \"{group}\": {section} must be a mapping, got {}",
                    node.kind()
                ),
            )),
        }
    }

    fn hosts(&mut self, group: &str, node: &Marked) -> Result<(), InventoryError> {
        for (entry, vars) in self.entries(group, "hosts", node)? {
            let at = vars.unwrap_or(node);
            let expanded = hostrange::expand(&entry)
                .map_err(|m| self.err(at, format!("group \"{group}\": {m}")))?;
            let vars: &[(String, Marked)] = match vars.map(|v| &v.value) {
                None | Some(MarkedValue::Null) => &[],
                Some(MarkedValue::Map(pairs)) => pairs,
                Some(other) => {
                    return Err(self.err(
                        at,
                        format!(
                            "host \"{entry}\": variables must be a mapping, got {}",
                            other.kind()
                        ),
                    ))
                }
            };
            for host in &expanded.names {
                self.inv.add_host_to_group(host, group);
                if let Some(port) = expanded.port {
                    self.inv.set_host_var(host, "ansible_port", port.into());
                }
                for (k, v) in vars {
                    self.inv.set_host_var(host, k, v.to_json());
                }
            }
        }
        Ok(())
    }

    fn vars(&mut self, group: &str, node: &Marked) -> Result<(), InventoryError> {
        let pairs: &[(String, Marked)] = match &node.value {
            MarkedValue::Null => &[],
            MarkedValue::Map(pairs) => pairs,
            _ => {
                return Err(self.err(
                    node,
                    format!(
                        "group \"{group}\": vars must be a mapping, got {}",
                        node.kind()
                    ),
                ))
            }
        };
        for (k, v) in pairs {
            self.inv
                .set_group_var(group, k, v.to_json())
                .map_err(|m| self.err(v, format!("group \"{group}\": {m}")))?;
        }
        Ok(())
    }

    fn children(&mut self, group: &str, node: &Marked) -> Result<(), InventoryError> {
        for (child, def) in self.entries(group, "children", node)? {
            let at = def.unwrap_or(node);
            if let Some(def) = def {
                if !matches!(def.value, MarkedValue::Map(_) | MarkedValue::Null) {
                    return Err(self.err(
                        def,
                        format!("group \"{child}\": must be a mapping, got {}", def.kind()),
                    ));
                }
                self.group(&child, def)?;
            } else {
                check_group_name(&child).map_err(|m| self.err(at, m))?;
            }
            self.inv
                .add_child(group, &child)
                .map_err(|m| self.err(at, m))?;
        }
        Ok(())
    }
}

/// Group names must not be empty (Ansible accepts nearly anything else, with warnings).
pub(crate) fn check_group_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("empty group name".into());
    }
    Ok(())
}
