//! One play: its host pattern, settings, roles and task sections.

use std::path::PathBuf;

use inventory::{Marked, MarkedValue};

use super::error::PlaybookError;
use super::fields;
use super::keywords::{self, Scope};
use super::model::{
    BatchSize, Flag, HostOrder, Keywords, Play, Strategy, Templatable, VarsFile, VarsPrompt,
};
use super::parse::Parser;
use super::source::{pairs, Source};

/// Play keys other than the shared keywords.
const PLAY_KEYS: &[&str] = &[
    "name",
    "hosts",
    "gather_facts",
    "vars_files",
    "serial",
    "strategy",
    "max_fail_percentage",
    "force_handlers",
    "roles",
    "pre_tasks",
    "tasks",
    "post_tasks",
    "handlers",
    "gather_subset",
    "gather_timeout",
    "fact_path",
    "vars_prompt",
    "order",
];

/// Prefixes an error's message with what it belongs to (`play 'deploy'`).
pub(super) fn in_context(error: PlaybookError, label: &str) -> PlaybookError {
    match error {
        PlaybookError::Invalid { position, message } => PlaybookError::Invalid {
            position,
            message: format!("{label}: {message}"),
        },
        other => other,
    }
}

impl Parser<'_> {
    /// Parses a play; errors in its own keys drop the play, errors in its tasks are collected.
    pub(super) fn play(&mut self, src: &Source, node: &Marked) -> Option<Play> {
        let label = match node.get("name").and_then(fields::scalar_text) {
            Some(name) => format!("play '{name}'"),
            None => "play".to_string(),
        };
        let result = self.play_fields(src, node);
        self.report(result.map_err(|e| in_context(e, &label)))
    }

    /// The play's keys: its keywords and settings, then its roles and task sections (parsed
    /// with the play's `collections:` in effect).
    fn play_fields(&mut self, src: &Source, node: &Marked) -> Result<Play, PlaybookError> {
        let keywords = self.play_keywords(src, node)?;
        let mut play = play_settings(src, node, keywords, self.base_dir.clone())?;
        // the play's tasks may name modules of its collections by their short names
        self.collections = play.keywords.collections.clone();
        if let Some(roles) = node.get("roles") {
            play.roles = self.play_roles(src, roles)?;
        }
        self.play_sections(src, node, &mut play)?;
        self.collections.clear();
        Ok(play)
    }

    /// The play's keywords; any key that is neither a keyword nor a play key is refused.
    fn play_keywords(&mut self, src: &Source, node: &Marked) -> Result<Keywords, PlaybookError> {
        let mut keywords = Keywords::default();
        for (key, value) in pairs(node).unwrap_or_default() {
            if keywords::is_keyword(key, Scope::Play) {
                self.keyword(src, &mut keywords, key, value, "a play")?;
            } else if !PLAY_KEYS.contains(&key.as_str()) {
                return Err(src.key_err(
                    node,
                    key,
                    value,
                    format!("'{key}' is not a valid attribute for a Play"),
                ));
            }
        }
        Ok(keywords)
    }

    /// `pre_tasks`, `tasks`, `post_tasks` and `handlers`.
    fn play_sections(
        &mut self,
        src: &Source,
        node: &Marked,
        play: &mut Play,
    ) -> Result<(), PlaybookError> {
        for (field, handlers) in [
            ("pre_tasks", false),
            ("tasks", false),
            ("post_tasks", false),
            ("handlers", true),
        ] {
            let Some(value) = node.get(field) else {
                continue;
            };
            let items = match &value.value {
                MarkedValue::Null => Vec::new(),
                MarkedValue::Seq(_) => self.task_list(src, value, field, handlers),
                _ => {
                    return Err(src.err(
                        value,
                        format!("'{field}' must be a list of tasks, got {}", value.kind()),
                    ))
                }
            };
            match field {
                "pre_tasks" => play.pre_tasks = items,
                "tasks" => play.tasks = items,
                "post_tasks" => play.post_tasks = items,
                _ => play.handlers = items,
            }
        }
        Ok(())
    }
}

