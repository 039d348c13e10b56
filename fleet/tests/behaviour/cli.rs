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

/// Roles from Ansible's `roles_path` (issue 18: roles installed by `ansible-galaxy` or shared
/// between projects): `roles_path` of the `ansible.cfg` in the working directory (relative to
/// the file, `~` expanded, an inline comment), `ANSIBLE_ROLES_PATH` over the file, and
/// `~/.ansible/roles` when nothing sets it; a role found nowhere names every place searched.
#[test]
fn roles_are_found_in_ansibles_roles_path() {
    let lab = Lab::new(1);
    let h1 = lab.host(0);
    for (dir, name) in [
        ("galaxy", "from_cfg"),
        ("env_roles", "from_env"),
        ("home/.ansible/roles", "from_home"),
    ] {
        lab.write(
            &format!("{dir}/{name}/tasks/main.yml"),
            &format!(
                "- copy: {{content: \"{name}\\n\", dest: \"{{{{ out }}}}/{{{{ inventory_hostname }}}}/{name}\"}}\n"
            ),
        );
    }
    let playbook = |roles: &str| {
        format!(
            "- hosts: targets\n  gather_facts: false\n  pre_tasks:\n    - file: {{path: \"{{{{ out }}}}/{{{{ inventory_hostname }}}}\", state: directory}}\n  roles: [{roles}]\n"
        )
    };
    let by_default = lab.play(&playbook("from_home"), &[]);
    assert_eq!(by_default.code, Some(0), "{by_default}");
    assert_eq!(lab.file(0, "from_home").as_deref(), Some("from_home\n"));

    lab.write(
        "ansible.cfg",
        "[defaults]\nroles_path = ./galaxy:~/.ansible/roles ; galaxy's and the user's\n",
    );
    let from_cfg = lab.play(&playbook("from_cfg, from_home"), &[]);
    assert_eq!(from_cfg.code, Some(0), "{from_cfg}");
    assert_eq!(lab.file(0, "from_cfg").as_deref(), Some("from_cfg\n"));
    assert_eq!(from_cfg.recap(&h1)[0], 3, "{from_cfg}");

    let pb = lab.write("site.yml", &playbook("from_env"));
    let check = |env_path: &std::path::Path| {
        let out = std::process::Command::new(crate::lab::FLEET)
            .args(["check", pb.to_str().unwrap()])
            .env("HOME", lab.path("home"))
            .env("ANSIBLE_ROLES_PATH", env_path)
            .current_dir(lab.dir.path())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stderr) = check(&lab.path("env_roles"));
    assert_eq!(
        code,
        Some(0),
        "ANSIBLE_ROLES_PATH wins over the file: {stderr}"
    );
    let (code, stderr) = check(&lab.path("elsewhere"));
    assert_eq!(code, Some(1), "{stderr}");
    let searched = format!(
        "{}/roles:{}",
        lab.dir.path().display(),
        lab.path("elsewhere").display()
    );
    assert!(
        stderr.contains("the role 'from_env' was not found in") && stderr.contains(&searched),
        "{stderr}"
    );
}

/// `ansible.cfg` in the working directory supplies what the command line leaves out, as for
/// ansible-playbook: the inventory, the login, the key, forks, the connect timeout and the vault
/// password file (relative to the file); a flag wins over it, a malformed value is an error
/// naming the file and key, and several inventories are refused with the reason.
#[test]
fn ansible_cfg_supplies_inventory_login_key_forks_and_vault_password() {
    let lab = Lab::new(1);
    let h1 = lab.host(0);
    let t = &lab.targets[0];
    lab.write(
        "conf/bare.yml",
        &format!(
            "all:\n  children:\n    targets:\n      hosts:\n        {h1}: {{ansible_host: '{}', ansible_port: {}}}\n  vars:\n    out: {}\n",
            t.addr(),
            t.port(),
            lab.out().display()
        ),
    );
    lab.write("conf/group_vars/all.yml", super::vault::GROUP_VARS);
    lab.write("conf/secret/pw", "pw1\n");
    let playbook = "- hosts: targets\n  gather_facts: false\n  tasks:\n    - copy: {content: \"{{ ansible_user | default('') }} {{ db_password }}\\n\", dest: \"{{ out }}/{{ inventory_hostname }}.txt\"}\n";
    let pb = lab.write("site.yml", playbook);
    let cfg = |extra: &str| {
        lab.write(
            "conf/ansible.cfg",
            &format!(
                "[defaults]\ninventory = bare.yml\nremote_user = root\nprivate_key_file = {}\nforks = 2\ntimeout = 20\nvault_password_file = secret/pw\n{extra}",
                lab.key.private.display()
            ),
        )
    };
    let fleet = |args: &[&str], config: &std::path::Path| {
        let out = std::process::Command::new(crate::lab::FLEET)
            .args(args)
            .env("HOME", lab.path("home"))
            .env("ANSIBLE_CONFIG", config)
            .env("FLEET_ANSIBLE_PYTHON", "/nonexistent/python3")
            .env_remove("ANSIBLE_HOST_KEY_CHECKING")
            .current_dir(lab.dir.path())
            .output()
            .unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    let config = cfg("");
    let (code, stdout, stderr) = fleet(&["run", pb.to_str().unwrap()], &config);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let written = std::fs::read_to_string(lab.out().join(format!("{h1}.txt"))).unwrap();
    assert_eq!(
        written, " s3cret\n",
        "the login came from remote_user, not a variable"
    );
    // a flag wins over the file: this inventory file does not exist
    let (code, _, stderr) = fleet(&["run", pb.to_str().unwrap(), "-i", "nowhere.yml"], &config);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("nowhere.yml"), "{stderr}");

    let config = cfg("[ssh_connection]\npipelining = True\n");
    std::fs::write(
        &config,
        std::fs::read_to_string(&config)
            .unwrap()
            .replace("forks = 2", "forks = many"),
    )
    .unwrap();
    let (code, _, stderr) = fleet(&["run", pb.to_str().unwrap()], &config);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("ansible.cfg [defaults] forks") && stderr.contains("\"many\""),
        "{stderr}"
    );
    let config = cfg("");
    std::fs::write(
        &config,
        std::fs::read_to_string(&config)
            .unwrap()
            .replace("bare.yml", "bare.yml,other.yml"),
    )
    .unwrap();
    let (code, _, stderr) = fleet(&["run", pb.to_str().unwrap()], &config);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("2 inventories are configured"), "{stderr}");
}

