//! Handlers: tasks that run once per host, at the end of each section of a play (or at
//! `meta: flush_handlers`), only on hosts that notified them, in the order they are defined.

use super::context::{PlayCtx, Run, Scope};
use super::walk::{run_items, Hosts};
use fleet_playbook::{Keywords, Role, TaskItem};

/// A handler with the role it came from.
pub struct Handler<'a> {
    pub item: &'a TaskItem,
    pub role: Option<&'a Role>,
}

/// Every handler of the play: the play's own, then each role's, then those of the roles
/// `include_role` loaded (`dynamic`).
pub fn collect<'a>(
    play: &'a fleet_playbook::Play,
    dynamic: &'a [std::sync::Arc<Role>],
) -> Vec<Handler<'a>> {
    let mut out: Vec<Handler<'a>> = play
        .handlers
        .iter()
        .map(|item| Handler { item, role: None })
        .collect();
    for role in &play.roles {
        add_role(role, &mut out);
    }
    let mut stack: Vec<&'a TaskItem> = play
        .pre_tasks
        .iter()
        .chain(&play.tasks)
        .chain(&play.post_tasks)
        .collect();
    while let Some(item) = stack.pop() {
        match item {
            TaskItem::Role(role) => add_role(role, &mut out),
            TaskItem::Block(b) => stack.extend(b.block.iter().chain(&b.rescue).chain(&b.always)),
            TaskItem::Task(_) => {}
        }
    }
    for role in dynamic {
        add_role(role, &mut out);
    }
    out
}

/// A role's handlers after its dependencies'; a role referenced again with the same handlers
/// file adds them once (a notified handler runs once per flush, as in Ansible).
fn add_role<'a>(role: &'a Role, out: &mut Vec<Handler<'a>>) {
    for dep in &role.dependencies {
        add_role(dep, out);
    }
    let same = |r: &Role| r.dir == role.dir && r.from_files.handlers == role.from_files.handlers;
    if out.iter().any(|h| h.role.is_some_and(same)) {
        return;
    }
    out.extend(role.handlers.iter().map(|item| Handler {
        item,
        role: Some(role),
    }));
}

/// The names a handler answers to: its name, `role : name`, and its `listen` topics.
fn answers_to(handler: &Handler<'_>, notified: &str) -> bool {
    let TaskItem::Task(task) = handler.item else {
        return false;
    };
    let name = task.name.as_deref().unwrap_or_default();
    name == notified
        || handler
            .role
            .is_some_and(|r| format!("{} : {name}", r.name) == notified)
        || task.listen.iter().any(|l| l == notified)
}

/// The keywords a handler inherits: its role's (`import_role: ... delegate_to: x` delegates
/// the role's handlers too, as Ansible makes the import their parent), then the play's.
fn handler_keywords(play: &fleet_playbook::Play, role: Option<&Role>) -> Keywords {
    let mut kw = match role {
        Some(role) => Keywords {
            when: Vec::new(),
            tags: Vec::new(),
            ..role.keywords.clone()
        },
        None => Keywords::default(),
    };
    kw.inherit(&play.keywords);
    kw
}

/// Runs the notified handlers on the hosts that notified them.
pub async fn flush(run: &Run, pctx: &PlayCtx<'_>, hosts: &Hosts, ids: &[usize]) {
    let dynamic = pctx
        .included_roles
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .map(|(_, role)| role.clone())
        .collect::<Vec<_>>();
    let handlers = collect(pctx.play, &dynamic);
    for handler in &handlers {
        // Several handlers may listen to one topic: a notification stays until the flush ends.
        let mut targets = Vec::new();
        for &i in ids {
            let h = hosts.states[i].lock().await;
            if h.active() && h.notified.iter().any(|n| answers_to(handler, n)) {
                targets.push(i);
            }
        }
        if targets.is_empty() {
            continue;
        }
        let scope = Scope {
            keywords: handler_keywords(pctx.play, handler.role),
            roles: handler.role.into_iter().collect(),
            handler: true,
            ..Scope::default()
        };
        run_items(
            run,
            pctx,
            hosts,
            &targets,
            std::slice::from_ref(handler.item),
            &scope,
        )
        .await;
    }
    for &i in ids {
        let mut h = hosts.states[i].lock().await;
        h.notified
            .retain(|n| !handlers.iter().any(|handler| answers_to(handler, n)));
    }
}
