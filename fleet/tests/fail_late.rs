//! Fail late, like Ansible (issue 18), for what the comparison with ansible-playbook cannot
//! show: a collection module fleet cannot resolve and `become_method: su` fail their task when
//! it runs (ignored, rescued) instead of refusing the playbook, while `fleet check`, the
//! linter, still reports every one of them up front with file:line:column.

mod lab;

use lab::Lab;

const PLAYBOOK: &str = r#"- hosts: targets
  gather_facts: false
  tasks:
    - name: base
      file: {path: "{{ out }}/{{ inventory_hostname }}", state: directory}
    - name: a collection fleet cannot resolve
      community.general.ufw: {rule: allow}
      register: unresolved
      ignore_errors: true
    - name: a built-in fleet lacks
      ansible.builtin.dnf: {name: httpd}
      register: lacking
      ignore_errors: true
    - name: guarded
      block:
        - name: as root through su
          command: id
          become: true
          become_method: su
      rescue:
        - name: rescued
          copy:
            content: "{{ ansible_failed_result.msg }}\n"
            dest: "{{ out }}/{{ inventory_hostname }}/rescued"
    - name: messages
      copy:
        content: "{{ unresolved.msg }}\n{{ lacking.msg }}\n"
        dest: "{{ out }}/{{ inventory_hostname }}/messages"
"#;

#[test]
fn run_time_failures_fail_their_task_and_check_reports_them() {
    let lab = Lab::new(1);
    let run = lab.play(PLAYBOOK, &[]);
    assert_eq!(run.code, Some(0), "{run}");
    let messages = lab.file(0, "messages").unwrap_or_default();
    assert_eq!(
        messages,
        "couldn't resolve module/action 'community.general.ufw'. This often indicates a \
         misspelling, missing collection, or incorrect module path.\n\
         fleet has no native implementation of module 'ansible.builtin.dnf' (a module of \
         Ansible's ansible.builtin collection)\n",
        "{run}"
    );
    let rescued = lab.file(0, "rescued").unwrap_or_default();
    assert!(rescued.contains("su"), "{rescued}\n{run}");
    // ok: base, 2 ignored failures, rescued copy, messages; 2 ignored, 1 rescued.
    assert_eq!(run.recap(&lab.host(0)), [5, 3, 0, 0, 0, 1, 2], "{run}");

    let check = lab.fleet(&["check", lab.path("site.yml").to_str().unwrap()]);
    assert_eq!(check.code, Some(1), "{check}");
    for expected in [
        "site.yml:6:7: task 'a collection fleet cannot resolve': couldn't resolve",
        "site.yml:10:7: task 'a built-in fleet lacks': fleet has no native implementation",
        "site.yml:19:26: task 'as root through su': become_method 'su' is not supported",
    ] {
        assert!(check.stderr.contains(expected), "{expected}\n{check}");
    }
}
