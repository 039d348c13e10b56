//! One task on one host: conditions, loops, templated arguments, the module or executor action,
//! `until` retries, `changed_when`/`failed_when`, `register`, `notify`, and the recap counts.

use fleet_templates::Vars;
use std::time::Duration;

use serde_json::{json, Map, Value};

use super::actions;
use super::context::{PlayCtx, Run, Scope};
use super::error::ExecError;
use super::escalation::{become_user, environment};
use super::host::HostState;
use super::loops::loop_items;
pub use super::result::Outcome;
use super::result::{
    error_result, finish, from_module, never_templated, unreachable, Ignore, Single,
};
use super::task_label;
use super::task_timeout::{task_timeout, timed_out};
use super::vars::{search_path, task_vars};
use crate::output::{Event, HostResult, Status};
use fleet_modules::ansible::Route;
use fleet_modules::remote::{LocalRemoteIn, RemoteError};
use fleet_modules::{self as modules, ModuleCtx, ModuleResult};
use fleet_playbook::{Keywords, Task, Templatable};
use fleet_templates::TemplateError;

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

/// Evaluates a list of conditions (all must hold), Ansible-style.
fn conditions(run: &Run, conds: &[String], vars: &Vars) -> Result<Option<String>, TemplateError> {
    for c in conds {
        if !run.templar.eval_bool(c, vars)? {
            return Ok(Some(c.clone()));
        }
    }
    Ok(None)
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
    let mut scoped = scope.include_vars.clone();
    for (k, v) in &kw.vars {
        scoped.insert(k.clone(), v.clone());
    }
    let mut base = task_vars(&pctx.vars, host, &scope.role_vars(), &scoped);
    if let Some(shared) = &scope.hostvars {
        base.set_shared(shared.clone());
    }
    base.insert("ansible_search_path".into(), search_path(&base, task));
    if let Some(d) = &kw.delegate_to {
        let templated = run.templar.render_str(d, &base);
        let to = templated.unwrap_or_else(|_| d.clone());
        base.insert(
            "ansible_delegated_vars".into(),
            super::vars::delegated_vars(pctx, &to),
        );
    }
    let ignore = Ignore {
        errors: flag(run, &kw.ignore_errors, &base, false).unwrap_or(false),
        unreachable: flag(run, &kw.ignore_unreachable, &base, false).unwrap_or(false),
    };
    let no_log = flag(run, &kw.no_log, &base, false).unwrap_or(false);
    let delegated = kw.delegate_to.as_ref().map(|d| {
        run.templar
            .render_str(d, &base)
            .unwrap_or_else(|_| d.clone())
    });

    let mut results: Vec<(Single, Option<String>)> = Vec::new();
    let looped = task.loop_.is_some();
    match &task.loop_ {
        None => {
            let single = run_single(
                run,
                pctx,
                scope,
                task,
                &kw,
                host,
                &base,
                delegated.as_deref(),
            )
            .await;
            results.push((single, None));
        }
        Some(lp) => {
            let items = match loop_items(run, lp.kind, &lp.items, &base) {
                Ok(items) => items,
                Err(e) => {
                    // Ansible evaluates `when` first when the loop does not template: a false
                    // condition skips the task, the loop error shows otherwise
                    let single = match conditions(run, &kw.when, &base) {
                        Ok(Some(cond)) => Single {
                            result: json!({"changed": false, "skipped": true,
                                "skip_reason": "Conditional result was False",
                                "false_condition": cond}),
                            status: Status::Skipped,
                            diffs: Vec::new(),
                        },
                        _ => error_result(format!(
                            "Error while resolving the loop of task '{}': {e}",
                            task.display_name()
                        )),
                    };
                    return finish(
                        run,
                        task,
                        host,
                        vec![(single, None)],
                        false,
                        ignore,
                        no_log,
                        delegated,
                        scope,
                    );
                }
            };
            results = super::loops::run_loop(
                run,
                pctx,
                scope,
                task,
                &kw,
                host,
                base,
                delegated.as_deref(),
                items,
            )
            .await;
        }
    }
    finish(
        run, task, host, results, looped, ignore, no_log, delegated, scope,
    )
}

