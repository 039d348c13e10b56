//! Issue 20: the actions fleet runs itself (`debug`, `assert`, `pause`, `include_vars`) check
//! their arguments like every module: `fleet check` reports an unknown key with its place, and
//! `fleet run` fails that task with Ansible's words instead of running it without the key.

mod lab;

use lab::Lab;

const PLAYBOOK: &str = r#"
- hosts: targets
  gather_facts: false
  tasks:
    - name: a typo
      debug: {mgs: hello}
    - name: never reached
      debug: {msg: after}
"#;

#[test]
fn an_unknown_debug_argument_is_an_error_in_check_and_run() {
    let lab = Lab::new(1);
    let host = lab.host(0);
    let playbook = lab.write("site.yml", PLAYBOOK);
    let check = lab.fleet(&["check", playbook.to_str().unwrap()]);
    assert_eq!(check.code, Some(1), "{check}");
    assert!(
        check
            .stderr
            .contains("Unsupported parameters for (debug) module: mgs")
            && check.stderr.contains("site.yml:5:7:"),
        "{check}"
    );
    let run = lab.play(PLAYBOOK, &[]);
    assert_eq!(run.code, Some(2), "{run}");
    assert_eq!(run.recap(&host), [0, 0, 0, 1, 0, 0, 0], "{run}");
    assert!(
        run.stdout.contains("Unsupported parameters for (debug) module: mgs. Supported parameters include: msg, var, verbosity."),
        "{run}"
    );
    assert!(!run.stdout.contains("Hello world!"), "{run}");
}
