//! Every parse error names file:line:column and the offending field.

use super::*;

#[test]
fn yaml_syntax_error_keeps_the_parser_position() {
    let fixture = Fixture::new(&[(
        "play.yml",
        "- hosts: all\n  tasks:\n    - name: x\n     bad: [\n",
    )]);
    let error = fixture.error("play.yml");
    assert!(error.starts_with("play.yml:4:"), "{error}");
}

#[test]
fn missing_playbook_is_an_io_error() {
    let fixture = Fixture::new(&[]);
    let error = parse_playbook(&fixture.path("nope.yml"), &ParseOptions::default())
        .expect_err("missing file");
    assert!(
        fixture
            .relative(&error.to_string())
            .starts_with("nope.yml: "),
        "{error}"
    );
    assert!(error.errors()[0].position().is_none());
}

#[test]
fn playbook_shape_errors() {
    let fixture = Fixture::new(&[
        ("map.yml", "hosts: all\n"),
        ("empty.yml", "# nothing\n"),
        ("entry.yml", "- hosts: all\n- just a string\n"),
    ]);
    assert_eq!(
        fixture.error("map.yml"),
        "map.yml:1:1: a playbook must be a list of plays, got a mapping instead"
    );
    assert_eq!(
        fixture.error("empty.yml"),
        "empty.yml:1:1: empty playbook, nothing to do"
    );
    assert_eq!(
        fixture.error("entry.yml"),
        "entry.yml:2:3: playbook entries must be either valid plays or 'import_playbook' statements, got a string"
    );
}

#[test]
fn play_errors() {
    let fixture = Fixture::new(&[
        ("nohosts.yml", "- name: web\n  tasks: []\n"),
        ("emptyhosts.yml", "- hosts: \"\"\n"),
        ("key.yml", "- hosts: all\n  gather_fact: no\n"),
        ("method.yml", "- hosts: all\n  become_method: su\n"),
        ("strategy.yml", "- hosts: all\n  strategy: debug\n"),
        ("flag.yml", "- hosts: all\n  become: maybe\n"),
        (
            "tasks.yml",
            "- hosts: all\n  tasks:\n    name: not a list\n",
        ),
        ("serial.yml", "- hosts: all\n  serial: -1\n"),
        (
            "prompt.yml",
            "- hosts: all\n  vars_prompt:\n    - prompt: no name\n",
        ),
        ("vars.yml", "- hosts: all\n  vars:\n    bad-name: 1\n"),
    ]);
    assert_eq!(
        fixture.error("nohosts.yml"),
        "nohosts.yml:1:3: play 'web': the field 'hosts' is required but was not set"
    );
    assert_eq!(
        fixture.error("emptyhosts.yml"),
        "emptyhosts.yml:1:10: play: 'hosts' list cannot be empty"
    );
    assert_eq!(
        fixture.error("key.yml"),
        "key.yml:2:3: play: 'gather_fact' is not a valid attribute for a Play"
    );
    assert_eq!(
        fixture.error("method.yml"),
        "method.yml:2:18: play: become_method 'su' is not supported (fleet only supports sudo)"
    );
    assert_eq!(
        fixture.error("strategy.yml"),
        "strategy.yml:2:13: play: strategy 'debug' is not supported (fleet supports linear, free and host_pinned)"
    );
    assert_eq!(
        fixture.error("flag.yml"),
        "flag.yml:2:11: play: 'become' must be a boolean (yes/no, true/false), got 'maybe'"
    );
    assert_eq!(
        fixture.error("tasks.yml"),
        "tasks.yml:3:5: play: 'tasks' must be a list of tasks, got a mapping"
    );
    assert_eq!(
        fixture.error("serial.yml"),
        "serial.yml:2:11: play: 'serial' must be a number of hosts or a percentage, got -1"
    );
    assert_eq!(
        fixture.error("prompt.yml"),
        "prompt.yml:3:7: play: Invalid vars_prompt data structure, missing 'name' key"
    );
    assert_eq!(
        fixture.error("vars.yml"),
        "vars.yml:3:5: play: invalid variable name in vars of a play: 'bad-name' is not a valid variable name"
    );
}

#[test]
fn unknown_module_names_the_task_and_the_key() {
    let error = task_error(
        r#"    - name: ensure directory
      file: {path: /x, state: directory}
    - name: write config
      cpoy: {src: a, dest: b}
"#,
    );
    assert_eq!(
        error,
        "play.yml:6:7: task 'write config': unknown module 'cpoy'"
    );
    let error = task_error("    - action: cpoy src=a\n");
    assert_eq!(error, "play.yml:3:15: unnamed task: unknown module 'cpoy'");
}

