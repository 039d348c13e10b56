//! One play: its hosts (pattern and `--limit`), `serial` batches, `vars_files`, fact gathering,
//! then `pre_tasks`, roles, `tasks`, `post_tasks`, each followed by a handler flush.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::context::{PlayCtx, Run, Scope};
use super::error::ExecError;
use super::handlers;
use super::vars::PlayVars;
use super::walk::{active_hosts, run_items, Flow, Hosts};
use crate::output::Event;
use fleet_templates::SharedVars;
use futures::future::join_all;

use fleet_playbook::{BatchSize, Play, Strategy, Task, TaskItem, Templatable, VarsFile};

/// What `run_play` needs beyond the play itself.
pub struct PlayInput<'a> {
    pub inventory: &'a inventory::Inventory,
    /// Indices into `Hosts::states` of the hosts the play targets, in inventory order.
    pub host_ids: Vec<usize>,
    pub extra_vars: Arc<Map<String, Value>>,
    /// Magic variables common to the run (`groups`, `playbook_dir`, ...).
    pub magic: SharedVars,
}

/// Runs one play on its hosts.
pub async fn run_play(run: &Run, play: &Play, hosts: &Hosts, input: PlayInput<'_>) {
    let names: Vec<String> = {
        let mut names = Vec::new();
        for &i in &input.host_ids {
            names.push(hosts.states[i].lock().await.name.clone());
        }
        names
    };
    run.report(Event::PlayStart {
        name: play.display_name().to_string(),
        hosts: names.clone(),
    });
    if !run.start_at.play_may_start(play) {
        // `--start-at-task` names no task of this play: Ansible shows only its banner
        return;
    }
    for &i in &input.host_ids {
        hosts.states[i].lock().await.ended = false;
    }
    let mut magic = (*input.magic).clone();
    magic.insert("ansible_play_hosts_all".into(), json!(names));
    magic.insert("play_hosts".into(), json!(names));
    magic.insert("ansible_play_hosts".into(), json!(names));
    magic.insert("ansible_play_name".into(), json!(play.display_name()));
    super::role_names::insert_play_role_names(play, &mut magic);
    let mut play_vars = PlayVars {
        vars: play.keywords.vars.clone(),
        vars_files: Map::new(),
        extra: input.extra_vars.clone(),
        magic: Arc::new(magic),
    };
    if let Err(e) = load_vars_files(run, play, &mut play_vars) {
        run.report(Event::Warning(e.to_string()));
        for &i in &input.host_ids {
            let mut h = hosts.states[i].lock().await;
            h.failed = true;
            h.stats.failed += 1;
        }
        return;
    }
    let hostvars_in_vars = super::hostvars::play_vars_mention_hostvars(&play_vars, input.inventory);
    let pctx = PlayCtx {
        play,
        hostvars_in_vars,
        vars: play_vars,
        inventory: input.inventory,
        batch: Vec::new(),
        included_roles: Default::default(),
    };
    for batch in batches(play, &input.host_ids) {
        if run.interrupted() {
            return;
        }
        let batch_names: Vec<String> = {
            let mut v = Vec::new();
            for &i in &batch {
                v.push(hosts.states[i].lock().await.name.clone());
            }
            v
        };
        let mut pctx_batch = PlayCtx {
            play,
            hostvars_in_vars,
            inventory: input.inventory,
            batch: batch.clone(),
            included_roles: Default::default(),
            vars: PlayVars {
                vars: pctx.vars.vars.clone(),
                vars_files: pctx.vars.vars_files.clone(),
                extra: pctx.vars.extra.clone(),
                magic: pctx.vars.magic.clone(),
            },
        };
        let mut magic = (*pctx.vars.magic).clone();
        magic.insert("ansible_play_batch".into(), json!(batch_names));
        pctx_batch.vars.magic = Arc::new(magic);
        if !run_batch(run, &pctx_batch, hosts, &batch).await {
            break;
        }
    }
    if active_hosts(hosts, &input.host_ids).await.is_empty() {
        run.report(Event::NoMoreHosts);
    }
}

