//! System modules through real sshd targets: `apt`/`package`, `service`/`systemd` and `cron`
//! against stand-in `apt-get`/`dpkg-query`/`apt-cache`, `systemctl`/`service` and `crontab`
//! put first on the target's PATH (this machine has no systemd and may have no cron), and
//! `user`/`group` on real accounts. Each is run in check mode, for real, and again: check
//! mode reports the change and touches nothing, the real run changes, the second run does not.

mod lab;

use std::fs;
use std::path::Path;
use std::process::Command;

use lab::Lab;

/// Copies the stand-in tools into `dir/bin` and makes their state directories.
fn stand_ins(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fleet-modules/tests/stand-ins");
    for sub in [
        "bin",
        "units",
        "active",
        "enabled",
        "available",
        "installed",
    ] {
        fs::create_dir_all(dir.join(sub)).unwrap();
    }
    for entry in fs::read_dir(source).unwrap() {
        let entry = entry.unwrap();
        let bin = dir.join("bin").join(entry.file_name());
        fs::copy(entry.path(), &bin).unwrap();
        fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();
    }
    fs::write(dir.join("units/web"), "").unwrap();
    fs::write(dir.join("available/pkg-a"), "1.0").unwrap();
    fs::write(dir.join("available/pkg-b"), "2.0").unwrap();
}

fn log(dir: &Path) -> String {
    fs::read_to_string(dir.join("log")).unwrap_or_default()
}

#[test]
fn apt_service_systemd_and_cron_against_stand_ins_on_the_targets_path() {
    let lab = Lab::new(1);
    let host = lab.host(0);
    let state = lab.path("state");
    stand_ins(&state);
    let playbook = format!(
        r#"
- hosts: targets
  gather_facts: false
  environment:
    PATH: "{state}/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    FLEETUT_STATE: "{state}"
  tasks:
    - name: install with apt
      apt: {{name: pkg-a, state: present}}
    - name: install with package
      package: {{name: pkg-b}}
    - name: start with service (no systemd here, so through the service tool)
      service: {{name: web, state: started}}
    - name: enable with systemd (already started by then, outside check mode)
      systemd: {{name: web, state: started, enabled: true}}
    - name: a cron job
      cron: {{name: nightly, minute: "5", hour: "2", job: /bin/true}}
"#,
        state = state.display()
    );

    let check = lab.play(&playbook, &["--check"]);
    assert_eq!(check.code, Some(0), "{check}");
    assert_eq!(check.recap(&host), [5, 5, 0, 0, 0, 0, 0], "{check}");
    assert_eq!(log(&state), "", "check mode ran a changing command");
    assert!(fs::read_dir(state.join("installed"))
        .unwrap()
        .next()
        .is_none());
    assert!(!state.join("root").exists(), "check mode wrote the crontab");

    let first = lab.play(&playbook, &[]);
    assert_eq!(first.code, Some(0), "{first}");
    assert_eq!(first.recap(&host), [5, 5, 0, 0, 0, 0, 0], "{first}");
    assert_eq!(
        fs::read_to_string(state.join("installed/pkg-a")).unwrap(),
        "1.0"
    );
    assert_eq!(
        fs::read_to_string(state.join("installed/pkg-b")).unwrap(),
        "2.0"
    );
    assert!(state.join("active/web").exists() && state.join("enabled/web").exists());
    let crontab = fs::read_to_string(state.join("root")).unwrap();
    assert_eq!(crontab, "#Ansible: nightly\n5 2 * * * /bin/true\n");
    let after_first = log(&state);
    assert!(after_first.contains("start web") && after_first.contains("enable web"));

    let second = lab.play(&playbook, &[]);
    assert_eq!(second.code, Some(0), "{second}");
    assert_eq!(second.recap(&host), [5, 0, 0, 0, 0, 0, 0], "{second}");
    assert_eq!(log(&state), after_first, "the second run changed something");
}

/// Names of accounts made by this test, removed again on drop.
struct Accounts(Vec<String>);

impl Drop for Accounts {
    fn drop(&mut self) {
        for name in &self.0 {
            let _ = Command::new("userdel").arg(name).output();
            let _ = Command::new("groupdel").arg(name).output();
        }
    }
}

