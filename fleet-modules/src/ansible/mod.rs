//! Every module fleet does not implement natively, run through Ansible's own code.
//!
//! Why: real playbooks use collections (`community.general.*`, `ansible.posix.*`), custom
//! modules from a `library/` directory, and `ansible.builtin` modules fleet has no native
//! version of; rewriting each in Rust would never end and would drift from Ansible. When
//! ansible-core is importable on the controller, such a module is packaged by Ansible's own
//! packager (the AnsiballZ payload with the module_utils it imports, [`controller`]) and piped
//! to the target's Python over the host's existing connection, as ansible-playbook does with
//! pipelining ([`target`]); its JSON becomes the task's result. Native modules stay the fast
//! path; [`route`] decides, in Ansible's lookup order ([`library_module`]). An action plugin (a
//! role's or playbook's `action_plugins/`, or the one a module comes with) runs in Ansible's
//! own classes on the controller, its commands sent back over the host's connection
//! ([`actions`]).

use std::path::{Path, PathBuf};

pub mod actions;
pub mod controller;
pub mod target;

pub use controller::{Built, Controller, FallbackError};

/// How a task's module runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// fleet's own implementation (the fast path).
    Native(&'static str),
    /// A module file from a `library/` directory, packaged by Ansible.
    Library(PathBuf),
    /// Resolved by Ansible's plugin loader on the controller: a collection's module or an
    /// `ansible.builtin` one fleet lacks.
    Ansible(String),
    /// An action plugin file from an `action_plugins/` directory, run by Ansible's code on the
    /// controller ([`actions`]).
    Action(PathBuf),
}

impl Route {
    /// What `-v` prints for a task taking this route.
    pub fn describe(&self, action: &str) -> String {
        match self {
            Route::Native(name) => format!("module {action}: native (fleet's {name})"),
            Route::Library(path) => format!(
                "module {action}: through Ansible's module code ({})",
                path.display()
            ),
            Route::Ansible(name) => {
                format!("module {action}: through Ansible's module code ({name})")
            }
            Route::Action(path) => format!(
                "action {action}: Ansible's action plugin on the controller ({})",
                path.display()
            ),
        }
    }
}

/// A module file named `name` in one of `dirs`' `library/` subdirectories, in order: `name.py`,
/// then `name` itself, then `name` with any other extension (Ansible's module loader keys
/// modules by their name without extension: `helloworld.sh` is module `helloworld`), skipping
/// the extensions Ansible ignores. Only short names and `ansible.legacy.` names are looked up
/// there, as in Ansible.
pub fn library_module(dirs: &[PathBuf], name: &str) -> Option<PathBuf> {
    let short = name.strip_prefix("ansible.legacy.").unwrap_or(name);
    if short.is_empty() || short.contains(['.', '/']) {
        return None;
    }
    dirs.iter().find_map(|dir| {
        let lib = dir.join("library");
        [lib.join(format!("{short}.py")), lib.join(short)]
            .into_iter()
            .find(|p| p.is_file())
            .or_else(|| with_other_extension(&lib, short))
            // Ansible's packager needs an absolute path (a playbook run as `fleet run site.yml`
            // has a relative directory)
            .map(|p| std::path::absolute(&p).unwrap_or(p))
    })
}

/// Extensions Ansible's loader never takes for a module (`MODULE_IGNORE_EXTS`).
const IGNORED_EXTENSIONS: &[&str] = &[
    "pyc", "pyo", "swp", "bak", "rpm", "md", "txt", "rst", "yaml", "yml", "ini",
];

/// `lib/short.EXT` for an extension Ansible takes, the first in name order.
fn with_other_extension(lib: &Path, short: &str) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(lib)
        .ok()?
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_stem().is_some_and(|stem| stem == short)
                && path
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| !IGNORED_EXTENSIONS.contains(&e) && !e.ends_with('~'))
                && path.is_file()
        })
        .collect();
    found.sort();
    found.into_iter().next()
}

/// The `library/` directories a task can use, in Ansible's order: beside the playbook first,
/// then the roles' (innermost first). `roles` are role directories, innermost first.
pub fn library_dirs(playbook_dir: &Path, roles: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs = vec![playbook_dir.to_path_buf()];
    dirs.extend(roles.iter().cloned());
    dirs
}