/// Runs the action once (for one loop item, or the task without a loop).
#[allow(clippy::too_many_arguments)]
pub(super) async fn run_single(
    run: &Run,
    pctx: &PlayCtx<'_>,
    scope: &Scope<'_>,
    task: &Task,
    kw: &Keywords,
    host: &mut HostState,
    vars: &Vars,
    delegated: Option<&str>,
) -> Single {
    match conditions(run, &kw.when, vars) {
        Ok(None) => {}
        Ok(Some(cond)) => {
            return Single {
                result: json!({"changed": false, "skipped": true,
                    "skip_reason": "Conditional result was False", "false_condition": cond}),
                status: Status::Skipped,
                diffs: Vec::new(),
            }
        }
        Err(e) => {
            return error_result(format!(
                "Task failed: Error while evaluating conditional: {e}"
            ))
        }
    }
    let retries = match &task.retries {
        Some(Templatable::Literal(n)) => *n,
        _ if !task.until.is_empty() => 3,
        _ => 0,
    };
    let delay = match &task.delay {
        Some(Templatable::Literal(d)) => *d,
        _ => 5.0,
    };
    let mut attempt = 0;
    loop {
        let running = execute(run, pctx, scope, task, kw, host, vars, delegated);
        let mut single = match task_timeout(run, kw, vars) {
            // the host's shell is dropped with the abandoned command; the next task opens one
            Some(secs) => match tokio::time::timeout(Duration::from_secs(secs), running).await {
                Ok(single) => single,
                Err(_) => timed_out(secs),
            },
            None => running.await,
        };
        if single.status == Status::Unreachable {
            return single;
        }
        // The registered result is in scope for `changed_when`/`failed_when`/`until`; without
        // those nothing reads it here, and the copy of every variable is not made (at 1,000
        // hosts `groups` alone is thousands of names per host per task).
        let overridden =
            !task.changed_when.is_empty() || !task.failed_when.is_empty() || !task.until.is_empty();
        let with_result;
        let checked = match &task.register {
            Some(reg) if overridden => {
                let mut m = vars.clone();
                m.insert(reg.clone(), never_templated(single.result.clone()));
                with_result = m;
                &with_result
            }
            _ => vars,
        };
        if let Err(e) = apply_overrides(run, task, checked, &mut single) {
            return error_result(e.to_string());
        }
        if task.until.is_empty() {
            return single;
        }
        match conditions(run, &task.until, checked) {
            Ok(None) => {
                if let Value::Object(m) = &mut single.result {
                    m.insert("attempts".into(), json!(attempt + 1));
                }
                return single;
            }
            Ok(Some(_)) if attempt < retries => {
                attempt += 1;
                let left = retries - attempt + 1;
                run.report(Event::Result(Box::new(HostResult {
                    host: host.name.clone(),
                    delegated_to: delegated.map(str::to_string),
                    status: Status::Failed,
                    ignored: false,
                    item_label: None,
                    result: single.result.clone(),
                    diffs: Vec::new(),
                    action: task.action.clone(),
                    retries_left: Some(left),
                })));
                tokio::time::sleep(Duration::from_secs_f64(delay)).await;
            }
            Ok(Some(_)) => {
                if let Value::Object(m) = &mut single.result {
                    m.insert("attempts".into(), json!(attempt + 1));
                    m.insert("failed".into(), Value::Bool(true));
                }
                single.status = Status::Failed;
                return single;
            }
            Err(e) => return error_result(e.to_string()),
        }
    }
}

