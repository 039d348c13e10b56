//! One execution of a task's action on a host, once its conditions hold: the arguments
//! templated and checked, then either a host-less executor action or a module (fleet's native
//! one, or Ansible's own code through the fallback) over the connection [`super::target`] picks.
//!
//! The steps are the order Ansible fails in: a template error in the arguments before an
//! unknown module, argument checks before `become`/`environment`, all of them before the host
//! is connected, so a bad task never costs (or loses) a connection.

use fleet_templates::Vars;
use serde_json::{Map, Value};

use super::actions;
use super::context::{PlayCtx, Run, Scope};
use super::escalation::{become_settings, environment};
use super::host::HostState;
use super::result::{error_result, from_module, unreachable, Single};
use super::target::{drop_remote, runs_locally, task_remote, Login};
use super::task::{flag, TaskRun};
use super::task_async::Background;
use super::task_label;
use fleet_modules::ansible::Route;
use fleet_modules::remote::{LocalRemoteIn, RemoteError};
use fleet_modules::{self as modules, Module, ModuleCtx, ModuleResult};
use fleet_playbook::{Keywords, Task};

/// Templates the arguments and runs the module or executor action.
pub(super) async fn execute(t: TaskRun<'_>, host: &mut HostState, vars: &Vars) -> Single {
    let TaskRun {
        run,
        pctx,
        scope,
        task,
        kw,
        delegated,
        job,
    } = t;
    let rendered;
    let task = match templated_action(run, task, vars) {
        Ok(Some(named)) => {
            rendered = named;
            &rendered
        }
        Ok(None) => task,
        Err(failed) => return failed,
    };
    let defaulted;
    let task = match with_module_defaults(task, kw) {
        Some(t) => {
            defaulted = t;
            &defaulted
        }
        None => task,
    };
    let args = match templated_args(run, task, kw, vars) {
        Ok(args) => args,
        Err(failed) => return failed,
    };
    if let Some(refusal) = fleet_playbook::raw_params_refusal(&task.action, &task.args) {
        // a custom action plugin decides for itself (`supports_raw_params`)
        let plugin = super::fallback::route(pctx, scope, task);
        if !matches!(plugin, Some(Route::Action(_))) {
            return error_result(format!("Task failed: {refusal}"));
        }
    }
    if let Err(e) = modules::check_action_args(&task.action, &task.args) {
        return error_result(e.to_string());
    }
    let check_mode =
        flag(run, &kw.check_mode, vars, run.options.check).unwrap_or(run.options.check);
    let background = Background::of(&task.action, &args, host, job, check_mode);
    let replaced = fleet_modules::EXECUTOR_ACTIONS.contains(&modules::short_name(&task.action))
        && matches!(
            super::fallback::route(pctx, scope, task),
            Some(Route::Action(_))
        );
    if background.is_none() && !replaced {
        if let Some(result) =
            actions::run_action(run, pctx.inventory, task, &args, host, vars).await
        {
            return from_module(result);
        }
    }
    let (route, native) = match &background {
        // async_status of a background job: read on the host, no module
        Some(Background::Status { .. }) => (Route::Native("async_status"), None),
        _ => match module_route(pctx, scope, task, &args) {
            Ok(found) => found,
            Err(failed) => return failed,
        },
    };
    let diff = flag(run, &kw.diff, vars, run.options.diff).unwrap_or(run.options.diff);
    let become_ = match become_settings(&run.templar, kw, vars) {
        Ok(b) => b,
        Err(e) => return error_result(e.to_string()),
    };
    let gathering = matches!(modules::short_name(&task.action), "setup" | "gather_facts");
    let env = match environment(&run.templar, kw, vars, gathering) {
        Ok(env) => env,
        Err(e) => return error_result(e.to_string()),
    };
    let login = match Login::of(run, kw, vars) {
        Ok(login) => login,
        Err(e) => return error_result(e.to_string()),
    };
    let search_dirs = scope.search_dirs(&pctx.play.base_dir);
    let host_name = host.name.clone();
    let local = runs_locally(pctx, delegated);
    let mut local_remote = local.then(|| LocalRemoteIn(pctx.play.base_dir.clone()));
    let remote = match task_remote(
        run,
        pctx,
        host,
        delegated,
        (vars, &login),
        local_remote.as_mut(),
    )
    .await
    {
        Ok(remote) => remote,
        Err(e) => return unreachable(e),
    };
    let become_password = become_.as_ref().and_then(|_| become_password(run, vars));
    remote.set_task_label(Some(label(run, task, kw, &args, vars)));
    let mut ctx = ModuleCtx {
        remote,
        check_mode,
        diff,
        become_password,
        become_,
        env,
        vars,
        inventory_hostname: host_name,
        search_dirs,
    };
    let outcome = match (&background, native) {
        (Some(call), _) => call.run(&mut ctx, &args).await,
        (None, Some(module)) => match modules::run_native(module, &args, &mut ctx).await {
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
        (None, None) => {
            super::fallback::run(run, pctx, scope, &route, task, kw, &args, &mut ctx).await
        }
    };
    ctx.remote.set_task_label(None);
    if let Some((jid, kept)) = background
        .as_ref()
        .zip(outcome.as_ref().ok())
        .and_then(|(call, result)| call.started(&args, result))
    {
        host.async_jobs.insert(jid, kept);
    }
    let facts_to =
        delegated.filter(|_| flag(run, &kw.delegate_facts, vars, false).unwrap_or(false));
    settle(host, native, (delegated, facts_to), local, outcome)
}

/// `task` with its module named by the host's variables, when the name is a template
/// (`action: "{{ ansible_facts.pkg_mgr }}"` with `args:`); `None` when it is not one.
fn templated_action(run: &Run, task: &Task, vars: &Vars) -> Result<Option<Task>, Single> {
    if !(task.action.contains("{{") || task.action.contains("{%")) {
        return Ok(None);
    }
    let name = run
        .templar
        .render_str(&task.action, vars)
        .map_err(|e| error_result(e.to_string()))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(error_result(format!(
            "The module name '{}' templated to an empty string",
            task.action
        )));
    }
    Ok(Some(Task {
        action: name.to_string(),
        ..task.clone()
    }))
}

