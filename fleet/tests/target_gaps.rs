//! Issue 18 item 5, what Ansible's include_import and copy targets need, end to end against real
//! sshd targets: a templated `import_playbook` path (rendered with `-e` when the playbook loads),
//! role names and `*_from` files templated per host and per loop item (`import_role` with a
//! templated name becomes dynamic, as in Ansible), a role included again (include_role's
//! `allow_duplicates` defaults to true), the handlers of a role imported with `delegate_to`
//! delegated too (with `ansible_delegated_vars`), and a templated `action: module:` that only
//! fails if it runs; a block's keywords on its `always` tasks; `delegate_to: localhost` in the
//! playbook's directory.

mod lab;

use lab::Lab;

#[test]
fn templated_imports_role_names_and_delegated_role_handlers() {
    let lab = Lab::new(2);
    let (h1, h2) = (lab.host(0), lab.host(1));
    lab.write_inventory(&format!(
        "    {h1}: {{which: one}}\n    {h2}: {{which: two}}\n"
    ));
    for role in ["one", "two"] {
        lab.write(
            &format!("roles/{role}/tasks/main.yml"),
            &format!(
                "- copy: {{content: \"{role} {{{{ item | default('-') }}}}\\n\", \
                 dest: \"{{{{ base }}}}/{role}-{{{{ item | default('main') }}}}\"}}\n"
            ),
        );
        lab.write(
            &format!("roles/{role}/tasks/other.yml"),
            &format!(
                "- copy: {{content: \"{role} other\\n\", dest: \"{{{{ base }}}}/{role}-other\"}}\n"
            ),
        );
    }
    lab.write(
        "roles/deleg/tasks/main.yml",
        "- command: \"true\"\n  notify: deleg handler\n",
    );
    lab.write(
        "roles/deleg/handlers/main.yml",
        "- name: deleg handler\n  copy:\n    content: \"{{ ansible_delegated_vars is defined }}\\n\"\n    \
         dest: \"{{ out }}/handler-{{ inventory_hostname }}\"\n",
    );
    lab.write(
        "sub.yml",
        "- hosts: targets\n  gather_facts: false\n  tasks:\n    - copy: {content: \"sub\\n\", dest: \"{{ out }}/{{ inventory_hostname }}/sub\"}\n",
    );
    let playbook = r#"
- hosts: targets
  gather_facts: false
  vars:
    base: "{{ out }}/{{ inventory_hostname }}"
    part: other
  tasks:
    - file: {path: "{{ base }}", state: directory}
    - name: a host variable names the role
      import_role:
        name: "{{ which }}"
    - name: a loop names the roles, a variable the tasks file
      include_role:
        name: "{{ item }}"
        tasks_from: "{{ part }}"
      loop: [one, two]
    - name: the same role again with an item
      include_role:
        name: one
      loop: [x]
    - import_role:
        name: deleg
      delegate_to: localhost
    - name: never runs
      action:
        module: "{{ not_a_module }}"
      tags: [never]
- import_playbook: "{{ sub_name }}.yml"
"#;
    let run = lab.play(playbook, &["-e", "sub_name=sub"]);
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(lab.file(0, "one-main").as_deref(), Some("one -\n"));
    assert_eq!(lab.file(0, "two-main"), None, "h1 names role one");
    assert_eq!(lab.file(1, "two-main").as_deref(), Some("two -\n"));
    for host in [0, 1] {
        assert_eq!(lab.file(host, "one-other").as_deref(), Some("one other\n"));
        assert_eq!(lab.file(host, "two-other").as_deref(), Some("two other\n"));
        assert_eq!(lab.file(host, "one-x").as_deref(), Some("one x\n"));
        assert_eq!(lab.file(host, "sub").as_deref(), Some("sub\n"));
    }
    // the role's handler ran delegated, once per notifying host (`"{{ test }}\n"` is the
    // boolean alone, so Ansible writes it without the newline too)
    for host in [&h1, &h2] {
        let handled = std::fs::read_to_string(lab.out().join(format!("handler-{host}")));
        assert_eq!(handled.ok().as_deref(), Some("True"), "{run}");
    }
    assert!(
        run.stdout.contains(&format!("[{h1} -> localhost]")),
        "{run}"
    );
}