/// An action plugin file `action_plugins/name.py` in one of `dirs`, in order; as for
/// [`library_module`], only short and `ansible.legacy.` names.
pub fn action_plugin(dirs: &[PathBuf], name: &str) -> Option<PathBuf> {
    let short = name.strip_prefix("ansible.legacy.").unwrap_or(name);
    if short.is_empty() || short.contains(['.', '/']) {
        return None;
    }
    dirs.iter()
        .map(|dir| dir.join("action_plugins").join(format!("{short}.py")))
        .find(|p| p.is_file())
        .map(|p| std::path::absolute(&p).unwrap_or(p))
}

/// Where a task's action `name` comes from: an `action_plugins/` plugin (which runs instead of
/// any module of that name, as Ansible picks the action first), a `library/` module (which
/// shadows a native one of the same short name, as in Ansible), a native module, or Ansible's
/// loader (collections, then `ansible.builtin`). `dirs` as [`library_dirs`] gives them.
pub fn route(name: &str, dirs: &[PathBuf]) -> Route {
    if let Some(path) = action_plugin(dirs, name) {
        return Route::Action(path);
    }
    if let Some(path) = library_module(dirs, name) {
        return Route::Library(path);
    }
    match crate::find(name) {
        Some(module) => Route::Native(module.name()),
        None if crate::is_builtin(name) => {
            Route::Ansible(format!("ansible.builtin.{}", crate::short_name(name)))
        }
        None => Route::Ansible(name.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "#!/usr/bin/python\n").unwrap();
    }

    #[test]
    fn lookup_order_playbook_library_then_roles_then_native_then_ansible() {
        let tmp = tempfile::tempdir().unwrap();
        let play = tmp.path().join("play");
        let outer = tmp.path().join("roles/outer");
        let inner = tmp.path().join("roles/inner");
        touch(&inner.join("library/mine.py"));
        touch(&outer.join("library/mine.py"));
        touch(&outer.join("library/copy.py"));
        touch(&inner.join("library/bare"));
        touch(&inner.join("library/hello.sh"));
        touch(&inner.join("library/notes.txt"));
        touch(&outer.join("action_plugins/file.py"));
        let dirs = library_dirs(&play, &[inner.clone(), outer.clone()]);
        // the innermost role's library before an outer role's
        assert_eq!(
            route("mine", &dirs),
            Route::Library(inner.join("library/mine.py"))
        );
        assert_eq!(
            route("bare", &dirs),
            Route::Library(inner.join("library/bare"))
        );
        // any other extension Ansible takes names a module by its stem; .txt never does
        assert_eq!(
            route("hello", &dirs),
            Route::Library(inner.join("library/hello.sh"))
        );
        assert_eq!(route("notes", &dirs), Route::Ansible("notes".into()));
        // an action plugin comes before any module of its name, native ones included
        assert_eq!(
            route("file", &dirs),
            Route::Action(outer.join("action_plugins/file.py"))
        );
        std::fs::remove_file(outer.join("action_plugins/file.py")).unwrap();
        // a library module shadows a native one of the same short name, not the FQCN
        assert_eq!(
            route("copy", &dirs),
            Route::Library(outer.join("library/copy.py"))
        );
        assert_eq!(route("ansible.builtin.copy", &dirs), Route::Native("copy"));
        // the playbook's library comes first of all
        touch(&play.join("library/mine.py"));
        assert_eq!(
            route("ansible.legacy.mine", &dirs),
            Route::Library(play.join("library/mine.py"))
        );
        // no library module: native, then Ansible's loader (builtin names fully qualified)
        assert_eq!(route("file", &dirs), Route::Native("file"));
        assert_eq!(
            route("getent", &dirs),
            Route::Ansible("ansible.builtin.getent".into())
        );
        assert_eq!(
            route("community.general.ini_file", &dirs),
            Route::Ansible("community.general.ini_file".into())
        );
        assert_eq!(route("x.y.mine", &dirs), Route::Ansible("x.y.mine".into()));
        // a relative playbook directory still gives an absolute module path
        let cwd = std::env::current_dir().unwrap();
        let rel = play.strip_prefix("/").unwrap();
        let rel = std::iter::repeat_n("..", cwd.components().count() - 1)
            .collect::<PathBuf>()
            .join(rel);
        match route("mine", &[rel]) {
            Route::Library(p) => assert!(p.is_absolute() && p.is_file(), "{}", p.display()),
            other => panic!("{other:?}"),
        }
    }
}
