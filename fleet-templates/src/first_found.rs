//! The `first_found` lookup, as ansible-core 2.19's plugin reads its terms and searches.
//!
//! Why its own module: `first_found` is how real playbooks pick distribution-specific files
//! (`with_first_found: ["{{ ansible_distribution }}.yml", default.yml]`), and its rules are
//! particular: a mapping term replaces every option given before it (the keyword arguments
//! too), `paths` multiplies path-major, names split on `,`/`;` and paths on `,`/`:`/`;`; a
//! `with_first_found:` loop drops undefined terms and searches the `files/`, `templates/` or
//! `vars/` directory its task's action names, while `lookup()` searches the directories
//! themselves; a term of another type is an error naming it.

use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::{Error, State};

use super::filters::fail;

/// The variable a `with_<lookup>:` loop's terms are in while its lookup runs (set by the
/// executor): its presence means "invoked as `with_`".
pub const LOOP_TERMS_VAR: &str = "__fleet_loop_terms";
/// The variable holding the action of the task whose `with_<lookup>:` loop runs.
pub const LOOP_ACTION_VAR: &str = "__fleet_loop_action";

/// The plugin's options at one point of reading the terms.
#[derive(Default, Clone)]
struct Options {
    files: Vec<String>,
    paths: Vec<String>,
    skip: bool,
}

impl Options {
    /// Options from `files`/`paths`/`skip` given in `get` (keyword arguments or a mapping
    /// term); every option not given is back at its default, as Ansible's `set_options`.
    fn read(get: impl Fn(&str) -> Result<Option<Value>, Error>) -> Result<Options, Error> {
        let list = |v: Option<Value>| -> Result<Vec<String>, Error> {
            match v {
                None => Ok(Vec::new()),
                Some(v) if v.is_undefined() || v.is_none() => Ok(Vec::new()),
                Some(v) if v.kind() == ValueKind::Seq => {
                    Ok(v.try_iter()?.map(|i| super::repr::py_string(&i)).collect())
                }
                // a list option given as a string is split on commas
                Some(v) => Ok(super::repr::py_string(&v)
                    .split(',')
                    .map(str::trim)
                    .map(String::from)
                    .collect()),
            }
        };
        Ok(Options {
            files: list(get("files")?)?,
            paths: list(get("paths")?)?,
            skip: get("skip")?.is_some_and(|v| v.is_true()),
        })
    }
}

/// Runs the lookup: the first file found of the names the terms give, as an absolute path.
pub(crate) fn first_found(
    state: &State,
    terms: &[Value],
    kwargs: &Kwargs,
) -> Result<Vec<Value>, Error> {
    let as_with = state
        .lookup(LOOP_TERMS_VAR)
        .is_some_and(|v| !v.is_undefined());
    let subdir = as_with.then(|| {
        let action = state
            .lookup(LOOP_ACTION_VAR)
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        match ["template", "var"].into_iter().find(|s| action.contains(s)) {
            Some(s) => format!("{s}s"),
            None => "files".to_string(),
        }
    });
    let render = |v: Option<Value>| match v {
        // an undefined argument fails the lookup, with the name that is undefined
        Some(v) if v.is_undefined() => Err(Error::from(minijinja::ErrorKind::UndefinedError)),
        v => v.map(|v| super::lookup::render_term(state, &v)).transpose(),
    };
    // (`get::<Option<_>>` would read an undefined argument as absent)
    let given = |k: &str| -> Result<Option<Value>, Error> {
        match kwargs.has(k) {
            true => kwargs.get::<Value>(k).map(Some),
            false => Ok(None),
        }
    };
    let mut options = Options::read(|k| render(given(k)?))?;
    let terms: Vec<Value> = if terms.is_empty() {
        options
            .files
            .iter()
            .map(|f| Value::from(f.as_str()))
            .collect()
    } else {
        terms.to_vec()
    };
    let mut search = Vec::new();
    process_terms(state, &terms, as_with, &mut options, &mut search)?;
    for needle in &search {
        if let Some(found) = find(state, subdir.as_deref(), needle) {
            return Ok(vec![Value::from(found)]);
        }
    }
    if options.skip {
        return Ok(Vec::new());
    }
    Err(fail("No file was found when using first_found."))
}

