//! `fleet check PLAYBOOK`: parse everything, check module arguments, connect to nothing.

use std::fmt;
use std::path::{Path, PathBuf};

use super::error::PlaybookError;
use super::model::{Playbook, Role, TaskItem};
use super::parse::{parse_playbook, ParseOptions};

/// What `fleet check` found: every error, or counts of what would run.
#[derive(Debug)]
pub struct CheckReport {
    /// The playbook checked.
    pub path: PathBuf,
    /// Every error, in document order; empty when the playbook is fine.
    pub errors: Vec<PlaybookError>,
    /// Plays (imported ones included).
    pub plays: usize,
    /// Tasks, counting those inside blocks, roles (with dependencies) and handlers.
    pub tasks: usize,
    /// Roles loaded (play roles, dependencies and static `import_role`).
    pub roles: usize,
}

impl CheckReport {
    /// No error found.
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }
}

impl fmt::Display for CheckReport {
    /// One line per error, or a one-line summary.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.errors.is_empty() {
            return write!(
                f,
                "{}: ok ({} {}, {} {}, {} {})",
                self.path.display(),
                self.plays,
                plural(self.plays, "play"),
                self.tasks,
                plural(self.tasks, "task"),
                self.roles,
                plural(self.roles, "role"),
            );
        }
        for (i, error) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        word.to_string()
    } else {
        format!("{word}s")
    }
}

/// Parses `path` with its imports and roles and reports every error found.
pub fn check_playbook(path: &Path, options: &ParseOptions) -> CheckReport {
    let mut report = CheckReport {
        path: path.to_path_buf(),
        errors: Vec::new(),
        plays: 0,
        tasks: 0,
        roles: 0,
    };
    match parse_playbook(path, options) {
        Ok(playbook) => count(&playbook, &mut report),
        Err(errors) => report.errors = errors.0,
    }
    report
}

fn count(playbook: &Playbook, report: &mut CheckReport) {
    report.plays = playbook.plays.len();
    for play in &playbook.plays {
        for role in &play.roles {
            count_role(role, report);
        }
        let sections = [
            &play.pre_tasks,
            &play.tasks,
            &play.post_tasks,
            &play.handlers,
        ];
        for items in sections {
            count_items(items, report);
        }
    }
}

fn count_role(role: &Role, report: &mut CheckReport) {
    report.roles += 1;
    for dependency in &role.dependencies {
        count_role(dependency, report);
    }
    count_items(&role.tasks, report);
    count_items(&role.handlers, report);
}

fn count_items(items: &[TaskItem], report: &mut CheckReport) {
    for item in items {
        match item {
            TaskItem::Task(_) => report.tasks += 1,
            TaskItem::Block(block) => {
                count_items(&block.block, report);
                count_items(&block.rescue, report);
                count_items(&block.always, report);
            }
            TaskItem::Role(role) => count_role(role, report),
        }
    }
}