/// A block's keywords reach its `always` tasks too (a false `when` on an `import_tasks` of a
/// block skips the `always` part, as copy's selinux.yml needs), and `delegate_to: localhost`
/// runs in the playbook's directory, where a relative `copy: src:` then finds what it wrote.
#[test]
fn always_inherits_the_blocks_when_and_localhost_runs_in_the_playbook_dir() {
    let lab = Lab::new(1);
    lab.write(
        "guarded.yml",
        "- block:\n    - copy: {content: \"b\\n\", dest: \"{{ out }}/block\"}\n  always:\n    \
         - copy: {content: \"a\\n\", dest: \"{{ out }}/always\"}\n",
    );
    let playbook = r#"
- hosts: targets
  gather_facts: false
  tasks:
    - import_tasks: guarded.yml
      when: false
    - name: relative to the playbook's directory
      file: {path: made_here, state: directory}
      delegate_to: localhost
    - copy: {content: "x\n", dest: made_here/f}
      delegate_to: localhost
    - name: found beside the playbook
      copy: {src: made_here, dest: "{{ out }}/"}
"#;
    let run = lab.play(playbook, &[]);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(!lab.out().join("block").exists(), "{run}");
    assert!(!lab.out().join("always").exists(), "always skipped: {run}");
    assert!(lab.path("made_here/f").is_file(), "{run}");
    let copied = std::fs::read_to_string(lab.out().join("made_here/f"));
    assert_eq!(copied.ok().as_deref(), Some("x\n"), "{run}");
}

/// What the assert target needs: arguments splatted from a template (`assert: "{{ item }}"`),
/// 2.19's trust rule (a string condition that templating produced is refused, one the
/// playbook wrote is evaluated), conditions written as templates counted as deprecations, and
/// a registered result that is never templated again (a command printing `{{ x }}`).
#[test]
fn assert_splat_trust_deprecations_and_registered_braces() {
    let lab = Lab::new(1);
    let playbook = r#"
- hosts: targets
  gather_facts: false
  vars:
    a: 1
  tasks:
    - assert: "{{ item }}"
      args: {quiet: true}
      loop:
        - that: a == 1
        - that: "{{ a == 1 }}"
        - that: ["1 == 1", "{{ true }}"]
    - assert: "{{ item }}"
      loop:
        - that: |
            "x" == '{{ "x" }}'
      ignore_errors: true
      register: untrusted
    - assert: {that: "{{ item }}"}
      loop: ["1 == 1", "2 == 2"]
    - assert: {that: "{{ 'a' }} == {{ 'b' }}"}
      ignore_errors: true
      register: meta
    - assert: {that: "{{ true }}"}
      register: deprecated
    - command: echo '{{ "{{" }} x }}'
      register: braces
    - assert:
        that:
          - untrusted.results[0].msg is contains("untrusted")
          - meta.msg is contains("untrusted template or expression")
          - deprecated.deprecations | length == 1
          - braces.stdout == "{" ~ "{ x }}"
"#;
    let run = lab.play(playbook, &[]);
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(run.recap(&lab.host(0))[6], 2, "two ignored failures: {run}");
}

/// Ansible 2.19's texts for what is undefined: the missing attribute named (also when a
/// comparison or a filter meets it), inside its "Task failed: ..." wording for conditions and
/// for arguments.
#[test]
fn undefined_attributes_are_reported_in_ansible_2_19_words() {
    let lab = Lab::new(1);
    let playbook = r#"
- hosts: targets
  gather_facts: false
  vars:
    d: {a: 1}
  tasks:
    - debug: {msg: x}
      when: d.b == 1
      ignore_errors: true
      register: cond
    - debug: {msg: "{{ d.b | map(attribute='x') | list }}"}
      ignore_errors: true
      register: arg
    - assert:
        that:
          - 'cond.msg == "Task failed: Error while evaluating conditional: object of type ''dict'' has no attribute ''b''"'
          - 'arg.msg == "Task failed: Finalization of task args for ''ansible.builtin.debug'' failed: Error while resolving value for ''msg'': object of type ''dict'' has no attribute ''b''"'
"#;
    let run = lab.play(playbook, &[]);
    assert_eq!(run.code, Some(0), "{run}");
}

