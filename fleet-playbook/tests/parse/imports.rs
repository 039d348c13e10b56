//! Static imports and roles, resolved at parse time.

use serde_json::json;

use super::*;

#[test]
fn import_tasks_is_inlined_with_its_keywords() {
    let fixture = Fixture::new(&[
        (
            "site.yml",
            r#"- hosts: all
  tasks:
    - ping:
    - import_tasks: tasks/setup.yml
      when: setup_wanted
      tags: [setup]
      vars: {who: importer, level: 1}
    - debug: msg=last
"#,
        ),
        (
            "tasks/setup.yml",
            r#"- name: first
  debug: msg={{ who }}
  when: inner
  tags: own
  vars: {level: 2}
- import_tasks: nested/deeper.yml
- block:
    - ping:
"#,
        ),
        ("tasks/nested/deeper.yml", "- name: deep\n  ping:\n"),
    ]);
    let play = &fixture.playbook("site.yml").plays[0];
    let names: Vec<String> = flatten(&play.tasks)
        .iter()
        .map(|t| t.display_name().to_string())
        .collect();
    assert_eq!(names, ["ping", "first", "deep", "ping", "debug"]);
    assert_eq!(play.tasks.len(), 5);
    let first = task(&play.tasks[1]);
    assert_eq!(first.keywords.when, ["setup_wanted", "inner"]);
    assert_eq!(first.keywords.tags, ["setup", "own"]);
    assert_eq!(
        Value::Object(first.keywords.vars.clone()),
        json!({"who": "importer", "level": 2})
    );
    assert_eq!(
        fixture.relative(&first.position.to_string()),
        "tasks/setup.yml:1:3"
    );
    // Nested imports resolve from the importing file's directory and inherit too.
    let deep = task(&play.tasks[2]);
    assert_eq!(deep.keywords.when, ["setup_wanted"]);
    assert_eq!(
        fixture.relative(&deep.position.to_string()),
        "tasks/nested/deeper.yml:1:3"
    );
    // A block inherits as a whole.
    assert_eq!(block(&play.tasks[3]).keywords.tags, ["setup"]);
    assert!(task(&play.tasks[4]).keywords.when.is_empty());
}

/// Tasks in order, blocks opened.
fn flatten(items: &[TaskItem]) -> Vec<&Task> {
    let mut out = Vec::new();
    for item in items {
        match item {
            TaskItem::Task(task) => out.push(task.as_ref()),
            TaskItem::Block(block) => {
                out.extend(flatten(&block.block));
                out.extend(flatten(&block.rescue));
                out.extend(flatten(&block.always));
            }
            TaskItem::Role(role) => out.extend(flatten(&role.tasks)),
        }
    }
    out
}

#[test]
fn import_tasks_falls_back_to_the_playbook_directory() {
    let fixture = Fixture::new(&[
        ("site.yml", "- hosts: all\n  roles: [r]\n"),
        (
            "roles/r/tasks/main.yml",
            "- import_tasks: common.yml\n- import_tasks: local.yml\n",
        ),
        ("roles/r/tasks/local.yml", "- debug: msg=local\n"),
        ("common.yml", "- debug: msg=common\n"),
    ]);
    let role = &fixture.playbook("site.yml").plays[0].roles[0];
    assert_eq!(args(&role.tasks[0]), json!({"msg": "common"}));
    assert_eq!(args(&role.tasks[1]), json!({"msg": "local"}));
}

#[test]
fn roles_with_entries_dependencies_and_options() {
    let fixture = Fixture::new(&[
        (
            "site.yml",
            r#"- hosts: all
  roles:
    - common
    - role: web
      when: web_wanted
      tags: web
      vars: {tier: front}
      become: true
      http_port: 80
    - name: extra
"#,
        ),
        ("roles/common/tasks/main.yml", "- debug: msg=common\n"),
        ("roles/common/vars/main.yml", "common_var: 1\n"),
        ("roles/web/tasks/main.yaml", "- debug: msg=web\n"),
        ("roles/web/handlers/main.yml", "- name: reload\n  ping:\n  listen: reload all\n"),
        (
            "roles/web/meta/main.yml",
            "galaxy_info: {author: me}\nallow_duplicates: yes\ndependencies:\n  - common\n  - {role: base, base_level: 3}\n",
        ),
        ("roles/base/defaults/main.yml", "base_level: 1\n"),
        ("shared/extra/tasks/main.yml", "- ping:\n"),
    ]);
    let options = ParseOptions {
        roles_path: vec![fixture.path("shared")],
        ..ParseOptions::default()
    };
    let play = &fixture.playbook_with("site.yml", &options).plays[0];
    let names: Vec<&str> = play.roles.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["common", "web", "extra"]);
    assert_eq!(
        Value::Object(play.roles[0].vars.clone()),
        json!({"common_var": 1})
    );
    let web = &play.roles[1];
    assert_eq!(web.keywords.when, ["web_wanted"]);
    assert_eq!(web.keywords.tags, ["web"]);
    assert_eq!(web.keywords.become_, Some(Flag::Literal(true)));
    assert_eq!(
        Value::Object(web.keywords.vars.clone()),
        json!({"tier": "front"})
    );
    assert_eq!(Value::Object(web.params.clone()), json!({"http_port": 80}));
    assert!(web.allow_duplicates);
    assert_eq!(task(&web.handlers[0]).listen, ["reload all"]);
    let deps: Vec<&str> = web.dependencies.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(deps, ["common", "base"]);
    let base = &web.dependencies[1];
    assert_eq!(Value::Object(base.params.clone()), json!({"base_level": 3}));
    assert_eq!(
        Value::Object(base.defaults.clone()),
        json!({"base_level": 1})
    );
    assert!(base.tasks.is_empty());
    assert_eq!(
        fixture.relative(&base.position.to_string()),
        "roles/web/meta/main.yml:5:5"
    );
    assert_eq!(play.roles[2].dir, fixture.path("shared/extra"));
}

