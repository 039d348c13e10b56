//! The playbook language as `fleet run` executes it on real targets: conditions, loops and
//! `register`, handlers notified more than once, roles with defaults and templates, static and
//! dynamic includes, tag and limit selection, and YAML 1.1 scalars (`yes`, unquoted octal modes).
//!
//! These live together because each asserts what a playbook *means*: the files a run leaves on
//! the targets and the task lines and recap it prints, compared with what ansible-playbook does.

use std::fs;

use crate::lab::Lab;

#[test]
fn conditions_loops_register_and_handlers() {
    let lab = Lab::new(2);
    let (h1, h2) = (lab.host(0), lab.host(1));
    let playbook = format!(
        r#"
- hosts: targets
  gather_facts: false
  vars:
    base: "{{{{ out }}}}/{{{{ inventory_hostname }}}}"
    users: [ann, ben]
  tasks:
    - file: {{path: "{{{{ base }}}}", state: directory}}
    - name: only the first host
      copy: {{content: "first\n", dest: "{{{{ base }}}}/first"}}
      when: inventory_hostname == "{h1}"
    - name: one file per user
      copy:
        content: "{{{{ item }}}}\n"
        dest: "{{{{ base }}}}/user-{{{{ item }}}}"
      loop: "{{{{ users }}}}"
      register: written
      notify: record
    - name: the register holds every item
      copy:
        content: "{{{{ written.results | map(attribute='item') | join(',') }}}} changed={{{{ written.changed }}}}\n"
        dest: "{{{{ base }}}}/summary"
    - name: another host's registered result through hostvars
      copy:
        content: "{{{{ hostvars['{h1}'].written.results | length }}}}\n"
        dest: "{{{{ base }}}}/peer"
    - name: notify again in the same play
      command: "true"
      notify: record
  handlers:
    - name: record
      lineinfile: {{path: "{{{{ base }}}}/handled", line: "ran", create: true}}
"#
    );
    let first = lab.play(&playbook, &[]);
    assert_eq!(first.code, Some(0), "{first}");
    assert_eq!(lab.file(0, "first").as_deref(), Some("first\n"));
    assert_eq!(lab.file(1, "first"), None);
    assert_eq!(lab.file(1, "user-ben").as_deref(), Some("ben\n"));
    assert_eq!(
        lab.file(0, "summary").as_deref(),
        Some("ann,ben changed=True\n")
    );
    // Notified twice, ran once, after the tasks.
    assert_eq!(lab.file(0, "handled").as_deref(), Some("ran\n"));
    let handler_pos = first
        .stdout
        .find("RUNNING HANDLER [record]")
        .expect("handler ran");
    assert!(
        handler_pos
            > first
                .stdout
                .find("TASK [notify again in the same play]")
                .unwrap()
    );
    // `"{{ n }}\n"` is the number alone (Jinja2 drops the one final newline), which Ansible
    // writes without the newline
    assert_eq!(lab.file(1, "peer").as_deref(), Some("2"));
    assert_eq!(first.recap(&h1), [7, 7, 0, 0, 0, 0, 0]);
    assert_eq!(first.recap(&h2), [6, 6, 0, 0, 1, 0, 0]);
    assert_eq!(
        first.task_lines("one file per user"),
        [
            format!("changed: [{h1}] => (item=ann)"),
            format!("changed: [{h1}] => (item=ben)"),
            format!("changed: [{h2}] => (item=ann)"),
            format!("changed: [{h2}] => (item=ben)"),
        ]
    );

    // Second run: the files stay, the summary now says changed=False, the command (always
    // "changed") notifies again and the handler finds nothing to do.
    let second = lab.play(&playbook, &[]);
    assert_eq!(second.code, Some(0), "{second}");
    assert_eq!(
        lab.file(0, "summary").as_deref(),
        Some("ann,ben changed=False\n")
    );
    assert_eq!(second.recap(&h1), [7, 2, 0, 0, 0, 0, 0]);
    assert_eq!(
        second.task_lines("record"),
        [format!("ok: [{h1}]"), format!("ok: [{h2}]")]
    );
}