fn exists(db: &str, name: &str) -> bool {
    Command::new("getent")
        .args([db, name])
        .output()
        .unwrap()
        .status
        .success()
}

#[test]
fn user_and_group_on_real_accounts() {
    if !nix_is_root() {
        eprintln!("skipped: user and group management needs root (CI runs as root)");
        return;
    }
    let lab = Lab::new(1);
    let host = lab.host(0);
    let name = format!("fx{}", &lab::hex_id()[..8]);
    let group = format!("{name}g");
    let _cleanup = Accounts(vec![name.clone(), group.clone()]);
    let present = format!(
        r#"
- hosts: targets
  gather_facts: false
  tasks:
    - group: {{name: {name}g, state: present}}
    - user: {{name: {name}, groups: [], shell: /bin/sh, create_home: false}}
"#
    );
    let absent = format!(
        r#"
- hosts: targets
  gather_facts: false
  tasks:
    - user: {{name: {name}, state: absent}}
    - group: {{name: {name}g, state: absent}}
"#
    );
    let check = lab.play(&present, &["--check"]);
    assert_eq!(check.recap(&host), [2, 2, 0, 0, 0, 0, 0], "{check}");
    assert!(!exists("group", &group) && !exists("passwd", &name));

    let made = lab.play(&present, &[]);
    assert_eq!(made.recap(&host), [2, 2, 0, 0, 0, 0, 0], "{made}");
    assert!(exists("group", &group) && exists("passwd", &name));
    let again = lab.play(&present, &[]);
    assert_eq!(again.recap(&host), [2, 0, 0, 0, 0, 0, 0], "{again}");

    let check_removal = lab.play(&absent, &["--check"]);
    assert_eq!(
        check_removal.recap(&host),
        [2, 2, 0, 0, 0, 0, 0],
        "{check_removal}"
    );
    assert!(exists("passwd", &name));
    let removed = lab.play(&absent, &[]);
    assert_eq!(removed.recap(&host), [2, 2, 0, 0, 0, 0, 0], "{removed}");
    assert!(!exists("group", &group) && !exists("passwd", &name));
    let removed_again = lab.play(&absent, &[]);
    assert_eq!(
        removed_again.recap(&host),
        [2, 0, 0, 0, 0, 0, 0],
        "{removed_again}"
    );
}

fn nix_is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Issue 20: `cron` with `env: true` once installed an every-minute job running the value. It
/// sets a crontab variable as Ansible's cron module does: `NAME="value"` first in the table
/// (the line Ansible's module writes, seen through ansible-core), replaced in place, removed.
#[test]
fn cron_env_sets_updates_and_removes_a_crontab_variable() {
    let lab = Lab::new(1);
    let host = lab.host(0);
    let state = lab.path("state");
    stand_ins(&state);
    fs::write(state.join("root"), "#Ansible: job\n5 2 * * * /bin/true\n").unwrap();
    let play = |task: &str| {
        format!(
            r#"
- hosts: targets
  gather_facts: false
  environment:
    PATH: "{state}/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    FLEETUT_STATE: "{state}"
  tasks:
    - {task}
"#,
            state = state.display()
        )
    };
    let set = play("cron: {name: GREETING, env: true, job: hello}");
    let first = lab.play(&set, &[]);
    assert_eq!(first.recap(&host), [1, 1, 0, 0, 0, 0, 0], "{first}");
    let crontab = || fs::read_to_string(state.join("root")).unwrap();
    assert_eq!(
        crontab(),
        "GREETING=\"hello\"\n#Ansible: job\n5 2 * * * /bin/true\n"
    );
    let again = lab.play(&set, &[]);
    assert_eq!(again.recap(&host), [1, 0, 0, 0, 0, 0, 0], "{again}");
    let update = lab.play(&play("cron: {name: GREETING, env: true, job: bye}"), &[]);
    assert_eq!(update.recap(&host), [1, 1, 0, 0, 0, 0, 0], "{update}");
    assert_eq!(
        crontab(),
        "GREETING=\"bye\"\n#Ansible: job\n5 2 * * * /bin/true\n"
    );
    let remove = lab.play(
        &play("cron: {name: GREETING, env: true, state: absent}"),
        &[],
    );
    assert_eq!(remove.recap(&host), [1, 1, 0, 0, 0, 0, 0], "{remove}");
    assert_eq!(crontab(), "#Ansible: job\n5 2 * * * /bin/true\n");
}

