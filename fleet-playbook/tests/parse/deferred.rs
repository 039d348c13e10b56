//! What Ansible only finds when a task runs (missing arguments, modules fleet lacks, an
//! unsupported `become_method`) parses under `defer_runtime_checks` (`fleet run`) and is
//! still reported up front by the default parse and `fleet check`.

use super::Fixture;
use fleet_playbook::*;

const PLAY: &str = r#"- hosts: all
  tasks:
    - name: only on Red Hat
      ansible.builtin.dnf: {name: httpd}
      when: ansible_os_family == 'RedHat'
    - name: expected to fail
      user: {state: present}
      ignore_errors: true
    - name: collection module
      community.general.ufw: {rule: allow}
      when: false
    - name: as another user
      command: id
      become: true
      become_method: su
      when: false
"#;

#[test]
fn run_time_checks_are_deferred_for_fleet_run_and_reported_by_check() {
    let fixture = Fixture::new(&[("play.yml", PLAY)]);
    let options = ParseOptions {
        defer_runtime_checks: true,
        ..ParseOptions::default()
    };
    let playbook = fixture.playbook_with("play.yml", &options);
    let TaskItem::Task(task) = &playbook.plays[0].tasks[0] else {
        panic!("not a task");
    };
    assert_eq!(task.action, "dnf");
    assert_eq!(playbook.plays[0].tasks.len(), 4);

    let errors = fixture.errors("play.yml");
    assert_eq!(
        errors,
        [
            "play.yml:3:7: task 'only on Red Hat': fleet has no native implementation of module \
             'ansible.builtin.dnf' (a module of Ansible's ansible.builtin collection)",
            "play.yml:6:7: task 'expected to fail': missing required arguments: name",
            "play.yml:9:7: task 'collection module': couldn't resolve module/action \
             'community.general.ufw'. This often indicates a misspelling, missing collection, \
             or incorrect module path.",
            "play.yml:15:22: task 'as another user': become_method 'su' is not supported (fleet \
             only supports sudo)",
        ]
    );
    let report = check_playbook(&fixture.path("play.yml"), &ParseOptions::default());
    assert_eq!(fixture.relative(&report.to_string()), errors.join("\n"));
}

#[test]
fn syntax_errors_still_fail_the_deferred_parse() {
    let fixture = Fixture::new(&[
        ("yaml.yml", "- hosts: all\n  tasks: [\n"),
        ("typo.yml", "- hosts: all\n  tasks:\n    - cpoy: {src: a}\n"),
    ]);
    let options = ParseOptions {
        defer_runtime_checks: true,
        ..ParseOptions::default()
    };
    for name in ["yaml.yml", "typo.yml"] {
        assert!(
            parse_playbook(&fixture.path(name), &options).is_err(),
            "{name}"
        );
    }
}

/// Issue 18: a play's `collections:` makes a short name that is no known module a module of
/// those collections (resolved by Ansible's loader when it runs); without it the name is
/// unknown, as before.
#[test]
fn a_plays_collections_accept_short_module_names() {
    let with = "- hosts: all\n  collections: [community.general]\n  tasks:\n    \
                - ini_file: {path: /x, section: a}\n      when: false\n";
    let without = "- hosts: all\n  tasks:\n    - ini_file: {path: /x, section: a}\n";
    let fixture = Fixture::new(&[("with.yml", with), ("without.yml", without)]);
    let options = ParseOptions {
        defer_runtime_checks: true,
        ..ParseOptions::default()
    };
    let playbook = fixture.playbook_with("with.yml", &options);
    let TaskItem::Task(task) = &playbook.plays[0].tasks[0] else {
        panic!("not a task");
    };
    assert_eq!(task.action, "ini_file");
    assert_eq!(
        playbook.plays[0].keywords.collections,
        ["community.general"]
    );
    let errors = fixture.errors("without.yml");
    assert!(
        errors[0].contains("unknown module 'ini_file'"),
        "{errors:?}"
    );
}