#[test]
fn import_role_is_loaded_and_include_role_is_not() {
    let fixture = Fixture::new(&[
        (
            "site.yml",
            r#"- hosts: all
  tasks:
    - import_role:
        name: web
        tasks_from: install
        vars_from: extra
      when: x
      vars: {a: 1}
    - include_role: {name: web}
    - import_role: name={{ dynamic_role }}
"#,
        ),
        ("roles/web/tasks/main.yml", "- debug: msg=main\n"),
        ("roles/web/tasks/install.yml", "- debug: msg=install\n"),
        ("roles/web/vars/extra.yml", "extra: true\n"),
    ]);
    let play = &fixture.playbook("site.yml").plays[0];
    let TaskItem::Role(role) = &play.tasks[0] else {
        panic!("import_role should load the role: {:?}", play.tasks[0]);
    };
    assert_eq!(role.name, "web");
    assert_eq!(args(&role.tasks[0]), json!({"msg": "install"}));
    assert_eq!(Value::Object(role.vars.clone()), json!({"extra": true}));
    assert_eq!(role.keywords.when, ["x"]);
    assert_eq!(Value::Object(role.keywords.vars.clone()), json!({"a": 1}));
    assert_eq!(fixture.relative(&role.position.to_string()), "site.yml:3:7");
    assert_eq!(task(&play.tasks[1]).action, "include_role");
    assert_eq!(task(&play.tasks[2]).action, "import_role");

    // The executor loads an include_role at run time.
    let request = RoleRequest::from_task(task(&play.tasks[1]));
    let loaded = load_role(
        request,
        task(&play.tasks[1]).position.clone(),
        &play.base_dir,
        &ParseOptions::default(),
    )
    .expect("role loads");
    assert_eq!(args(&loaded.tasks[0]), json!({"msg": "main"}));
}

#[test]
fn import_playbook_inlines_plays_with_vars_tags_and_when() {
    let fixture = Fixture::new(&[
        (
            "site.yml",
            r#"- hosts: all
  tasks: [{ping: }]
- import_playbook: sub/other.yml
  vars: {color: blue}
  tags: imported
  when: do_it
- ansible.builtin.import_playbook: sub/other.yml
"#,
        ),
        (
            "sub/other.yml",
            "- name: other\n  hosts: web\n  vars: {color: red, size: 1}\n  roles: [r]\n  tasks:\n    - ping:\n  handlers:\n    - name: h\n      ping:\n",
        ),
        ("sub/roles/r/tasks/main.yml", "- ping:\n"),
    ]);
    let playbook = fixture.playbook("site.yml");
    assert_eq!(playbook.plays.len(), 3);
    let imported = &playbook.plays[1];
    assert_eq!(imported.display_name(), "other");
    assert_eq!(imported.base_dir, fixture.path("sub"));
    assert_eq!(
        Value::Object(imported.keywords.vars.clone()),
        json!({"color": "blue", "size": 1})
    );
    assert_eq!(imported.keywords.tags, ["imported"]);
    assert_eq!(imported.tasks[0].keywords().when, ["do_it"]);
    assert_eq!(imported.roles[0].keywords.when, ["do_it"]);
    assert!(imported.handlers[0].keywords().when.is_empty());
    // Roles resolve next to the imported playbook.
    assert_eq!(imported.roles[0].dir, fixture.path("sub/roles/r"));
    assert!(playbook.plays[2].tasks[0].keywords().when.is_empty());
}

#[test]
fn a_playbook_given_as_text_resolves_imports_next_to_its_path() {
    let fixture = Fixture::new(&[("other.yml", "- hosts: db\n  tasks:\n    - ping:\n")]);
    let path = fixture.path("site.yml");
    let text = "- hosts: web\n  tasks:\n    - ping:\n- import_playbook: other.yml\n";
    let playbook = parse_playbook_str(&path, text, &ParseOptions::default()).unwrap();
    assert_eq!(playbook.path, path);
    let hosts: Vec<&str> = playbook.plays.iter().map(|p| p.hosts.as_str()).collect();
    assert_eq!(hosts, ["web", "db"]);
    let errors = parse_playbook_str(&path, "- hosts: [", &ParseOptions::default()).unwrap_err();
    assert!(errors.errors()[0].position().is_some());
}
