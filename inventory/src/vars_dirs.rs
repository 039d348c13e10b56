//! `group_vars/` and `host_vars/` directories (Ansible's `host_group_vars` vars plugin).
//!
//! For a group or host NAME, the first of `NAME`, `NAME.yml`, `NAME.yaml`, `NAME.json` that exists
//! is used. If it is a directory, every file in it (recursively, sorted by name, skipping hidden
//! files and `~` backups, only files without extension or with `.yml`/`.yaml`/`.json`) is
//! loaded and merged in that order, later files winning. Each file must hold a mapping; it is
//! read as JSON if it parses as JSON, otherwise as YAML 1.1.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::InventoryError;
use crate::model::{Inventory, Vars};
use crate::yaml11::{load_yaml11_marked, MarkedValue};

/// Extensions tried after the bare name, in Ansible's order.
const EXTENSIONS: [&str; 3] = ["yml", "yaml", "json"];
/// How deep a `group_vars/NAME/` directory is searched (guards against symlink loops).
const MAX_DIR_DEPTH: usize = 16;

/// The variables one vars directory contributes: per group and per host.
#[derive(Debug, Clone, Default)]
pub(crate) struct VarsLayer {
    pub(crate) groups: HashMap<String, Vars>,
    pub(crate) hosts: HashMap<String, Vars>,
    /// The directory the layer was read from: a group made during the run (`group_by`) has
    /// its `group_vars/` files read from it then.
    pub(crate) dir: Option<PathBuf>,
}

impl Inventory {
    /// Loads `group_vars/` and `host_vars/` under `dir` as a new variable layer ranking above
    /// every layer loaded before (Ansible reads the inventory's directory, then the playbook's).
    /// Missing directories are fine; unreadable or malformed files are errors.
    pub fn load_vars_dirs(&mut self, dir: &Path) -> Result<(), InventoryError> {
        let group_names: Vec<String> = self.groups.iter().map(|g| g.name.clone()).collect();
        let host_names: Vec<String> = self.hosts.iter().map(|h| h.name.clone()).collect();
        let layer = VarsLayer {
            groups: read_kind(&dir.join("group_vars"), &group_names)?,
            hosts: read_kind(&dir.join("host_vars"), &host_names)?,
            dir: Some(dir.to_path_buf()),
        };
        self.layers.push(layer);
        self.finalize();
        Ok(())
    }
}

/// Reads the vars of every name that has a file under `base` (`group_vars` or `host_vars`).
pub(crate) fn read_kind(
    base: &Path,
    names: &[String],
) -> Result<HashMap<String, Vars>, InventoryError> {
    let mut out = HashMap::new();
    if !base.is_dir() {
        return Ok(out);
    }
    for name in names {
        let files = find_vars_files(base, name)?;
        if files.is_empty() {
            continue;
        }
        let mut vars = Vars::new();
        for file in files {
            vars.extend(load_vars_file(&file)?);
        }
        out.insert(name.clone(), vars);
    }
    Ok(out)
}

/// The files holding vars for `name` under `base`, in merge order.
fn find_vars_files(base: &Path, name: &str) -> Result<Vec<PathBuf>, InventoryError> {
    // A name is a file name here, never a path: no traversal out of group_vars/.
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\', '\0']) {
        return Ok(Vec::new());
    }
    let candidates = std::iter::once(base.join(name)).chain(
        EXTENSIONS
            .iter()
            .map(|ext| base.join(format!("{name}.{ext}"))),
    );
    for path in candidates {
        if path.is_dir() {
            let mut found = Vec::new();
            collect_dir(&path, 0, &mut found)?;
            return Ok(found);
        }
        if path.exists() {
            return Ok(vec![path]);
        }
    }
    Ok(Vec::new())
}

/// Appends the vars files of a `NAME/` directory, sorted, recursing into extensionless dirs.
fn collect_dir(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) -> Result<(), InventoryError> {
    if depth > MAX_DIR_DEPTH {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).map_err(|e| InventoryError::io(dir, e))?;
    let mut names: Vec<String> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| InventoryError::io(dir, e))?;
        if let Ok(name) = entry.file_name().into_string() {
            names.push(name);
        }
    }
    names.sort();
    for name in names {
        if name.starts_with('.') || name.ends_with('~') {
            continue;
        }
        let path = dir.join(&name);
        let ext = Path::new(&name).extension().and_then(|e| e.to_str());
        if path.is_dir() {
            if ext.is_none() {
                collect_dir(&path, depth + 1, found)?;
            }
        } else if ext.is_none_or(|e| EXTENSIONS.contains(&e)) {
            found.push(path);
        }
    }
    Ok(())
}

/// Reads one vars file: a mapping in JSON or YAML 1.1; empty files give no vars.
pub(crate) fn load_vars_file(path: &Path) -> Result<Vars, InventoryError> {
    let text = vault::read_data_file(path).map_err(|e| InventoryError::io(path, e))?;
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(&text) {
        return Ok(map);
    }
    let origin = path.display().to_string();
    let doc = load_yaml11_marked(&text, &origin)?;
    match doc.value {
        MarkedValue::Null => Ok(Vars::new()),
        MarkedValue::Map(_) => match doc.to_json() {
            serde_json::Value::Object(map) => Ok(map),
            _ => Ok(Vars::new()),
        },
        _ => Err(InventoryError::parse(
            &origin,
            doc.line,
            doc.col,
            format!("variables file must be a mapping, got {}", doc.kind()),
        )),
    }
}
