//! Walking a play's task lists across hosts with the linear strategy: every task runs on all
//! active hosts (up to `forks` at once) before the next starts; blocks send failed hosts to
//! `rescue` and every host that entered them through `always`; roles and includes open scopes.

use fleet_templates::Vars;
use futures::future::join_all;
use serde_json::Value;
use tokio::sync::{Mutex, Semaphore};

use super::context::{PlayCtx, Run, Scope};
use super::host::HostState;
use super::hostvars::task_magic;
use super::task::{flag, run_on_host, Outcome};
use super::vars::task_vars;
use crate::output::{Event, HostResult, Status};
use fleet_playbook::{Block, Keywords, Role, Task, TaskItem, Templatable};

/// The hosts of a play and the limit on hosts in flight.
pub struct Hosts {
    pub states: Vec<Mutex<HostState>>,
    pub forks: Semaphore,
}

/// A flow change requested by `meta`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// `meta: end_play`.
    EndPlay,
}

/// Runs `items` on the hosts `ids` (those still active at each step).
pub async fn run_items(
    run: &Run,
    pctx: &PlayCtx<'_>,
    hosts: &Hosts,
    ids: &[usize],
    items: &[TaskItem],
    scope: &Scope<'_>,
) -> Flow {
    for item in items {
        if run.interrupted() {
            return Flow::EndPlay;
        }
        let active = active_hosts(hosts, ids).await;
        if active.is_empty() {
            return Flow::Continue;
        }
        let flow = match item {
            TaskItem::Task(task) => {
                Box::pin(run_task(run, pctx, hosts, &active, task, scope)).await
            }
            TaskItem::Block(block) => {
                Box::pin(run_block(run, pctx, hosts, &active, block, scope)).await
            }
            TaskItem::Role(role) => {
                let scope = scope.importing_role();
                Box::pin(run_role(run, pctx, hosts, &active, role, &scope)).await
            }
        };
        if flow == Flow::EndPlay {
            return flow;
        }
    }
    Flow::Continue
}

/// Hosts of `ids` that take normal tasks.
pub async fn active_hosts(hosts: &Hosts, ids: &[usize]) -> Vec<usize> {
    let mut out = Vec::new();
    for &i in ids {
        if hosts.states[i].lock().await.active() {
            out.push(i);
        }
    }
    out
}

async fn run_block(
    run: &Run,
    pctx: &PlayCtx<'_>,
    hosts: &Hosts,
    ids: &[usize],
    block: &Block,
    scope: &Scope<'_>,
) -> Flow {
    let mut inner = scope.enter_block(block);
    if !block.rescue.is_empty() {
        inner.rescuable = true;
    }
    let mut flow = run_items(run, pctx, hosts, ids, &block.block, &inner).await;
    if flow == Flow::EndPlay {
        return flow;
    }
    if !block.rescue.is_empty() {
        let mut rescued = Vec::new();
        for &i in ids {
            let mut h = hosts.states[i].lock().await;
            if h.failed && h.failure_rescuable && !h.unreachable {
                h.failed = false;
                h.failure_rescuable = false;
                h.stats.rescued += 1;
                rescued.push(i);
            }
        }
        let rescue_scope = scope.enter_block(block);
        flow = run_items(run, pctx, hosts, &rescued, &block.rescue, &rescue_scope).await;
        if flow == Flow::EndPlay {
            return flow;
        }
    }
    if !block.always.is_empty() {
        // Every host that entered the block runs `always`, failed or not.
        let mut was_failed = Vec::new();
        for &i in ids {
            let mut h = hosts.states[i].lock().await;
            if h.unreachable {
                continue;
            }
            was_failed.push((i, h.failed));
            h.failed = false;
        }
        let always_ids: Vec<usize> = was_failed.iter().map(|(i, _)| *i).collect();
        // `always` inherits the block's keywords (its `when` too), as `rescue` does
        let always_scope = scope.enter_block(block);
        flow = run_items(run, pctx, hosts, &always_ids, &block.always, &always_scope).await;
        for (i, failed) in was_failed {
            let mut h = hosts.states[i].lock().await;
            h.failed |= failed;
        }
    }
    // A failure that found no rescue here counts as a failure now (outer blocks may not rescue).
    if !scope.rescuable {
        for &i in ids {
            let mut h = hosts.states[i].lock().await;
            if h.failed && h.failure_rescuable {
                h.failure_rescuable = false;
                h.stats.failed += 1;
            }
        }
    }
    flow
}

