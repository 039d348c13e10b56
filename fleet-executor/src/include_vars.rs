//! `include_vars`: variables from a YAML or JSON file, or from every file of a directory tree
//! (`dir:`), as Ansible's action plugin reads them.
//!
//! A file is found beside the task file or in its role's `vars/`. A directory is the role's
//! `vars/DIR` (or `DIR` itself when it starts with `vars/`) in a role, else beside the task
//! file; its tree is walked with symbolic links followed, directories in the order of their
//! paths and files by name within each, down to `depth` levels (0: all), and each file is
//! loaded unless `files_matching` (a Python regex searched in the name) does not find it or an
//! `ignore_files` pattern matches the name's end. `extensions` (default `yaml`, `yml`,
//! `json`; `''` for names without one) must name the file's extension: a file with another is
//! an error, or skipped with `ignore_unknown_extensions`. Later files win, key by key.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use fleet_templates::pyre::{self, Flags, PyRegex};
use serde_json::{json, Map, Value};

use super::host::HostState;
use fleet_modules::action_args::{INCLUDE_VARS_DIR_ARGS, INCLUDE_VARS_FILE_ARGS};
use fleet_modules::ModuleResult;
use fleet_playbook::Task;

pub(super) fn include_vars(
    task: &Task,
    args: &Map<String, Value>,
    host: &mut HostState,
    current: &fleet_templates::Vars,
) -> ModuleResult {
    // unknown keys were refused before the action ran (`check_action_args`)
    let (dirs, files) = (
        args.keys()
            .any(|k| INCLUDE_VARS_DIR_ARGS.contains(&k.as_str())),
        args.keys()
            .any(|k| INCLUDE_VARS_FILE_ARGS.contains(&k.as_str())),
    );
    if dirs && files {
        return ModuleResult::fail(
            "You are mixing file only and dir only arguments, these are incompatible",
        );
    }
    let base = task
        .position
        .file
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let role = base
        .file_name()
        .filter(|n| *n == "tasks")
        .and_then(|_| base.parent())
        .map(Path::to_path_buf);
    let loaded = match args.get("dir").and_then(Value::as_str) {
        Some(dir) => {
            DirOptions::read(args).and_then(|o| o.load(&source_dir(dir, &base, role.as_deref())))
        }
        None => match args
            .get("file")
            .or_else(|| args.get("_raw_params"))
            .and_then(Value::as_str)
        {
            Some(file) => load_file(&base, file.trim_end_matches('\n')),
            None => Err(
                "Could not find file on the Ansible Controller.\nIf you are using a module \
                         and expect the file to exist on the remote, see the remote_src option"
                    .into(),
            ),
        },
    };
    let (mut vars, included) = match loaded {
        Ok(found) => found,
        Err(message) => return ModuleResult::fail(message.clone()).with("message", message),
    };
    if args.get("hash_behaviour").and_then(Value::as_str) == Some("merge") {
        // each dict read is merged into the variable's current value, key by key, deeply
        for (name, value) in vars.iter_mut() {
            if let Some(Value::Object(old)) = current.get(name) {
                let mut merged = Value::Object(old.clone());
                merge_hash(&mut merged, value);
                *value = merged;
            }
        }
    }
    let facts = match args.get("name").and_then(Value::as_str) {
        Some(name) => {
            let mut scope = Map::new();
            scope.insert(name.to_string(), Value::Object(vars));
            scope
        }
        None => vars,
    };
    for (k, v) in &facts {
        host.runtime_vars.insert(k.clone(), v.clone());
    }
    ModuleResult::ok()
        .with("ansible_facts", Value::Object(facts))
        .with("ansible_included_var_files", json!(included))
}

/// Ansible's `merge_hash`: `from` over `into`, dicts merged at every depth, anything else
/// replaced.
fn merge_hash(into: &mut Value, from: &Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(k) {
                    Some(old) => merge_hash(old, v),
                    None => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (slot, value) => *slot = value.clone(),
    }
}

/// What one `include_vars` read: the variables and the files they came from.
type Loaded = (Map<String, Value>, Vec<String>);

