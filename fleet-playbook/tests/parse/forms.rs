//! Every way of writing a task, its keywords and a play, and the model each gives.

use serde_json::json;

use super::*;

#[test]
fn free_form_strings_become_kv_args() {
    let tasks = tasks_of(
        r#"    - file: path=/x state=touch mode='0644'
    - command: echo hi chdir=/tmp creates=/tmp/x
    - shell: FOO=bar env | grep FOO
    - raw: uptime
    - set_fact: a=1 b="two words"
    - meta: flush_handlers
    - ping:
"#,
    );
    assert_eq!(
        args(&tasks[0]),
        json!({"path": "/x", "state": "touch", "mode": "0644"})
    );
    assert_eq!(
        args(&tasks[1]),
        json!({"_raw_params": "echo hi", "chdir": "/tmp", "creates": "/tmp/x"})
    );
    assert_eq!(
        args(&tasks[2]),
        json!({"_raw_params": "FOO=bar env | grep FOO"})
    );
    assert_eq!(args(&tasks[3]), json!({"_raw_params": "uptime"}));
    assert_eq!(args(&tasks[4]), json!({"a": "1", "b": "two words"}));
    assert_eq!(args(&tasks[5]), json!({"_raw_params": "flush_handlers"}));
    assert_eq!(args(&tasks[6]), json!({}));
    assert_eq!(task(&tasks[6]).display_name(), "ping");
}

#[test]
fn multi_line_shell_keeps_its_lines() {
    let tasks = tasks_of("    - shell: |\n        echo a\n        echo  b\n");
    assert_eq!(args(&tasks[0]), json!({"_raw_params": "echo a\necho  b\n"}));
}

#[test]
fn old_action_and_local_action_forms() {
    let tasks = tasks_of(
        r#"    - action: copy src=a dest=b
    - action: {module: file, path: /x, state: absent}
    - local_action: command echo hi chdir=/tmp
    - local_action:
        module: ansible.builtin.copy
        content: x
        dest: /tmp/y
"#,
    );
    assert_eq!(task(&tasks[0]).action, "copy");
    assert_eq!(args(&tasks[0]), json!({"src": "a", "dest": "b"}));
    assert_eq!(task(&tasks[0]).keywords.delegate_to, None);
    assert_eq!(args(&tasks[1]), json!({"path": "/x", "state": "absent"}));
    assert_eq!(task(&tasks[2]).action, "command");
    assert_eq!(
        args(&tasks[2]),
        json!({"_raw_params": "echo hi", "chdir": "/tmp"})
    );
    assert_eq!(
        task(&tasks[2]).keywords.delegate_to.as_deref(),
        Some("localhost")
    );
    assert_eq!(task(&tasks[3]).action, "copy");
    assert_eq!(args(&tasks[3]), json!({"content": "x", "dest": "/tmp/y"}));
    assert_eq!(
        task(&tasks[3]).keywords.delegate_to.as_deref(),
        Some("localhost")
    );
}

#[test]
fn args_keyword_merges_under_the_module_args() {
    let tasks = tasks_of(
        r#"    - command: ls
      args:
        chdir: /srv
    - copy: dest=/b
      args: {src: a, dest: /ignored}
    - copy: "{{ copy_args }}"
"#,
    );
    assert_eq!(
        args(&tasks[0]),
        json!({"_raw_params": "ls", "chdir": "/srv"})
    );
    assert_eq!(args(&tasks[1]), json!({"src": "a", "dest": "/b"}));
    assert_eq!(
        args(&tasks[2]),
        json!({"_variable_params": "{{ copy_args }}"})
    );
}

#[test]
fn qualified_module_names_are_shortened() {
    let tasks = tasks_of(
        "    - ansible.builtin.copy: {src: a, dest: b}\n    - ansible.legacy.command: id\n",
    );
    assert_eq!(task(&tasks[0]).action, "copy");
    assert_eq!(task(&tasks[1]).action, "command");
}