#[test]
fn roles_includes_tags_and_limit() {
    let lab = Lab::new(2);
    let (h1, h2) = (lab.host(0), lab.host(1));
    lab.write(
        "roles/web/defaults/main.yml",
        "web_port: 80\ngreeting: hello\n",
    );
    lab.write(
        "roles/web/tasks/main.yml",
        "- name: role config\n  template: {src: web.conf.j2, dest: \"{{ base }}/web.conf\"}\n  notify: web changed\n- include_tasks: extra.yml\n",
    );
    lab.write(
        "roles/web/tasks/extra.yml",
        "- name: included from the role\n  copy: {content: \"extra {{ web_port }}\\n\", dest: \"{{ base }}/extra\"}\n",
    );
    lab.write(
        "roles/web/templates/web.conf.j2",
        "greeting={{ greeting }}\nport={{ web_port }}\n",
    );
    lab.write(
        "roles/web/handlers/main.yml",
        "- name: web changed\n  copy: {content: \"handled\\n\", dest: \"{{ base }}/handled\"}\n",
    );
    lab.write(
        "more.yml",
        "- name: imported task\n  copy: {content: \"imported\\n\", dest: \"{{ base }}/imported\"}\n  tags: [imp]\n",
    );
    let playbook = r#"
- hosts: targets
  gather_facts: false
  vars:
    base: "{{ out }}/{{ inventory_hostname }}"
  pre_tasks:
    - file: {path: "{{ base }}", state: directory}
      tags: [always]
  roles:
    - role: web
      web_port: 8080
      tags: [web]
  tasks:
    - import_tasks: more.yml
    - name: untagged task
      copy: {content: "plain\n", dest: "{{ base }}/plain"}
    - include_tasks: per_item.yml
      loop: [a, b]
      loop_control: {loop_var: letter}
"#;
    lab.write(
        "per_item.yml",
        "- name: per item\n  copy: {content: \"{{ letter }}\\n\", dest: \"{{ base }}/inc-{{ letter }}\"}\n",
    );
    let run = lab.play(playbook, &["--tags", "web", "--limit", &h1]);
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(
        lab.file(0, "web.conf").as_deref(),
        Some("greeting=hello\nport=8080\n")
    );
    assert_eq!(lab.file(0, "extra").as_deref(), Some("extra 8080\n"));
    assert_eq!(lab.file(0, "handled").as_deref(), Some("handled\n"));
    assert_eq!(lab.file(0, "imported"), None, "not selected by --tags web");
    assert_eq!(lab.file(0, "plain"), None);
    assert_eq!(lab.file(1, "web.conf"), None, "not in --limit");
    assert!(!run.stdout.contains(&h2), "{run}");
    assert!(run.stdout.contains("TASK [web : role config]"), "{run}");

    let run = lab.play(playbook, &["--skip-tags", "web"]);
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(lab.file(1, "imported").as_deref(), Some("imported\n"));
    assert_eq!(lab.file(1, "plain").as_deref(), Some("plain\n"));
    assert_eq!(lab.file(1, "inc-a").as_deref(), Some("a\n"));
    assert_eq!(lab.file(1, "inc-b").as_deref(), Some("b\n"));
    assert_eq!(lab.file(1, "web.conf"), None);
}

#[test]
fn yaml_1_1_scalars_read_as_ansible_reads_them() {
    let lab = Lab::new(1);
    let playbook = r#"
- hosts: targets
  gather_facts: no
  vars:
    enabled: yes
    quoted: "yes"
    base: "{{ out }}/{{ inventory_hostname }}"
  tasks:
    - file: {path: "{{ base }}", state: directory, mode: 0750}
    - name: unquoted octal mode
      copy: {content: "x\n", dest: "{{ base }}/octal", mode: 0640}
    - name: string mode
      copy: {content: "x\n", dest: "{{ base }}/string", mode: "0604"}
    - name: yes is a boolean
      lineinfile: {path: "{{ base }}/created", line: "enabled={{ enabled }} quoted={{ quoted }}", create: yes}
      when: enabled
"#;
    let run = lab.play(playbook, &[]);
    assert_eq!(run.code, Some(0), "{run}");
    let mode = |name: &str| {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(lab.out().join(lab.host(0)).join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    assert_eq!(mode(""), 0o750);
    assert_eq!(mode("octal"), 0o640);
    assert_eq!(mode("string"), 0o604);
    assert_eq!(
        lab.file(0, "created").as_deref(),
        Some("enabled=True quoted=yes\n")
    );
}

/// Issue 18: a module named by a template (`action: "{{ ansible_facts.pkg_mgr }}"` with
/// `args:`, as Ansible's group target installs libuser) runs as the module it names on each
/// host; a name that cannot be templated fails its task only.
#[test]
fn a_templated_module_name_runs_the_module_it_names() {
    let lab = Lab::new(1);
    let playbook = r#"
- hosts: targets
  gather_facts: no
  vars:
    writer: copy
    base: "{{ out }}/{{ inventory_hostname }}"
  tasks:
    - file: {path: "{{ base }}", state: directory}
    - name: named by a variable
      action: "{{ writer }}"
      args:
        content: "written\n"
        dest: "{{ base }}/by-template"
    - name: named by nothing
      action: "{{ no_such_variable }}"
      ignore_errors: true
"#;
    let run = lab.play(playbook, &[]);
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(lab.file(0, "by-template").as_deref(), Some("written\n"));
    assert!(
        run.stdout.contains("'no_such_variable' is undefined"),
        "{run}"
    );
    assert_eq!(run.recap(&lab.host(0)), [3, 2, 0, 0, 0, 0, 1]);
}
