//! `fleet run` end to end against real OpenSSH targets on loopback: the playbook language
//! (conditions, loops, register, handlers, blocks, roles, includes, tags, limit, become),
//! failures and unreachable hosts, check and diff mode, parse errors.

mod lab;

use std::fs;
use std::process::Command;

use lab::Lab;

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
    assert_eq!(lab.file(1, "peer").as_deref(), Some("2\n"));
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
fn blocks_rescue_always_failures_and_unreachable_hosts() {
    let lab = Lab::new(2);
    // A third host nobody listens on.
    let mut dead = e2e::TargetSshd::start(&[]);
    dead.stop();
    lab.write_inventory(&format!(
        "    {}-dead: {{ansible_host: '{}', ansible_port: {}}}\n",
        lab.prefix,
        dead.addr(),
        dead.port()
    ));
    let (h1, h2) = (lab.host(0), lab.host(1));
    let dead_name = format!("{}-dead", lab.prefix);
    let playbook = format!(
        r#"
- hosts: all
  gather_facts: false
  vars:
    base: "{{{{ out }}}}/{{{{ inventory_hostname }}}}"
  tasks:
    - file: {{path: "{{{{ base }}}}", state: directory}}
    - name: guarded
      block:
        - command: /bin/false
        - name: never reached
          copy: {{content: "no\n", dest: "{{{{ base }}}}/never"}}
      rescue:
        - copy: {{content: "rescued {{{{ ansible_failed_task.name | default('?') }}}}\n", dest: "{{{{ base }}}}/rescued"}}
      always:
        - copy: {{content: "always\n", dest: "{{{{ base }}}}/always"}}
    - name: ignored failure
      command: /bin/false
      ignore_errors: true
    - name: h2 fails for real
      fail: {{msg: "boom"}}
      when: inventory_hostname == "{h2}"
    - name: after the failure
      copy: {{content: "after\n", dest: "{{{{ base }}}}/after"}}
"#
    );
    let run = lab.play(&playbook, &["--timeout", "3"]);
    // An unreachable host gives 4 (it wins over a failed host's 2).
    assert_eq!(run.code, Some(4), "{run}");
    assert_eq!(
        lab.file(0, "rescued")
            .as_deref()
            .map(|s| s.starts_with("rescued")),
        Some(true)
    );
    assert_eq!(lab.file(0, "always").as_deref(), Some("always\n"));
    assert_eq!(lab.file(0, "never"), None);
    assert_eq!(lab.file(0, "after").as_deref(), Some("after\n"));
    assert_eq!(
        lab.file(1, "after"),
        None,
        "a failed host takes no more tasks"
    );
    assert!(run.stdout.contains("...ignoring"), "{run}");
    // As ansible-playbook counts: the ignored `command` failure changed the host (rc=1 is a
    // run command), so it counts in ok, changed and ignored; the rescued one only in rescued.
    assert_eq!(run.recap(&h1), [5, 5, 0, 0, 1, 1, 1]);
    assert_eq!(run.recap(&h2), [4, 4, 0, 1, 0, 1, 1]);
    assert_eq!(run.recap(&dead_name), [0, 0, 1, 0, 0, 0, 0]);
    assert!(
        run.stdout
            .contains(&format!("fatal: [{dead_name}]: UNREACHABLE!")),
        "{run}"
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
fn check_mode_changes_nothing_and_diff_shows_the_change() {
    let lab = Lab::new(1);
    let h1 = lab.host(0);
    let base = lab.out().join(&h1);
    fs::create_dir_all(&base).unwrap();
    fs::write(base.join("conf"), "a=1\nb=2\n").unwrap();
    let playbook = r#"
- hosts: targets
  gather_facts: false
  tasks:
    - lineinfile: {path: "{{ out }}/{{ inventory_hostname }}/conf", regexp: '^b=', line: "b=3"}
    - copy: {content: "new\n", dest: "{{ out }}/{{ inventory_hostname }}/new"}
"#;
    let run = lab.play(playbook, &["--check", "--diff"]);
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(fs::read_to_string(base.join("conf")).unwrap(), "a=1\nb=2\n");
    assert!(!base.join("new").exists());
    assert_eq!(run.recap(&h1), [2, 2, 0, 0, 0, 0, 0]);
    assert!(
        run.stdout.contains("-b=2") && run.stdout.contains("+b=3"),
        "{run}"
    );
}

#[test]
fn become_runs_tasks_as_root_through_sudo() {
    let login = "fleet_become";
    let exists = Command::new("id")
        .arg(login)
        .output()
        .unwrap()
        .status
        .success();
    if !exists {
        assert!(Command::new("useradd")
            .args(["-m", "-s", "/bin/sh", login])
            .status()
            .unwrap()
            .success());
    }
    // A usable (not locked) account without a password: key logins only.
    assert!(Command::new("usermod")
        .args(["-p", "*", login])
        .status()
        .unwrap()
        .success());
    fs::write(
        format!("/etc/sudoers.d/{login}"),
        format!("{login} ALL=(ALL) NOPASSWD: ALL\n"),
    )
    .unwrap();
    let lab = Lab::new(1);
    // sshd reads authorized_keys as the login user.
    for t in &lab.targets {
        Command::new("chmod")
            .arg("755")
            .arg(t.dir())
            .status()
            .unwrap();
        Command::new("chmod")
            .arg("644")
            .arg(t.dir().join("authorized_keys"))
            .status()
            .unwrap();
    }
    let playbook = format!(
        r#"
- hosts: targets
  gather_facts: false
  remote_user: {login}
  vars:
    ansible_user: {login}
  tasks:
    - command: id -un
      register: plain
    - command: id -un
      register: elevated
      become: true
    - name: root-owned file
      become: true
      copy: {{content: "x\n", dest: "{{{{ out }}}}/{{{{ inventory_hostname }}}}-root", mode: "0600"}}
    - assert:
        that:
          - plain.stdout == "{login}"
          - elevated.stdout == "root"
"#
    );
    let run = lab.play(&playbook, &[]);
    assert_eq!(run.code, Some(0), "{run}");
    let meta = fs::metadata(lab.out().join(format!("{}-root", lab.host(0)))).unwrap();
    assert_eq!(std::os::unix::fs::MetadataExt::uid(&meta), 0);
}

#[test]
fn parse_errors_name_file_line_and_column_and_nothing_runs() {
    let lab = Lab::new(1);
    let run = lab.play(
        "- hosts: targets\n  gather_facts: false\n  tasks:\n    - name: fine\n      file: {path: \"{{ out }}/touched\", state: touch}\n    - name: typo\n      cpoy: {content: x, dest: /tmp/x}\n",
        &[],
    );
    assert_eq!(run.code, Some(1), "a parse error exits 1: {run}");
    assert!(run.stderr.contains("site.yml:7:7"), "{run}");
    assert!(run.stderr.contains("cpoy"), "{run}");
    assert!(!lab.out().join("touched").exists(), "nothing may run");
    let check = lab.fleet(&["check", lab.path("site.yml").to_str().unwrap()]);
    assert_eq!(check.code, Some(1), "{check}");
    assert!(check.stderr.contains("site.yml:7:7"), "{check}");
}

#[test]
fn adhoc_exec_and_inventory_graph() {
    let lab = Lab::new(2);
    let run = lab.fleet(&[
        "exec",
        "targets",
        "-i",
        "inventory.yml",
        "-a",
        "echo hi-{{ inventory_hostname }}",
    ]);
    assert_eq!(run.code, Some(0), "{run}");
    for i in 0..2 {
        assert!(run.stdout.contains(&format!("hi-{}", lab.host(i))), "{run}");
    }
    let graph = lab.fleet(&["inventory", "-i", "inventory.yml", "--graph"]);
    assert!(graph.stdout.contains("@targets:"), "{graph}");
    assert!(
        graph.stdout.contains(&format!("|  |--{}", lab.host(1))),
        "{graph}"
    );
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

#[test]
fn become_with_a_sudo_password() {
    let login = "fleet_become_pw";
    let password = "Become-Pass-77";
    if !Command::new("id")
        .arg(login)
        .output()
        .unwrap()
        .status
        .success()
    {
        assert!(Command::new("useradd")
            .args(["-m", "-s", "/bin/sh", login])
            .status()
            .unwrap()
            .success());
    }
    let mut chpasswd = Command::new("chpasswd")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        chpasswd.stdin.as_mut().unwrap(),
        format!("{login}:{password}\n").as_bytes(),
    )
    .unwrap();
    assert!(chpasswd.wait().unwrap().success());
    // sudo asks this user for a password.
    fs::write(
        format!("/etc/sudoers.d/{login}"),
        format!("{login} ALL=(ALL) ALL\n"),
    )
    .unwrap();
    let lab = Lab::new(1);
    for t in &lab.targets {
        Command::new("chmod")
            .arg("755")
            .arg(t.dir())
            .status()
            .unwrap();
        Command::new("chmod")
            .arg("644")
            .arg(t.dir().join("authorized_keys"))
            .status()
            .unwrap();
    }
    let playbook = format!(
        r#"
- hosts: targets
  gather_facts: false
  vars:
    ansible_user: {login}
    ansible_become_password: "{{{{ sudo_pw }}}}"
  tasks:
    - command: id -un
      register: elevated
      become: true
    - name: stdin still reaches the module after the password line
      become: true
      copy: {{content: "through sudo\n", dest: "{{{{ out }}}}/{{{{ inventory_hostname }}}}-pw"}}
    - assert:
        that: ['elevated.stdout == "root"']
"#
    );
    let run = lab.play(&playbook, &["-e", &format!("sudo_pw={password}")]);
    assert_eq!(run.code, Some(0), "{run}");
    let written = lab.out().join(format!("{}-pw", lab.host(0)));
    assert_eq!(fs::read_to_string(&written).unwrap(), "through sudo\n");
    assert!(!run.stdout.contains(password), "{run}");

    let wrong = lab.play(&playbook, &["-e", "sudo_pw=not-it"]);
    assert_eq!(wrong.code, Some(2), "{wrong}");
    assert!(wrong.stdout.contains("password"), "{wrong}");
}

#[test]
fn delegate_to_runs_on_the_other_host_with_the_first_hosts_variables() {
    let lab = Lab::new(2);
    let (h1, h2) = (lab.host(0), lab.host(1));
    let playbook = format!(
        r#"
- hosts: {h1}
  gather_facts: false
  tasks:
    - shell: echo "$SSH_CONNECTION {{{{ inventory_hostname }}}}"
      delegate_to: {h2}
      register: there
    - shell: echo "$SSH_CONNECTION"
      delegate_to: localhost
      register: local
    - copy:
        content: "{{{{ there.stdout }}}}|{{{{ local.stdout }}}}\n"
        dest: "{{{{ out }}}}/delegated"
"#
    );
    let run = lab.play(&playbook, &[]);
    assert_eq!(run.code, Some(0), "{run}");
    let text = fs::read_to_string(lab.out().join("delegated")).unwrap();
    let (there, local) = text.trim_end().split_once('|').unwrap();
    // SSH_CONNECTION ends with the server's address and port: h2's sshd.
    let t2 = &lab.targets[1];
    assert!(
        there.ends_with(&format!("{} {} {h1}", t2.addr(), t2.port())),
        "{text}"
    );
    assert_eq!(local, "", "localhost runs without ssh: {text}");
    assert!(run.stdout.contains(&format!("[{h1} -> {h2}]")), "{run}");
}

#[test]
fn serial_free_strategy_flush_handlers_run_once_environment_no_log_vars_files_include_role() {
    let lab = Lab::new(3);
    let order = |name: &str| -> Vec<String> {
        fs::read_to_string(lab.out().join(name))
            .unwrap_or_default()
            .lines()
            .map(|l| l.split_whitespace().nth(1).unwrap_or_default().to_string())
            .collect()
    };
    let two_steps = |header: &str, file: &str| {
        format!(
            "- hosts: targets\n  gather_facts: false\n{header}  tasks:\n    - shell: echo \"{{{{ inventory_hostname }}}} A\" >> {{{{ out }}}}/{file}\n    - shell: echo \"{{{{ inventory_hostname }}}} B\" >> {{{{ out }}}}/{file}\n"
        )
    };
    // serial: 1 runs the whole play host by host; the default runs each task on all hosts first.
    let run = lab.play(&two_steps("  serial: 1\n", "serial"), &[]);
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(order("serial"), ["A", "B", "A", "B", "A", "B"]);
    let run = lab.play(&two_steps("", "linear"), &[]);
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(order("linear"), ["A", "A", "A", "B", "B", "B"]);
    let run = lab.play(&two_steps("  strategy: free\n", "free"), &[]);
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(order("free").len(), 6);

    lab.write("vars.yml", "from_file: value-from-vars-file\n");
    lab.write(
        "roles/small/tasks/main.yml",
        "- copy: {content: \"role {{ inventory_hostname }}\\n\", dest: \"{{ out }}/{{ inventory_hostname }}-role\"}\n",
    );
    let playbook = r#"
- hosts: targets
  gather_facts: false
  vars_files: [vars.yml]
  tasks:
    - shell: echo "$GREETING {{ from_file }}" > {{ out }}/{{ inventory_hostname }}-env
      environment: {GREETING: hi}
    - command: echo secret-value-123
      no_log: true
      register: hidden
    - shell: echo once >> {{ out }}/once
      run_once: true
    - copy: {content: "n\n", dest: "{{ out }}/{{ inventory_hostname }}-notify"}
      notify: touch it
    - meta: flush_handlers
    - name: the handler already ran
      command: test -f {{ out }}/{{ inventory_hostname }}-handled
    - include_role: {name: small}
    - assert: {that: ['hidden.stdout == "secret-value-123"']}
  handlers:
    - name: touch it
      file: {path: "{{ out }}/{{ inventory_hostname }}-handled", state: touch}
"#;
    let run = lab.play(playbook, &["-v"]);
    assert_eq!(run.code, Some(0), "{run}");
    let h1 = lab.host(0);
    assert_eq!(
        fs::read_to_string(lab.out().join(format!("{h1}-env"))).unwrap(),
        "hi value-from-vars-file\n"
    );
    assert_eq!(
        fs::read_to_string(lab.out().join("once")).unwrap(),
        "once\n"
    );
    assert_eq!(
        fs::read_to_string(lab.out().join(format!("{}-role", lab.host(2)))).unwrap(),
        format!("role {}\n", lab.host(2))
    );
    assert!(
        !run.stdout.contains("secret-value-123"),
        "no_log result shown:\n{run}"
    );
    assert!(run.stdout.contains("censored"), "{run}");
}

#[test]
fn any_errors_fatal_max_fail_percentage_and_ignore_unreachable() {
    let lab = Lab::new(3);
    let mut dead = e2e::TargetSshd::start(&[]);
    dead.stop();
    lab.write_inventory(&format!(
        "    {}-dead: {{ansible_host: '{}', ansible_port: {}}}\n",
        lab.prefix,
        dead.addr(),
        dead.port()
    ));
    let (h1, h2) = (lab.host(0), lab.host(1));
    let dead_name = format!("{}-dead", lab.prefix);
    let playbook = format!(
        r#"
- hosts: targets
  gather_facts: false
  any_errors_fatal: true
  tasks:
    - fail: {{msg: stop}}
      when: inventory_hostname == "{h1}"
    - file: {{path: "{{{{ out }}}}/{{{{ inventory_hostname }}}}-fatal", state: touch}}
- hosts: all
  gather_facts: false
  tasks:
    - name: tolerated
      command: "true"
      ignore_unreachable: true
"#
    );
    let run = lab.play(&playbook, &["--timeout", "3"]);
    assert_eq!(run.code, Some(2), "{run}");
    for i in 0..3 {
        assert!(
            !lab.out().join(format!("{}-fatal", lab.host(i))).exists(),
            "{run}"
        );
    }
    assert_eq!(run.recap(&h1)[3], 1, "{run}");
    // The dead host is reached only by the second play, which tolerates it.
    assert_eq!(run.recap(&dead_name), [1, 0, 0, 0, 0, 0, 1], "{run}");

    // max_fail_percentage: 1 of 3 failing (33%) is over 20%: the play stops for everyone.
    let playbook = format!(
        r#"
- hosts: targets
  gather_facts: false
  max_fail_percentage: 20
  tasks:
    - fail: {{msg: stop}}
      when: inventory_hostname == "{h2}"
    - file: {{path: "{{{{ out }}}}/{{{{ inventory_hostname }}}}-pct", state: touch}}
"#
    );
    let run = lab.play(&playbook, &[]);
    assert_eq!(run.code, Some(2), "{run}");
    assert!(!lab.out().join(format!("{h1}-pct")).exists(), "{run}");
}

#[test]
fn usage_errors_exit_1_and_help_exits_0() {
    let lab = Lab::new(1);
    let bad = lab.fleet(&["run", "--no-such-flag", "site.yml"]);
    assert_eq!(
        bad.code,
        Some(1),
        "a usage error is not the code of a failed host (2): {bad}"
    );
    assert!(bad.stderr.contains("--no-such-flag"), "{bad}");
    let missing = lab.fleet(&["run"]);
    assert_eq!(missing.code, Some(1), "{missing}");
    let help = lab.fleet(&["run", "--help"]);
    assert_eq!(help.code, Some(0), "{help}");
}