/// A play with its settings (`hosts`, `name`, `gather_facts`, `serial`, `strategy`...) and
/// `keywords`, its roles and sections still empty.
fn play_settings(
    src: &Source,
    node: &Marked,
    keywords: Keywords,
    base_dir: PathBuf,
) -> Result<Play, PlaybookError> {
    let hosts = match node.get("hosts") {
        None => return Err(src.err(node, "the field 'hosts' is required but was not set")),
        Some(value) => hosts(src, value)?,
    };
    let name = node
        .get("name")
        .map(|v| fields::string(src, v, "name"))
        .transpose()?
        .flatten();
    let gather_facts = match node.get("gather_facts") {
        Some(value) => fields::flag(src, value, "gather_facts")?,
        None => None,
    };
    Ok(Play {
        name,
        hosts,
        gather_facts: gather_facts.unwrap_or(Flag::Literal(true)),
        vars_files: optional(node, "vars_files", |v| vars_files(src, v))?.unwrap_or_default(),
        serial: optional(node, "serial", |v| serial(src, v))?.unwrap_or_default(),
        strategy: optional(node, "strategy", |v| strategy(src, v))?.unwrap_or_default(),
        strategy_template: optional(node, "strategy", |v| {
            Ok(fields::scalar_text(v).filter(|t| fields::is_template(t)))
        })?
        .flatten(),
        max_fail_percentage: optional(node, "max_fail_percentage", |v| {
            fields::number(src, v, "max_fail_percentage", true)
        })?
        .flatten(),
        force_handlers: optional(node, "force_handlers", |v| {
            fields::flag(src, v, "force_handlers")
        })?
        .flatten(),
        vars_prompt: optional(node, "vars_prompt", |v| vars_prompt(src, v))?.unwrap_or_default(),
        order: optional(node, "order", |v| host_order(src, v))?
            .unwrap_or(Templatable::Literal(HostOrder::Inventory)),
        fact_args: ["gather_subset", "gather_timeout", "fact_path"]
            .iter()
            .filter_map(|k| node.get(k).map(|v| (k.to_string(), v.to_json())))
            .collect(),
        roles: Vec::new(),
        pre_tasks: Vec::new(),
        tasks: Vec::new(),
        post_tasks: Vec::new(),
        handlers: Vec::new(),
        keywords,
        base_dir,
        position: src.pos(node),
    })
}

/// Runs `read` on the value of `key` if present.
fn optional<T>(
    node: &Marked,
    key: &str,
    read: impl FnOnce(&Marked) -> Result<T, PlaybookError>,
) -> Result<Option<T>, PlaybookError> {
    node.get(key).map(read).transpose()
}

/// `hosts:`: a pattern string or a list of patterns (joined with `,`).
fn hosts(src: &Source, node: &Marked) -> Result<String, PlaybookError> {
    let hosts = match &node.value {
        MarkedValue::Null => {
            return Err(src.err(node, "the field 'hosts' is required but was not set"))
        }
        MarkedValue::Seq(items) => {
            let names = fields::names(src, node, "hosts")?;
            if items.is_empty() {
                String::new()
            } else {
                names.join(",")
            }
        }
        MarkedValue::Map(_) => {
            return Err(src.err(
                node,
                "'hosts' must be a host pattern or a list of patterns, got a mapping",
            ))
        }
        _ => fields::scalar_text(node).unwrap_or_default(),
    };
    if hosts.trim().is_empty() {
        return Err(src.err(node, "'hosts' list cannot be empty"));
    }
    Ok(hosts)
}

