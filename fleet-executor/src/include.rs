//! Dynamic includes: `include_tasks` (and templated `import_tasks`) and `include_role`, resolved
//! per host when the walk reaches them.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::context::{PlayCtx, Run, Scope};
use super::error::ExecError;
use super::vars::task_vars;
use super::walk::{all_hold, banner, fail_all, run_items, run_role, Flow, Hosts};
use crate::output::Event;
use fleet_playbook::{load_role, parse_task_file, RoleRequest, Task};
use fleet_templates::Vars;

/// A loop item with the variables it brings (`item`, `ansible_loop_var`, the index var).
type Item = Option<(Value, Map<String, Value>)>;

/// The (host, loop item, variables with the item) an include runs for: each host's loop items
/// (one `None` without a loop) for which `when` holds; and the hosts whose loop failed.
async fn expand(
    run: &Run,
    pctx: &PlayCtx<'_>,
    hosts: &Hosts,
    ids: &[usize],
    task: &Task,
    kw: &fleet_playbook::Keywords,
    scope: &Scope<'_>,
) -> Expanded {
    let control = task.loop_control.clone().unwrap_or_default();
    let (mut out, mut bad_loops, mut skipped) = (Vec::new(), Vec::new(), Vec::new());
    for &i in ids {
        let h = hosts.states[i].lock().await;
        let mut vars = task_vars(&pctx.vars, &h, &scope.role_vars(), &kw.vars);
        // the include's own `vars:` are the task's: its loop, `when` and file name see them
        if let Some(Value::Object(params)) = task.args.get("vars") {
            vars.own_map_mut().extend(params.clone());
        }
        let search = super::vars::search_path(&vars, task, &pctx.play.base_dir);
        vars.insert("ansible_search_path".into(), search);
        let loop_var = super::loops::control_var(run, control.loop_var.as_deref(), "item", &vars);
        let index_var = control
            .index_var
            .as_deref()
            .map(|iv| super::loops::control_var(run, Some(iv), "", &vars));
        let items: Vec<Option<Value>> = match &task.loop_ {
            None => vec![None],
            Some(lp) => match super::loops::loop_items(run, lp, &task.action, &vars) {
                Ok(items) => items.into_iter().map(Some).collect(),
                Err(e) => {
                    bad_loops.push((i, e));
                    continue;
                }
            },
        };
        let (extended, allitems) = super::loops::extended_flags(run, &control, &vars);
        let all: Option<Vec<Value>> = extended.then(|| items.iter().flatten().cloned().collect());
        let ext = all
            .as_deref()
            .map(|all| super::loops::Extended { all, allitems });
        let before = out.len();
        for (index, item) in items.into_iter().enumerate() {
            let item = item.map(|it| {
                let brought =
                    super::loops::item_vars(&loop_var, index_var.as_deref(), index, &it, ext);
                (it, brought)
            });
            let mut item_vars = vars.clone();
            if let Some((_, brought)) = &item {
                item_vars.own_map_mut().extend(brought.clone());
            }
            if all_hold(run, &kw.when, &item_vars) {
                out.push((i, item, item_vars));
            }
        }
        if out.len() == before {
            skipped.push(i);
        }
    }
    Expanded {
        runs: out,
        bad_loops,
        skipped,
    }
}

/// What an include does on its hosts: per host and loop item that `when` lets through, the
/// item's variables; the hosts whose loop could not be resolved; the hosts it skips.
struct Expanded {
    runs: Vec<(usize, Item, Vars)>,
    bad_loops: Vec<(usize, ExecError)>,
    skipped: Vec<usize>,
}

/// `skipping: [host]` for each host an include skips, counted as Ansible counts it.
async fn report_skipped(run: &Run, hosts: &Hosts, skipped: &[usize], task: &Task) {
    for &i in skipped {
        let mut h = hosts.states[i].lock().await;
        h.stats.skipped += 1;
        let result = serde_json::json!({"changed": false, "skipped": true,
            "skip_reason": "Conditional result was False"});
        run.report(Event::Result(Box::new(crate::output::HostResult::decided(
            &h.name,
            crate::output::Status::Skipped,
            result,
            &task.action,
        ))));
    }
}

/// Hosts that include the same thing (a file, a role) with the same loop item, in the order
/// the first of them reached it: each group runs the included tasks together.
type Groups<K> = Vec<(K, Item, Vec<usize>)>;

