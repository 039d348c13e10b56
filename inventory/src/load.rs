//! Reading inventories from files, directories and text, with format detection.
//!
//! `.yml`/`.yaml`/`.json` files are YAML inventories and `.ini` files INI ones. Any other file is
//! YAML if it parses as a mapping whose values are all mappings or empty (a YAML inventory's
//! shape), else INI; if INI then fails on something that was a YAML mapping, the YAML reading
//! (or its error) is kept. A directory is read like Ansible does: every file in it, sorted,
//! recursively, skipping hidden files, `group_vars`/`host_vars`, backups and non-inventory
//! extensions; its own `group_vars/` and `host_vars/` are then loaded.

use std::path::Path;

use crate::error::InventoryError;
use crate::model::Inventory;
use crate::yaml11::{load_yaml11_marked, Marked, MarkedValue};
use crate::{ini, yaml};

/// File extensions Ansible never reads as inventory sources inside a directory.
const IGNORED_EXTENSIONS: [&str; 11] = [
    "pyc", "pyo", "swp", "bak", "rpm", "md", "txt", "rst", "orig", "cfg", "retry",
];
/// How deep an inventory directory is searched (guards against symlink loops).
const MAX_DIR_DEPTH: usize = 16;

impl Inventory {
    /// Loads an inventory file (format auto-detected) or directory, then the `group_vars/` and
    /// `host_vars/` directories next to it (in it, for a directory).
    pub fn load(path: &Path) -> Result<Inventory, InventoryError> {
        let mut inv = Inventory::new();
        let vars_dir = if path.is_dir() {
            read_dir_sources(&mut inv, path, 0)?;
            path.to_path_buf()
        } else {
            read_file_source(&mut inv, path)?;
            match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => Path::new(".").to_path_buf(),
            }
        };
        inv.finalize();
        inv.load_vars_dirs(&vars_dir)?;
        Ok(inv)
    }

    /// Parses a YAML inventory; `origin` names the text in error messages.
    pub fn parse_yaml(text: &str, origin: &str) -> Result<Inventory, InventoryError> {
        let doc = load_yaml11_marked(text, origin)?;
        let mut inv = Inventory::new();
        yaml::parse_into(&mut inv, &doc, origin)?;
        inv.finalize();
        Ok(inv)
    }

    /// Parses an INI inventory; `origin` names the text in error messages.
    pub fn parse_ini(text: &str, origin: &str) -> Result<Inventory, InventoryError> {
        let mut inv = Inventory::new();
        ini::parse_into(&mut inv, text, origin)?;
        inv.finalize();
        Ok(inv)
    }

    /// Parses an inventory whose format is detected from its content (see the module docs).
    pub fn parse(text: &str, origin: &str) -> Result<Inventory, InventoryError> {
        let mut inv = Inventory::new();
        parse_detected(&mut inv, text, origin)?;
        inv.finalize();
        Ok(inv)
    }
}

/// Reads one file into `inv`, choosing the format by extension, then by content.
fn read_file_source(inv: &mut Inventory, path: &Path) -> Result<(), InventoryError> {
    let text = vault::read_data_file(path).map_err(|e| InventoryError::io(path, e))?;
    let origin = path.display().to_string();
    match path.extension().and_then(|e| e.to_str()) {
        Some("yml" | "yaml" | "json") => match load_yaml11_marked(&text, &origin) {
            Ok(doc) => yaml::parse_into(inv, &doc, &origin),
            // Ansible falls back to its INI plugin whatever the extension; we do too, but only
            // for text that plainly is INI (it opens with a `[group]` header), so a YAML typo
            // is reported as one instead of being read as odd host names.
            Err(_) if starts_with_ini_section(&text) => ini::parse_into(inv, &text, &origin),
            Err(e) => Err(e),
        },
        Some("ini") => ini::parse_into(inv, &text, &origin),
        _ => parse_detected(inv, &text, &origin),
    }
}

/// True when the first line that is not blank or a comment is an INI `[section]` header.
fn starts_with_ini_section(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'))
        .is_some_and(|l| l.starts_with('[') && l.ends_with(']'))
}

/// True for a mapping whose values are all mappings or null: the shape of a YAML inventory.
fn looks_like_yaml_inventory(doc: &Marked) -> bool {
    match &doc.value {
        MarkedValue::Map(pairs) => pairs
            .iter()
            .all(|(_, v)| matches!(v.value, MarkedValue::Map(_) | MarkedValue::Null)),
        _ => false,
    }
}

/// Content-based detection (see the module docs).
fn parse_detected(inv: &mut Inventory, text: &str, origin: &str) -> Result<(), InventoryError> {
    let doc = match load_yaml11_marked(text, origin) {
        Ok(doc) => doc,
        Err(_) => return ini::parse_into(inv, text, origin),
    };
    if looks_like_yaml_inventory(&doc) {
        return yaml::parse_into(inv, &doc, origin);
    }
    if !matches!(doc.value, MarkedValue::Map(_)) {
        return ini::parse_into(inv, text, origin);
    }
    // A mapping of the wrong shape: INI if that works, else report it as YAML.
    let mut attempt = inv.clone();
    match ini::parse_into(&mut attempt, text, origin) {
        Ok(()) => {
            *inv = attempt;
            Ok(())
        }
        Err(_) => yaml::parse_into(inv, &doc, origin),
    }
}

/// Reads every inventory file under `dir`, sorted, recursively.
fn read_dir_sources(inv: &mut Inventory, dir: &Path, depth: usize) -> Result<(), InventoryError> {
    if depth > MAX_DIR_DEPTH {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).map_err(|e| InventoryError::io(dir, e))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| InventoryError::io(dir, e))?;
        if let Ok(name) = entry.file_name().into_string() {
            names.push(name);
        }
    }
    names.sort();
    for name in names {
        let ext = Path::new(&name).extension().and_then(|e| e.to_str());
        if name.starts_with('.')
            || name.ends_with('~')
            || matches!(name.as_str(), "group_vars" | "host_vars" | "vars_plugins")
            || ext.is_some_and(|e| IGNORED_EXTENSIONS.contains(&e))
        {
            continue;
        }
        let path = dir.join(&name);
        if path.is_dir() {
            read_dir_sources(inv, &path, depth + 1)?;
        } else {
            read_file_source(inv, &path)?;
        }
    }
    Ok(())
}