pub(super) async fn run_role<'a>(
    run: &Run,
    pctx: &PlayCtx<'_>,
    hosts: &Hosts,
    ids: &[usize],
    role: &'a Role,
    scope: &Scope<'a>,
) -> Flow {
    let mut inner = scope.enter(&role.keywords);
    inner.roles.push(role);
    for dep in &role.dependencies {
        if Box::pin(run_role(run, pctx, hosts, ids, dep, &inner)).await == Flow::EndPlay {
            return Flow::EndPlay;
        }
    }
    let mut todo = Vec::new();
    for &i in ids {
        let mut h = hosts.states[i].lock().await;
        if role.allow_duplicates || h.roles_done.insert(role_key(role)) {
            todo.push(i);
        }
    }
    // Roles run once per host unless the play lists them with different parameters.
    run_items(run, pctx, hosts, &todo, &role.tasks, &inner).await
}

fn role_key(role: &Role) -> String {
    format!(
        "{}{}{:?}",
        role.dir.display(),
        serde_json::to_string(&role.params).unwrap_or_default(),
        role.from_files
    )
}

/// The name shown in the TASK banner: role prefix, templated with play-level variables.
pub(super) fn banner(run: &Run, pctx: &PlayCtx<'_>, task: &Task, scope: &Scope<'_>) -> String {
    let name = match &task.name {
        Some(n) => {
            let mut vars = pctx.vars.vars.clone();
            for (k, v) in pctx.vars.extra.iter() {
                vars.insert(k.clone(), v.clone());
            }
            run.templar
                .render_str(n, &Value::Object(vars))
                .unwrap_or_else(|_| n.clone())
        }
        None => task.display_name().to_string(),
    };
    match scope.role_prefix() {
        Some(role) => format!("{role} : {name}"),
        None => name,
    }
}

/// One task across the hosts `ids`, if the tags select it: flow actions (`meta`, includes)
/// take their own path, a normal task runs on the hosts.
async fn run_task(
    run: &Run,
    pctx: &PlayCtx<'_>,
    hosts: &Hosts,
    ids: &[usize],
    task: &Task,
    scope: &Scope<'_>,
) -> Flow {
    let mut effective = task.keywords.clone();
    effective.inherit(&scope.keywords);
    let short = fleet_modules::short_name(&task.action);
    // Notified handlers run whatever the tags (Ansible does not tag-filter handlers).
    if !scope.handler
        && !super::tags::selected(run, &super::tags::templated(run, pctx, &effective.tags))
        && !matches!(short, "include_tasks" | "include_role")
    {
        return Flow::Continue;
    }
    // `--start-at-task`: hosts skip every task before the start; a static import is entered,
    // its tasks looked at one by one
    let admitted;
    let ids = if scope.handler
        || scope.gathering
        || !run.start_at.waiting()
        || matches!(short, "import_tasks" | "import_role")
    {
        ids
    } else {
        let banner = banner(run, pctx, task, scope);
        admitted = run.start_at.admitted(ids, task.name.as_deref(), &banner);
        if admitted.is_empty() {
            return Flow::Continue;
        }
        &admitted[..]
    };
    match short {
        "meta" => return run_meta(run, pctx, hosts, ids, task, scope).await,
        "include_tasks" | "import_tasks" if task.include_file().is_some() => {
            return super::include::run_include(run, pctx, hosts, ids, task, scope).await
        }
        "include_role" | "import_role" => {
            return super::include::run_include_role(run, pctx, hosts, ids, task, scope).await
        }
        _ => {}
    }
    run_on_hosts(run, pctx, hosts, ids, task, &effective, scope).await
}

