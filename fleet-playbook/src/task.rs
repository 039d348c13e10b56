//! Task lists: tasks, blocks, and the static imports expanded in place.

use inventory::{Marked, MarkedValue};

use super::action::{self, ActionKey};
use super::error::PlaybookError;
use super::fields;
use super::include::{check_include, role_name, INCLUDE_ACTIONS};
use super::keywords::{self, Scope};
use super::loop_spec::{loop_control, loop_spec};
use super::model::{Block, Keywords, Task, TaskItem};
use super::parse::Parser;
use super::play::in_context;
use super::source::{pairs, Source};

/// How an error names a task or block.
fn label(kind: &str, node: &Marked) -> String {
    match node.get("name").and_then(fields::scalar_text) {
        Some(name) => format!("{kind} '{name}'"),
        None => format!("unnamed {kind}"),
    }
}

/// The one action of a task: the module among its keys, or its `action:`/`local_action:`;
/// two of them, none, or a key that is neither a module nor a keyword is refused as Ansible
/// refuses it (the key named, with its position).
fn the_action<'a>(
    src: &Source,
    node: &Marked,
    old_action: Option<(&str, &'a Marked)>,
    modules: &[(&'a str, &'a Marked)],
    unknown: &[(&str, &Marked)],
    owner: &str,
) -> Result<ActionKey<'a>, PlaybookError> {
    let conflict = |first: &str, second: &str, value: &Marked| {
        src.key_err(
            node,
            second,
            value,
            format!("conflicting action statements: {first}, {second}"),
        )
    };
    let action_key = match (old_action, modules) {
        (Some((_, value)), []) => ActionKey::Old(value),
        (Some((_, old)), [(second, value), ..]) => {
            let first = fields::scalar_text(old)
                .and_then(|s| s.split_whitespace().next().map(str::to_string))
                .unwrap_or_else(|| "action".into());
            return Err(conflict(&first, second, value));
        }
        (None, [(name, value)]) => ActionKey::Module(name, value),
        (None, [(first, _), (second, value), ..]) => return Err(conflict(first, second, value)),
        (None, []) => {
            return Err(match unknown.first() {
                Some((key, value)) => {
                    src.key_err(node, key, value, format!("unknown module '{key}'"))
                }
                None => src.err(node, "no module/action detected in task"),
            });
        }
    };
    if let Some((key, value)) = unknown.first() {
        let what = owner.trim_start_matches("a ");
        return Err(src.key_err(
            node,
            key,
            value,
            format!("'{key}' is not a valid attribute for a {what}"),
        ));
    }
    Ok(action_key)
}

/// How messages name the owner of a task's keys.
fn owner(handlers: bool) -> &'static str {
    if handlers {
        "a Handler"
    } else {
        "a Task"
    }
}

/// The keys of a task mapping that are not task fields, gathered while its keys are read:
/// where its action may be, its `args:`, and which key is its loop.
#[derive(Default)]
struct ActionKeys<'a> {
    /// `action:` or `local_action:`.
    old_action: Option<(&'a str, &'a Marked)>,
    /// Keys that name a module.
    modules: Vec<(&'a str, &'a Marked)>,
    /// Keys that are neither a module nor a keyword.
    unknown: Vec<(&'a str, &'a Marked)>,
    /// `args:`.
    extra_args: Option<&'a Marked>,
    /// `loop:` or the `with_<lookup>:` key.
    loop_key: Option<&'a str>,
}

/// `register:`, a valid variable name.
fn register(src: &Source, value: &Marked, key: &str) -> Result<Option<String>, PlaybookError> {
    let name = fields::string(src, value, key)?;
    if let Some(name) = name.as_deref().filter(|n| !fields::is_identifier(n)) {
        return Err(src.err(
            value,
            format!("invalid variable name in 'register' specified: '{name}'"),
        ));
    }
    Ok(name)
}

