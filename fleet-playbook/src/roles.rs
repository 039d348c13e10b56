//! Roles: found by name next to the playbook or on the roles path, loaded with their tasks,
//! handlers, defaults, vars and `meta/main.yml` dependencies.

use std::path::{Path, PathBuf};

use inventory::{Marked, MarkedValue};
use serde_json::{Map, Value};

use super::error::{PlaybookError, PlaybookErrors};
use super::fields;
use super::include::role_name;
use super::keywords::{self, Scope};
use super::model::{FromFiles, Keywords, Position, Role, Task, TaskItem};
use super::parse::{ParseOptions, Parser};
use super::source::Source;

/// What to load for a role: a `roles:` entry, an `import_role` task, or an `include_role`
/// whose arguments the executor has templated.
#[derive(Debug, Clone, Default)]
pub struct RoleRequest {
    /// Role name, or a path to the role directory.
    pub name: String,
    /// File of `tasks/` to load instead of `main`.
    pub tasks_from: Option<String>,
    /// File of `vars/` to load instead of `main`.
    pub vars_from: Option<String>,
    /// File of `defaults/` to load instead of `main`.
    pub defaults_from: Option<String>,
    /// File of `handlers/` to load instead of `main`.
    pub handlers_from: Option<String>,
    /// Role parameters.
    pub params: Map<String, Value>,
    /// Keywords the role's tasks inherit.
    pub keywords: Keywords,
    /// Overrides `meta/main.yml` `allow_duplicates`.
    pub allow_duplicates: Option<bool>,
}

impl RoleRequest {
    /// A request from the arguments of an `include_role`/`import_role` task.
    pub fn from_task(task: &Task) -> RoleRequest {
        let text = |key: &str| {
            task.args
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        RoleRequest {
            name: role_name(task).unwrap_or_default().to_string(),
            tasks_from: text("tasks_from"),
            vars_from: text("vars_from"),
            defaults_from: text("defaults_from"),
            handlers_from: text("handlers_from"),
            params: Map::new(),
            keywords: task.keywords.clone(),
            // Ansible's IncludeRole sets the role's allow_duplicates, true unless the task says
            allow_duplicates: Some(
                task.args
                    .get("allow_duplicates")
                    .and_then(fleet_templates::boolean::from_json)
                    .unwrap_or(true),
            ),
        }
    }
}

/// Loads a role at run time (`include_role`). `playbook_dir` is the play's base directory.
pub fn load_role(
    request: RoleRequest,
    position: Position,
    playbook_dir: &Path,
    options: &ParseOptions,
) -> Result<Role, PlaybookErrors> {
    let mut parser = Parser::new(options, playbook_dir.to_path_buf());
    let role = parser.load_role(request, &position, None);
    let role = parser.report(role);
    match role {
        Some(role) => parser.finish(role),
        None => Err(PlaybookErrors(parser.errors)),
    }
}

impl Parser<'_> {
    /// A play's `roles:` list; a role that cannot be loaded is reported and left out.
    pub(super) fn play_roles(
        &mut self,
        src: &Source,
        node: &Marked,
    ) -> Result<Vec<Role>, PlaybookError> {
        let entries = match &node.value {
            MarkedValue::Null => return Ok(Vec::new()),
            MarkedValue::Seq(entries) => entries,
            _ => {
                return Err(src.err(
                    node,
                    format!("'roles' must be a list of roles, got {}", node.kind()),
                ))
            }
        };
        let mut roles = Vec::new();
        for entry in entries {
            let role = self
                .role_entry(src, entry)
                .and_then(|(request, at)| self.load_role(request, &at, None));
            if let Some(mut role) = self.report(role) {
                role.position = src.pos(entry);
                roles.push(role);
            }
        }
        Ok(roles)
    }

    /// A static `import_role` task, loaded now.
    pub(super) fn import_role(
        &mut self,
        src: &Source,
        node: &Marked,
        task: &Task,
    ) -> Result<Role, PlaybookError> {
        let at = node
            .get(&task.action)
            .or_else(|| node.get(&format!("ansible.builtin.{}", task.action)))
            .map(|value| src.pos(value))
            .unwrap_or_else(|| src.pos(node));
        let mut role = self.load_role(RoleRequest::from_task(task), &at, None)?;
        role.position = src.pos(node);
        Ok(role)
    }

