//! One task on one host: the variables it sees, `ignore_*`/`no_log`/`delegate_to` settled once,
//! then each execution ([`super::attempt`], once or per loop item) and what they add up to
//! ([`super::result`]).

use fleet_templates::Vars;

use super::attempt::run_single;
use super::context::{PlayCtx, Run, Scope};
use super::error::ExecError;
use super::host::HostState;
use super::loops::loop_items;
pub use super::result::Outcome;
use super::result::{error_result, finish, skipped_by, Ending, Ignore, Single};
use super::vars::{search_path, task_vars};
use fleet_playbook::{Keywords, Task, Templatable};
use fleet_templates::TemplateError;

/// A keyword number (`timeout`, `async`, `poll`, `throttle`, `retries`), templated when it is
/// a template; `None` when it is unset or its template gives no integer.
pub(super) fn integer(run: &Run, value: Option<&Templatable<i64>>, vars: &Vars) -> Option<i64> {
    match value? {
        Templatable::Literal(n) => Some(*n),
        Templatable::Template(t) => templated_number(run, t, vars, serde_json::Number::as_i64),
    }
}

/// A keyword number that may have a fraction (`delay`), as [`integer`].
pub(super) fn number(run: &Run, value: Option<&Templatable<f64>>, vars: &Vars) -> Option<f64> {
    match value? {
        Templatable::Literal(n) => Some(*n),
        Templatable::Template(t) => templated_number(run, t, vars, serde_json::Number::as_f64),
    }
}

/// A keyword's template evaluated to a number, or to text holding one.
fn templated_number<T: std::str::FromStr>(
    run: &Run,
    template: &str,
    vars: &Vars,
    from_json: fn(&serde_json::Number) -> Option<T>,
) -> Option<T> {
    match run
        .templar
        .template_value(&serde_json::Value::String(template.to_string()), vars)
        .ok()?
    {
        serde_json::Value::Number(n) => from_json(&n),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A keyword templated to text or a list of texts (`hosts:`, `tags:`), as the texts.
pub(super) fn texts(value: serde_json::Value) -> Vec<String> {
    let text = |v: serde_json::Value| match v {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    };
    match value {
        serde_json::Value::Array(items) => items.into_iter().map(text).collect(),
        other => vec![text(other)],
    }
}

/// A keyword flag, templated when it is a template.
pub fn flag(
    run: &Run,
    value: &Option<Templatable<bool>>,
    vars: &Vars,
    default: bool,
) -> Result<bool, TemplateError> {
    match value {
        None => Ok(default),
        Some(Templatable::Literal(b)) => Ok(*b),
        Some(Templatable::Template(t)) => run.templar.eval_bool(t, vars),
    }
}

/// Evaluates a list of conditions (all must hold), Ansible-style: the first that does not hold.
pub(super) fn conditions(
    run: &Run,
    conds: &[String],
    vars: &Vars,
) -> Result<Option<String>, TemplateError> {
    for c in conds {
        if !run.templar.eval_bool(c, vars)? {
            return Ok(Some(c.clone()));
        }
    }
    Ok(None)
}

/// What every step of one task on one host reads; the host's state and the variables travel
/// beside it, since steps change them (a loop item adds its own, a try registers its result).
#[derive(Clone, Copy)]
pub(super) struct TaskRun<'a> {
    pub run: &'a Run,
    pub pctx: &'a PlayCtx<'a>,
    pub scope: &'a Scope<'a>,
    pub task: &'a Task,
    pub kw: &'a Keywords,
    /// The host a `delegate_to` names, templated.
    pub delegated: Option<&'a str>,
    /// The job id of an `async` task with `poll: 0` (`task_async`): `command` and `shell` then
    /// start in the background.
    pub job: Option<(&'a str, u64)>,
}

/// Runs `task` on `host`, reports its result lines and updates the host's state and stats.
pub async fn run_on_host(
    run: &Run,
    pctx: &PlayCtx<'_>,
    scope: &Scope<'_>,
    task: &Task,
    host: &mut HostState,
) -> Outcome {
    let mut kw = task.keywords.clone();
    kw.inherit(&scope.keywords);
    let base = host_task_vars(run, pctx, scope, task, &kw, host);
    let ending = Ending {
        looped: task.loop_.is_some(),
        ignore: Ignore {
            errors: flag(run, &kw.ignore_errors, &base, false).unwrap_or(false),
            unreachable: flag(run, &kw.ignore_unreachable, &base, false).unwrap_or(false),
        },
        no_log: flag(run, &kw.no_log, &base, false).unwrap_or(false),
        // (a loop's items each template it again: `delegate_to: "{{ item }}"`)
        delegated: kw
            .delegate_to
            .as_ref()
            .and_then(|d| match run.templar.render_str(d, &base) {
                Ok(to) => Some(to),
                Err(_) if task.loop_.is_some() => None,
                Err(_) => Some(d.clone()),
            }),
    };
    let t = TaskRun {
        run,
        pctx,
        scope,
        task,
        kw: &kw,
        delegated: ending.delegated.as_deref(),
        job: None,
    };
    let results = match &task.loop_ {
        None => {
            let single = run_single(t, host, &base).await;
            vec![(single, None)]
        }
        Some(lp) => match loop_items(run, lp, &task.action, &base) {
            Ok(items) => super::loops::run_loop(t, host, base, items).await,
            Err(e) => {
                let single = unresolved_loop(run, task, &kw, &base, e);
                let ending = Ending {
                    looped: false,
                    ..ending
                };
                return finish(run, task, host, vec![(single, None)], ending, scope);
            }
        },
    };
    finish(run, task, host, results, ending, scope)
}

/// The variables `task` sees on `host`: precedence layers, the scope's include and keyword
/// variables, `hostvars` when the task reads them, the search path and the delegate's variables.
fn host_task_vars(
    run: &Run,
    pctx: &PlayCtx<'_>,
    scope: &Scope<'_>,
    task: &Task,
    kw: &Keywords,
    host: &HostState,
) -> Vars {
    let mut scoped = scope.include_vars.clone();
    for (k, v) in &kw.vars {
        scoped.insert(k.clone(), v.clone());
    }
    let mut base = task_vars(&pctx.vars, host, &scope.role_vars(), &scoped);
    if let Some(shared) = &scope.magic {
        base.set_shared(shared.clone());
    }
    super::role_names::insert_parent_roles(&scope.parent_roles, &mut base);
    base.insert(
        "ansible_search_path".into(),
        search_path(&base, task, &pctx.play.base_dir),
    );
    if let Some(d) = &kw.delegate_to {
        let templated = run.templar.render_str(d, &base);
        let to = templated.unwrap_or_else(|_| d.clone());
        base.insert(
            "ansible_delegated_vars".into(),
            super::vars::delegated_vars(pctx, &to),
        );
    }
    base
}

/// The result of a task whose loop cannot be resolved. Ansible evaluates `when` first when the
/// loop does not template: a false condition skips the task, the loop error shows otherwise.
fn unresolved_loop(run: &Run, task: &Task, kw: &Keywords, vars: &Vars, e: ExecError) -> Single {
    match conditions(run, &kw.when, vars) {
        Ok(Some(cond)) => skipped_by(cond),
        _ => error_result(format!(
            "Error while resolving the loop of task '{}': {e}",
            task.display_name()
        )),
    }
}