/// Adds host `i` to the group of `key` and `item`, opening it when it is the first.
fn join_group<K: PartialEq>(groups: &mut Groups<K>, key: K, item: Item, i: usize) {
    match groups
        .iter_mut()
        .find(|(k, it, _)| *k == key && *it == item)
    {
        Some((_, _, group)) => group.push(i),
        None => groups.push((key, item, vec![i])),
    }
}

/// `include_tasks` (and templated `import_tasks`): each host evaluates `when` and the file name;
/// hosts including the same file run it together.
pub(super) async fn run_include(
    run: &Run,
    pctx: &PlayCtx<'_>,
    hosts: &Hosts,
    ids: &[usize],
    task: &Task,
    scope: &Scope<'_>,
) -> Flow {
    let mut kw = task.keywords.clone();
    kw.inherit(&scope.keywords);
    let raw = task.include_file().unwrap_or_default().to_string();
    // (file, loop item, hosts): hosts including the same file with the same item run it together.
    let mut groups: Groups<String> = Vec::new();
    let Expanded {
        runs: expanded,
        bad_loops,
        skipped,
    } = expand(run, pctx, hosts, ids, task, &kw, scope).await;
    let mut bad_names = Vec::new();
    for (i, item, item_vars) in expanded {
        match run.templar.render_str(&raw, &item_vars) {
            Ok(file) => join_group(&mut groups, file, item, i),
            Err(e) => bad_names.push((i, e.to_string())),
        }
    }
    for (i, e) in bad_loops {
        fail_all(run, hosts, &[i], task, &e.to_string()).await;
    }
    for (i, e) in bad_names {
        fail_all(run, hosts, &[i], task, &e).await;
    }
    // Ansible shows the include as a task of its own: `included: FILE for HOSTS`, one `ok` each,
    // and `skipping` for the hosts whose `when` does not hold.
    if !groups.is_empty() || !skipped.is_empty() {
        run.report(Event::TaskStart {
            name: banner(run, pctx, task, scope),
            handler: scope.handler,
            hosts: ids.len(),
        });
    }
    report_skipped(run, hosts, &skipped, task).await;
    let mut resolved = Vec::new();
    for (file, item, group) in groups {
        let path = included_path(pctx, task, &file);
        let mut names = Vec::new();
        for &i in &group {
            let mut h = hosts.states[i].lock().await;
            h.stats.ok += 1;
            names.push(h.name.clone());
        }
        run.report(Event::Included {
            file: std::fs::canonicalize(&path)
                .unwrap_or_else(|_| path.clone())
                .display()
                .to_string(),
            hosts: names,
            item_label: item.as_ref().map(|(it, _)| super::loops::item_label(it)),
        });
        resolved.push((path, item, group));
    }
    for (path, item, group) in resolved {
        let flow = include_one_file(run, pctx, hosts, &group, task, scope, (&path, item));
        if flow.await == Flow::EndPlay {
            return Flow::EndPlay;
        }
    }
    Flow::Continue
}

/// Where an included `file` is: beside the including file, in its role's `tasks/`, or in the
/// playbook's directory; beside the including file when none has it (the parse then names it).
fn included_path(pctx: &PlayCtx<'_>, task: &Task, file: &str) -> PathBuf {
    let base = task.position.file.parent().unwrap_or(Path::new(""));
    let candidates = [
        base.join(file),
        base.parent()
            .map(|p| p.join("tasks").join(file))
            .unwrap_or_default(),
        pctx.play.base_dir.join(file),
    ];
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .unwrap_or_else(|| base.join(file))
}

/// Parses the included file at `path` and runs its tasks on the hosts `ids`, with the
/// include's `vars` and the loop item's variables.
async fn include_one_file(
    run: &Run,
    pctx: &PlayCtx<'_>,
    hosts: &Hosts,
    ids: &[usize],
    task: &Task,
    scope: &Scope<'_>,
    (path, item): (&Path, Item),
) -> Flow {
    let roles = crate::fallback::role_dirs(pctx, scope);
    let base_dir = &pctx.play.base_dir;
    let items = match parse_task_file(path, base_dir, &roles, false, &run.parse_options) {
        Ok(items) => items,
        Err(e) => return fail_all(run, hosts, ids, task, &e.to_string()).await,
    };
    let mut inner = scope.enter(&task.keywords);
    // Conditions of the include were evaluated above; the included tasks do not re-check them.
    inner.keywords.when = scope.keywords.when.clone();
    if let Some(Value::Object(params)) = task.args.get("vars") {
        inner.include_vars.extend(params.clone());
    }
    if let Some((_, brought)) = item {
        inner.include_vars.extend(brought);
    }
    run_items(run, pctx, hosts, ids, &items, &inner).await
}