/// `file:`: beside the task file, then in its role's `vars/`, then in the role's directory.
fn load_file(base: &Path, file: &str) -> Result<Loaded, String> {
    let parent = base.parent().unwrap_or(base);
    let candidates = [
        base.join(file),
        parent.join("vars").join(file),
        parent.join(file),
    ];
    let path = candidates
        .iter()
        .find(|p| p.is_file())
        .ok_or_else(|| format!("Could not find or access '{file}'"))?;
    let vars = read_mapping(path)?;
    Ok((vars, vec![path.display().to_string()]))
}

/// The directory `dir:` names (see the module doc).
fn source_dir(dir: &str, base: &Path, role: Option<&Path>) -> PathBuf {
    match role {
        Some(role) if dir.split('/').next() == Some("vars") && role.join(dir).exists() => {
            role.join(dir)
        }
        Some(role) if dir.split('/').next() != Some("vars") => role.join("vars").join(dir),
        Some(_) => PathBuf::from(dir),
        None => base.join(dir),
    }
}

/// A file's mapping (an empty file is an empty one).
fn read_mapping(path: &Path) -> Result<Map<String, Value>, String> {
    let text = inventory::read_data_file(path).map_err(|e| format!("{}: {e}", path.display()))?;
    match inventory::load_yaml11(&text, &path.to_string_lossy()) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(Value::Null) => Ok(Map::new()),
        Ok(_) => Err(format!(
            "{} must be stored as a dictionary/hash",
            path.display()
        )),
        Err(e) => Err(e.to_string()),
    }
}

/// The `dir:` options.
struct DirOptions {
    depth: usize,
    matcher: Option<PyRegex>,
    ignore: Vec<PyRegex>,
    extensions: Vec<String>,
    ignore_unknown_extensions: bool,
}

