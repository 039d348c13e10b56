//! The command log of real interactive shells: what an engineer types through real `ssh` on a
//! PTY into a real bash on the target, with line editing, history, tab completion, Ctrl-C, a
//! password prompt and a full-screen editor, comes out as exactly the commands that ran.

use std::fs;

use e2e::{secs, Client, Lab};

const BIN: &str = env!("CARGO_BIN_EXE_bastion");

#[test]
fn typed_commands_are_logged_as_they_ran_and_secrets_never_are() {
    let (lab, alice) = Lab::serving(BIN, &[("web1", &[])], "roles:\n  - name: ops\n    members: [alice]\n    hosts: [web1]\n    logins: [root]\n    require_totp: false\n", "alice");
    let client = Client::new(&lab.bastion, &alice);
    let work = lab.target("web1").dir().join("work");
    fs::create_dir_all(&work).unwrap();
    fs::write(work.join("verylongfilename_abc"), "x").unwrap();

    let mut sh = client.terminal("alice", &["web1"], 100, 30);
    // Wait for the target's own prompt, then set a plain one so the test does not depend on
    // the target's bash configuration.
    sh.expect("# ", secs(20));
    let setup = format!("PS1='PROM''PT$ '; cd {}", work.display());
    sh.send(&format!("{setup}\r"));
    sh.expect("PROMPT$ ", secs(20));

    // Backspace fixes a typo.
    sh.send("echo hellp");
    sh.expect("hellp", secs(5));
    sh.send("\x7fo world\r");
    sh.expect("hello world\r\n", secs(10));
    sh.expect("PROMPT$ ", secs(10));
    // Up arrow recalls it.
    sh.send("\x1b[A");
    sh.expect("echo hello world", secs(5));
    sh.send("\r");
    sh.expect("hello world\r\n", secs(10));
    sh.expect("PROMPT$ ", secs(10));
    // Cursor left, insert in the middle.
    sh.send("echo ac");
    sh.expect("echo ac", secs(5));
    sh.send("\x1b[Db\r");
    sh.expect("abc\r\n", secs(10));
    sh.expect("PROMPT$ ", secs(10));
    // Tab completion, resolved to what bash completed.
    sh.send("ls very");
    sh.expect("very", secs(5));
    sh.send("\t");
    sh.expect("longfilename_abc", secs(5));
    sh.send("\r");
    sh.expect("verylongfilename_abc\r\n", secs(10));
    sh.expect("PROMPT$ ", secs(10));
    // Ctrl-C cancels a line: not a command.
    sh.send("echo cancelled-line");
    sh.expect("cancelled-line", secs(5));
    sh.send("\x03");
    sh.expect("PROMPT$ ", secs(10));
    // A password typed with echo off is never stored anywhere.
    sh.send("read -s -p 'Password: ' pw; echo got-${#pw}\r");
    sh.expect("Password: ", secs(10));
    sh.send("hunter2secret\r");
    sh.expect("got-13", secs(10));
    sh.expect("PROMPT$ ", secs(10));
    // A full-screen editor adds no junk commands.
    sh.send("vim -u NONE -N notes.txt\r");
    sh.expect("notes.txt", secs(10));
    std::thread::sleep(std::time::Duration::from_millis(500));
    sh.send("ihello from vim\x1b");
    std::thread::sleep(std::time::Duration::from_millis(300));
    sh.send(":wq\r");
    sh.expect("PROMPT$ ", secs(10));
    sh.send("cat notes.txt\r");
    sh.expect("hello from vim\r\n", secs(10));
    sh.expect("PROMPT$ ", secs(10));
    sh.send("exit\r");
    assert_eq!(sh.wait(secs(20)), Some(0));
    assert_eq!(
        fs::read_to_string(work.join("notes.txt")).unwrap(),
        "hello from vim\n"
    );

    let session = lab.bastion.sessions()[0]["id"].to_string();
    let logged: Vec<String> = lab
        .bastion
        .json_lines(&["commands", "--session", &session, "--json"])
        .iter()
        .map(|c| c["command"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        logged,
        vec![
            setup.as_str(),
            "echo hello world",
            "echo hello world",
            "echo abc",
            "ls verylongfilename_abc",
            "read -s -p 'Password: ' pw; echo got-${#pw}",
            "vim -u NONE -N notes.txt",
            "cat notes.txt",
            "exit",
        ]
    );
    let all = lab
        .bastion
        .json_lines(&["commands", "--grep", "hello", "--json"]);
    assert_eq!(all.len(), 2, "{all:?}");

    // The secret is nowhere: not in the command log, the recording, the database or the audit.
    let rec = lab.bastion.sessions()[0]["recording"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!fs::read_to_string(&rec).unwrap().contains("hunter2"));
    for f in ["bastion.db", "bastion.db-wal"] {
        let bytes = fs::read(lab.bastion.data_dir().join(f)).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains("hunter2"),
            "secret found in {f}"
        );
    }
    assert!(!serde_json::to_string(&lab.bastion.audit_events())
        .unwrap()
        .contains("hunter2"));

    // Replay can start where a logged command was entered.
    let replay = lab
        .bastion
        .cli(&["replay", &session, "--at-command", "4", "--speed", "1000"]);
    replay.assert_success();
    assert!(replay.stdout.contains("abc"), "{replay}");
    lab.bastion
        .cli(&["replay", &session, "--at-command", "99"])
        .assert_failure();
}