/// The candidate names, in order, from `terms` (recursively), as the plugin's
/// `_process_terms`; `options` ends as the last mapping term left it.
fn process_terms(
    state: &State,
    terms: &[Value],
    as_with: bool,
    options: &mut Options,
    search: &mut Vec<String>,
) -> Result<(), Error> {
    for term in terms {
        if term.is_undefined() {
            if as_with {
                // a `with_` loop drops undefined terms
                continue;
            }
            return Err(fail(format!(
                "'{}' is undefined",
                super::repr::py_string(term)
            )));
        }
        let files = match term.kind() {
            ValueKind::Map => {
                *options = Options::read(|k| {
                    let v = term.get_attr(k).ok().filter(|v| !v.is_undefined());
                    v.map(|v| super::lookup::render_term(state, &v)).transpose()
                })?;
                options.files.clone()
            }
            ValueKind::String => vec![term.as_str().unwrap_or_default().to_string()],
            ValueKind::Seq => {
                let inner: Vec<Value> = term.try_iter()?.collect();
                process_terms(state, &inner, as_with, options, search)?;
                continue;
            }
            _ => {
                return Err(fail(format!(
                    "Invalid term supplied. A string, dict or list is required, not '{}').",
                    super::repr::py_type_name(term)
                )))
            }
        };
        let files = split_on(&files, &[',', ';']);
        let paths = split_on(&options.paths, &[',', ':', ';']);
        if paths.is_empty() {
            search.extend(files);
        } else {
            for path in &paths {
                for file in &files {
                    search.push(join(path, file));
                }
            }
        }
    }
    Ok(())
}

/// Each item split on any of `on` (Ansible's deprecated automatic splitting).
fn split_on(items: &[String], on: &[char]) -> Vec<String> {
    items
        .iter()
        .flat_map(|i| i.split(on).map(String::from))
        .collect()
}

/// `os.path.join`: an absolute second part replaces the first.
fn join(dir: &str, name: &str) -> String {
    std::path::Path::new(dir)
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// Where `needle` is, as Ansible's `path_dwim_relative_stack` searches: an absolute (or `~`)
/// path as it is; else, in each directory of `ansible_search_path` (in a role, for one inside
/// a `tasks/` directory, first the role's `subdir` and that `tasks/`), `dir/subdir/needle` then
/// `dir/needle`, and the same in the playbook's directory last. Without a `subdir` (a
/// `lookup()` call) only the directories themselves.
fn find(state: &State, subdir: Option<&str>, needle: &str) -> Option<String> {
    use std::path::{Path, PathBuf};
    if needle.starts_with('~') || needle.starts_with('/') {
        let path = normalize(Path::new(&super::filters::paths::expanduser(needle)));
        return path.exists().then(|| path.to_string_lossy().into_owned());
    }
    let var = |n: &str| state.lookup(n).and_then(|v| v.as_str().map(PathBuf::from));
    let is_role = var("role_path").is_some();
    let search_path: Vec<PathBuf> = state
        .lookup("ansible_search_path")
        .and_then(|v| v.try_iter().ok())
        .map(|items| {
            items
                .filter_map(|i| i.as_str().map(PathBuf::from))
                .collect()
        })
        .unwrap_or_default();
    let in_dir = |candidates: &mut Vec<PathBuf>, dir: &Path| {
        if let Some(sub) = subdir {
            candidates.push(dir.join(sub).join(needle));
        }
        candidates.push(dir.join(needle));
    };
    let mut candidates: Vec<PathBuf> = Vec::new();
    for dir in &search_path {
        let dir = normalize(dir);
        if let Some(tasks) = dir.parent().filter(|p| is_role && p.ends_with("tasks")) {
            if let (Some(role), Some(sub)) = (tasks.parent(), subdir) {
                candidates.push(role.join(sub).join(needle));
            }
            candidates.push(tasks.join(needle));
        }
        in_dir(&mut candidates, &dir);
    }
    if let Some(base) = var("playbook_dir") {
        in_dir(&mut candidates, &normalize(&base));
    }
    candidates
        .into_iter()
        .find(|c| c.exists())
        .map(|c| normalize(&c).to_string_lossy().into_owned())
}

/// An absolute path with `.` and `..` taken out, symbolic links kept (Ansible's
/// `unfrackpath(follow=False)`).
fn normalize(path: &std::path::Path) -> std::path::PathBuf {
    super::filters::paths::abspath(&path.to_string_lossy()).into()
}