/// A normal task (not a flow action) on the hosts `ids`: its banner, every host (or the first,
/// for `run_once`) up to `forks` at once, then `max_fail_percentage` and `any_errors_fatal`.
async fn run_on_hosts(
    run: &Run,
    pctx: &PlayCtx<'_>,
    hosts: &Hosts,
    ids: &[usize],
    task: &Task,
    effective: &Keywords,
    scope: &Scope<'_>,
) -> Flow {
    run.report(Event::TaskStart {
        name: banner(run, pctx, task, scope),
        handler: scope.handler,
        hosts: ids.len(),
    });
    if run.options.verbosity > 0 {
        if let Some(path) = super::fallback::describe(pctx, scope, task) {
            run.report(Event::Verbose(path));
        }
    }
    let with_magic;
    let scope = match task_magic(run, pctx, hosts, task, effective, scope).await {
        Some(magic) => {
            with_magic = scope.with_magic(magic);
            &with_magic
        }
        None => scope,
    };
    let flags = first_host_flags(run, pctx, hosts, ids[0], scope, task, effective).await;
    let targets: &[usize] = if flags.run_once || flags.bypasses_host_loop {
        &ids[..1]
    } else {
        ids
    };
    let throttle = flags.throttle.map(Semaphore::new);
    let throttle = &throttle;
    let outcomes = join_all(targets.iter().map(|&i| async move {
        // `throttle` first: a host waiting for its turn holds no fork
        let _turn = match throttle {
            Some(t) => Some(t.acquire().await),
            None => None,
        };
        let _permit = hosts.forks.acquire().await;
        let mut h = hosts.states[i].lock().await;
        run_on_host(run, pctx, scope, task, &mut h).await
    }))
    .await;
    if flags.run_once && ids.len() > 1 {
        share_registered(hosts, ids, task).await;
    }
    hand_over_delegated_facts(hosts, targets).await;
    super::dynamic_inventory::publish(run, hosts).await;
    if max_fail_exceeded(pctx, hosts).await {
        // Too many failures in this batch: the play ends for every host.
        for &i in &pctx.batch {
            hosts.states[i].lock().await.ended = true;
        }
        return Flow::EndPlay;
    }
    if flags.any_errors_fatal && outcomes.contains(&Outcome::Failed) {
        for &i in ids {
            let mut h = hosts.states[i].lock().await;
            if !h.failed {
                h.failed = true;
            }
        }
    }
    Flow::Continue
}

/// The task-wide flags, evaluated with the first host's variables as Ansible does.
struct TaskFlags {
    /// `run_once`: the first host runs the task, every host gets its registered result.
    run_once: bool,
    /// `pause` and `add_host` bypass the host loop in Ansible: they run (and count) for the
    /// first host only, and only it gets their registered result.
    bypasses_host_loop: bool,
    any_errors_fatal: bool,
    /// `throttle`: hosts at once.
    throttle: Option<usize>,
}

async fn first_host_flags(
    run: &Run,
    pctx: &PlayCtx<'_>,
    hosts: &Hosts,
    first: usize,
    scope: &Scope<'_>,
    task: &Task,
    effective: &Keywords,
) -> TaskFlags {
    let h = hosts.states[first].lock().await;
    let vars = task_vars(&pctx.vars, &h, &scope.role_vars(), &effective.vars);
    let set = |value| flag(run, value, &vars, false).unwrap_or(false);
    let bypasses_host_loop = matches!(
        fleet_modules::short_name(&task.action),
        "pause" | "add_host"
    );
    let run_once = set(&effective.run_once);
    let throttle = super::task::integer(run, effective.throttle.as_ref(), &vars)
        .and_then(|n| usize::try_from(n).ok())
        .filter(|n| *n > 0);
    TaskFlags {
        run_once,
        bypasses_host_loop,
        any_errors_fatal: set(&effective.any_errors_fatal),
        throttle,
    }
}

