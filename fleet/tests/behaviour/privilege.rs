//! `become` through a real `sudo` on the target: as a login with passwordless sudo, and as one
//! whose sudo asks for a password (`ansible_become_password`), including a wrong password.
//!
//! These tests create real local accounts and sudoers entries, so they sit apart from the rest:
//! they are the only ones that log in as someone other than root, and the password one checks
//! that the secret never reaches the output.

use std::fs;
use std::process::Command;

use crate::lab::Lab;

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
    - name: through become_exe with become_flags
      command: id -un
      register: wrapped
      become: true
      become_exe: "{{{{ out }}}}/sudo-wrapper"
      become_flags: -H -S
    - name: through ansible_become_flags
      command: id -un
      become: true
      vars:
        ansible_become_exe: "{{{{ out }}}}/sudo-wrapper"
        ansible_become_flags: -n -E
    - assert:
        that:
          - plain.stdout == "{login}"
          - elevated.stdout == "root"
          - wrapped.stdout == "root"
"#
    );
    // a sudo program of the playbook's choosing: it logs its arguments, then is sudo
    let wrapper = lab.out().join("sudo-wrapper");
    fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho \"$1 $2 $3 $4 $5\" >> {}/sudo-args\nexec sudo \"$@\"\n",
            lab.out().display()
        ),
    )
    .unwrap();
    fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    Command::new("chmod")
        .arg("777")
        .arg(lab.out())
        .status()
        .unwrap();
    let run = lab.play(&playbook, &[]);
    assert_eq!(run.code, Some(0), "{run}");
    // the flags as written, `-n` added where they lack it (sudo never prompts)
    let args = fs::read_to_string(lab.out().join("sudo-args")).unwrap();
    assert_eq!(args, "-H -S -n -u root\n-n -E -u root --\n", "{run}");
    let meta = fs::metadata(lab.out().join(format!("{}-root", lab.host(0)))).unwrap();
    assert_eq!(std::os::unix::fs::MetadataExt::uid(&meta), 0);
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