#[test]
fn conditions_accept_strings_lists_and_booleans() {
    let tasks = tasks_of(
        r#"    - ping:
      when: a == 1
      changed_when: [x, "y is defined"]
      failed_when: false
    - ping:
      when: yes
      until: r.rc == 0
      retries: 5
      delay: "{{ d }}"
"#,
    );
    let first = task(&tasks[0]);
    assert_eq!(first.keywords.when, ["a == 1"]);
    assert_eq!(first.changed_when, ["x", "y is defined"]);
    assert_eq!(first.failed_when, ["False"]);
    let second = task(&tasks[1]);
    assert_eq!(second.keywords.when, ["True"]);
    assert_eq!(second.until, ["r.rc == 0"]);
    assert_eq!(second.retries, Some(Templatable::Literal(5)));
    assert_eq!(second.delay, Some(Templatable::Template("{{ d }}".into())));
}

#[test]
fn loops_of_every_supported_kind() {
    let tasks = tasks_of(
        r#"    - debug: var=item
      with_items: [[1, 2], 3]
    - debug: var=item
      with_list: [a]
    - debug: var=item
      with_dict: {a: 1}
    - debug: var=item
      with_indexed_items: "{{ xs }}"
    - debug: var=item
      with_sequence: start=1 end=3
    - debug: var=item
      with_fileglob: ["*.conf"]
    - debug: var=x
      loop: "{{ xs }}"
      loop_control: {loop_var: x, index_var: i, label: "{{ x.name }}", pause: 1.5, extended: yes}
    - debug: var=item
      with_nested: [[1, 2], [a]]
    - debug: var=item
      with_community.general.dig: x
"#,
    );
    let kinds: Vec<LoopKind> = tasks
        .iter()
        .map(|t| task(t).loop_.as_ref().expect("loop").kind)
        .collect();
    use LoopKind::*;
    assert_eq!(
        kinds,
        [
            Items,
            List,
            Dict,
            IndexedItems,
            Sequence,
            Fileglob,
            Loop,
            Lookup,
            Lookup
        ]
    );
    let lookups: Vec<Option<String>> = tasks
        .iter()
        .map(|t| task(t).loop_.as_ref().expect("loop").lookup.clone())
        .collect();
    assert_eq!(lookups[7].as_deref(), Some("nested"));
    assert_eq!(lookups[8].as_deref(), Some("community.general.dig"));
    assert!(lookups[..7].iter().all(Option::is_none));
    assert_eq!(
        task(&tasks[0]).loop_.as_ref().map(|l| l.items.clone()),
        Some(json!([[1, 2], 3]))
    );
    assert_eq!(
        task(&tasks[4]).loop_.as_ref().map(|l| l.items.clone()),
        Some(json!("start=1 end=3"))
    );
    assert_eq!(
        task(&tasks[6]).loop_control,
        Some(LoopControl {
            loop_var: Some("x".into()),
            index_var: Some("i".into()),
            label: Some("{{ x.name }}".into()),
            pause: Some(Templatable::Literal(1.5)),
            extended: Some(Flag::Literal(true)),
            extended_allitems: None,
            break_when: vec![],
        })
    );
}

#[test]
fn boolean_keywords_accept_yaml_strings_and_templates() {
    let tasks = tasks_of(
        r#"    - ping:
      become: "yes"
      ignore_errors: "false"
      no_log: 1
      check_mode: on
      run_once: "{{ once }}"
      become_user: postgres
      become_method: sudo
      delegate_to: "{{ groups.db[0] }}"
      tags: "a, b"
      vars: {x: 1, y: "{{ x }}"}
      environment: {PATH: "/opt/bin:{{ ansible_env.PATH }}"}
      notify: restart
      diff: no
"#,
    );
    let kw = &task(&tasks[0]).keywords;
    assert_eq!(kw.become_, Some(Flag::Literal(true)));
    assert_eq!(kw.ignore_errors, Some(Flag::Literal(false)));
    assert_eq!(kw.no_log, Some(Flag::Literal(true)));
    assert_eq!(kw.check_mode, Some(Flag::Literal(true)));
    assert_eq!(kw.run_once, Some(Flag::Template("{{ once }}".into())));
    assert_eq!(kw.diff, Some(Flag::Literal(false)));
    assert_eq!(kw.become_user.as_deref(), Some("postgres"));
    assert_eq!(kw.become_method.as_deref(), Some("sudo"));
    assert_eq!(kw.delegate_to.as_deref(), Some("{{ groups.db[0] }}"));
    assert_eq!(kw.tags, ["a", "b"]);
    assert_eq!(
        Value::Object(kw.vars.clone()),
        json!({"x": 1, "y": "{{ x }}"})
    );
    assert_eq!(
        kw.environment,
        [json!({"PATH": "/opt/bin:{{ ansible_env.PATH }}"})]
    );
    assert_eq!(task(&tasks[0]).notify, ["restart"]);
}

