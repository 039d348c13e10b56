//! Entry points and the parser state: playbook files, `import_playbook`, task files.
//!
//! Parsing goes on after an error in one play or task (the error is collected), so that one run
//! of `fleet check` reports every problem; any error makes the whole parse fail.

use std::path::{Path, PathBuf};

use inventory::{Marked, MarkedValue};

use super::error::{PlaybookError, PlaybookErrors};
use super::fields;
use super::model::{Keywords, Play, Playbook, Position, TaskItem};
use super::source::{pairs, Source};

/// Deepest chain of imports (playbooks, task files, role dependencies) accepted.
const MAX_IMPORT_DEPTH: usize = 64;

/// Settings that change where files are looked for.
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    /// Extra role directories (Ansible's `roles_path`), searched after `roles/` next to the
    /// playbook and before the playbook's own directory.
    pub roles_path: Vec<PathBuf>,
    /// Leave to run time what Ansible only finds at run time (module arguments, modules fleet
    /// lacks, `become_method`): `fleet run` sets it; `fleet check` and the default report them.
    pub defer_runtime_checks: bool,
    /// The run's extra variables (`-e`): what a templated `import_playbook` path is rendered
    /// with (with the import's own `vars`), as Ansible does when it loads the playbook.
    pub extra_vars: serde_json::Map<String, serde_json::Value>,
}

/// The names of `import_playbook` (Ansible takes the `ansible.legacy.` one too).
const IMPORT_PLAYBOOK: &[&str] = &[
    "import_playbook",
    "ansible.builtin.import_playbook",
    "ansible.legacy.import_playbook",
];

/// Parses a playbook file, with its imported playbooks, task files and roles.
pub fn parse_playbook(path: &Path, options: &ParseOptions) -> Result<Playbook, PlaybookErrors> {
    let mut parser = Parser::new(options, base_dir_of(path));
    let plays = parser.playbook_file(path, None);
    parser.finish(Playbook {
        path: path.to_path_buf(),
        plays,
    })
}

/// Parses playbook `text` as if read from `path` (imports and roles resolve next to `path`), for
/// playbooks that are not files: fuzzing, tests, generated playbooks.
pub fn parse_playbook_str(
    path: &Path,
    text: &str,
    options: &ParseOptions,
) -> Result<Playbook, PlaybookErrors> {
    let mut parser = Parser::new(options, base_dir_of(path));
    let plays = match Source::parse(path, text) {
        Ok((src, root)) => parser.playbook_source(&src, &root),
        Err(error) => {
            parser.errors.push(error);
            Vec::new()
        }
    };
    parser.finish(Playbook {
        path: path.to_path_buf(),
        plays,
    })
}

/// Parses a task file at run time (`include_tasks`). `playbook_dir` is the play's
/// [`Play::base_dir`] (for roles named by `import_role` inside); `role_dirs` the directories of
/// the roles loaded around the include, whose `library/` modules its tasks may name;
/// `handlers` allows `listen`.
pub fn parse_task_file(
    path: &Path,
    playbook_dir: &Path,
    role_dirs: &[PathBuf],
    handlers: bool,
    options: &ParseOptions,
) -> Result<Vec<TaskItem>, PlaybookErrors> {
    let mut parser = Parser::new(options, playbook_dir.to_path_buf());
    parser.role_dirs = role_dirs.to_vec();
    let items = match Source::load(path, None) {
        Ok((src, root)) => parser.task_file(&src, &root, handlers),
        Err(error) => {
            parser.errors.push(error);
            Vec::new()
        }
    };
    parser.finish(items)
}