/// `changed_when` and `failed_when`, evaluated with the registered result in scope.
fn apply_overrides(
    run: &Run,
    task: &Task,
    vars: &Vars,
    single: &mut Single,
) -> Result<(), ExecError> {
    if matches!(single.status, Status::Skipped | Status::Unreachable) {
        return Ok(());
    }
    let Value::Object(result) = &mut single.result else {
        return Ok(());
    };
    if !task.changed_when.is_empty() {
        let changed = conditions(run, &task.changed_when, vars)
            .map_err(|error| ExecError::Conditional {
                conditions: task.changed_when.join(" and "),
                error,
            })?
            .is_none();
        result.insert("changed".into(), Value::Bool(changed));
    }
    if !task.failed_when.is_empty() {
        let failed = conditions(run, &task.failed_when, vars)
            .map_err(|error| ExecError::Conditional {
                conditions: task.failed_when.join(" and "),
                error,
            })?
            .is_none();
        result.insert("failed_when_result".into(), Value::Bool(failed));
        result.insert("failed".into(), Value::Bool(failed));
    }
    let failed = result
        .get("failed")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let changed = result
        .get("changed")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    single.status = if failed {
        Status::Failed
    } else if changed {
        Status::Changed
    } else {
        Status::Ok
    };
    Ok(())
}

/// Templates the arguments and runs the module or executor action.
#[allow(clippy::too_many_arguments)]
async fn execute(
    run: &Run,
    pctx: &PlayCtx<'_>,
    scope: &Scope<'_>,
    task: &Task,
    kw: &Keywords,
    host: &mut HostState,
    vars: &Vars,
    delegated: Option<&str>,
) -> Single {
    let mut raw = task.args.clone();
    if fleet_modules::short_name(&task.action) == "assert" {
        // assert evaluates its `that` entries itself, as conditions (never as templated args)
        raw.remove("that");
    }
    let args = match run
        .templar
        .template_value(&Value::Object(raw.clone()), vars)
    {
        Ok(Value::Object(mut m)) => {
            m.retain(|_, v| !run.templar.is_omit(v));
            m
        }
        Ok(_) => Map::new(),
        Err(e) => {
            let msg = super::result::args_failure(run, task, &raw, vars, &e.to_string());
            return error_result(msg);
        }
    };
    if let Err(e) = modules::check_action_args(&task.action, &task.args) {
        return error_result(e.to_string());
    }
    if let Some(result) = actions::run_action(run, task, &args, host, vars).await {
        return from_module(result);
    }
    // What Ansible finds only when a task runs fails this task alone (the parse of `fleet run`
    // leaves it here): a module fleet lacks, arguments the module does not accept.
    // Modules fleet lacks run through Ansible's own code when the controller has it.
    let Some(route) = super::fallback::route(pctx, scope, task) else {
        return error_result(modules::unavailable_message(&task.action));
    };
    let native = matches!(route, Route::Native(_))
        .then(|| modules::find(&task.action))
        .flatten();
    if let Some(module) = native.filter(|_| !args.contains_key("_variable_params")) {
        if let Err(e) = modules::check_args(&task.action, &module.spec(), &args) {
            return error_result(e.to_string());
        }
    }
    let check_mode =
        flag(run, &kw.check_mode, vars, run.options.check).unwrap_or(run.options.check);
    let diff = flag(run, &kw.diff, vars, run.options.diff).unwrap_or(run.options.diff);
    let become_user = match become_user(&run.templar, kw, vars) {
        Ok(b) => b,
        Err(e) => return error_result(e.to_string()),
    };
    let env = match environment(&run.templar, kw, vars) {
        Ok(env) => env,
        Err(e) => return error_result(e.to_string()),
    };
    let search_dirs = scope.search_dirs(&pctx.play.base_dir);
    let host_name = host.name.clone();
    let local = matches!(delegated, Some("localhost" | "127.0.0.1"))
        && delegated.is_some_and(|d| pctx.inventory.host(d).is_none());
    let mut local_remote = LocalRemoteIn(pctx.play.base_dir.clone());
    let remote: &mut dyn fleet_modules::remote::Remote = match delegated {
        _ if local => &mut local_remote,
        Some(other) => match delegate_remote(run, pctx, host, other, vars).await {
            Ok(r) => r,
            Err(e) => return unreachable(e),
        },
        None => {
            if host.remote.is_none() {
                let templated = connection_vars(run, vars);
                match run.connector.open(&host.name, &templated).await {
                    Ok(remote) => host.remote = Some(remote),
                    Err(e) => return unreachable(e),
                }
            }
            host.remote.as_deref_mut().expect("connected above")
        }
    };
    let become_password = become_user.as_ref().and_then(|_| {
        [
            "ansible_become_password",
            "ansible_become_pass",
            "ansible_sudo_pass",
        ]
        .iter()
        .find_map(|k| vars.get(k))
        .map(|v| match run.templar.template_value(v, vars) {
            Ok(Value::String(s)) => s,
            Ok(other) => other.to_string(),
            Err(_) => String::new(),
        })
        .or_else(|| run.options.become_password.clone())
    });
    let no_log = flag(run, &kw.no_log, vars, false).unwrap_or(false);
    let name = match &task.name {
        Some(n) => run
            .templar
            .render_str(n, vars)
            .unwrap_or_else(|_| n.clone()),
        None => task.action.clone(),
    };
    remote.set_task_label(Some(task_label::describe(
        &name,
        &task.action,
        &args,
        no_log,
    )));
    let mut ctx = ModuleCtx {
        remote,
        check_mode,
        diff,
        become_password,
        become_user,
        env,
        vars,
        inventory_hostname: host_name,
        search_dirs,
    };
    let outcome = match native {
        Some(module) => match modules::run_native(module, &args, &mut ctx).await {
            Ok(ModuleResult {
                defer_to_ansible: Some(why),
                ..
            }) => {
                let route = Route::Ansible(format!("ansible.builtin.{}", module.name()));
                super::fallback::run(run, pctx, scope, &route, task, kw, &args, &mut ctx)
                    .await
                    .map(|r| super::fallback::deferred(r, module.name(), &why))
            }
            other => other,
        },
        None => super::fallback::run(run, pctx, scope, &route, task, kw, &args, &mut ctx).await,
    };
    ctx.remote.set_task_label(None);
    match outcome {
        Ok(result) => {
            let facts_from = native.is_none_or(|m| matches!(m.name(), "setup" | "gather_facts"));
            if let Some(facts) = super::fallback::returned_facts(&result).filter(|_| facts_from) {
                host.facts.extend(facts.clone());
            }
            from_module(result)
        }
        Err(e @ RemoteError::Unreachable(_)) => {
            match delegated {
                Some(other) if !local => {
                    host.delegates.remove(other);
                }
                None => host.remote = None,
                _ => {}
            }
            unreachable(e)
        }
        Err(e) => error_result(e.to_string()),
    }
}