/// The loop-until, async and undefined targets: `retries` templated per loop item, a looped
/// task whose failed items changed the host counts as changed when ignored, `{{ expr }}` with
/// the newline a YAML `>` scalar ends with is still a native value, `is finished` reads an
/// async result's flag, and an item `map(attribute=)` finds without the attribute is named.
#[test]
fn templated_retries_loop_results_and_async_flags() {
    let lab = Lab::new(1);
    let playbook = r#"
- hosts: targets
  gather_facts: false
  tasks:
    - shell: echo run >> /tmp/fleet-retries-{{ idx }}-{{ inventory_hostname }}; wc -l < /tmp/fleet-retries-{{ idx }}-{{ inventory_hostname }}
      register: runs
      until: 1 == 0
      retries: "{{ idx + 1 }}"
      delay: 0
      loop: [a, b]
      loop_control: {index_var: idx}
      ignore_errors: true
    - file: {path: "/tmp/fleet-retries-{{ item }}-{{ inventory_hostname }}", state: absent}
      loop: [0, 1]
    - set_fact:
        names: >
          {{ ['x'] + ['y'] }}
    - command: sleep 2
      async: 10
      poll: 0
      register: job
    - debug: {msg: "{{ [{'name': 'one'}, {'other': 2}] | map(attribute='name') | join(',') }}"}
      ignore_errors: true
      register: mapped
    - assert:
        that:
          - runs is changed
          - runs.results | map(attribute='stdout') | list == ['2', '3']
          - names == ['x', 'y']
          - job is not finished
          - job is started
          - "mapped.msg is contains \"object of type 'dict' has no attribute 'name'\""
"#;
    let run = lab.play(playbook, &[]);
    assert_eq!(run.code, Some(0), "{run}");
    // the ignored looped shell changed the host; the file removals and the job too
    assert!(run.stdout.contains("changed=3"), "{run}");
    assert!(run.stdout.contains("ignored=2"), "{run}");
}

/// The task-esoterica and task-timeout targets: arguments that come whole from a template
/// (`copy: "{{ args }}"`, `action: {module: ..., args: "{{ args }}"}`) are a mapping layered
/// over the module defaults and under the task's own arguments; anything else fails as in
/// Ansible; a `timeout` out of Ansible's range fails the task before it runs; an assert
/// condition that is a mapping is refused.
#[test]
fn splatted_arguments_and_invalid_timeouts() {
    let lab = Lab::new(1);
    let playbook = r#"
- hosts: targets
  gather_facts: false
  vars:
    cargs: {content: "splat\n", dest: "/tmp/fleet-splat-{{ inventory_hostname }}", mode: "0640"}
  module_defaults:
    copy: {mode: "0600", backup: false}
  tasks:
    - copy: "{{ cargs }}"
      register: plain
    - action:
        module: "{{ 'copy' }}"
        args: "{{ cargs }}"
      register: via_action
    - copy: "{{ cargs }}"
      args: {mode: "0644"}
      register: overlaid
    - stat: {path: "/tmp/fleet-splat-{{ inventory_hostname }}"}
      register: st
    - copy: "{{ ['not', 'a', 'dict'] }}"
      register: listed
      ignore_errors: true
    - command: "true"
      timeout: -1
      register: negative
      ignore_errors: true
    - file: {path: "/tmp/fleet-splat-{{ inventory_hostname }}", state: absent}
    - assert:
        that:
          - a: b
      register: mapped_condition
      ignore_errors: true
    - assert:
        that:
          - plain is changed and plain.mode == '0640'
          - via_action is not changed
          - overlaid is changed and st.stat.mode == '0644'
          - "listed.msg is contains \"Task args must resolve to a 'dict' not 'list'\""
          - negative is failed and negative is not timedout
          - "negative.msg == 'Task failed: Timeout -1 is invalid, it must be between 0 and 100000000.'"
          - "mapped_condition.msg == 'Task failed: Conditional expressions must be strings.'"
"#;
    let run = lab.play(playbook, &[]);
    assert_eq!(run.code, Some(0), "{run}");
}

