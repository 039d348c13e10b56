//! The role-name magic variables, as Ansible's variable manager and `include_role` set them:
//! `ansible_play_role_names` (and its old name `role_names`: the roles of the play's `roles:`
//! and every role imported with `import_role`, in load order), `ansible_dependent_role_names`
//! (every role reached as a `meta/main.yml` dependency), `ansible_role_names` (both), and for a
//! task of a role imported or included from another role's task, `ansible_parent_role_names`
//! and `ansible_parent_role_paths` (innermost parent first). Ansible adds a role that
//! `include_role` loads to the play's roles when the include runs; fleet's lists hold the roles
//! known when the play starts.

use serde_json::{json, Map, Value};

use fleet_playbook::{Play, Role, TaskItem};

/// The play-wide role names, inserted into the play's magic variables.
pub fn insert_play_role_names(play: &Play, magic: &mut Map<String, Value>) {
    let mut direct = Vec::new();
    let mut dependent = Vec::new();
    for role in &play.roles {
        visit_role(role, &mut direct, &mut dependent);
    }
    for section in [
        &play.pre_tasks,
        &play.tasks,
        &play.post_tasks,
        &play.handlers,
    ] {
        visit_items(section, &mut direct, &mut dependent);
    }
    let mut all: Vec<String> = direct.iter().chain(&dependent).cloned().collect();
    all.sort();
    all.dedup();
    dependent.sort();
    dependent.dedup();
    magic.insert("ansible_play_role_names".into(), json!(direct));
    magic.insert("role_names".into(), json!(direct));
    magic.insert("ansible_dependent_role_names".into(), json!(dependent));
    magic.insert("ansible_role_names".into(), json!(all));
}

/// A role the play loads directly: its name, its dependencies', and the roles its tasks import.
fn visit_role(role: &Role, direct: &mut Vec<String>, dependent: &mut Vec<String>) {
    direct.push(role.name.clone());
    visit_dependencies(role, direct, dependent);
    visit_items(&role.tasks, direct, dependent);
    visit_items(&role.handlers, direct, dependent);
}

fn visit_dependencies(role: &Role, direct: &mut Vec<String>, dependent: &mut Vec<String>) {
    for dep in &role.dependencies {
        dependent.push(dep.name.clone());
        visit_dependencies(dep, direct, dependent);
        visit_items(&dep.tasks, direct, dependent);
    }
}

fn visit_items(items: &[TaskItem], direct: &mut Vec<String>, dependent: &mut Vec<String>) {
    for item in items {
        match item {
            TaskItem::Task(_) => {}
            TaskItem::Block(b) => {
                for list in [&b.block, &b.rescue, &b.always] {
                    visit_items(list, direct, dependent);
                }
            }
            TaskItem::Role(role) => visit_role(role, direct, dependent),
        }
    }
}

/// `ansible_parent_role_names`/`_paths` of a task whose enclosing roles were imported or
/// included from other roles' tasks (`parents`, innermost first); nothing for the others.
pub fn insert_parent_roles(parents: &[&Role], vars: &mut fleet_templates::Vars) {
    if parents.is_empty() {
        return;
    }
    let names: Vec<&str> = parents.iter().map(|r| r.name.as_str()).collect();
    let paths: Vec<String> = parents
        .iter()
        .map(|r| r.dir.display().to_string())
        .collect();
    vars.insert("ansible_parent_role_names".into(), json!(names));
    vars.insert("ansible_parent_role_paths".into(), json!(paths));
}