    /// A `roles:` or `dependencies:` entry: a name, or a mapping with `role:` (or `name:`),
    /// keywords and parameters. Also returns where the name is written.
    fn role_entry(
        &self,
        src: &Source,
        node: &Marked,
    ) -> Result<(RoleRequest, Position), PlaybookError> {
        let mut request = RoleRequest::default();
        let name_node = match &node.value {
            MarkedValue::Str(_) => node,
            MarkedValue::Map(entries) => {
                for (key, value) in entries {
                    if key == "role" || key == "name" {
                        continue;
                    }
                    if keywords::is_keyword(key, Scope::Task) {
                        self.keyword(src, &mut request.keywords, key, value, "a role")?;
                    } else {
                        request.params.insert(key.clone(), value.to_json());
                    }
                }
                match node.get("role").or_else(|| node.get("name")) {
                    Some(name) => name,
                    None => return Err(src.err(node, "role definitions must contain a role name")),
                }
            }
            _ => {
                return Err(src.err(
                    node,
                    format!("a role must be a name or a mapping, got {}", node.kind()),
                ))
            }
        };
        request.name = match &name_node.value {
            MarkedValue::Str(s) if fields::is_template(s) => {
                return Err(src.err(
                    name_node,
                    format!("templated role names are not supported ('{s}')"),
                ))
            }
            MarkedValue::Str(s) if !s.trim().is_empty() => s.trim().to_string(),
            _ => return Err(src.err(name_node, "role definitions must contain a role name")),
        };
        Ok((request, src.pos(name_node)))
    }

    /// Finds and loads a role. `near` is searched first (the directory holding the role that
    /// depends on this one).
    pub(super) fn load_role(
        &mut self,
        request: RoleRequest,
        at: &Position,
        near: Option<&Path>,
    ) -> Result<Role, PlaybookError> {
        let dir = self.find_role(&request.name, near, at)?;
        // A role may import itself for another task file (Ansible allows it); the same role
        // and task file again is the recursion.
        let entry = dir
            .join("tasks")
            .join(request.tasks_from.as_deref().unwrap_or("main"));
        self.enter(&entry, at)?;
        let role = self.load_role_dir(request, dir, at);
        self.leave();
        role
    }

    fn load_role_dir(
        &mut self,
        request: RoleRequest,
        dir: PathBuf,
        at: &Position,
    ) -> Result<Role, PlaybookError> {
        self.role_dirs.push(dir.clone());
        let meta = self.role_meta(&dir, at)?;
        let defaults = role_vars(&dir, "defaults", request.defaults_from.as_deref(), at)?;
        let vars = role_vars(&dir, "vars", request.vars_from.as_deref(), at)?;
        // The role's own `collections:` (meta/main.yml) name its tasks' short module names.
        // Ansible's roles do not inherit the play's list; fleet keeps it after the role's (a
        // playbook valid for Ansible never relies on it, so nothing resolves differently).
        let mut collections = meta.collections.clone();
        collections.extend(
            self.collections
                .iter()
                .filter(|c| !meta.collections.contains(c))
                .cloned(),
        );
        let outer = std::mem::replace(&mut self.collections, collections.clone());
        let tasks = self.role_tasks(&dir, "tasks", request.tasks_from.as_deref(), false, at);
        let handlers =
            self.role_tasks(&dir, "handlers", request.handlers_from.as_deref(), true, at);
        self.collections = outer;
        let (tasks, handlers) = (tasks?, handlers?);
        let mut keywords = request.keywords;
        if !meta.collections.is_empty() {
            keywords.collections = collections;
        }
        Ok(Role {
            name: request.name,
            dir,
            defaults,
            vars,
            params: request.params,
            tasks,
            handlers,
            dependencies: meta.dependencies,
            allow_duplicates: request.allow_duplicates.unwrap_or(meta.allow_duplicates),
            keywords,
            position: at.clone(),
            from_files: FromFiles {
                tasks: request.tasks_from,
                handlers: request.handlers_from,
                vars: request.vars_from,
                defaults: request.defaults_from,
            },
        })
    }

    /// The role directory; not found, an error at `at` naming the directories searched.
    fn find_role(
        &self,
        name: &str,
        near: Option<&Path>,
        at: &Position,
    ) -> Result<PathBuf, PlaybookError> {
        let mut search: Vec<PathBuf> = Vec::new();
        if name.contains('/') || Path::new(name).is_absolute() {
            search.push(self.base_dir.clone());
        } else {
            search.extend(near.map(Path::to_path_buf));
            search.push(self.base_dir.join("roles"));
            search.extend(self.options.roles_path.iter().cloned());
            search.push(self.base_dir.clone());
        }
        for dir in &search {
            let candidate = super::parse::resolve(dir, name);
            if candidate.is_dir() {
                return Ok(candidate);
            }
        }
        let shown: Vec<String> = search
            .iter()
            .map(|d| match d.as_os_str().is_empty() {
                true => ".".to_string(),
                false => d.display().to_string(),
            })
            .collect();
        Err(PlaybookError::invalid(
            at.clone(),
            format!("the role '{name}' was not found in {}", shown.join(":")),
        ))
    }

