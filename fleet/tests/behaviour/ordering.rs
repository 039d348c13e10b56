//! Where and in what order tasks run: `serial`, the linear and `free` strategies,
//! `delegate_to` (another host, or localhost without ssh), `run_once`, `meta: flush_handlers`,
//! plus per-task `environment`, `no_log`, `vars_files` and `include_role`.
//!
//! The order of side effects is the observable here: tasks append to a shared file on the targets
//! and the test reads the sequence back, and `$SSH_CONNECTION` shows which sshd a task reached.

use std::fs;

use crate::lab::Lab;

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

/// Issue 18: `throttle: 1` runs a task on one host at a time (each host's start and end lines
/// never interleave with another's), and `order:` is the order hosts take their turns in.
#[test]
fn throttle_runs_hosts_one_at_a_time_in_the_plays_order() {
    let lab = Lab::new(3);
    let playbook = r#"
- hosts: targets
  gather_facts: no
  order: reverse_sorted
  tasks:
    - name: one at a time
      shell: "echo start >> {{ out }}/turns.log; sleep 0.3; echo end >> {{ out }}/turns.log"
      throttle: 1
    - name: in the play's order
      shell: "echo {{ inventory_hostname }} >> {{ out }}/order.log"
      throttle: "{{ 0 + 1 }}"
"#;
    let run = lab.play(playbook, &[]);
    assert_eq!(run.code, Some(0), "{run}");
    let turns = fs::read_to_string(lab.out().join("turns.log")).unwrap();
    assert_eq!(turns, "start\nend\n".repeat(3), "{run}");
    let mut names: Vec<String> = (0..3).map(|i| lab.host(i)).collect();
    names.sort();
    names.reverse();
    let order = fs::read_to_string(lab.out().join("order.log")).unwrap();
    assert_eq!(order, names.join("\n") + "\n");
}

/// Issue 18: the `port` and `remote_user` keywords connect where the host's variables set no
/// `ansible_port`/`ansible_user` (and `remote_user` wins over `-u`, as in Ansible); a play
/// whose keywords name another login opens another connection (the third play, without them,
/// logs in as `-u` says and cannot); a variable still wins over the keyword.
#[test]
fn port_and_remote_user_keywords_open_the_connection() {
    let lab = Lab::new(1);
    let target = &lab.targets[0];
    let inventory = lab.write(
        "bare.yml",
        &format!(
            "targets:\n  hosts:\n    {host}: {{ansible_host: '{addr}'}}\n  \
             vars: {{ansible_ssh_private_key_file: '{key}', out: '{out}'}}\n\
             pinned:\n  hosts:\n    {host}-pinned: {{ansible_host: '{addr}', ansible_port: {port}, \
             ansible_user: root}}\n  vars: {{ansible_ssh_private_key_file: '{key}'}}\n",
            host = lab.host(0),
            addr = target.addr(),
            port = target.port(),
            key = lab.key.private.display(),
            out = lab.out().display(),
        ),
    );
    let playbook = format!(
        r#"
- hosts: targets
  gather_facts: no
  port: "{{{{ {port} }}}}"
  remote_user: root
  tasks:
    - command: id -un
      register: who
    - copy: {{content: "{{{{ who.stdout }}}}", dest: "{{{{ out }}}}/who"}}
- hosts: pinned
  gather_facts: no
  port: 1
  remote_user: fleet-nobody
  tasks:
    - command: id -un
- hosts: targets
  gather_facts: no
  tasks:
    - command: id -un
"#,
        port = target.port()
    );
    let pb = lab.write("keywords.yml", &playbook);
    let run = lab.fleet(&[
        "run",
        pb.to_str().unwrap(),
        "-i",
        inventory.to_str().unwrap(),
        "-u",
        "fleet-nobody",
    ]);
    assert_eq!(run.code, Some(4), "{run}");
    assert_eq!(
        fs::read_to_string(lab.out().join("who")).unwrap(),
        "root",
        "{run}"
    );
    assert_eq!(run.recap(&lab.host(0))[0..3], [2, 2, 1], "{run}");
    assert_eq!(
        run.recap(&format!("{}-pinned", lab.host(0)))[0..3],
        [1, 1, 0],
        "{run}"
    );
}