#[test]
fn deny_commands_stop_a_typed_line_before_it_reaches_the_target() {
    let policy = "roles:\n  - name: ops\n    members: [alice]\n    hosts: [web1]\n    logins: [root]\n    require_totp: false\n    deny_commands: ['^rm\\s+.*precious', 'forbidden-word']\n";
    let (lab, alice) = Lab::serving(BIN, &[("web1", &[])], policy, "alice");
    let client = Client::new(&lab.bastion, &alice);
    let work = lab.target("web1").dir().join("work");
    fs::create_dir_all(&work).unwrap();
    fs::write(work.join("precious_data.txt"), "keep me").unwrap();

    let mut sh = client.terminal("alice", &["web1"], 100, 30);
    sh.expect("# ", secs(20));
    sh.send(&format!("PS1='PROM''PT$ '; cd {}\r", work.display()));
    sh.expect("PROMPT$ ", secs(20));

    // Typed in full: the line is wiped on the target, the user is told why.
    sh.send("touch forbidden-word.txt\r");
    sh.expect("command blocked by policy", secs(10));
    sh.expect("PROMPT$ ", secs(10));
    // Tab completion decides what runs: the rule sees the completed name, not the keys.
    sh.send("rm prec");
    sh.expect("rm prec", secs(5));
    sh.send("\t");
    sh.expect("ious_data.txt", secs(5));
    sh.send("\r");
    sh.expect("command blocked by policy", secs(10));
    sh.expect("PROMPT$ ", secs(10));
    // A blocked line never entered the history: up arrow recalls the last command that ran.
    sh.send("echo still-alive\r");
    sh.expect("still-alive\r\n", secs(10));
    sh.expect("PROMPT$ ", secs(10));
    sh.send("\x1b[A");
    sh.expect("echo still-alive", secs(5));
    sh.send("\x15");
    // Allowed commands run normally after a block.
    sh.send("touch allowed.txt\r");
    sh.expect("PROMPT$ ", secs(10));
    sh.send("exit\r");
    assert_eq!(sh.wait(secs(20)), Some(0));

    assert!(
        !work.join("forbidden-word.txt").exists(),
        "blocked command ran"
    );
    assert_eq!(
        fs::read_to_string(work.join("precious_data.txt")).unwrap(),
        "keep me"
    );
    assert!(work.join("allowed.txt").exists());

    let blocked = lab.bastion.audit_of("command_blocked");
    let lines: Vec<&str> = blocked
        .iter()
        .map(|e| e["detail"]["command"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        lines,
        ["touch forbidden-word.txt", "rm precious_data.txt"],
        "{blocked:?}"
    );
    assert!(blocked.iter().all(|e| e["detail"]["origin"] == "shell"));

    let session = lab.bastion.sessions()[0]["id"].to_string();
    let rows = lab
        .bastion
        .json_lines(&["commands", "--session", &session, "--json"]);
    let summary: Vec<(String, bool)> = rows
        .iter()
        .map(|c| {
            (
                c["command"].as_str().unwrap().to_string(),
                c["blocked"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    let expect = |s: &str, b: bool| (s.to_string(), b);
    assert_eq!(
        summary,
        vec![
            expect(&format!("PS1='PROM''PT$ '; cd {}", work.display()), false),
            expect("touch forbidden-word.txt", true),
            expect("rm precious_data.txt", true),
            expect("echo still-alive", false),
            expect("touch allowed.txt", false),
            expect("exit", false),
        ]
    );
    // The recording shows the block and marks it.
    let rec = lab.bastion.sessions()[0]["recording"]
        .as_str()
        .unwrap()
        .to_string();
    let cast = fs::read_to_string(&rec).unwrap();
    assert!(cast.contains("command blocked by policy"));
    assert!(
        cast.contains("\"m\", \"command blocked: rm precious_data.txt\"")
            || cast.contains("\"m\",\"command blocked: rm precious_data.txt\""),
        "{cast}"
    );
}

/// A non-root account on this machine with a password and sudo rights, so a real `sudo`
/// prompt can be answered through the bastion. Created once; the tests run as root.
fn sudo_account() -> (&'static str, &'static str) {
    const USER: &str = "e2e_sudoer";
    const PASSWORD: &str = "Sudo-Pass-4242";
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let exists = std::process::Command::new("id")
            .arg(USER)
            .output()
            .unwrap()
            .status
            .success();
        if !exists {
            let ok = std::process::Command::new("useradd")
                .args(["-m", "-s", "/bin/bash", USER])
                .status()
                .unwrap()
                .success();
            assert!(ok, "useradd {USER}");
        }
        let mut chpasswd = std::process::Command::new("chpasswd")
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        chpasswd
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{USER}:{PASSWORD}\n").as_bytes())
            .unwrap();
        assert!(chpasswd.wait().unwrap().success(), "chpasswd");
        let sudoers = format!("/etc/sudoers.d/{USER}");
        fs::write(&sudoers, format!("{USER} ALL=(ALL) ALL\n")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&sudoers, fs::Permissions::from_mode(0o440)).unwrap();
    });
    (USER, PASSWORD)
}

#[test]
fn a_sudo_password_never_appears_anywhere() {
    let (login, password) = sudo_account();
    let policy = format!("roles:\n  - name: ops\n    members: [alice]\n    hosts: [web1]\n    logins: [{login}]\n    require_totp: false\n    record_input: true\n");
    let (lab, alice) = Lab::serving(BIN, &[("web1", &[])], &policy, "alice");
    // sshd reads authorized_keys as the login user: let it through the temp dir.
    use std::os::unix::fs::PermissionsExt;
    let dir = lab.target("web1").dir().to_path_buf();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(
        dir.join("authorized_keys"),
        fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let client = Client::new(&lab.bastion, &alice);

    let mut sh = client.terminal("alice", &["web1"], 100, 30);
    sh.expect("$ ", secs(20));
    sh.send("PS1='PROM''PT$ '\r");
    sh.expect("PROMPT$ ", secs(20));
    sh.send("sudo -k; sudo id -u\r");
    sh.expect(&format!("[sudo] password for {login}: "), secs(20));
    sh.send(&format!("{password}\r"));
    sh.expect("\r\n0\r\n", secs(20));
    sh.expect("PROMPT$ ", secs(10));
    sh.send("exit\r");
    assert_eq!(sh.wait(secs(20)), Some(0));

    let session = lab.bastion.sessions()[0]["id"].to_string();
    let logged: Vec<String> = lab
        .bastion
        .json_lines(&["commands", "--session", &session, "--json"])
        .iter()
        .map(|c| c["command"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(logged, ["PS1='PROM''PT$ '", "sudo -k; sudo id -u", "exit"]);
    // Input is recorded for this role, but never what was typed while echo was off.
    let rec = lab.bastion.sessions()[0]["recording"]
        .as_str()
        .unwrap()
        .to_string();
    let cast = fs::read_to_string(&rec).unwrap();
    assert!(cast.contains("\"i\""), "input events are recorded: {cast}");
    assert!(cast.contains("sudo id -u"));
    assert!(!cast.contains(password), "password in the recording");
    for f in ["bastion.db", "bastion.db-wal"] {
        let bytes = fs::read(lab.bastion.data_dir().join(f)).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(password),
            "password found in {f}"
        );
    }
    assert!(!serde_json::to_string(&lab.bastion.audit_events())
        .unwrap()
        .contains(password));
    assert!(!lab.bastion.log().contains(password));
}

#[test]
fn exit_statuses_reported_by_shell_integration_are_logged() {
    let (lab, alice) = Lab::serving(BIN, &[("web1", &[])], "roles:\n  - name: ops\n    members: [alice]\n    hosts: [web1]\n    logins: [root]\n    require_totp: false\n", "alice");
    let client = Client::new(&lab.bastion, &alice);
    let mut sh = client.terminal("alice", &["web1"], 100, 30);
    sh.expect("# ", secs(20));
    // The OSC 133 shell-integration hook many terminals install: report `$?` before each prompt.
    sh.send("PROMPT_COMMAND='printf \"\\033]133;D;%s\\007\" $?'; PS1='PROM''PT$ '\r");
    sh.expect("PROMPT$ ", secs(20));
    for (cmd, done) in [
        ("false", "PROMPT$ "),
        ("true", "PROMPT$ "),
        ("(exit 42)", "PROMPT$ "),
        ("ls /nonexistent-dir", "PROMPT$ "),
    ] {
        sh.send(&format!("{cmd}\r"));
        sh.expect(cmd, secs(10));
        sh.expect(done, secs(10));
    }
    sh.send("\r");
    sh.expect("PROMPT$ ", secs(10));
    sh.send("exit 3\r");
    assert_eq!(sh.wait(secs(20)), Some(3));

    let session = lab.bastion.sessions()[0]["id"].to_string();
    let got: Vec<(String, Option<i64>)> = lab
        .bastion
        .json_lines(&["commands", "--session", &session, "--json"])
        .iter()
        .map(|c| {
            (
                c["command"].as_str().unwrap().to_string(),
                c["exit_status"].as_i64(),
            )
        })
        .collect();
    let row = |c: &str, s: Option<i64>| (c.to_string(), s);
    assert_eq!(
        got[1..],
        [
            row("false", Some(1)),
            row("true", Some(0)),
            row("(exit 42)", Some(42)),
            row("ls /nonexistent-dir", Some(2)),
            row("exit 3", None),
        ]
    );
}

#[test]
fn lines_longer_than_the_terminal_are_logged_whole_through_edits_and_resizes() {
    let (lab, alice) = Lab::serving(BIN, &[("web1", &[])], "roles:\n  - name: ops\n    members: [alice]\n    hosts: [web1]\n    logins: [root]\n    require_totp: false\n", "alice");
    let client = Client::new(&lab.bastion, &alice);
    let work = lab.target("web1").dir().join("work");
    fs::create_dir_all(&work).unwrap();
    // 40 columns: with the 8-column prompt, a command wraps after 32 characters.
    let mut sh = client.terminal("alice", &["web1"], 40, 20);
    sh.expect("# ", secs(20));
    // Each prompt carries its number (PROM1T$, PROM2T$, ...): this bash redraws the prompt
    // while a wrapped line is edited, so only the next number proves the previous command's
    // echo is through (a resize must not race the echo it follows).
    sh.send(&format!(
        "cd {}; N=0; PROMPT_COMMAND='N=$((N+1))'; PS1='PROM${{N}}T$ '\r",
        work.display()
    ));
    let mut prompt = 0;
    let mut next_prompt = |sh: &mut e2e::pty::PtySession| {
        prompt += 1;
        sh.expect(&format!("PROM{prompt}T$ "), secs(20));
    };
    next_prompt(&mut sh);
    let settle = || std::thread::sleep(std::time::Duration::from_millis(300));

    // Typed across the wrap, then backspaced back over it, then typed on again.
    let a = "a".repeat(25);
    let c = "c".repeat(20);
    sh.send(&format!("echo {a}{}", "b".repeat(35)));
    settle();
    sh.send(&"\x7f".repeat(35));
    settle();
    sh.send(&format!("XYZ{c} > one\r"));
    next_prompt(&mut sh);
    let one = format!("echo {a}XYZ{c} > one");

    // History recall redraws the two-row line; insert near its start.
    sh.send("\x1b[A");
    settle();
    sh.send("\x01");
    sh.send(&"\x1b[C".repeat(5));
    sh.send("Q");
    settle();
    // Move to the end and change the target file name.
    sh.send("\x05\x7f\x7f\x7ftwo\r");
    next_prompt(&mut sh);
    let two = format!("echo Q{a}XYZ{c} > two");

    // Cursor left back across the wrap, insert there.
    let d = "d".repeat(20);
    sh.send(&format!("echo {d}{d} > three"));
    settle();
    sh.send(&"\x1b[D".repeat(20 + 8));
    settle();
    sh.send("E\r");
    next_prompt(&mut sh);
    let three = format!("echo {d}E{d} > three");

    // After a resize the new width applies.
    sh.resize(60, 20);
    settle();
    let f = "f".repeat(70);
    sh.send(&format!("echo {f} > four\r"));
    next_prompt(&mut sh);
    let four = format!("echo {f} > four");
    sh.send("exit\r");
    assert_eq!(sh.wait(secs(20)), Some(0));

    // What ran is what the files say.
    let content = |name: &str| fs::read_to_string(work.join(name)).unwrap();
    assert_eq!(content("one"), format!("{a}XYZ{c}\n"));
    assert_eq!(content("two"), format!("Q{a}XYZ{c}\n"));
    assert_eq!(content("three"), format!("{d}E{d}\n"));
    assert_eq!(content("four"), format!("{f}\n"));

    let session = lab.bastion.sessions()[0]["id"].to_string();
    let logged: Vec<String> = lab
        .bastion
        .json_lines(&["commands", "--session", &session, "--json"])
        .iter()
        .map(|c| c["command"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(logged[1..], [one, two, three, four, "exit".to_string()]);
}