#[test]
fn task_key_errors() {
    assert_eq!(
        task_error("    - name: t\n      copy: {src: a, dest: b}\n      whne: x\n"),
        "play.yml:5:7: task 't': 'whne' is not a valid attribute for a Task"
    );
    assert_eq!(
        task_error("    - name: t\n      copy: {src: a, dest: b}\n      file: {path: x}\n"),
        "play.yml:5:7: task 't': conflicting action statements: copy, file"
    );
    assert_eq!(
        task_error("    - action: copy src=a\n      file: path=x\n"),
        "play.yml:4:7: unnamed task: conflicting action statements: copy, file"
    );
    assert_eq!(
        task_error("    - name: t\n      when: x\n"),
        "play.yml:3:7: task 't': no module/action detected in task"
    );
    assert_eq!(
        task_error("    - name: t\n      ping:\n      become_flags: [-i]\n"),
        "play.yml:5:21: task 't': 'become_flags' must be a string, got a list"
    );
    assert_eq!(
        task_error("    - just a string\n"),
        "play.yml:3:7: a task must be a mapping, got a string"
    );
}

#[test]
fn task_value_errors() {
    assert_eq!(
        task_error("    - file: path=/x touch\n"),
        "play.yml:3:7: unnamed task: Action 'ansible.builtin.file' does not support raw params."
    );
    assert_eq!(
        task_error("    - command: echo 'unterminated\n"),
        "play.yml:3:16: unnamed task: failed at splitting arguments, either an unbalanced jinja2 block or quotes: echo 'unterminated"
    );
    assert_eq!(
        task_error("    - ping:\n      register: bad-name\n"),
        "play.yml:4:17: unnamed task: invalid variable name in 'register' specified: 'bad-name'"
    );
    assert_eq!(
        task_error("    - ping:\n      loop: [1]\n      with_items: [2]\n"),
        "play.yml:5:7: unnamed task: duplicate loop in task: 'loop' and 'with_items'"
    );
    assert_eq!(
        task_error("    - ping:\n      with_my-lookup: [[1], [2]]\n"),
        "play.yml:4:7: unnamed task: 'with_my-lookup' does not name a lookup plugin"
    );
    assert_eq!(
        task_error("    - ping:\n      loop_control: {loop_vr: x}\n"),
        "play.yml:4:22: unnamed task: 'loop_vr' is not a valid attribute for a LoopControl"
    );
    assert_eq!(
        task_error("    - ping:\n      ignore_errors: sometimes\n"),
        "play.yml:4:22: unnamed task: 'ignore_errors' must be a boolean (yes/no, true/false), got 'sometimes'"
    );
    assert_eq!(
        task_error("    - ping:\n      retries: many\n"),
        "play.yml:4:16: unnamed task: 'retries' must be an integer, got 'many'"
    );
    assert_eq!(
        task_error("    - command: 42\n"),
        "play.yml:3:16: unnamed task: unexpected parameter type in action: an integer"
    );
}

#[test]
fn include_and_import_errors() {
    assert_eq!(
        task_error("    - name: inc\n      import_tasks: missing.yml\n"),
        "play.yml:4:21: task 'inc': could not find or access 'missing.yml'"
    );
    assert_eq!(
        task_error("    - include_tasks: x.yml\n      become: true\n"),
        "play.yml:4:7: unnamed task: 'become' is not a valid attribute for a TaskInclude"
    );
    assert_eq!(
        task_error("    - import_tasks: x.yml\n      loop: [1]\n"),
        "play.yml:3:7: unnamed task: you cannot use loops ('loop') on 'import_tasks' statements; use 'include_tasks' instead"
    );
    assert_eq!(
        task_error("    - include_tasks:\n        file: x.yml\n        bogus: 1\n"),
        "play.yml:3:7: unnamed task: invalid options for include_tasks: bogus"
    );
    assert_eq!(
        task_error("    - include_tasks:\n"),
        "play.yml:3:7: unnamed task: no file specified for include_tasks"
    );
    assert_eq!(
        task_error("    - include_role: tasks_from=x\n"),
        "play.yml:3:7: unnamed task: 'name' is a required field for include_role"
    );
}