/// `task` with the `module_defaults` for its module (named short or qualified) filled in
/// where it sets no value itself; `None` when none apply.
/// Arguments splatted from a template (`_variable_params`) sit between the defaults and the
/// task's own, so a task with them gets its defaults in [`templated_args`] instead.
fn with_module_defaults(task: &Task, kw: &Keywords) -> Option<Task> {
    if task.args.contains_key(SPLAT) {
        return None;
    }
    let mut args = task.args.clone();
    let mut added = false;
    for (k, v) in module_defaults(task, kw) {
        if !args.contains_key(&k) {
            args.insert(k, v);
            added = true;
        }
    }
    added.then(|| Task {
        args,
        ..task.clone()
    })
}

/// The `module_defaults` that apply to the task's module (named short or qualified).
fn module_defaults(task: &Task, kw: &Keywords) -> Map<String, Value> {
    let module = modules::short_name(&task.action);
    let mut found = Map::new();
    for (name, defaults) in &kw.module_defaults {
        if modules::short_name(name) == module {
            for (k, v) in defaults.as_object().into_iter().flatten() {
                found.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
    }
    found
}

/// The key under which a task's arguments that come whole from one template
/// (`copy: "{{ args }}"`, `args: "{{ args }}"`) wait to be templated.
const SPLAT: &str = "_variable_params";

/// The path the task's module takes (fleet's native module, or Ansible's code) and the native
/// module with its arguments checked. What Ansible finds only when a task runs fails this task
/// alone (the parse of `fleet run` leaves it here): a module fleet lacks, arguments the module
/// does not accept. Modules fleet lacks run through Ansible's own code when the controller
/// has it.
fn module_route(
    pctx: &PlayCtx<'_>,
    scope: &Scope<'_>,
    task: &Task,
    args: &Map<String, Value>,
) -> Result<(Route, Option<&'static dyn Module>), Single> {
    let Some(route) = super::fallback::route(pctx, scope, task) else {
        return Err(error_result(modules::unavailable_message(&task.action)));
    };
    let native = matches!(route, Route::Native(_))
        .then(|| modules::find(&task.action))
        .flatten();
    if let Some(module) = native {
        if let Err(e) = modules::check_args(&task.action, &module.spec(), args) {
            return Err(error_result(e.to_string()));
        }
    }
    Ok((route, native))
}

/// The task's arguments templated, omitted ones dropped; a template error fails the task with
/// Ansible's message naming the argument. Arguments splatted from a template must come out a
/// mapping, which Ansible layers as module defaults, then the splat, then the task's own.
fn templated_args(
    run: &Run,
    task: &Task,
    kw: &Keywords,
    vars: &Vars,
) -> Result<Map<String, Value>, Single> {
    let mut raw = task.args.clone();
    if fleet_modules::short_name(&task.action) == "assert" {
        // assert evaluates its `that` entries itself, as conditions (never as templated args)
        raw.remove("that");
    }
    let mut args = match run
        .templar
        .template_value(&Value::Object(raw.clone()), vars)
    {
        Ok(Value::Object(m)) => m,
        Ok(_) => Map::new(),
        Err(e) => {
            let msg = super::result::args_failure(run, task, &raw, vars, &e.to_string());
            return Err(error_result(msg));
        }
    };
    if let Some(splat) = args.remove(SPLAT) {
        let Value::Object(splat) = splat else {
            return Err(error_result(format!(
                "Task failed: Finalization of task args for '{}' failed: Task args must resolve \
                 to a 'dict' not '{}'.",
                super::result::qualified_action(&task.action),
                fleet_templates::py_type_name(&splat)
            )));
        };
        let defaults = module_defaults(task, kw);
        let defaults = match run.templar.template_value(&Value::Object(defaults), vars) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        let own = std::mem::replace(&mut args, defaults);
        args.extend(splat);
        args.extend(own);
    }
    args.retain(|_, v| !run.templar.is_omit(v));
    Ok(args)
}

/// The sudo password for a task that becomes another user: the host's variable (templated),
/// else the one given on the command line (`-K`).
fn become_password(run: &Run, vars: &Vars) -> Option<String> {
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
}

/// The one-line label the connection shows for the task (the bastion's command log).
fn label(run: &Run, task: &Task, kw: &Keywords, args: &Map<String, Value>, vars: &Vars) -> String {
    let no_log = flag(run, &kw.no_log, vars, false).unwrap_or(false);
    let name = match &task.name {
        Some(n) => run
            .templar
            .render_str(n, vars)
            .unwrap_or_else(|_| n.clone()),
        None => task.action.clone(),
    };
    task_label::describe(&name, &task.action, args, no_log)
}

/// What the module's outcome leaves on the host: facts it returned (for the host a task
/// delegated with `delegate_facts` runs on, when `facts_to` names it), a connection it found
/// unreachable forgotten.
fn settle(
    host: &mut HostState,
    native: Option<&'static dyn Module>,
    (delegated, facts_to): (Option<&str>, Option<&str>),
    local: bool,
    outcome: Result<ModuleResult, RemoteError>,
) -> Single {
    match outcome {
        Ok(result) => {
            let facts_from = native.is_none_or(|m| matches!(m.name(), "setup" | "gather_facts"));
            if let Some(facts) = super::fallback::returned_facts(&result).filter(|_| facts_from) {
                match facts_to {
                    Some(owner) => host
                        .delegated_facts
                        .push((owner.to_string(), facts.clone())),
                    None => host.facts.extend(facts.clone()),
                }
            }
            from_module(result)
        }
        Err(e @ RemoteError::Unreachable(_)) => {
            drop_remote(host, delegated, local);
            unreachable(e)
        }
        Err(e) => error_result(e.to_string()),
    }
}
