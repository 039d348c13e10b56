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
    let mut parser = Parser {
        declared: inv.groups.iter().map(|g| g.name.clone()).collect(),
        inv,
        pending: Vec::new(),
        group: String::from("ungrouped"),
        state: State::Hosts,
    };
    for (idx, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        parser
            .line(line, idx + 1)
            .map_err(|m| InventoryError::parse(origin, idx + 1, indent_col(raw), m))?;
    }
    match parser.first_undeclared() {
        Some((lineno, message)) => {
            let col = text.lines().nth(lineno - 1).map_or(1, indent_col);
            Err(InventoryError::parse(origin, lineno, col, message))
        }
        None => Ok(()),
    }
}

/// The column of a line's first non-blank character.
fn indent_col(raw: &str) -> usize {
    raw.len() - raw.trim_start().len() + 1
}

/// The parse in progress: the section being read and the group references still to check.
struct Parser<'a> {
    inv: &'a mut Inventory,
    /// Groups declared so far by a `[x]` or `[x:children]` section (or already in `inv`).
    declared: HashSet<String>,
    pending: Vec<Pending>,
    /// The current section's group and what it holds.
    group: String,
    state: State,
}

impl Parser<'_> {
    /// One non-blank, non-comment line (`lineno` from 1); the error is the message only.
    fn line(&mut self, line: &str, lineno: usize) -> Result<(), String> {
        if let Some(caps) = section_re().captures(line) {
            return self.section(&caps[1], caps.get(2).map(|m| m.as_str()), lineno);
        }
        if line.starts_with('[') && line.ends_with(']') {
            return Err(format!(
                "invalid section entry: '{line}'; section names may not contain spaces \
                 or other invalid characters"
            ));
        }
        match self.state {
            State::Hosts => host_line(self.inv, line, &self.group),
            State::Vars => self.group_var(line),
            State::Children => self.child(line, lineno),
        }
    }

    /// `[group]`, `[group:hosts]`, `[group:vars]` or `[group:children]`; a `:vars` section
    /// refers to its group, the others declare it.
    fn section(&mut self, group: &str, kind: Option<&str>, lineno: usize) -> Result<(), String> {
        self.group = group.to_string();
        self.state = match kind {
            None | Some("hosts") => State::Hosts,
            Some("vars") => State::Vars,
            Some("children") => State::Children,
            Some(other) => {
                return Err(format!(
                    "section [{group}:{other}] has unknown type: {other}"
                ))
            }
        };
        if self.state == State::Vars {
            if !self.declared.contains(group) && !self.pending.iter().any(|p| p.group == group) {
                self.pending.push(Pending {
                    group: self.group.clone(),
                    line: lineno,
                    parent: None,
                });
            }
        } else {
            self.declared.insert(self.group.clone());
        }
        self.inv.ensure_group(group);
        Ok(())
    }

    /// `key = value` in a `:vars` section.
    fn group_var(&mut self, line: &str) -> Result<(), String> {
        let Some((k, v)) = line.split_once('=') else {
            return Err(format!("expected key=value, got: {line}"));
        };
        let k = k.trim();
        if k.is_empty() {
            return Err(format!("expected key=value, got: {line}"));
        }
        let group = &self.group;
        self.inv
            .set_group_var(group, k, pyliteral::eval(v.trim()))
            .map_err(|m| format!("group \"{group}\": {m}"))
    }

    /// A group name in a `:children` section, which must be declared by the end of the file.
    fn child(&mut self, line: &str, lineno: usize) -> Result<(), String> {
        let Some(caps) = group_name_re().captures(line) else {
            return Err(format!("expected group name, got: {line}"));
        };
        let child = caps[1].to_string();
        self.inv.add_child(&self.group, &child)?;
        self.pending.push(Pending {
            group: child,
            line: lineno,
            parent: Some(self.group.clone()),
        });
        Ok(())
    }

    /// The first reference to a group the file never declared: its line and message.
    fn first_undeclared(&self) -> Option<(usize, String)> {
        let p = self
            .pending
            .iter()
            .find(|p| !self.declared.contains(&p.group))?;
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
        Some((p.line, message))
    }
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