/// `include_role` (and `import_role` with a templated name): each host evaluates `when` and
/// the role name; hosts naming the same role run it together, the role loaded when reached.
pub(super) async fn run_include_role(
    run: &Run,
    pctx: &PlayCtx<'_>,
    hosts: &Hosts,
    ids: &[usize],
    task: &Task,
    scope: &Scope<'_>,
) -> Flow {
    let request = RoleRequest::from_task(task);
    let mut kw = task.keywords.clone();
    kw.inherit(&scope.keywords);
    // (role name and *_from files, loop item, hosts): hosts naming the same role and files with
    // the same item run it together
    let mut groups: Groups<Vec<Option<String>>> = Vec::new();
    let Expanded {
        runs: expanded,
        bad_loops,
        skipped,
    } = expand(run, pctx, hosts, ids, task, &kw, scope).await;
    for (i, e) in bad_loops {
        fail_all(run, hosts, &[i], task, &e.to_string()).await;
    }
    if !skipped.is_empty() {
        run.report(Event::TaskStart {
            name: banner(run, pctx, task, scope),
            handler: scope.handler,
            hosts: ids.len(),
        });
        report_skipped(run, hosts, &skipped, task).await;
    }
    let raw = [
        Some(request.name.clone()),
        request.tasks_from.clone(),
        request.vars_from.clone(),
        request.defaults_from.clone(),
        request.handlers_from.clone(),
    ];
    for (i, item, vars) in expanded {
        let named: Result<Vec<Option<String>>, _> = raw
            .iter()
            .map(|text| match text {
                Some(t) => run
                    .templar
                    .render_str(t, &vars)
                    .map(|s| Some(s.trim().to_string())),
                None => Ok(None),
            })
            .collect();
        let key = match named {
            Ok(key) => key,
            Err(e) => {
                fail_all(run, hosts, &[i], task, &e.to_string()).await;
                continue;
            }
        };
        join_group(&mut groups, key, item, i);
    }
    for (key, item, group) in groups {
        let mut key = key.into_iter();
        let mut next = || key.next().flatten();
        let request = RoleRequest {
            name: next().unwrap_or_default(),
            tasks_from: next(),
            vars_from: next(),
            defaults_from: next(),
            handlers_from: next(),
            ..RoleRequest::from_task(task)
        };
        let brought = item.map(|(_, brought)| brought).unwrap_or_default();
        let flow = include_one_role(run, pctx, hosts, &group, task, scope, (request, brought));
        if flow.await == Flow::EndPlay {
            return Flow::EndPlay;
        }
    }
    Flow::Continue
}

/// Loads the role of `request` and runs it on the hosts `ids`, with the loop item's variables.
async fn include_one_role(
    run: &Run,
    pctx: &PlayCtx<'_>,
    hosts: &Hosts,
    ids: &[usize],
    task: &Task,
    scope: &Scope<'_>,
    (request, item_vars): (RoleRequest, Map<String, Value>),
) -> Flow {
    let handlers_from = request.handlers_from.clone();
    let role = match load_role(
        request,
        task.position.clone(),
        &pctx.play.base_dir,
        &run.parse_options,
    ) {
        Ok(role) => role,
        Err(e) => return fail_all(run, hosts, ids, task, &e.to_string()).await,
    };
    // Ansible counts the include itself as ok on each host that runs it (it shows no line)
    for &i in ids {
        hosts.states[i].lock().await.stats.ok += 1;
    }
    let mut inner = scope.importing_role().enter(&task.keywords);
    inner.keywords.when = scope.keywords.when.clone();
    inner.include_vars.extend(item_vars);
    let role = std::sync::Arc::new(role);
    let key = format!(
        "{}\0{}",
        role.dir.display(),
        handlers_from.as_deref().unwrap_or("main")
    );
    if !role.handlers.is_empty() {
        let mut included = pctx
            .included_roles
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        // the same role with the same handlers file adds its handlers once
        if !included.iter().any(|(k, _)| *k == key) {
            included.push((key, role.clone()));
        }
    }
    run_role(run, pctx, hosts, ids, &role, &inner).await
}
