//! The INI inventory format (Ansible's `ini` inventory plugin).
//!
//! ```ini
//! bastion1                      # before any section: group "ungrouped"
//! [web]
//! web[01:03] ansible_user=deploy http_port=8080
//! [web:vars]
//! ntp = 10.0.0.1
//! [prod:children]
//! web
//! ```
//!
//! Host lines are split like a shell (`shlex`), `#` starts a comment, `host:port` sets
//! `ansible_port`. Every value, on host lines and in `:vars`, goes through Python literal
//! evaluation as in Ansible: `8080` is an int, `True` a bool, `'8080'` a string, `yes` a string.
//! Note that shlex removes quotes on host lines first, so there `port="22"` is still the int 22
//! (write `port="'22'"` for a string); in `:vars` sections `port="22"` is the string "22".
//! Lines starting with `#` or `;` are comments. A group named in `[x:children]` or `[x:vars]`
//! must be declared somewhere in the file by a `[x]` or `[x:children]` section.

use std::collections::HashSet;
use std::sync::OnceLock;

use regex::Regex;

use crate::error::InventoryError;
use crate::model::Inventory;
use crate::{hostrange, pyliteral, shlex};

/// What the current section holds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Hosts,
    Vars,
    Children,
}

/// A reference to a group that must be declared before the end of the file.
struct Pending {
    group: String,
    line: usize,
    /// `Some(parent)` for a `[parent:children]` entry, `None` for a `[group:vars]` section.
    parent: Option<String>,
}

fn section_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$").expect("static regex"))
}

fn group_name_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^([^:\]\s]+)\s*(?:#.*)?$").expect("static regex"))
}

/// Populates `inv` from INI text.
pub(crate) fn parse_into(
    inv: &mut Inventory,
    text: &str,
    origin: &str,
) -> Result<(), InventoryError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut declared: HashSet<String> = inv.groups.iter().map(|g| g.name.clone()).collect();
    let mut pending: Vec<Pending> = Vec::new();
    let mut group = String::from("ungrouped");
    let mut state = State::Hosts;
    for (idx, raw) in text.lines().enumerate() {
        let lineno = idx + 1;
        let col = raw.len() - raw.trim_start().len() + 1;
        let err = |m: String| InventoryError::parse(origin, lineno, col, m);
        let line = raw.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some(caps) = section_re().captures(line) {
            group = caps[1].to_string();
            state = match caps.get(2).map(|m| m.as_str()) {
                None | Some("hosts") => State::Hosts,
                Some("vars") => State::Vars,
                Some("children") => State::Children,
                Some(other) => {
                    return Err(err(format!(
                        "section [{group}:{other}] has unknown type: {other}"
                    )))
                }
            };
            if state == State::Vars {
                if !declared.contains(&group) && !pending.iter().any(|p| p.group == group) {
                    pending.push(Pending {
                        group: group.clone(),
                        line: lineno,
                        parent: None,
                    });
                }
            } else {
                declared.insert(group.clone());
            }
            inv.ensure_group(&group);
            continue;
        }
        if line.starts_with('[') && line.ends_with(']') {
            return Err(err(format!(
                "invalid section entry: '{line}'; section names may not contain spaces \
                 or other invalid characters"
            )));
        }
        match state {
            State::Hosts => host_line(inv, line, &group).map_err(err)?,
            State::Vars => {
                let Some((k, v)) = line.split_once('=') else {
                    return Err(err(format!("expected key=value, got: {line}")));
                };
                let k = k.trim();
                if k.is_empty() {
                    return Err(err(format!("expected key=value, got: {line}")));
                }
                inv.set_group_var(&group, k, pyliteral::eval(v.trim()))
                    .map_err(|m| err(format!("group \"{group}\": {m}")))?;
            }
            State::Children => {
                let Some(caps) = group_name_re().captures(line) else {
                    return Err(err(format!("expected group name, got: {line}")));
                };
                let child = caps[1].to_string();
                inv.add_child(&group, &child).map_err(&err)?;
                pending.push(Pending {
                    group: child,
                    line: lineno,
                    parent: Some(group.clone()),
                });
            }
        }
    }
    for p in pending {
        if declared.contains(&p.group) {
            continue;
        }
        let message = match &p.parent {
            Some(parent) => format!(
                "section [{parent}:children] includes undefined group '{}'",
                p.group
            ),
            None => format!(
                "section [{0}:vars] not valid for undefined group '{0}'",
                p.group
            ),
        };
        let col = text
            .lines()
            .nth(p.line - 1)
            .map_or(1, |l| l.len() - l.trim_start().len() + 1);
        return Err(InventoryError::parse(origin, p.line, col, message));
    }
    Ok(())
}

/// `name[:port] [key=value ...]`, with ranges in the name.
fn host_line(inv: &mut Inventory, line: &str, group: &str) -> Result<(), String> {
    let tokens =
        shlex::split(line).map_err(|e| format!("error parsing host definition '{line}': {e}"))?;
    let Some((first, rest)) = tokens.split_first() else {
        return Ok(());
    };
    let expanded = hostrange::expand(first)?;
    let mut vars = Vec::with_capacity(rest.len());
    for t in rest {
        let Some((k, v)) = t.split_once('=') else {
            return Err(format!(
                "expected key=value host variable assignment, got: {t}"
            ));
        };
        if k.is_empty() {
            return Err(format!(
                "expected key=value host variable assignment, got: {t}"
            ));
        }
        vars.push((k, pyliteral::eval(v)));
    }
    for host in &expanded.names {
        inv.add_host_to_group(host, group);
        if let Some(port) = expanded.port {
            inv.set_host_var(host, "ansible_port", port.into());
        }
        for (k, v) in &vars {
            inv.set_host_var(host, k, v.clone());
        }
    }
    Ok(())
}