/// `vars_files:`: a path, or a list of paths and of first-found lists.
fn vars_files(src: &Source, node: &Marked) -> Result<Vec<VarsFile>, PlaybookError> {
    let entries: Vec<&Marked> = match &node.value {
        MarkedValue::Null => return Ok(Vec::new()),
        MarkedValue::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    let path = |item: &Marked| {
        fields::scalar_text(item)
            .filter(|_| matches!(item.value, MarkedValue::Str(_)))
            .ok_or_else(|| {
                src.err(
                    item,
                    format!(
                        "'vars_files' entries must be file names, got {}",
                        item.kind()
                    ),
                )
            })
    };
    entries
        .into_iter()
        .map(|entry| match &entry.value {
            MarkedValue::Seq(candidates) => candidates
                .iter()
                .map(path)
                .collect::<Result<Vec<_>, _>>()
                .map(VarsFile::FirstFound),
            _ => path(entry).map(VarsFile::Path),
        })
        .collect()
}

/// `serial:`: a count, a percentage, a template, or a list of them.
fn serial(src: &Source, node: &Marked) -> Result<Vec<BatchSize>, PlaybookError> {
    let one = |item: &Marked| -> Result<BatchSize, PlaybookError> {
        let bad = || {
            src.err(
                item,
                format!(
                    "'serial' must be a number of hosts or a percentage, got {}",
                    fields::describe(item)
                ),
            )
        };
        match &item.value {
            MarkedValue::Int(n) => u64::try_from(*n).map(BatchSize::Count).map_err(|_| bad()),
            MarkedValue::Str(s) if fields::is_template(s) => Ok(BatchSize::Template(s.clone())),
            MarkedValue::Str(s) => {
                let text = s.trim();
                if let Some(percent) = text.strip_suffix('%') {
                    match percent.trim().parse::<f64>() {
                        Ok(p) if p.is_finite() && p >= 0.0 => Ok(BatchSize::Percent(p)),
                        _ => Err(bad()),
                    }
                } else {
                    text.parse::<u64>().map(BatchSize::Count).map_err(|_| bad())
                }
            }
            _ => Err(bad()),
        }
    };
    match &node.value {
        MarkedValue::Null => Ok(Vec::new()),
        MarkedValue::Seq(items) => items.iter().map(one).collect(),
        _ => Ok(vec![one(node)?]),
    }
}

/// `strategy:`: `linear`, or `free` (also `host_pinned`, which differs from `free` only in
/// which of Ansible's worker processes runs a host: the same results, in the same order).
fn strategy(src: &Source, node: &Marked) -> Result<Strategy, PlaybookError> {
    match fields::scalar_text(node).as_deref() {
        // a template is resolved when the play runs (Play::strategy_template)
        Some(t) if fields::is_template(t) => Ok(Strategy::Linear),
        Some("linear") => Ok(Strategy::Linear),
        Some("free") | Some("host_pinned") => Ok(Strategy::Free),
        _ => Err(src.err(
            node,
            format!(
                "strategy {} is not supported (fleet supports linear, free and host_pinned)",
                fields::describe(node)
            ),
        )),
    }
}

/// `vars_prompt:`: a list of `{name, prompt, default, private, confirm, encrypt}` mappings.
fn vars_prompt(src: &Source, node: &Marked) -> Result<Vec<VarsPrompt>, PlaybookError> {
    let MarkedValue::Seq(items) = &node.value else {
        return Err(src.err(node, "vars_prompt must be a list of mappings"));
    };
    items
        .iter()
        .map(|item| {
            if !matches!(item.value, MarkedValue::Map(_)) {
                return Err(src.err(item, "each vars_prompt entry must be a mapping"));
            }
            let text = |key: &str| -> Result<Option<String>, PlaybookError> {
                match item.get(key) {
                    None => Ok(None),
                    Some(v) => Ok(fields::scalar_text(v)),
                }
            };
            let flag = |key: &str, default: bool| -> Result<bool, PlaybookError> {
                match item
                    .get(key)
                    .map(|v| fields::flag(src, v, key))
                    .transpose()?
                    .flatten()
                {
                    Some(Flag::Literal(b)) => Ok(b),
                    Some(Flag::Template(_)) => Err(src.err(
                        item,
                        format!("vars_prompt's '{key}' must be a boolean, not a template"),
                    )),
                    None => Ok(default),
                }
            };
            let name = text("name")?.filter(|n| !n.is_empty()).ok_or_else(|| {
                src.err(
                    item,
                    "Invalid vars_prompt data structure, missing 'name' key",
                )
            })?;
            Ok(VarsPrompt {
                name,
                prompt: text("prompt")?,
                default: text("default")?,
                private: flag("private", true)?,
                confirm: flag("confirm", false)?,
                encrypt: text("encrypt")?,
            })
        })
        .collect()
}

/// `order:`, one of Ansible's five words, or a template to evaluate when the play starts.
fn host_order(src: &Source, node: &Marked) -> Result<Templatable<HostOrder>, PlaybookError> {
    let word = fields::scalar_text(node).unwrap_or_default();
    if fields::is_template(&word) {
        return Ok(Templatable::Template(word));
    }
    HostOrder::from_word(&word)
        .map(Templatable::Literal)
        .ok_or_else(|| src.err(node, HostOrder::invalid(&word)))
}