#[test]
fn blocks_carry_keywords_and_nest() {
    let tasks = tasks_of(
        r#"    - name: outer
      when: x
      become: true
      tags: [t]
      block:
        - block:
            - ping:
          rescue:
            - ping:
      always:
        - debug: msg=done
"#,
    );
    let outer = block(&tasks[0]);
    assert_eq!(outer.keywords.when, ["x"]);
    assert_eq!(outer.keywords.become_, Some(Flag::Literal(true)));
    assert_eq!(outer.keywords.tags, ["t"]);
    assert!(outer.rescue.is_empty());
    assert_eq!(args(&outer.always[0]), json!({"msg": "done"}));
    let inner = block(&outer.block[0]);
    assert_eq!((inner.block.len(), inner.rescue.len()), (1, 1));
    assert_eq!((inner.position.line, inner.position.col), (8, 11));
}

#[test]
fn handlers_may_listen() {
    let text = "- hosts: all\n  handlers:\n    - name: restart web\n      service: name=nginx state=restarted\n      listen: [web, \"all services\"]\n";
    let fixture = Fixture::new(&[("play.yml", text)]);
    let play = &fixture.playbook("play.yml").plays[0];
    assert_eq!(task(&play.handlers[0]).listen, ["web", "all services"]);
}

#[test]
fn play_keywords() {
    let text = r#"- hosts: [web, db]
  serial: [1, "30%", "{{ n }}"]
  strategy: free
  max_fail_percentage: 25
  any_errors_fatal: true
  ignore_unreachable: yes
  become: yes
  become_user: root
  remote_user: deploy
  check_mode: false
  environment: "{{ proxy_env }}"
  tags: deploy
  force_handlers: true
  vars_files: [common.yml, ["{{ os }}.yml", default.yml]]
  pre_tasks: [{ping: }]
  post_tasks:
  tasks: []
- name: second
  hosts: "{{ target }}"
  serial: 2
  max_fail_percentage: "10%"
  strategy: "{{ test_strategy | default('linear') }}"
"#;
    let fixture = Fixture::new(&[("play.yml", text)]);
    let playbook = fixture.playbook("play.yml");
    let play = &playbook.plays[0];
    assert_eq!(play.hosts, "web,db");
    assert_eq!(play.display_name(), "web,db");
    assert_eq!(
        play.serial,
        [
            BatchSize::Count(1),
            BatchSize::Percent(30.0),
            BatchSize::Template("{{ n }}".into())
        ]
    );
    assert_eq!(play.strategy, Strategy::Free);
    assert_eq!(play.strategy_template, None);
    // issue 18: a templated strategy is resolved when the play runs
    assert_eq!(
        playbook.plays[1].strategy_template.as_deref(),
        Some("{{ test_strategy | default('linear') }}")
    );
    assert_eq!(play.max_fail_percentage, Some(Templatable::Literal(25.0)));
    assert_eq!(play.keywords.any_errors_fatal, Some(Flag::Literal(true)));
    assert_eq!(play.keywords.ignore_unreachable, Some(Flag::Literal(true)));
    assert_eq!(play.keywords.become_, Some(Flag::Literal(true)));
    assert_eq!(play.keywords.become_user.as_deref(), Some("root"));
    assert_eq!(play.keywords.remote_user.as_deref(), Some("deploy"));
    assert_eq!(play.keywords.check_mode, Some(Flag::Literal(false)));
    assert_eq!(play.keywords.environment, [json!("{{ proxy_env }}")]);
    assert_eq!(play.keywords.tags, ["deploy"]);
    assert_eq!(play.force_handlers, Some(Flag::Literal(true)));
    assert_eq!(
        play.vars_files,
        [
            VarsFile::Path("common.yml".into()),
            VarsFile::FirstFound(vec!["{{ os }}.yml".into(), "default.yml".into()])
        ]
    );
    assert_eq!(play.pre_tasks.len(), 1);
    assert!(play.tasks.is_empty() && play.post_tasks.is_empty());
    assert_eq!(play.gather_facts, Flag::Literal(true));
    let second = &playbook.plays[1];
    assert_eq!(second.display_name(), "second");
    assert_eq!(second.hosts, "{{ target }}");
    assert_eq!(second.serial, [BatchSize::Count(2)]);
    assert_eq!(second.max_fail_percentage, Some(Templatable::Literal(10.0)));
}