/// Facts gathered under `delegate_facts` go to the hosts they were gathered for (a name not in
/// the play's hosts keeps none, as fleet has no state for it).
async fn hand_over_delegated_facts(hosts: &Hosts, ran: &[usize]) {
    let mut handed = Vec::new();
    for &i in ran {
        handed.append(&mut hosts.states[i].lock().await.delegated_facts);
    }
    for (owner, facts) in handed {
        for state in hosts.states.iter() {
            let mut h = state.lock().await;
            if h.name == owner {
                h.facts.extend(facts);
                break;
            }
        }
    }
}

/// A `run_once` task's registered result, registered on every host (as Ansible does).
async fn share_registered(hosts: &Hosts, ids: &[usize], task: &Task) {
    let Some(reg) = &task.register else {
        return;
    };
    let value = hosts.states[ids[0]]
        .lock()
        .await
        .runtime_vars
        .get(reg)
        .cloned();
    if let Some(value) = value {
        for &i in &ids[1..] {
            hosts.states[i]
                .lock()
                .await
                .runtime_vars
                .insert(reg.clone(), value.clone());
        }
    }
}

/// Whether the batch's failed and unreachable hosts exceed the play's `max_fail_percentage`.
async fn max_fail_exceeded(pctx: &PlayCtx<'_>, hosts: &Hosts) -> bool {
    let Some(Templatable::Literal(pct)) = &pctx.play.max_fail_percentage else {
        return false;
    };
    let total = pctx.batch.len();
    let mut failed = 0usize;
    for &i in &pctx.batch {
        let h = hosts.states[i].lock().await;
        if h.failed || h.unreachable {
            failed += 1;
        }
    }
    total > 0 && (failed as f64) * 100.0 / (total as f64) > *pct
}

/// Whether every condition holds for a flow action (`meta`, includes); a condition that cannot
/// be evaluated does not hold.
pub(super) fn all_hold(run: &Run, conditions: &[String], vars: &Vars) -> bool {
    conditions
        .iter()
        .all(|c| run.templar.eval_bool(c, vars).unwrap_or(false))
}

async fn run_meta(
    run: &Run,
    pctx: &PlayCtx<'_>,
    hosts: &Hosts,
    ids: &[usize],
    task: &Task,
    scope: &Scope<'_>,
) -> Flow {
    let what = task
        .args
        .get("_raw_params")
        .and_then(Value::as_str)
        .unwrap_or("noop")
        .to_string();
    match what.as_str() {
        "flush_handlers" => {
            if task.name.is_some() {
                run.report(Event::TaskStart {
                    name: banner(run, pctx, task, scope),
                    handler: false,
                    hosts: ids.len(),
                });
            }
            super::handlers::flush(run, pctx, hosts, ids).await;
            Flow::Continue
        }
        "end_play" => {
            for &i in ids {
                hosts.states[i].lock().await.ended = true;
            }
            Flow::EndPlay
        }
        "end_host" => {
            for &i in ids {
                let mut h = hosts.states[i].lock().await;
                let vars = task_vars(&pctx.vars, &h, &scope.role_vars(), &scope.keywords.vars);
                let mut kw = task.keywords.clone();
                kw.inherit(&scope.keywords);
                if all_hold(run, &kw.when, &vars) {
                    h.ended = true;
                }
            }
            Flow::Continue
        }
        "clear_host_errors" => {
            for &i in ids {
                hosts.states[i].lock().await.failed = false;
            }
            Flow::Continue
        }
        _ => Flow::Continue,
    }
}

/// Reports a task-level error (bad include, missing role) as a failure on each host.
pub(super) async fn fail_all(
    run: &Run,
    hosts: &Hosts,
    ids: &[usize],
    task: &Task,
    msg: &str,
) -> Flow {
    run.report(Event::TaskStart {
        name: task.display_name().to_string(),
        handler: false,
        hosts: ids.len(),
    });
    for &i in ids {
        let mut h = hosts.states[i].lock().await;
        let result = serde_json::json!({"changed": false, "failed": true, "msg": msg});
        run.report(Event::Result(Box::new(HostResult::decided(
            &h.name,
            Status::Failed,
            result,
            &task.action,
        ))));
        h.failed = true;
        h.stats.failed += 1;
    }
    Flow::Continue
}