/// Ansible's implicit localhost (the unicode target's plays): a play for `localhost` with no
/// such inventory host runs on the controller, takes the variables of `all`, and is neither in
/// `all` nor matched by a pattern other than its name.
#[test]
fn implicit_localhost_runs_on_the_controller() {
    let lab = Lab::new(1);
    let playbook = r#"
- hosts: all
  gather_facts: false
  tasks:
    - copy: {content: "{{ ansible_play_hosts | join(',') }}", dest: "{{ out }}/{{ inventory_hostname }}-all"}
      delegate_to: localhost
- hosts: "*local*"
  gather_facts: false
  tasks:
    - copy: {content: "glob", dest: "{{ out }}/glob"}
- hosts: localhost
  gather_facts: false
  tasks:
    - copy:
        content: "{{ inventory_hostname }} {{ ansible_connection }} {{ groups['all'] | length }} {{ group_names }}"
        dest: "{{ out }}/implicit"
"#;
    let run = lab.play(playbook, &[]);
    assert_eq!(run.code, Some(0), "{run}");
    let h1 = lab.host(0);
    let read = |name: &str| std::fs::read_to_string(lab.out().join(name)).ok();
    assert_eq!(read(&format!("{h1}-all")), Some(h1.clone()), "{run}");
    assert_eq!(read("glob"), None, "a glob does not select it: {run}");
    assert_eq!(
        read("implicit").as_deref(),
        Some("localhost local 1 []"),
        "{run}"
    );
    assert!(run.stdout.contains("localhost "), "in the recap: {run}");
}

/// A playbook's own `action_plugins/debug.py` replaces `debug` (Ansible finds the custom plugin
/// first: the module_defaults target's override).
#[test]
fn a_custom_action_plugin_replaces_debug() {
    let lab = Lab::new(1);
    lab.write(
        "action_plugins/debug.py",
        "from ansible.plugins.action import ActionBase\n\n\n\
         class ActionModule(ActionBase):\n    \
         def run(self, tmp=None, task_vars=None):\n        \
         result = super().run(tmp, task_vars)\n        \
         result['msg'] = 'custom: ' + self._task.args.get('msg', '')\n        \
         return result\n",
    );
    let playbook = r#"
- hosts: targets
  gather_facts: false
  tasks:
    - debug: {msg: hi}
      register: mine
    - assert:
        that:
          - "mine.msg == 'custom: hi'"
"#;
    let site = lab.write("site.yml", playbook);
    let python = e2e::fleet::ansible_venv().join("bin/python");
    let args = ["run", site.to_str().unwrap(), "-i", "inventory.yml"];
    let run = lab.fleet_with_python(&args, &python);
    assert_eq!(run.code, Some(0), "{run}");
}

