//! Modules that manage files and their content: copy, template, file, lineinfile, blockinfile,
//! replace, stat, fetch, slurp, get_url.
//!
//! Each builds POSIX `sh` scripts (coreutils only) from shared pieces in [`remote_file`], and
//! keeps round trips to the host to one or two per task.

use super::Module;

pub mod args;
pub mod assemble;
pub mod blockinfile;
pub mod copy;
pub mod fetch;
pub mod file;
pub mod get_url;
mod line_placement;
pub mod lineinfile;
pub mod put;
pub mod remote_file;
pub mod replace;
pub mod slurp;
pub mod stat;
pub mod template;
#[cfg(test)]
mod testkit;
pub mod text_edit;
pub mod tree;

/// The file modules, for the registry in `modules::all`.
pub fn modules() -> Vec<&'static dyn Module> {
    vec![
        &assemble::Assemble,
        &copy::Copy,
        &file::File,
        &lineinfile::LineInFile,
        &blockinfile::BlockInFile,
        &replace::Replace,
        &stat::Stat,
        &fetch::Fetch,
        &slurp::Slurp,
        &get_url::GetUrl,
        &template::Template,
    ]
}
