//! How `fleet run` handles hosts that fail or cannot be reached: block/rescue/always,
//! `ignore_errors`, a failed host dropping out of the play, unreachable hosts and the exit code
//! they give (4 wins over 2), `any_errors_fatal`, `max_fail_percentage` and `ignore_unreachable`.
//!
//! Failure semantics decide which hosts keep running and what the recap counts, so each test
//! pins the per-host recap columns as ansible-playbook reports them, with a real dead target.

use crate::lab::Lab;

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
