//! Issue 18, "every other module through Ansible's own code": a role's custom Python module in
//! `library/`, a `community.general` module and an `ansible.builtin` module fleet lacks run
//! under `fleet run` through Ansible's packager and the target's Python, with the same recap
//! and files as `ansible-playbook` (in check mode, then twice: the second run checks
//! idempotence); so do action plugins on the controller (a role's own, and unarchive's), their
//! commands and file transfers over fleet's connection; `-v` names the path each task took; a
//! module's warnings are shown.

use e2e::collections::community_general;
use e2e::fleet::{self, ansible_venv, diff_recaps, diff_snapshots, FleetLab};

const HOSTS: usize = 2;

fn lab() -> FleetLab {
    let python = ansible_venv().join("bin/python");
    FleetLab::new(HOSTS)
        .with_fleet_bin(env!("CARGO_BIN_EXE_fleet"))
        .with_env(
            "ANSIBLE_COLLECTIONS_PATH",
            community_general().to_string_lossy(),
        )
        .with_env("FLEET_ANSIBLE_PYTHON", python.to_string_lossy())
}

fn playbook() -> std::path::PathBuf {
    fleet::fixtures_dir().join("fallback/fallback.yml")
}

#[test]
fn custom_collection_and_builtin_modules_match_ansible_playbook() {
    let reference = lab();
    let candidate = lab();
    let rounds: [(&str, &[&str]); 3] = [
        ("check run (--check --diff)", &["--check", "--diff"]),
        ("first run", &[]),
        ("second run (idempotence)", &[]),
    ];
    for (round, extra) in rounds {
        let want = reference.play_ansible(&playbook(), extra);
        assert!(want.success(), "reference run failed ({round}):\n{want}");
        let got = candidate.play_fleet(&playbook(), extra);
        let mut problems: Vec<String> = Vec::new();
        if got.code != want.code {
            problems.push(format!("exit code {:?} vs {:?}", got.code, want.code));
        }
        let (want_recap, got_recap) = (reference.recap(&want.stdout), candidate.recap(&got.stdout));
        assert_eq!(
            want_recap.len(),
            HOSTS,
            "no recap from ansible-playbook:\n{want}"
        );
        problems.extend(diff_recaps(&want_recap, &got_recap));
        problems.extend(diff_snapshots(
            &reference.samples_snapshot(),
            &candidate.samples_snapshot(),
        ));
        assert!(
            problems.is_empty(),
            "{round}: fleet differs from ansible-playbook:\n  {}\n--- fleet ---\n{}\n--- ansible ---\n{}",
            problems.join("\n  "),
            candidate.normalize(&format!("{}\n{}", got.stdout, got.stderr)),
            reference.normalize(&want.stdout),
        );
    }
    // the files are what the modules write, not merely equal between the tools (after the
    // second run: the loop's ini_file messages are then "OK")
    let snap = candidate.samples_snapshot();
    let text = format!("{snap:?}");
    for expected in [
        "colour = blue",
        "size = 3",
        "MARKED BY A ROLE MODULE",
        "home=/root",
        "from-the-play",
        "stamped",
        "notified",
        "alpha = on",
        "OK,OK",
        "via = role-collections",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from {text}");
    }
}

#[test]
fn verbose_names_each_tasks_path() {
    let lab = lab();
    let out = lab.play_fleet(&playbook(), &["-v"]);
    assert!(out.success(), "{out}");
    for line in [
        "module file: native (fleet's file)",
        "module community.general.ini_file: through Ansible's module code (community.general.ini_file)",
        "module getent: through Ansible's module code (ansible.builtin.getent)",
        "module fleet_marker: through Ansible's module code (",
        "action fleet_note: Ansible's action plugin on the controller (",
    ] {
        assert!(out.stdout.contains(line), "{line:?} missing:\n{}", out.stdout);
    }
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains("[WARNING]: fleet_marker upper-cases the content"),
        "the module's warning is shown:\n{all}"
    );
    assert!(
        out.stdout.contains("roles/marker/library/fleet_marker.py)"),
        "{}",
        out.stdout
    );
}

#[test]
fn without_ansible_on_the_controller_the_task_fails_naming_the_module() {
    let lab = lab().with_env("FLEET_ANSIBLE_PYTHON", "/nonexistent/python3");
    let out = lab.play_fleet(&playbook(), &[]);
    assert_eq!(out.code, Some(2), "{out}");
    let unavailable =
        "ansible-core is not importable on the controller (cannot run /nonexistent/python3";
    assert!(out.stdout.contains("module 'fleet_marker' ("), "{out}");
    assert!(out.stdout.contains(unavailable), "{out}");
    let inventory = lab.inventory();
    let inventory = inventory.to_string_lossy();
    let args = [
        "exec",
        "targets",
        "-i",
        &inventory,
        "-m",
        "getent",
        "-a",
        "database=passwd key=root",
    ];
    let out = lab.run_fleet(&args);
    assert_eq!(out.code, Some(2), "{out}");
    let lacks = "fleet has no native implementation of module 'ansible.builtin.getent'";
    assert!(
        out.stdout.contains(lacks) && out.stdout.contains(unavailable),
        "{out}"
    );
}

/// The filters and lookups fleet lacks take the same path: without ansible-core on the
/// controller the task fails late with Ansible's words for an unknown name and the reason,
/// and fleet's own filters and lookups still work.
#[test]
fn without_ansible_on_the_controller_plugins_fleet_lacks_fail_naming_them() {
    let lab = lab().with_env("FLEET_ANSIBLE_PYTHON", "/nonexistent/python3");
    let pb = lab.dir().join("plugins.yml");
    std::fs::write(
        &pb,
        "- hosts: targets\n  gather_facts: false\n  tasks:\n\
         \x20   - debug: msg=\"{{ 1 | community.general.dict_kv('k') }}\"\n\
         \x20     ignore_errors: true\n\
         \x20   - debug: msg=\"{{ lookup('password', '/dev/null') }}\"\n\
         \x20     ignore_errors: true\n\
         \x20   - debug: msg=\"{{ 'ab' | upper }}{{ lookup('sequence', 'count=2') }}\"\n",
    )
    .unwrap();
    let out = lab.play_fleet(&pb, &[]);
    assert_eq!(out.code, Some(0), "{out}");
    let wants = [
        "No filter named 'community.general.dict_kv'. (cannot run /nonexistent/python3",
        "The lookup plugin 'password' was not found. (cannot run /nonexistent/python3",
        "\"msg\": \"AB1,2\"",
    ];
    for want in wants {
        assert!(out.stdout.contains(want), "{want}\n{out}");
    }
    assert!(out.stdout.contains("ignored=2"), "{out}");
}

/// A module that comes with an action plugin runs it on the controller: unarchive's looks for
/// the archive there, and says so when it is missing (Ansible's words), before anything runs on
/// the host.
#[test]
fn a_modules_action_plugin_runs_on_the_controller() {
    let lab = lab();
    let inventory = lab.inventory();
    let inventory = inventory.to_string_lossy();
    let args = [
        "exec",
        "targets",
        "-i",
        &inventory,
        "-m",
        "unarchive",
        "-a",
        "src=/nonexistent/a.tgz dest=/tmp",
    ];
    let out = lab.run_fleet(&args);
    assert_eq!(out.code, Some(2), "{out}");
    let message = "Could not find or access '/nonexistent/a.tgz' on the Ansible Controller.";
    assert!(out.stdout.contains(message), "{out}");
}