/// The directory a file's relative references resolve from (empty for a bare file name, so
/// joined paths stay as short as the user wrote them).
pub(super) fn base_dir_of(path: &Path) -> PathBuf {
    path.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// State of one parse.
pub(super) struct Parser<'o> {
    pub(super) options: &'o ParseOptions,
    /// Directory of the playbook being parsed (changes inside `import_playbook`).
    pub(super) base_dir: PathBuf,
    /// Errors found so far.
    pub(super) errors: Vec<PlaybookError>,
    /// Files and roles being imported, outermost first, to refuse cycles.
    pub(super) import_stack: Vec<PathBuf>,
    /// Directories of the roles loaded so far: their `library/` modules are valid actions for
    /// every later task, as Ansible adds a loaded role's `library/` to its module path.
    pub(super) role_dirs: Vec<PathBuf>,
    /// The play's `collections:`: a task key naming no known module is a module of one of
    /// them (resolved by Ansible's loader when it runs).
    pub(super) collections: Vec<String>,
}

impl<'o> Parser<'o> {
    pub(super) fn new(options: &'o ParseOptions, base_dir: PathBuf) -> Self {
        Parser {
            options,
            base_dir,
            errors: Vec::new(),
            import_stack: Vec::new(),
            role_dirs: Vec::new(),
            collections: Vec::new(),
        }
    }