/// `--start-at-task`: earlier tasks and plays are skipped (a play without the start shows only
/// its banner, no facts gathered), the start is found by a glob and with its role prefix, every
/// later play runs whole; a name nothing matches is Ansible's error after the recap.
#[test]
fn start_at_task_resumes_a_run_half_way() {
    let lab = Lab::new(1);
    let h1 = lab.host(0);
    lab.write(
        "roles/web/tasks/main.yml",
        "- name: web one\n  copy: {content: \"1\", dest: \"{{ out }}/{{ inventory_hostname }}-web-one\"}\n\
         - name: web two\n  copy: {content: \"2\", dest: \"{{ out }}/{{ inventory_hostname }}-web-two\"}\n",
    );
    let playbook = r#"
- name: before
  hosts: targets
  tasks:
    - copy: {content: "x", dest: "{{ out }}/{{ inventory_hostname }}-before"}
- name: resumed
  hosts: targets
  gather_facts: false
  roles: [web]
  tasks:
    - name: after the role
      copy: {content: "x", dest: "{{ out }}/{{ inventory_hostname }}-after"}
- name: later
  hosts: targets
  gather_facts: false
  tasks:
    - copy: {content: "x", dest: "{{ out }}/{{ inventory_hostname }}-later"}
"#;
    let run = lab.play(playbook, &["--start-at-task", "web : web t*"]);
    assert_eq!(run.code, Some(0), "{run}");
    let exists = |name: &str| lab.out().join(format!("{h1}-{name}")).exists();
    assert!(!exists("before") && !exists("web-one"), "{run}");
    assert!(
        exists("web-two") && exists("after") && exists("later"),
        "{run}"
    );
    assert!(!run.stdout.contains("Gathering Facts"), "{run}");
    assert!(run.stdout.contains("PLAY [before]"), "{run}");
    assert_eq!(run.recap(&h1), [3, 3, 0, 0, 0, 0, 0], "{run}");

    let run = lab.play(playbook, &["--start-at-task", "nothing like it"]);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(
        run.stderr
            .contains("No matching task \"nothing like it\" found"),
        "{run}"
    );
    assert!(
        !run.stdout.contains(&format!("{h1} ")),
        "no host ran: {run}"
    );
}

/// A playbook named by its bare file name (`fleet run site.yml`) has the current directory
/// as `playbook_dir` (it was empty, so `{{ playbook_dir }}/x` meant `/x`).
#[test]
fn a_bare_playbook_name_has_the_current_directory_as_playbook_dir() {
    let lab = Lab::new(1);
    lab.write(
        "bare.yml",
        "- hosts: targets\n  gather_facts: false\n  tasks:\n    - copy: {content: \"{{ playbook_dir }}\", dest: \"{{ out }}/{{ inventory_hostname }}-dir\"}\n",
    );
    let run = lab.fleet(&["run", "bare.yml", "-i", "inventory.yml"]);
    assert_eq!(run.code, Some(0), "{run}");
    let written = fs::read_to_string(lab.out().join(format!("{}-dir", lab.host(0)))).unwrap();
    let here = lab.path(".").canonicalize().unwrap();
    assert_eq!(written, here.display().to_string(), "{run}");
}
