//! Which path a task's module takes — fleet's native implementation or Ansible's own module code
//! ([`fleet_modules::ansible`]) — and running it on the fallback path with the task's settings.
//!
//! Why here: the route depends on the play (the playbook's `library/`) and the scope (the
//! enclosing roles' `library/`), which only the executor knows; the modules crate owns the
//! lookup order itself and the packaging.

use std::path::PathBuf;

use serde_json::Value;

use super::context::{PlayCtx, Run, Scope};
use crate::task::flag;
use fleet_modules::ansible::{self, target, Route};
use fleet_modules::remote::RemoteError;
use fleet_modules::{Args, ModuleCtx, ModuleResult, EXECUTOR_ACTIONS};
use fleet_playbook::{Keywords, Role, Task};

/// The `library/` directories a task in `scope` can use: the playbook's, then the roles'
/// ([`role_dirs`]).
fn library_dirs(pctx: &PlayCtx<'_>, scope: &Scope<'_>) -> Vec<PathBuf> {
    ansible::library_dirs(&pctx.play.base_dir, &role_dirs(pctx, scope))
}

/// The directories of the roles whose `library/` a task in `scope` can use: the enclosing
/// roles', innermost first, then every role of the play (Ansible adds a loaded role's
/// `library/` to the module path for the whole play).
pub(crate) fn role_dirs(pctx: &PlayCtx<'_>, scope: &Scope<'_>) -> Vec<PathBuf> {
    let mut roles: Vec<PathBuf> = scope.roles.iter().rev().map(|r| r.dir.clone()).collect();
    let mut stack: Vec<&Role> = pctx.play.roles.iter().rev().collect();
    while let Some(role) = stack.pop() {
        if !roles.contains(&role.dir) {
            roles.push(role.dir.clone());
        }
        stack.extend(role.dependencies.iter().rev());
    }
    roles
}

/// The route of `task`'s module, or `None` for an action the executor runs itself.
/// An action the executor runs itself gives `None`, unless a playbook's or a role's own
/// `action_plugins/` replaces it (one Ansible implements as an action plugin too: Ansible
/// finds the custom plugin first, as the module_defaults target's `debug` relies on).
pub fn route(pctx: &PlayCtx<'_>, scope: &Scope<'_>, task: &Task) -> Option<Route> {
    let short = fleet_modules::short_name(&task.action);
    if EXECUTOR_ACTIONS.contains(&short) {
        if !REPLACEABLE_ACTIONS.contains(&short) {
            return None;
        }
        return ansible::action_plugin(&library_dirs(pctx, scope), &task.action).map(Route::Action);
    }
    Some(ansible::route(&task.action, &library_dirs(pctx, scope)))
}

/// The executor's actions a custom action plugin of the same name may replace: those Ansible
/// runs as action plugins whose results need nothing of the strategy (includes, `meta`,
/// `group_by` and `include_vars` change the run itself; `assert`'s `that` is never templated
/// as an argument, so a plugin would not receive it as written).
const REPLACEABLE_ACTIONS: &[&str] = &["debug", "fail", "set_fact"];

/// The `-v` line naming the path `task` takes, for a task that runs a module.
pub fn describe(pctx: &PlayCtx<'_>, scope: &Scope<'_>, task: &Task) -> Option<String> {
    route(pctx, scope, task).map(|r| r.describe(&task.action))
}

