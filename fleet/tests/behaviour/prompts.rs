//! `vars_prompt` (issue 18): the variables a play asks its operator for. On a terminal fleet
//! asks as ansible-playbook does (`prompt [default]: `, no echo for a private one, asked twice
//! with `confirm`); a variable given with `-e` is not asked; without a terminal a prompt takes
//! its default, and one without a default stops the run naming it, before anything runs.

use std::process::Command;
use std::time::Duration;

use e2e::pty::PtySession;

use crate::lab::{Lab, FLEET};

const PLAYBOOK: &str = r#"
- hosts: targets
  gather_facts: no
  vars_prompt:
    - name: version
      prompt: Which version
      default: "1.0"
      private: false
    - name: secret
      prompt: A secret
      confirm: true
    - name: region
      default: eu
  tasks:
    - copy:
        dest: "{{ out }}/{{ inventory_hostname }}/answers"
        content: "version={{ version }} secret={{ secret }} region={{ region }}\n"
"#;

/// fleet as the lab runs it, in a session of its own: no controlling terminal to ask on.
fn without_terminal(lab: &Lab, extra: &[&str]) -> std::process::Output {
    let pb = lab.write("site.yml", PLAYBOOK);
    std::fs::create_dir_all(lab.out().join(lab.host(0))).unwrap();
    Command::new("setsid")
        .arg("--wait")
        .arg(FLEET)
        .args(["run", pb.to_str().unwrap(), "-i", "inventory.yml"])
        .args(extra)
        .env("HOME", lab.path("home"))
        .current_dir(lab.dir.path())
        .output()
        .expect("setsid runs fleet")
}

#[test]
fn without_a_terminal_defaults_and_extra_vars_answer_and_nothing_else_does() {
    let lab = Lab::new(1);
    let out = without_terminal(&lab, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("vars_prompt 'secret' needs an answer and there is no terminal to ask on"),
        "{stderr}"
    );
    assert_eq!(lab.file(0, "answers"), None, "nothing ran");
    let out = without_terminal(&lab, &["-e", "secret=given"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        lab.file(0, "answers").as_deref(),
        Some("version=1.0 secret=given region=eu\n")
    );
}

#[test]
fn on_a_terminal_each_prompt_is_asked_as_ansible_asks_it() {
    let lab = Lab::new(1);
    let pb = lab.write("site.yml", PLAYBOOK);
    std::fs::create_dir_all(lab.out().join(lab.host(0))).unwrap();
    let argv: Vec<String> = [
        FLEET,
        "run",
        pb.to_str().unwrap(),
        "-i",
        lab.path("inventory.yml").to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let home = lab.path("home").to_string_lossy().into_owned();
    let mut pty = PtySession::spawn(&argv, &[("HOME".into(), home)], 120, 40);
    let wait = Duration::from_secs(20);
    pty.expect("Which version [1.0]: ", wait);
    pty.send("2.5\r");
    pty.expect("A secret: ", wait);
    pty.send("s3cr3t\r");
    pty.expect("confirm A secret: ", wait);
    pty.send("other\r");
    pty.expect("***** VALUES ENTERED DO NOT MATCH ****", wait);
    pty.expect("A secret: ", wait);
    pty.send("s3cr3t\r");
    pty.expect("confirm A secret: ", wait);
    pty.send("s3cr3t\r");
    pty.expect("region [eu]: ", wait);
    pty.send("\r");
    assert_eq!(
        pty.wait(Duration::from_secs(60)),
        Some(0),
        "{}",
        pty.output()
    );
    assert!(
        !pty.output().contains("s3cr3t"),
        "a private answer was echoed:\n{}",
        pty.output()
    );
    assert_eq!(
        lab.file(0, "answers").as_deref(),
        Some("version=2.5 secret=s3cr3t region=eu\n")
    );
}
