//! Modules that manage files and their content: copy, template, file, lineinfile, blockinfile,
//! replace, stat, fetch, slurp, get_url.

use super::Module;

/// The file modules, for the registry in `modules::all`.
pub fn modules() -> Vec<&'static dyn Module> {
    vec![]
}
