//! Parser tests through the crate's public API: the shared sample playbooks, every syntax form,
//! every error with its position.
//!
//! Fixtures are written to a temporary directory; error messages are shown relative to it.

mod deferred;
mod errors;
mod forms;
mod imports;
mod samples;

use std::path::{Path, PathBuf};

use serde_json::Value;
use tempfile::TempDir;

use fleet_playbook::*;

/// A directory of fixture files.
pub(crate) struct Fixture {
    dir: TempDir,
}

impl Fixture {
    /// Writes `files` (relative path, content) into a fresh temporary directory.
    pub(crate) fn new(files: &[(&str, &str)]) -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, text).expect("write fixture");
        }
        Fixture { dir }
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Parses `name`, which must succeed.
    pub(crate) fn playbook(&self, name: &str) -> Playbook {
        self.playbook_with(name, &ParseOptions::default())
    }

    pub(crate) fn playbook_with(&self, name: &str, options: &ParseOptions) -> Playbook {
        match parse_playbook(&self.path(name), options) {
            Ok(playbook) => playbook,
            Err(errors) => panic!("{}", self.relative(&errors.to_string())),
        }
    }

    /// The error lines of parsing `name`, paths relative to the fixture directory.
    pub(crate) fn errors(&self, name: &str) -> Vec<String> {
        match parse_playbook(&self.path(name), &ParseOptions::default()) {
            Ok(_) => panic!("{name} parsed without error"),
            Err(errors) => errors
                .errors()
                .iter()
                .map(|e| self.relative(&e.to_string()))
                .collect(),
        }
    }

    /// The single error of parsing `name`.
    pub(crate) fn error(&self, name: &str) -> String {
        let errors = self.errors(name);
        assert_eq!(errors.len(), 1, "expected one error, got {errors:#?}");
        errors.into_iter().next().unwrap_or_default()
    }

    pub(crate) fn relative(&self, text: &str) -> String {
        let prefix = format!("{}/", self.dir.path().display());
        text.replace(&prefix, "")
    }
}

/// The tasks of the first play of a one-file playbook with these `tasks:` lines.
pub(crate) fn tasks_of(tasks_yaml: &str) -> Vec<TaskItem> {
    let text = format!("- hosts: all\n  tasks:\n{tasks_yaml}");
    let fixture = Fixture::new(&[("play.yml", &text)]);
    let mut playbook = fixture.playbook("play.yml");
    playbook.plays.remove(0).tasks
}

/// The one error of a one-file playbook with these `tasks:` lines (paths as `play.yml`).
pub(crate) fn task_error(tasks_yaml: &str) -> String {
    let text = format!("- hosts: all\n  tasks:\n{tasks_yaml}");
    Fixture::new(&[("play.yml", &text)]).error("play.yml")
}

/// The task inside a task item (panics for blocks and roles).
pub(crate) fn task(item: &TaskItem) -> &Task {
    match item {
        TaskItem::Task(task) => task,
        other => panic!("expected a task, got {other:?}"),
    }
}

pub(crate) fn block(item: &TaskItem) -> &Block {
    match item {
        TaskItem::Block(block) => block,
        other => panic!("expected a block, got {other:?}"),
    }
}

/// The args of a task as one JSON value, for compact assertions.
pub(crate) fn args(item: &TaskItem) -> Value {
    Value::Object(task(item).args.clone())
}

/// A copy of /work/shared/fleet-samples (the playbooks that must behave as under Ansible).
pub(crate) fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fleet-samples")
}