/// A host with a local connection runs its commands in the playbook's directory, as Ansible's
/// local connection runs in the task's base directory (the template_jinja2_non_native target
/// diffs a file named relative to it).
#[test]
fn a_local_connection_runs_in_the_playbooks_directory() {
    let lab = Lab::new(1);
    let site = lab.write(
        "plays/site.yml",
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - command: pwd\n      register: here\n    - copy: {content: \"{{ here.stdout }}\", dest: \"{{ out }}/pwd\"}\n",
    );
    let run = lab.fleet(&["run", "plays/site.yml", "-i", "inventory.yml"]);
    assert_eq!(run.code, Some(0), "{run}");
    let pwd = std::fs::read_to_string(lab.out().join("pwd")).unwrap();
    let dir = site.parent().unwrap().canonicalize().unwrap();
    assert_eq!(
        std::path::Path::new(&pwd).canonicalize().unwrap(),
        dir,
        "{run}"
    );
}

/// The hosts_field and order targets: `hosts:` templated to a list of patterns, `order:`
/// templated when the play starts.
#[test]
fn templated_hosts_lists_and_order() {
    let lab = Lab::new(2);
    let (h1, h2) = (lab.host(0), lab.host(1));
    let playbook = r#"
- hosts: "{{ chosen }}"
  order: "{{ wanted_order | default('reverse_sorted') }}"
  gather_facts: false
  tasks:
    - copy: {content: "{{ ansible_play_hosts | join(',') }}", dest: "{{ out }}/{{ inventory_hostname }}-seen"}
"#;
    let chosen = format!(r#"{{"chosen": ["{h1}", "{h2}"]}}"#);
    let run = lab.play(playbook, &["-e", &chosen]);
    assert_eq!(run.code, Some(0), "{run}");
    let seen = std::fs::read_to_string(lab.out().join(format!("{h1}-seen"))).unwrap();
    assert_eq!(seen, format!("{h2},{h1}"), "{run}");
    let run = lab.play(playbook, &["-e", &chosen, "-e", "wanted_order=bogus"]);
    assert_ne!(run.code, Some(0), "{run}");
    assert!(
        run.stderr
            .contains("'bogus' is not a valid value for 'order'"),
        "{run}"
    );
}

/// `hostvars` read where the task does not name it: a template file, a variable of
/// `group_vars/all.yml`, a role's defaults (each was "'hostvars' is undefined").
#[test]
fn hostvars_in_templates_group_vars_and_role_defaults() {
    let lab = Lab::new(2);
    let (h1, h2) = (lab.host(0), lab.host(1));
    lab.write(
        "group_vars/all.yml",
        "peers: \"{{ groups.targets | map('extract', hostvars, 'ansible_host') | join(',') }}\"\n",
    );
    lab.write(
        "roles/r/defaults/main.yml",
        "first: \"{{ hostvars[groups.targets[0]].ansible_port }}\"\n",
    );
    lab.write(
        "roles/r/tasks/main.yml",
        "- copy: {content: \"{{ peers }} {{ first }}\", dest: \"{{ out }}/{{ inventory_hostname }}-vars\"}\n",
    );
    lab.write(
        "templates/peers.j2",
        "{% for h in groups.targets %}{{ h }}={{ hostvars[h].ansible_host }}\n{% endfor %}",
    );
    let playbook = r#"
- hosts: targets
  gather_facts: false
  roles: [r]
  tasks:
    - template: {src: peers.j2, dest: "{{ out }}/{{ inventory_hostname }}-template"}
"#;
    let run = lab.play(playbook, &[]);
    assert_eq!(run.code, Some(0), "{run}");
    let read = |name: &str| std::fs::read_to_string(lab.out().join(name)).unwrap();
    let inventory = std::fs::read_to_string(lab.path("inventory.yml")).unwrap();
    let address = |host: &str| {
        let line = inventory
            .lines()
            .find(|l| l.contains(&format!("{host}:")))
            .unwrap();
        line.split('\'').nth(1).unwrap().to_string()
    };
    let (a1, a2) = (address(&h1), address(&h2));
    let vars = read(&format!("{h2}-vars"));
    assert!(vars.starts_with(&format!("{a1},{a2} ")), "{vars}\n{run}");
    let template = read(&format!("{h1}-template"));
    assert_eq!(template, format!("{h1}={a1}\n{h2}={a2}\n"), "{run}");
}

/// `debug: var=` of an undefined expression shows ansible-core 2.19's error text in place of
/// the value and warns of it (the var_blending target; 2.18 said "VARIABLE IS NOT DEFINED!").
#[test]
fn debug_var_of_an_undefined_expression_shows_the_error() {
    let lab = Lab::new(1);
    let playbook = r#"
- hosts: targets
  gather_facts: false
  vars:
    d: {a: 1}
  tasks:
    - debug: var=undefined_variable
      register: plain
    - debug: var=d.missing
      register: member
    - assert:
        that:
          - plain.undefined_variable == "<< error 1 - 'undefined_variable' is undefined >>"
          - member['d.missing'] == "<< error 1 - object of type 'dict' has no attribute 'missing' >>"
"#;
    let run = lab.play(playbook, &[]);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(
        run.stdout.contains("Encountered 1 template error.")
            || run.stderr.contains("Encountered 1 template error."),
        "{run}"
    );
}

/// The tags target: `tags:` templated with the play's and the extra variables decides what
/// `--tags` and `--skip-tags` select.
#[test]
fn templated_tags_select_tasks() {
    let lab = Lab::new(1);
    let h1 = lab.host(0);
    let playbook = r#"
- hosts: targets
  gather_facts: false
  vars:
    chosen: tag1
  tasks:
    - copy: {content: "x", dest: "{{ out }}/{{ inventory_hostname }}-tagged"}
      tags: "{{ chosen }}"
    - copy: {content: "x", dest: "{{ out }}/{{ inventory_hostname }}-listed"}
      tags: "{{ extra_tag }}"
    - copy: {content: "x", dest: "{{ out }}/{{ inventory_hostname }}-other"}
      tags: other
"#;
    let run = lab.play(playbook, &["--tags", "tag1,tag2", "-e", "extra_tag=tag2"]);
    assert_eq!(run.code, Some(0), "{run}");
    let exists = |name: &str| lab.out().join(format!("{h1}-{name}")).exists();
    assert!(
        exists("tagged") && exists("listed") && !exists("other"),
        "{run}"
    );
    let _ = std::fs::remove_file(lab.out().join(format!("{h1}-tagged")));
    let run = lab.play(playbook, &["--skip-tags", "tag1", "-e", "extra_tag=tag2"]);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(!exists("tagged") && exists("other"), "{run}");
}