    /// The result, or every error found.
    pub(super) fn finish<T>(self, value: T) -> Result<T, PlaybookErrors> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(PlaybookErrors(self.errors))
        }
    }

    /// Records an error and goes on.
    pub(super) fn report<T>(&mut self, result: Result<T, PlaybookError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.errors.push(error);
                None
            }
        }
    }

    /// Enters an import of `path` (a file or role directory); refuses cycles and depth.
    pub(super) fn enter(&mut self, path: &Path, at: &Position) -> Result<(), PlaybookError> {
        let key = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if self.import_stack.contains(&key) {
            return Err(PlaybookError::invalid(
                at.clone(),
                format!("{} imports itself (recursive import)", path.display()),
            ));
        }
        if self.import_stack.len() >= MAX_IMPORT_DEPTH {
            return Err(PlaybookError::invalid(
                at.clone(),
                format!("imports nested deeper than {MAX_IMPORT_DEPTH} levels"),
            ));
        }
        self.import_stack.push(key);
        Ok(())
    }

    /// Leaves the innermost import.
    pub(super) fn leave(&mut self) {
        self.import_stack.pop();
    }

    /// The plays of a playbook file. `referrer` is the `import_playbook` that named it.
    fn playbook_file(&mut self, path: &Path, referrer: Option<&Position>) -> Vec<Play> {
        let Some((src, root)) = self.report(Source::load(path, referrer)) else {
            return Vec::new();
        };
        self.playbook_source(&src, &root)
    }

    /// The plays of a loaded playbook file.
    fn playbook_source(&mut self, src: &Source, root: &Marked) -> Vec<Play> {
        let entries = match &root.value {
            MarkedValue::Seq(entries) => entries,
            MarkedValue::Null => {
                self.errors
                    .push(src.err(root, "empty playbook, nothing to do"));
                return Vec::new();
            }
            _ => {
                self.errors.push(src.err(
                    root,
                    format!(
                        "a playbook must be a list of plays, got {} instead",
                        root.kind()
                    ),
                ));
                return Vec::new();
            }
        };
        let mut plays = Vec::new();
        for entry in entries {
            let Some(entry_pairs) = pairs(entry) else {
                self.errors.push(src.err(
                    entry,
                    format!(
                        "playbook entries must be either valid plays or 'import_playbook' \
                         statements, got {}",
                        entry.kind()
                    ),
                ));
                continue;
            };
            let import = entry_pairs
                .iter()
                .find(|(k, _)| IMPORT_PLAYBOOK.contains(&k.as_str()));
            if let Some((_, target)) = import {
                let imported = self.import_playbook(src, entry, target);
                if let Some(imported) = self.report(imported) {
                    plays.extend(imported);
                }
            } else if let Some(play) = self.play(src, entry) {
                plays.push(play);
            }
        }
        plays
    }

    /// `- import_playbook: other.yml` with optional `vars`, `tags`, `when`, `name`.
    fn import_playbook(
        &mut self,
        src: &Source,
        entry: &Marked,
        target: &Marked,
    ) -> Result<Vec<Play>, PlaybookError> {
        let mut keywords = Keywords::default();
        for (key, value) in pairs(entry).unwrap_or_default() {
            match key.as_str() {
                k if IMPORT_PLAYBOOK.contains(&k) => {}
                "name" => {}
                "vars" => keywords.vars = fields::vars(src, value, "import_playbook")?,
                "tags" => keywords.tags = fields::tags(src, value)?,
                "when" => keywords.when = fields::conditions(src, value, "when")?,
                _ => {
                    return Err(src.key_err(
                        entry,
                        key,
                        value,
                        format!("'{key}' is not a valid attribute for a PlaybookInclude"),
                    ))
                }
            }
        }
        let file = match &target.value {
            MarkedValue::Str(s) if fields::is_template(s) => self
                .import_path(s, &keywords)
                .map_err(|e| src.err(target, e))?,
            MarkedValue::Str(s) if !s.trim().is_empty() => s.trim().to_string(),
            _ => return Err(src.err(target, "import_playbook needs a playbook file name")),
        };
        let path = resolve(&self.base_dir, &file);
        let at = src.pos(target);
        if !path.is_file() {
            return Err(PlaybookError::invalid(
                at,
                format!("could not find or access the playbook '{}'", path.display()),
            ));
        }
        self.enter(&path, &at)?;
        let outer_base = std::mem::replace(&mut self.base_dir, base_dir_of(&path));
        let mut plays = self.playbook_file(&path, Some(&at));
        self.base_dir = outer_base;
        self.leave();
        for play in &mut plays {
            for (k, v) in &keywords.vars {
                play.keywords.vars.insert(k.clone(), v.clone());
            }
            for tag in &keywords.tags {
                if !play.keywords.tags.contains(tag) {
                    play.keywords.tags.push(tag.clone());
                }
            }
            if !keywords.when.is_empty() {
                let condition = Keywords {
                    when: keywords.when.clone(),
                    ..Keywords::default()
                };
                let items = play
                    .pre_tasks
                    .iter_mut()
                    .chain(play.tasks.iter_mut())
                    .chain(play.post_tasks.iter_mut());
                for item in items {
                    item.keywords_mut().inherit(&condition);
                }
                for role in &mut play.roles {
                    role.keywords.inherit(&condition);
                }
            }
        }
        Ok(plays)
    }

    /// A templated `import_playbook` path, rendered when the playbook loads with what Ansible
    /// has then: the extra variables and the import's own `vars`.
    fn import_path(&self, text: &str, keywords: &Keywords) -> Result<String, String> {
        let mut vars = self.options.extra_vars.clone();
        for (k, v) in &keywords.vars {
            vars.entry(k.clone()).or_insert_with(|| v.clone());
        }
        let vars = serde_json::Value::Object(vars);
        let templar = fleet_templates::Templar::new();
        match templar.render_str(text, &vars) {
            Ok(path) if !path.trim().is_empty() => Ok(path.trim().to_string()),
            Ok(_) => Err(format!(
                "import_playbook: '{text}' renders to an empty path"
            )),
            Err(e) => Err(format!(
                "import_playbook: cannot template '{text}': {}",
                e.0
            )),
        }
    }

    /// The items of a task file (a list of tasks; empty file: none).
    pub(super) fn task_file(
        &mut self,
        src: &Source,
        root: &Marked,
        handlers: bool,
    ) -> Vec<TaskItem> {
        match &root.value {
            MarkedValue::Null => Vec::new(),
            MarkedValue::Seq(_) => self.task_list(src, root, "tasks", handlers),
            _ => {
                self.errors.push(src.err(
                    root,
                    format!("a task file must be a list of tasks, got {}", root.kind()),
                ));
                Vec::new()
            }
        }
    }
}

/// `file` relative to `dir` unless absolute.
pub(super) fn resolve(dir: &Path, file: &str) -> PathBuf {
    let path = Path::new(file);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        dir.join(path)
    }
}