#[test]
fn include_tasks_and_include_role_stay_dynamic() {
    let tasks = tasks_of(
        r#"    - include_tasks: "{{ item }}.yml"
      loop: [a, b]
    - include_tasks:
        file: setup.yml
        apply: {become: true}
    - include_role: name=web tasks_from=install
      when: x
    - import_tasks: "{{ dynamic }}.yml"
    - include_role:
        role: "{{ role_path }}/roles/a"
"#,
    );
    // `role` is the other name of `name`
    assert_eq!(args(&tasks[4]), json!({"name": "{{ role_path }}/roles/a"}));
    assert_eq!(task(&tasks[0]).action, "include_tasks");
    assert_eq!(task(&tasks[0]).include_file(), Some("{{ item }}.yml"));
    assert!(task(&tasks[0]).loop_.is_some());
    assert_eq!(
        args(&tasks[1]),
        json!({"_raw_params": "setup.yml", "apply": {"become": true}})
    );
    assert_eq!(
        args(&tasks[2]),
        json!({"name": "web", "tasks_from": "install"})
    );
    assert_eq!(task(&tasks[2]).keywords.when, ["x"]);
    // A templated import cannot be read now; the executor includes it at run time.
    assert_eq!(task(&tasks[3]).action, "import_tasks");
    assert_eq!(task(&tasks[3]).include_file(), Some("{{ dynamic }}.yml"));
}

#[test]
fn task_files_parse_at_run_time() {
    let fixture = Fixture::new(&[
        (
            "inc/steps.yml",
            "- ping:\n- import_tasks: more.yml\n  tags: deep\n",
        ),
        ("inc/more.yml", "- debug: msg=more\n"),
        ("handlers.yml", "- name: h\n  ping:\n  listen: t\n"),
    ]);
    let options = ParseOptions::default();
    let items = parse_task_file(
        &fixture.path("inc/steps.yml"),
        &fixture.path(""),
        &[],
        false,
        &options,
    )
    .expect("task file parses");
    assert_eq!(items.len(), 2);
    assert_eq!(args(&items[1]), json!({"msg": "more"}));
    assert_eq!(items[1].keywords().tags, ["deep"]);
    let handlers = parse_task_file(
        &fixture.path("handlers.yml"),
        &fixture.path(""),
        &[],
        true,
        &options,
    )
    .expect("handler file parses");
    assert_eq!(task(&handlers[0]).listen, ["t"]);
    let error = parse_task_file(
        &fixture.path("handlers.yml"),
        &fixture.path(""),
        &[],
        false,
        &options,
    )
    .expect_err("listen outside handlers");
    assert_eq!(
        fixture.relative(&error.to_string()),
        "handlers.yml:3:3: task 'h': 'listen' is not a valid attribute for a Task"
    );
}

#[test]
fn an_included_task_file_may_name_the_library_modules_of_the_roles_around_it() {
    let fixture = Fixture::new(&[
        ("roles/r/library/role_mod.py", "#!/usr/bin/python\n"),
        ("roles/r/tasks/more.yml", "- role_mod: {a: 1}\n"),
    ]);
    let options = ParseOptions::default();
    let file = fixture.path("roles/r/tasks/more.yml");
    let items = parse_task_file(
        &file,
        &fixture.path(""),
        &[fixture.path("roles/r")],
        false,
        &options,
    )
    .expect("the role's library module is an action");
    assert_eq!(task(&items[0]).action, "role_mod");
    // outside the role, the same name is no module at all
    let error = parse_task_file(&file, &fixture.path(""), &[], false, &options)
        .expect_err("no role around the include");
    assert!(
        error.to_string().contains("unknown module 'role_mod'"),
        "{error}"
    );
}
