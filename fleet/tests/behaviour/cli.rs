//! The `fleet` command line around a playbook run: `--check --diff`, parse errors naming
//! file:line:column before anything runs (`fleet run` and `fleet check`), ad-hoc `fleet exec`,
//! `fleet inventory --graph`, and the exit codes of usage errors and `--help`.
//!
//! These are the operator-facing contracts (exit codes, error locations, dry runs) rather than
//! playbook semantics, so they are kept together and each is short.

use std::fs;

use crate::lab::Lab;

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