impl DirOptions {
    fn read(args: &Map<String, Value>) -> Result<DirOptions, String> {
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let compile = |pattern: &str| {
            pyre::compile(pattern, Flags::default())
                .map_err(|_| format!("Invalid regular expression: {pattern}"))
        };
        let depth = match args.get("depth") {
            None | Some(Value::Null) => 0,
            Some(v) => text(v)
                .parse()
                .map_err(|_| format!("depth must be an integer, got {}", text(v)))?,
        };
        let matcher = match args.get("files_matching") {
            None | Some(Value::Null) => None,
            Some(v) => Some(compile(&text(v))?),
        };
        let ignore = match args.get("ignore_files") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) => s.split_whitespace().map(String::from).collect(),
            Some(Value::Array(items)) => items.iter().map(text).collect(),
            Some(other) => return Err(format!("{other} must be a list")),
        };
        let ignore = ignore
            .iter()
            .map(|p| {
                pyre::compile(&format!("{p}$"), Flags::default())
                    .map_err(|_| format!("Invalid regular expression: {p}"))
            })
            .collect::<Result<_, _>>()?;
        let extensions = match args.get("extensions") {
            None | Some(Value::Null) => vec!["yaml".into(), "yml".into(), "json".into()],
            // Python's list() of a string: its characters
            Some(Value::String(s)) => s.chars().map(String::from).collect(),
            Some(Value::Array(items)) => items.iter().map(text).collect(),
            Some(_) => {
                return Err("Invalid type for \"extensions\" option, it must be a list".into())
            }
        };
        let ignore_unknown_extensions = args
            .get("ignore_unknown_extensions")
            .is_some_and(|v| fleet_templates::boolean::from_json(v) == Some(true));
        Ok(DirOptions {
            depth,
            matcher,
            ignore,
            extensions,
            ignore_unknown_extensions,
        })
    }

    /// Every wanted file of the tree at `root`, loaded in order.
    fn load(&self, root: &Path) -> Result<Loaded, String> {
        if !root.exists() {
            return Err(format!("{} directory does not exist", root.display()));
        }
        if !root.is_dir() {
            return Err(format!("{} is not a directory", root.display()));
        }
        let mut dirs = Vec::new();
        let mut seen = HashSet::new();
        walk(root, 1, self.depth, &mut seen, &mut dirs);
        dirs.sort_by(|a, b| a.0.as_os_str().cmp(b.0.as_os_str()));
        let (mut vars, mut included) = (Map::new(), Vec::new());
        for (dir, mut names) in dirs {
            names.sort();
            for name in names {
                if !self.wanted(&name)? {
                    continue;
                }
                let path = dir.join(&name);
                if !self.valid_extension(&name) {
                    if self.ignore_unknown_extensions {
                        continue;
                    }
                    return Err(format!(
                        "{} does not have a valid extension: {}",
                        path.display(),
                        self.extensions.join(", ")
                    ));
                }
                vars.extend(read_mapping(&path)?);
                included.push(path.display().to_string());
            }
        }
        Ok((vars, included))
    }

    /// `files_matching` finds the name and no `ignore_files` pattern matches its end.
    fn wanted(&self, name: &str) -> Result<bool, String> {
        let search = |re: &PyRegex| {
            re.find(name.as_bytes())
                .map(|m| m.is_some())
                .map_err(|e| e.to_string())
        };
        if let Some(m) = &self.matcher {
            if !search(m)? {
                return Ok(false);
            }
        }
        for re in &self.ignore {
            if search(re)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// `os.path.splitext`'s extension, without its dot, is one of `extensions`.
    fn valid_extension(&self, name: &str) -> bool {
        let stem = name.trim_start_matches('.');
        let ext = match stem.rfind('.') {
            Some(i) => &stem[i + 1..],
            None => "",
        };
        self.extensions.iter().any(|e| e == ext)
    }
}

/// The directories under `dir` (itself included) down to `max_depth` levels (0: all), each
/// with its files' names; symbolic links are followed, each directory visited once.
fn walk(
    dir: &Path,
    depth: usize,
    max_depth: usize,
    seen: &mut HashSet<PathBuf>,
    out: &mut Vec<(PathBuf, Vec<String>)>,
) {
    if !seen.insert(std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())) {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let (mut files, mut subdirs) = (Vec::new(), Vec::new());
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            subdirs.push(path);
        } else {
            files.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    out.push((dir.to_path_buf(), files));
    if max_depth == 0 || depth < max_depth {
        for sub in subdirs {
            walk(&sub, depth + 1, max_depth, seen, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Issue 18: `include_vars: dir=` reads a tree in Ansible's order, with its options.
    #[test]
    fn a_directory_is_read_in_order_with_its_options() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("vars");
        write(&root, "b.yml", "x: b\nonly_b: 1\n");
        write(&root, "a.yaml", "x: a\n");
        write(&root, "sub/c.json", "{\"x\": \"c\"}");
        write(&root, "sub/deeper/d.yml", "x: d\n");
        write(&root, "notes.txt", "not vars");
        let opts = |args: Value| DirOptions::read(args.as_object().unwrap()).unwrap();
        let err = opts(json!({})).load(&root).unwrap_err();
        assert!(
            err.ends_with("notes.txt does not have a valid extension: yaml, yml, json"),
            "{err}"
        );
        let (vars, files) = opts(json!({"ignore_unknown_extensions": true}))
            .load(&root)
            .unwrap();
        assert_eq!(vars["x"], "d");
        let names: Vec<&str> = files
            .iter()
            .map(|f| f.rsplit('/').next().unwrap())
            .collect();
        assert_eq!(names, ["a.yaml", "b.yml", "c.json", "d.yml"]);
        let (vars, files) = opts(json!({"depth": 2, "ignore_files": ["txt"]}))
            .load(&root)
            .unwrap();
        assert_eq!((vars["x"].as_str(), files.len()), (Some("c"), 3));
        let (vars, _) = opts(json!({"files_matching": "^b", "ignore_unknown_extensions": true}))
            .load(&root)
            .unwrap();
        assert_eq!(vars, *json!({"x": "b", "only_b": 1}).as_object().unwrap());
        assert!(opts(json!({}))
            .load(&d.path().join("none"))
            .unwrap_err()
            .ends_with("directory does not exist"));
    }
}