/// An argument fleet's module does not implement (`systemd`'s `scope: user`) goes to Ansible's
/// own module code; without ansible-core on the controller the task fails naming the argument
/// and runs nothing, and `fleet check` reports it with its place.
#[test]
fn an_unimplemented_argument_without_ansible_core_fails_naming_it() {
    let lab = Lab::new(1);
    let host = lab.host(0);
    let state = lab.path("state");
    stand_ins(&state);
    let text = format!(
        r#"
- hosts: targets
  gather_facts: false
  environment:
    PATH: "{state}/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    FLEETUT_STATE: "{state}"
  tasks:
    - name: a user unit
      systemd: {{name: web, state: started, scope: user}}
"#,
        state = state.display()
    );
    let playbook = lab.write("site.yml", &text);
    let check = lab.fleet(&["check", playbook.to_str().unwrap()]);
    assert_eq!(check.code, Some(1), "{check}");
    assert!(
        check.stderr.contains(
            "site.yml:8:7: task 'a user unit': fleet has no native implementation of \
             the argument 'scope' of module 'ansible.builtin.systemd'"
        ),
        "{check}"
    );
    let run = lab.play(&text, &[]);
    assert_eq!(run.code, Some(2), "{run}");
    assert_eq!(run.recap(&host), [0, 0, 0, 1, 0, 0, 0], "{run}");
    assert!(
        run.stdout
            .contains("fleet's systemd leaves the argument 'scope' to Ansible's module code"),
        "{run}"
    );
    assert_eq!(log(&state), "", "something ran natively:\n{run}");
}

/// With ansible-core on the controller the same kind of call runs through Ansible's module:
/// `setup` with `gather_subset: [min]` returns the minimal facts only (fleet's native `setup`
/// gathers everything).
#[test]
fn an_unimplemented_argument_runs_through_ansibles_module_when_ansible_core_is_there() {
    let lab = Lab::new(1);
    let host = lab.host(0);
    let playbook = lab.write(
        "site.yml",
        r#"
- hosts: targets
  gather_facts: false
  tasks:
    - setup: {gather_subset: ["!all", "min"]}
    - assert:
        that:
          - ansible_facts.user_id is defined
          - ansible_facts.interfaces is not defined
"#,
    );
    let python = e2e::fleet::ansible_venv().join("bin/python");
    let args = ["run", playbook.to_str().unwrap(), "-i", "inventory.yml"];
    let run = lab.fleet_with_python(&args, &python);
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(run.recap(&host), [2, 0, 0, 0, 0, 0, 0], "{run}");
}

/// Issue 20: `apt`'s `default_release`, `force`, `allow_unauthenticated`, `dpkg_options` and
/// `lock_timeout` reach `apt-get` as Ansible's module passes them (they were dropped).
#[test]
fn apt_options_reach_apt_get() {
    let lab = Lab::new(1);
    let host = lab.host(0);
    let state = lab.path("state");
    stand_ins(&state);
    let playbook = format!(
        r#"
- hosts: targets
  gather_facts: false
  environment:
    PATH: "{state}/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    FLEETUT_STATE: "{state}"
  tasks:
    - apt:
        name: pkg-a
        default_release: bookworm-backports
        force: true
        allow_unauthenticated: true
        dpkg_options: force-confnew,force-overwrite
        lock_timeout: 5
    - apt: {{name: pkg-a, state: absent, force: true}}
"#,
        state = state.display()
    );
    let run = lab.play(&playbook, &[]);
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(run.recap(&host), [2, 2, 0, 0, 0, 0, 0], "{run}");
    assert_eq!(
        log(&state),
        "apt-get -y -q -o Dpkg::Options::=--force-confnew -o Dpkg::Options::=--force-overwrite \
         -o DPkg::Lock::Timeout=5 --force-yes -t bookworm-backports --allow-unauthenticated \
         install pkg-a\n\
         apt-get -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
         -o DPkg::Lock::Timeout=60 --force-yes remove pkg-a\n"
    );
}