    /// `tasks/` or `handlers/`: `from` (must exist) or `main` (may be absent).
    fn role_tasks(
        &mut self,
        dir: &Path,
        sub: &str,
        from: Option<&str>,
        handlers: bool,
        at: &Position,
    ) -> Result<Vec<TaskItem>, PlaybookError> {
        let Some(path) = role_file(dir, sub, from, at)? else {
            return Ok(Vec::new());
        };
        let (src, root) = Source::load(&path, Some(at))?;
        Ok(self.task_file(&src, &root, handlers))
    }

    /// `meta/main.yml`: dependencies (loaded), `allow_duplicates` and `collections`.
    fn role_meta(&mut self, dir: &Path, at: &Position) -> Result<RoleMeta, PlaybookError> {
        let mut meta = RoleMeta::default();
        let Some(path) = role_file(dir, "meta", None, at)? else {
            return Ok(meta);
        };
        let (src, root) = Source::load(&path, Some(at))?;
        let entries = match &root.value {
            MarkedValue::Null => return Ok(meta),
            MarkedValue::Map(entries) => entries,
            _ => {
                return Err(src.err(
                    &root,
                    format!("role metadata must be a mapping, got {}", root.kind()),
                ))
            }
        };
        for (key, value) in entries {
            match key.as_str() {
                "allow_duplicates" => {
                    meta.allow_duplicates = matches!(
                        fields::flag(&src, value, key)?,
                        Some(super::model::Templatable::Literal(true))
                    );
                }
                "dependencies" => {
                    let items = match &value.value {
                        MarkedValue::Null => continue,
                        MarkedValue::Seq(items) => items,
                        _ => return Err(src.err(value, "'dependencies' must be a list of roles")),
                    };
                    let near = dir.parent().map(Path::to_path_buf);
                    for item in items {
                        let dependency = self.role_entry(&src, item).and_then(|(request, at)| {
                            self.load_role(request, &at, near.as_deref())
                        });
                        if let Some(mut dependency) = self.report(dependency) {
                            dependency.position = src.pos(item);
                            meta.dependencies.push(dependency);
                        }
                    }
                }
                "collections" => meta.collections = fields::names(&src, value, key)?,
                "galaxy_info" | "argument_specs" => {}
                _ => {
                    return Err(src.key_err(
                        &root,
                        key,
                        value,
                        format!("'{key}' is not a valid attribute for a RoleMetadata"),
                    ))
                }
            }
        }
        Ok(meta)
    }
}

/// What a role's `meta/main.yml` says that fleet uses.
#[derive(Default)]
struct RoleMeta {
    dependencies: Vec<Role>,
    allow_duplicates: bool,
    /// Where the role's tasks look up short module names.
    collections: Vec<String>,
}

/// `defaults/` or `vars/` of a role, raw.
fn role_vars(
    dir: &Path,
    sub: &str,
    from: Option<&str>,
    at: &Position,
) -> Result<Map<String, Value>, PlaybookError> {
    let Some(path) = role_file(dir, sub, from, at)? else {
        return Ok(Map::new());
    };
    let (src, root) = Source::load(&path, Some(at))?;
    match root.to_json() {
        Value::Null => Ok(Map::new()),
        Value::Object(map) => Ok(map),
        _ => Err(src.err(
            &root,
            format!(
                "{sub} file must be a mapping of variables, got {}",
                root.kind()
            ),
        )),
    }
}

/// `<dir>/<sub>/<name>` with Ansible's extensions tried (`main` when `from` is unset). A
/// missing `main` is fine (`None`); a missing `from` file is an error.
fn role_file(
    dir: &Path,
    sub: &str,
    from: Option<&str>,
    at: &Position,
) -> Result<Option<PathBuf>, PlaybookError> {
    let name = from.unwrap_or("main");
    let base = dir.join(sub).join(name);
    let extensions = match Path::new(name).extension() {
        Some(_) => ["", ".yml", ".yaml", ".json"],
        None => [".yml", ".yaml", ".json", ""],
    };
    let candidates = extensions.map(|ext| {
        let mut path = base.clone().into_os_string();
        path.push(ext);
        PathBuf::from(path)
    });
    if let Some(found) = candidates.into_iter().find(|p| p.is_file()) {
        return Ok(Some(found));
    }
    match from {
        None => Ok(None),
        Some(from) => Err(PlaybookError::invalid(
            at.clone(),
            format!(
                "could not find specified file in role: {sub}/{from} (in {})",
                dir.display()
            ),
        )),
    }
}