/// Runs the play's sections on one batch; false when the play must stop
/// (`max_fail_percentage` exceeded, `meta: end_play`).
async fn run_batch(run: &Run, pctx: &PlayCtx<'_>, hosts: &Hosts, batch: &[usize]) -> bool {
    let play = pctx.play;
    let scope = Scope {
        keywords: play.keywords.clone(),
        ..Scope::default()
    };
    let gather = match &play.gather_facts {
        Templatable::Literal(b) => *b,
        Templatable::Template(t) => run
            .templar
            .eval_bool(t, &Value::Object(pctx.vars.extra.as_ref().clone()))
            .unwrap_or(true),
    };
    if gather {
        let setup = TaskItem::Task(Box::new(Task {
            name: Some("Gathering Facts".into()),
            action: "setup".into(),
            args: play.fact_args.clone(),
            ..Task::empty(play.position.clone())
        }));
        let mut fact_scope = scope.clone();
        // Facts are gathered whatever tags select (Ansible tags the task `always`).
        fact_scope.keywords.tags = vec!["always".into()];
        fact_scope.gathering = true;
        run_items(
            run,
            pctx,
            hosts,
            batch,
            std::slice::from_ref(&setup),
            &fact_scope,
        )
        .await;
    }
    let roles: Vec<TaskItem> = play
        .roles
        .iter()
        .map(|r| TaskItem::Role(Box::new(r.clone())))
        .collect();
    let sections: [&[TaskItem]; 3] = [&play.pre_tasks, &[], &play.post_tasks];

    for (n, section) in sections.iter().enumerate() {
        let run_section = |ids: Vec<usize>| {
            let scope = &scope;
            let roles = &roles;
            async move {
                if n == 1 {
                    let flow = run_items(run, pctx, hosts, &ids, roles, scope).await;
                    if flow == Flow::EndPlay {
                        return flow;
                    }
                    run_items(run, pctx, hosts, &ids, &play.tasks, scope).await
                } else {
                    run_items(run, pctx, hosts, &ids, section, scope).await
                }
            }
        };
        let flow = match effective_strategy(run, pctx) {
            Strategy::Linear => run_section(batch.to_vec()).await,
            // Each host goes through the section at its own pace.
            Strategy::Free => {
                let flows = join_all(batch.iter().map(|&i| run_section(vec![i]))).await;
                if flows.contains(&Flow::EndPlay) {
                    Flow::EndPlay
                } else {
                    Flow::Continue
                }
            }
        };
        if flow == Flow::EndPlay {
            return false;
        }
        handlers::flush(run, pctx, hosts, batch).await;
    }
    true
}

/// Splits the play's hosts into `serial` batches (the last size repeats).
fn batches(play: &Play, ids: &[usize]) -> Vec<Vec<usize>> {
    if play.serial.is_empty() || ids.is_empty() {
        return vec![ids.to_vec()];
    }
    let mut out = Vec::new();
    let mut rest = ids;
    let mut sizes = play.serial.iter();
    let mut last = 0usize;
    while !rest.is_empty() {
        let size = match sizes.next() {
            Some(BatchSize::Count(n)) => *n as usize,
            Some(BatchSize::Percent(p)) => ((ids.len() as f64) * p / 100.0).floor() as usize,
            Some(BatchSize::Template(_)) | None => last,
        }
        .max(1);
        last = size;
        let (now, later) = rest.split_at(size.min(rest.len()));
        out.push(now.to_vec());
        rest = later;
    }
    out
}

fn load_vars_files(run: &Run, play: &Play, vars: &mut PlayVars) -> Result<(), ExecError> {
    let mut scope = vars.vars.clone();
    scope.extend(vars.extra.as_ref().clone());
    scope.extend((*vars.magic).clone());
    let scope = Value::Object(scope);
    for file in &play.vars_files {
        let candidates: Vec<&String> = match file {
            VarsFile::Path(p) => vec![p],
            VarsFile::FirstFound(list) => list.iter().collect(),
        };
        let mut loaded = false;
        for candidate in &candidates {
            let name = run.templar.render_str(candidate, &scope).map_err(|error| {
                ExecError::VarsFileName {
                    file: candidate.to_string(),
                    error,
                }
            })?;
            let path = play.base_dir.join(&name);
            let text = match inventory::read_data_file(&path) {
                Ok(text) => text,
                // a vault no secret opens is an error, not a missing candidate
                Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                    return Err(inventory::InventoryError::io(&path, e).into())
                }
                Err(_) => continue,
            };
            match inventory::load_yaml11(&text, &path.to_string_lossy()) {
                Ok(Value::Object(map)) => vars.vars_files.extend(map),
                Ok(Value::Null) => {}
                Ok(_) => return Err(ExecError::VarsFileNotMapping(path)),
                Err(e) => return Err(e.into()),
            }
            loaded = true;
            break;
        }
        if !loaded {
            return Err(ExecError::VarsFileNotFound(
                candidates
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            ));
        }
    }
    Ok(())
}

/// The play's strategy, a templated one rendered with the play's and extra variables (as
/// Ansible templates it before any host runs): `free` and `host_pinned` run hosts
/// independently, anything else in lockstep.
fn effective_strategy(run: &Run, pctx: &PlayCtx<'_>) -> Strategy {
    let Some(template) = &pctx.play.strategy_template else {
        return pctx.play.strategy;
    };
    let mut vars = pctx.vars.vars.clone();
    vars.extend(pctx.vars.extra.as_ref().clone());
    match run
        .templar
        .render_str(template, &Value::Object(vars))
        .as_deref()
    {
        Ok("free") | Ok("host_pinned") => Strategy::Free,
        _ => Strategy::Linear,
    }
}