#[test]
fn errors_inside_imported_files_point_into_them() {
    let fixture = Fixture::new(&[
        (
            "play.yml",
            "- hosts: all\n  tasks:\n    - import_tasks: inc.yml\n",
        ),
        ("inc.yml", "- ping:\n- name: bad\n  cpoy: {}\n"),
        (
            "loop.yml",
            "- hosts: all\n  tasks:\n    - import_tasks: self.yml\n",
        ),
        ("self.yml", "- import_tasks: self.yml\n"),
    ]);
    assert_eq!(
        fixture.error("play.yml"),
        "inc.yml:3:3: task 'bad': unknown module 'cpoy'"
    );
    assert_eq!(
        fixture.error("loop.yml"),
        "self.yml:1:3: unnamed task: self.yml imports itself (recursive import)"
    );
}

#[test]
fn role_errors() {
    let fixture = Fixture::new(&[
        (
            "missing.yml",
            "- hosts: all\n  roles:\n    - common\n    - role: nothere\n",
        ),
        ("roles/common/tasks/main.yml", "- ping:\n"),
        ("noname.yml", "- hosts: all\n  roles:\n    - {when: x}\n"),
        (
            "from.yml",
            "- hosts: all\n  tasks:\n    - import_role: {name: common, tasks_from: nope}\n",
        ),
        ("meta.yml", "- hosts: all\n  roles: [withdep]\n"),
        ("roles/withdep/meta/main.yml", "dependencies:\n  - ghost\n"),
        ("badtask.yml", "- hosts: all\n  roles: [badtask]\n"),
        (
            "roles/badtask/tasks/main.yml",
            "- name: oops\n  ping:\n  whenn: x\n",
        ),
        ("cycle.yml", "- hosts: all\n  roles: [a]\n"),
        ("roles/a/meta/main.yml", "dependencies: [b]\n"),
        ("roles/b/meta/main.yml", "dependencies: [a]\n"),
    ]);
    let dir = fixture.path("");
    let dir = dir.display().to_string();
    let dir = dir.trim_end_matches('/');
    assert_eq!(
        fixture.error("missing.yml"),
        format!("missing.yml:4:13: the role 'nothere' was not found in roles:{dir}")
    );
    assert_eq!(
        fixture.error("noname.yml"),
        "noname.yml:3:7: role definitions must contain a role name"
    );
    assert!(
        fixture.error("from.yml").starts_with(
            "from.yml:3:20: unnamed task: could not find specified file in role: tasks/nope"
        ),
        "{}",
        fixture.error("from.yml")
    );
    assert_eq!(
        fixture.error("meta.yml"),
        format!(
            "roles/withdep/meta/main.yml:2:5: the role 'ghost' was not found in roles:roles:{dir}"
        )
    );
    assert_eq!(
        fixture.error("badtask.yml"),
        "roles/badtask/tasks/main.yml:3:3: task 'oops': 'whenn' is not a valid attribute for a Task"
    );
    assert!(
        fixture.error("cycle.yml").contains("recursive import"),
        "{}",
        fixture.error("cycle.yml")
    );
}

#[test]
fn import_playbook_errors() {
    let fixture = Fixture::new(&[
        ("site.yml", "- import_playbook: missing.yml\n"),
        ("templated.yml", "- import_playbook: \"{{ x }}.yml\"\n"),
        ("key.yml", "- import_playbook: site.yml\n  hosts: all\n"),
    ]);
    assert_eq!(
        fixture.error("site.yml"),
        "site.yml:1:20: could not find or access the playbook 'missing.yml'"
    );
    // a templated path is rendered with the extra variables when the playbook loads (issue
    // 18); without `x` it cannot be
    assert_eq!(
        fixture.error("templated.yml"),
        "templated.yml:1:20: import_playbook: cannot template '{{ x }}.yml': 'x' is undefined"
    );
    assert_eq!(
        fixture.error("key.yml"),
        "key.yml:2:3: 'hosts' is not a valid attribute for a PlaybookInclude"
    );
}

#[test]
fn every_error_is_collected_and_check_reports_them() {
    let fixture = Fixture::new(&[(
        "play.yml",
        r#"- hosts: all
  tasks:
    - name: one
      cpoy: {}
    - name: fine
      ping:
    - name: two
      ping:
      become: perhaps
- name: no hosts
  tasks: []
"#,
    )]);
    let errors = fixture.errors("play.yml");
    assert_eq!(
        errors,
        [
            "play.yml:4:7: task 'one': unknown module 'cpoy'",
            "play.yml:9:15: task 'two': 'become' must be a boolean (yes/no, true/false), got 'perhaps'",
            "play.yml:10:3: play 'no hosts': the field 'hosts' is required but was not set",
        ]
    );
    let report = check_playbook(&fixture.path("play.yml"), &ParseOptions::default());
    assert!(!report.is_ok());
    assert_eq!(fixture.relative(&report.to_string()), errors.join("\n"));
}