/// The `ansible_*` variables of a host, templated: what its connection is made from (the
/// host's own layer: the shared one holds the play's magic variables, no connection setting).
fn connection_vars(run: &Run, vars: &Vars) -> Map<String, Value> {
    vars.own_map()
        .iter()
        .filter(|(k, _)| k.starts_with("ansible_"))
        .map(|(k, v)| {
            let v = run
                .templar
                .template_value(v, vars)
                .unwrap_or_else(|_| v.clone());
            (k.clone(), v)
        })
        .collect()
}

/// The connection to `other` for tasks `host` delegates to it: made from `other`'s inventory
/// variables, kept for the run (each delegating host has its own, so they never share a shell).
async fn delegate_remote<'h>(
    run: &Run,
    pctx: &PlayCtx<'_>,
    host: &'h mut HostState,
    other: &str,
    vars: &Vars,
) -> Result<&'h mut dyn fleet_modules::remote::Remote, RemoteError> {
    if !host.delegates.contains_key(other) {
        let Some(target) = pctx.inventory.host(other) else {
            return Err(RemoteError::Unreachable(format!(
                "delegate_to: {other} is not in the inventory"
            )));
        };
        let mut target_vars = Vars::new(target.vars().clone(), vars.shared_map().clone());
        // Templates in the delegate's variables may refer to play-level variables.
        for (k, val) in vars.own_map() {
            target_vars
                .own_map_mut()
                .entry(k.clone())
                .or_insert_with(|| val.clone());
        }
        let conn = connection_vars(run, &target_vars);
        let remote = run.connector.open(other, &conn).await?;
        host.delegates.insert(other.to_string(), remote);
    }
    Ok(host
        .delegates
        .get_mut(other)
        .expect("inserted above")
        .as_mut())
}