impl Parser<'_> {
    /// The items of a task list node (a list; `field` names it in messages). Bad items are
    /// reported and skipped.
    pub(super) fn task_list(
        &mut self,
        src: &Source,
        node: &Marked,
        field: &str,
        handlers: bool,
    ) -> Vec<TaskItem> {
        let entries = match &node.value {
            MarkedValue::Null => return Vec::new(),
            MarkedValue::Seq(entries) => entries,
            _ => {
                self.errors.push(src.err(
                    node,
                    format!("'{field}' must be a list of tasks, got {}", node.kind()),
                ));
                return Vec::new();
            }
        };
        let mut items = Vec::new();
        for entry in entries {
            if let Some(expanded) = self.task_item(src, entry, handlers) {
                items.extend(expanded);
            }
        }
        items
    }

    /// One list entry: a block, a task, or the items of a static import.
    fn task_item(&mut self, src: &Source, node: &Marked, handlers: bool) -> Option<Vec<TaskItem>> {
        let Some(entry_pairs) = pairs(node) else {
            self.errors.push(src.err(
                node,
                format!("a task must be a mapping, got {}", node.kind()),
            ));
            return None;
        };
        if entry_pairs
            .iter()
            .any(|(k, _)| matches!(k.as_str(), "block" | "rescue" | "always"))
        {
            let block = self.block(src, node, handlers);
            let block = self.report(block.map_err(|e| in_context(e, &label("block", node))))?;
            return Some(vec![TaskItem::Block(Box::new(block))]);
        }
        let task = self.task(src, node, handlers);
        let task = self.report(task.map_err(|e| in_context(e, &label("task", node))))?;
        let at = node
            .get("import_tasks")
            .or(node.get("ansible.builtin.import_tasks"));
        match task.action.as_str() {
            "import_tasks" if !task.include_file().is_some_and(fields::is_template) => {
                let imported = self.import_tasks(src, node, at.unwrap_or(node), &task, handlers);
                let imported = imported.map_err(|e| in_context(e, &label("task", node)));
                self.report(imported)
            }
            "import_role" if !role_name(&task).is_some_and(fields::is_template) => {
                let role = self.import_role(src, node, &task);
                let role = self.report(role.map_err(|e| in_context(e, &label("task", node))))?;
                Some(vec![TaskItem::Role(Box::new(role))])
            }
            _ => Some(vec![TaskItem::Task(Box::new(task))]),
        }
    }

    /// `block:`/`rescue:`/`always:` with its keywords.
    fn block(
        &mut self,
        src: &Source,
        node: &Marked,
        handlers: bool,
    ) -> Result<Block, PlaybookError> {
        let mut block = Block {
            name: None,
            block: Vec::new(),
            rescue: Vec::new(),
            always: Vec::new(),
            notify: Vec::new(),
            keywords: Keywords::default(),
            position: src.pos(node),
        };
        for (key, value) in pairs(node).unwrap_or_default() {
            match key.as_str() {
                "name" => block.name = fields::string(src, value, key)?,
                "notify" => block.notify = fields::names(src, value, key)?,
                "block" | "rescue" | "always" => {
                    if !matches!(value.value, MarkedValue::Seq(_) | MarkedValue::Null) {
                        return Err(src.err(
                            value,
                            format!("'{key}' must be a list of tasks, got {}", value.kind()),
                        ));
                    }
                    let items = self.task_list(src, value, key, handlers);
                    match key.as_str() {
                        "block" => block.block = items,
                        "rescue" => block.rescue = items,
                        _ => block.always = items,
                    }
                }
                _ if keywords::is_keyword(key, Scope::Task) => {
                    self.keyword(src, &mut block.keywords, key, value, "a block")?;
                }
                _ => {
                    return Err(src.key_err(
                        node,
                        key,
                        value,
                        format!("'{key}' is not a valid attribute for a Block"),
                    ))
                }
            }
        }
        Ok(block)
    }

    /// One task mapping, its action found among its keys.
    fn task(&mut self, src: &Source, node: &Marked, handlers: bool) -> Result<Task, PlaybookError> {
        let mut task = Task::empty(src.pos(node));
        let mut keys = ActionKeys::default();
        for (key, value) in pairs(node).unwrap_or_default() {
            let key = key.as_str();
            self.task_key(src, node, (key, value), &mut task, &mut keys, handlers)?;
        }
        let owner = owner(handlers);
        let action_key = the_action(
            src,
            node,
            keys.old_action,
            &keys.modules,
            &keys.unknown,
            owner,
        )?;
        let written = match &action_key {
            action::ActionKey::Module(key, _) => Some(key.to_string()),
            action::ActionKey::Old(_) => None,
        };
        let custom = |name: &str| self.library_module(name);
        let (name, args) = action::action_and_args(src, action_key, keys.extra_args, &custom)?;
        task.written_action = written.filter(|w| *w != name);
        task.action = name;
        task.args = args;
        if INCLUDE_ACTIONS.contains(&task.action.as_str()) {
            check_include(src, node, &mut task, keys.loop_key)?;
        } else {
            self.module_valid(src, node, &task)?;
        }
        Ok(task)
    }

    /// One key of a task mapping: a keyword or task field goes into `task`; a loop, an action
    /// candidate or an unknown key into `keys`, for the action to be found once all are seen.
    fn task_key<'a>(
        &mut self,
        src: &Source,
        node: &Marked,
        (key, value): (&'a str, &'a Marked),
        task: &mut Task,
        keys: &mut ActionKeys<'a>,
        handlers: bool,
    ) -> Result<(), PlaybookError> {
        if key == "loop" || key.starts_with("with_") {
            if let Some(previous) = keys.loop_key {
                return Err(src.key_err(
                    node,
                    key,
                    value,
                    format!("duplicate loop in task: '{previous}' and '{key}'"),
                ));
            }
            keys.loop_key = Some(key);
            task.loop_ = Some(loop_spec(src, node, key, value)?);
            return Ok(());
        }
        match key {
            "name" => task.name = fields::string(src, value, key)?,
            "action" | "local_action" => {
                if let Some((previous, _)) = keys.old_action {
                    return Err(src.key_err(
                        node,
                        key,
                        value,
                        format!("'{previous}' and '{key}' are mutually exclusive"),
                    ));
                }
                keys.old_action = Some((key, value));
                if key == "local_action" {
                    task.keywords.delegate_to = Some("localhost".into());
                }
            }
            "args" => keys.extra_args = Some(value),
            "loop_control" => task.loop_control = Some(loop_control(src, value)?),
            "register" => task.register = register(src, value, key)?,
            "notify" => task.notify = fields::names(src, value, key)?,
            "listen" if handlers => task.listen = fields::names(src, value, key)?,
            "changed_when" => task.changed_when = fields::conditions(src, value, key)?,
            "failed_when" => task.failed_when = fields::conditions(src, value, key)?,
            "until" => task.until = fields::conditions(src, value, key)?,
            "retries" => task.retries = fields::integer(src, value, key)?,
            "delay" => task.delay = fields::number(src, value, key, false)?,
            _ if keywords::is_keyword(key, Scope::Task) => {
                self.keyword(src, &mut task.keywords, key, value, owner(handlers))?;
            }
            _ if action::is_known_action(key) || self.library_module(key) => {
                keys.modules.push((key, value))
            }
            // a short name of a module in the play's or the role's `collections:`
            _ if !self.collections.is_empty() && fields::is_identifier(key) => {
                keys.modules.push((key, value))
            }
            _ => keys.unknown.push((key, value)),
        }
        Ok(())
    }

    /// `import_tasks: file`: the file's items, each inheriting the import's keywords.
    fn import_tasks(
        &mut self,
        src: &Source,
        node: &Marked,
        at: &Marked,
        task: &Task,
        handlers: bool,
    ) -> Result<Vec<TaskItem>, PlaybookError> {
        let file = task.include_file().unwrap_or_default();
        let here = super::parse::base_dir_of(&src.path);
        let mut path = super::parse::resolve(&here, file);
        if !path.is_file() {
            let from_playbook = super::parse::resolve(&self.base_dir, file);
            if from_playbook.is_file() {
                path = from_playbook;
            } else {
                return Err(src.err(at, format!("could not find or access '{}'", path.display())));
            }
        }
        let position = src.pos(node);
        self.enter(&path, &position)?;
        let items = match Source::load(&path, Some(&position)) {
            Ok((imported, root)) => Ok(self.task_file(&imported, &root, handlers)),
            Err(error) => Err(error),
        };
        self.leave();
        let mut items = items?;
        for item in &mut items {
            item.keywords_mut().inherit(&task.keywords);
        }
        Ok(items)
    }
}
