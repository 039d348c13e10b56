//! `--tags` and `--skip-tags`: which tasks a run selects by their `tags` (a task's own, and
//! those its blocks, roles, includes and play give it), with Ansible's special tags (`all`,
//! `always`, `never`, `tagged`, `untagged`) and templated tags rendered as Ansible evaluates
//! them.

use serde_json::Value;

use super::context::{PlayCtx, Run};

/// `tags` with templated ones (`tags: "{{ tag }}"`) rendered as Ansible evaluates them, with
/// the play's variables and the extra ones; a template giving a list adds each item.
pub(super) fn templated(run: &Run, pctx: &PlayCtx<'_>, tags: &[String]) -> Vec<String> {
    if !tags.iter().any(|t| t.contains("{{") || t.contains("{%")) {
        return tags.to_vec();
    }
    let mut vars = pctx.vars.vars.clone();
    vars.extend(pctx.vars.vars_files.clone());
    vars.extend(pctx.vars.extra.as_ref().clone());
    let vars = Value::Object(vars);
    let mut out = Vec::new();
    for tag in tags {
        match run
            .templar
            .template_value(&Value::String(tag.clone()), &vars)
        {
            Ok(value) => out.extend(super::task::texts(value)),
            Err(_) => out.push(tag.clone()),
        }
    }
    out
}

/// Whether `--tags`/`--skip-tags` select a task with `tags`.
pub(super) fn selected(run: &Run, tags: &[String]) -> bool {
    let opts = &run.options;
    if tags.iter().any(|t| opts.skip_tags.contains(t)) {
        return false;
    }
    if opts.tags.is_empty() || opts.tags.iter().any(|t| t == "all") {
        return !tags.iter().any(|t| t == "never");
    }
    tags.iter().any(|t| t == "always" || opts.tags.contains(t))
        || (opts.tags.iter().any(|t| t == "tagged") && !tags.is_empty())
        || (opts.tags.iter().any(|t| t == "untagged") && tags.is_empty())
}