/// Runs `task`'s module through Ansible's code on the host of `ctx`: the module alone, or the
/// action plugin it comes with (or that `route` names) on the controller.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    run: &Run,
    pctx: &PlayCtx<'_>,
    scope: &Scope<'_>,
    route: &Route,
    task: &Task,
    kw: &Keywords,
    args: &Args,
    ctx: &mut ModuleCtx<'_>,
) -> Result<ModuleResult, RemoteError> {
    let vars = ctx.vars;
    let interpreter = vars
        .get("ansible_python_interpreter")
        .and_then(|v| run.templar.template_value(v, vars).ok())
        .and_then(|v| v.as_str().map(str::to_string))
        .filter(|p| !p.is_empty() && !p.starts_with("auto"));
    let no_log = flag(run, &kw.no_log, vars, false).unwrap_or(true);
    let dirs = library_dirs(pctx, scope);
    let module_utils: Vec<PathBuf> = existing(&dirs, "module_utils");
    let action = Action {
        run,
        dirs: &dirs,
        module_utils: &module_utils,
        interpreter: interpreter.as_deref(),
        no_log,
    };
    let (name, path) = match route {
        Route::Library(path) => (task.action.as_str(), Some(path.as_path())),
        Route::Ansible(name) => (name.as_str(), None),
        Route::Action(_) => return action.run(&task.action, task, kw, args, ctx).await,
        Route::Native(_) => unreachable!("native modules never take the fallback"),
    };
    let call = target::Call {
        name,
        path,
        args,
        interpreter: interpreter.as_deref(),
        verbosity: run.options.verbosity,
        no_log,
        module_utils: &module_utils,
        collections: &kw.collections,
    };
    match target::run(&run.ansible, &call, ctx).await? {
        target::Ran::Result(result) => Ok(result),
        target::Ran::ActionPlugin(_) => action.run(name, task, kw, args, ctx).await,
    }
}

/// The `sub` directories of `dirs` that exist, absolute.
fn existing(dirs: &[PathBuf], sub: &str) -> Vec<PathBuf> {
    dirs.iter()
        .map(|d| d.join(sub))
        .filter(|d| d.is_dir())
        .map(|d| std::path::absolute(&d).unwrap_or(d))
        .collect()
}

/// What an action plugin's run shares with the module's.
struct Action<'a> {
    run: &'a Run,
    dirs: &'a [PathBuf],
    module_utils: &'a [PathBuf],
    interpreter: Option<&'a str>,
    no_log: bool,
}

impl Action<'_> {
    /// Runs the action plugin for `action` (the task's name or the module's FQCN) through
    /// Ansible's code on the controller.
    async fn run(
        &self,
        action: &str,
        task: &Task,
        kw: &Keywords,
        args: &Args,
        ctx: &mut ModuleCtx<'_>,
    ) -> Result<ModuleResult, RemoteError> {
        let call = ansible::actions::ActionCall {
            action,
            args,
            raw_args: &task.args,
            task_vars: rendered_vars(self.run, ctx.vars),
            action_dirs: &existing(self.dirs, "action_plugins"),
            library_dirs: &existing(self.dirs, "library"),
            module_utils: self.module_utils,
            collections: &kw.collections,
            basedir: &self.dirs[0],
            interpreter: self.interpreter,
            verbosity: self.run.options.verbosity,
            no_log: self.no_log,
        };
        self.run.ansible.actions.run(&call, ctx).await
    }
}

/// The host's variables as an action plugin gets them (`task_vars`), each rendered; one that
/// does not render is left out, and so are `hostvars` and `vars` (every host's variables again:
/// megabytes on a large inventory, for a plugin that rarely reads them).
fn rendered_vars(run: &Run, vars: &fleet_templates::Vars) -> serde_json::Map<String, Value> {
    vars.to_map()
        .into_iter()
        .filter(|(name, _)| name != "hostvars" && name != "vars")
        .filter_map(|(name, value)| {
            let value = run.templar.template_value(&value, vars).ok()?;
            Some((name, value))
        })
        .collect()
}

/// The result of a task a native module left to Ansible's code (`why`: which case): when
/// ansible-core is not on the controller, the failure says what fleet's `module` lacks.
pub fn deferred(mut result: ModuleResult, module: &str, why: &str) -> ModuleResult {
    if result.failed && result.data.contains_key("fleet_fallback") {
        result.msg = Some(format!(
            "fleet's {module} leaves {why} to Ansible's module code, which needs ansible-core \
             on the controller"
        ));
    }
    result
}

/// Facts a module returned (`ansible_facts`), to merge into the host's facts as Ansible does.
pub fn returned_facts(result: &ModuleResult) -> Option<&serde_json::Map<String, Value>> {
    if result.failed {
        return None;
    }
    match result.data.get("ansible_facts") {
        Some(Value::Object(facts)) => Some(facts),
        _ => None,
    }
}
