//! What an operator sees at the edges of a run: Ctrl-C in the middle of a long task, an
//! undefined variable, and the terminal-only parts of the output (colours, progress line).

mod lab;

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lab::{Lab, FLEET};

/// Whether a process whose command line contains `needle` is running.
fn running(needle: &str) -> bool {
    Command::new("pgrep")
        .args(["-f", needle])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[test]
fn ctrl_c_stops_the_running_task_on_every_host_and_prints_the_recap() {
    let lab = Lab::new(2);
    // A duration nothing else on the machine sleeps for, to find the remote processes.
    let marker = format!("9{}", u32::from_str_radix(&lab::hex_id()[..4], 16).unwrap());
    let playbook = lab.write(
        "site.yml",
        &format!(
            r#"
- hosts: targets
  gather_facts: false
  tasks:
    - name: quick
      command: "true"
    - name: long
      command: "sleep {marker}"
    - name: never reached
      file: {{path: "{{{{ out }}}}/after", state: touch}}
"#
        ),
    );
    let mut child = Command::new(FLEET)
        .args(["run", playbook.to_str().unwrap(), "-i", "inventory.yml"])
        .env("HOME", lab.path("home"))
        .current_dir(lab.dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = Arc::new(Mutex::new(String::new()));
    let reader = {
        let stdout = stdout.clone();
        let mut pipe = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                stdout
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
    };
    let started = e2e::poll(Duration::from_secs(30), || {
        (stdout.lock().unwrap().contains("TASK [long]") && running(&format!("sleep {marker}")))
            .then_some(())
    });
    assert!(
        started.is_some(),
        "the long task never started:\n{}",
        stdout.lock().unwrap()
    );

    let sent = Instant::now();
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = e2e::poll(Duration::from_secs(30), || child.try_wait().unwrap());
    let Some(status) = status else {
        let _ = child.kill();
        panic!("fleet did not stop within 30 s of Ctrl-C");
    };
    reader.join().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let out = stdout.lock().unwrap().clone();
    let report = format!("--- stdout\n{out}\n--- stderr\n{stderr}");
    assert!(
        sent.elapsed() < Duration::from_secs(30),
        "waited for the task to end"
    );
    assert_eq!(status.code(), Some(99), "{report}");
    assert!(stderr.contains("User interrupted execution"), "{report}");
    assert!(out.contains("PLAY RECAP"), "{report}");
    assert!(!out.contains("TASK [never reached]"), "{report}");
    let gone = e2e::poll(Duration::from_secs(10), || {
        (!running(&format!("sleep {marker}"))).then_some(())
    });
    assert!(gone.is_some(), "the remote command outlived the run");
}

#[test]
fn an_undefined_variable_fails_the_task_and_names_it() {
    let lab = Lab::new(1);
    let run = lab.play(
        r#"
- hosts: targets
  gather_facts: false
  tasks:
    - name: uses a typo
      debug: {msg: "{{ not_defined_anywhere }}"}
    - name: after
      debug: {msg: hi}
"#,
        &[],
    );
    assert_eq!(run.code, Some(2), "{run}");
    let fatal = run
        .stdout
        .split_once("fatal: [")
        .unwrap_or_else(|| panic!("no fatal result:\n{run}"))
        .1;
    assert!(
        fatal.contains("'not_defined_anywhere' is undefined"),
        "{run}"
    );
    assert!(run.stdout.contains("TASK [uses a typo]"), "{run}");
    assert!(!run.stdout.contains("TASK [after]"), "{run}");
}

#[test]
fn colours_and_the_progress_line_only_on_a_terminal() {
    let lab = Lab::new(2);
    let playbook = lab.write(
        "site.yml",
        r#"
- hosts: targets
  gather_facts: false
  tasks:
    - name: slow on one host
      command: "sleep {{ 2 if inventory_hostname.endswith('h1') else 0 }}"
      changed_when: false
    - name: change
      copy: {content: "x\n", dest: "{{ out }}/{{ inventory_hostname }}-x"}
"#,
    );
    let argv: Vec<String> = [
        FLEET,
        "run",
        playbook.to_str().unwrap(),
        "-i",
        lab.path("inventory.yml").to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let env = vec![
        ("HOME".to_string(), lab.path("home").display().to_string()),
        ("TERM".to_string(), "xterm".to_string()),
    ];
    let mut pty = e2e::PtySession::spawn(&argv, &env, 100, 30);
    // While h1 sleeps, the progress line counts one host of two done.
    pty.expect("[1/2 hosts] slow on one host", Duration::from_secs(30));
    pty.expect("PLAY RECAP", Duration::from_secs(30));
    assert_eq!(pty.wait(Duration::from_secs(30)), Some(0));
    let raw = pty.output();
    assert!(
        raw.contains("\x1b[0;33mchanged: ["),
        "no yellow 'changed':\n{raw:?}"
    );
    assert!(raw.contains("\x1b[0;32mok: ["), "no green 'ok':\n{raw:?}");

    // The same run into a pipe: plain text, no progress line.
    let piped = lab.play(
        r#"
- hosts: targets
  gather_facts: false
  tasks:
    - command: "true"
"#,
        &[],
    );
    assert_eq!(piped.code, Some(0), "{piped}");
    assert!(!piped.stdout.contains('\x1b'), "{piped}");
    assert!(!piped.stdout.contains("hosts] "), "{piped}");
}
