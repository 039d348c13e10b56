//! Ansible's own integration targets under both tools (issue 18 item 1): each target runs
//! under `ansible-playbook` on one real sshd target and under `fleet run` on another, and fleet
//! must pass every target ansible-playbook passes. The targets that fit CI time and that fleet
//! passes today each have a test here (ansible-playbook must pass it too, or the test is
//! broken); `all_targets` (run by `bench/ansible_targets.sh`) runs every target of [`TARGETS`]
//! and prints "targets passed / run" per tool.
//!
//! Parts this machine cannot give are removed for both tools, each with its reason in
//! [`TARGETS`]; everything else runs as Ansible ships it.

use e2e::ansible_targets::{patched_targets, run_target, Kind, PlaybookRun, Skip, Target, Tool};
use e2e::fleet::FleetLab;

/// `setfacl`/`getfacl` (Debian's `acl` package) are not installed here, and the targets
/// install them only on Ubuntu and RedHat.
const NO_ACL_TOOLS: &str = "setfacl is not installed on this machine (the acl package; the \
                            target installs it only on Ubuntu and RedHat)";

/// `setup_test_user` makes a user with a password (hashed with passlib, which the reference
/// venv does not have) for tests that `become` it with that password.
const SU_PASSWORD: &str = "the test becomes a user by its password, made with passlib's \
                           password_hash, which the reference venv lacks";

/// Every target of issue 18's list, as this machine runs it.
const TARGETS: &[Target] = &[
    Target {
        // "Create a file without a path" writes file.txt in the login's home
        home_files: &["file.txt"],
        ..role(
            "lineinfile",
            &[Skip {
                file: "lineinfile/tasks/main.yml",
                task: "Integration test for issue 72929",
                reason: NO_ACL_TOOLS,
            }],
        )
    },
    role("blockinfile", &[]),
    role("replace", &[]),
    Target {
        // check_mode.yml copies to relative destinations (the login's home) and asserts the
        // first copy changes something, so a previous run's copies must go first
        home_files: &[
            "checkmode_subdir",
            "destdir_should_never_exist_because_of_check_mode",
        ],
        ..role(
            "copy",
            &[
                Skip {
                    file: "copy/tasks/main.yml",
                    task: "Duplicate authorized_keys",
                    reason:
                        "the lab's sshd reads every user's keys from its own AuthorizedKeysFile, \
                         so the unprivileged user logs in with the lab's key already, and root \
                         has no ~/.ssh/authorized_keys to copy",
                },
                Skip {
                    file: "copy/tasks/main.yml",
                    task: "import_tasks: acls.yml",
                    reason: NO_ACL_TOOLS,
                },
                Skip {
                    file: "copy/tasks/main.yml",
                    task: "import_tasks: no_log.yml",
                    reason: "it runs `ansible-playbook -vvv` from the controller's PATH to check \
                         Ansible's own no_log output; ansible-playbook is not on PATH here (it \
                         is in the reference venv) and it would not test the tool under test",
                },
            ],
        )
    },
    role(
        "file",
        &[Skip {
            file: "file/tasks/main.yml",
            task: "verify that the file was not marked as changed",
            reason: "ansible-playbook itself fails it here: on this machine's ext4 `lsattr` \
                     lists the extent flag `e`, so adding +A to a file that has A reports changed",
        }],
    ),
    role("stat", &[]),
    role(
        "slurp",
        &[
            Skip {
                file: "slurp/meta/main.yml",
                task: "setup_test_user",
                reason: SU_PASSWORD,
            },
            Skip {
                file: "slurp/tasks/main.yml",
                task: "import_tasks: test_unreadable.yml",
                reason: SU_PASSWORD,
            },
        ],
    ),
    role("template", &[]),
    role("loops", &[]),
    role("command_shell", &[]),
    role("assert", &[]),
    Target {
        name: "set_fact",
        kind: Kind::Playbooks(&[PlaybookRun {
            playbook: "set_fact.yml",
            hosts: &["testhost"],
            args: &[],
        }]),
        skips: &[],
        home_files: &[],
        links: &[],
    },
    Target {
        name: "blocks",
        // runme.sh checks main.yml and block_fail.yml by counting lines of their output, and the
        // *_rc.yml playbooks by their exit code 2; these are the ones it expects to succeed
        kind: Kind::Playbooks(&[
            PlaybookRun {
                playbook: "block_rescue_vars.yml",
                hosts: &["localhost"],
                args: &[],
            },
            PlaybookRun {
                playbook: "issue29047.yml",
                hosts: &["localhost"],
                args: &[],
            },
            PlaybookRun {
                playbook: "block_in_rescue.yml",
                hosts: &["localhost"],
                args: &[],
            },
            PlaybookRun {
                playbook: "issue71306.yml",
                hosts: &["host1", "host2"],
                args: &[],
            },
            PlaybookRun {
                playbook: "inherit_notify.yml",
                hosts: &["localhost"],
                args: &[],
            },
        ]),
        skips: &[],
        home_files: &[],
        links: &[],
    },
    Target {
        name: "handlers",
        kind: Kind::Playbooks(&[
            PlaybookRun {
                playbook: "test_handlers.yml",
                hosts: &["A", "B", "C", "D", "E"],
                args: &["--tags", "scenario1"],
            },
            PlaybookRun {
                playbook: "from_handlers.yml",
                hosts: &["A", "B", "C", "D", "E"],
                args: &["--tags", "scenario1"],
            },
            PlaybookRun {
                playbook: "test_listening_handlers.yml",
                hosts: &["A", "B", "C", "D", "E"],
                args: &[],
            },
        ]),
        skips: &[],
        home_files: &[],
        links: &[],
    },
    Target {
        name: "include_import",
        kind: Kind::Playbooks(&[
            PlaybookRun {
                playbook: "playbook/test_import_playbook.yml",
                hosts: II_HOSTS,
                args: &[],
            },
            PlaybookRun {
                playbook: "tasks/test_import_tasks.yml",
                hosts: II_HOSTS,
                args: &[],
            },
            PlaybookRun {
                playbook: "tasks/test_include_tasks.yml",
                hosts: II_HOSTS,
                args: &[],
            },
            PlaybookRun {
                playbook: "role/test_import_role.yml",
                hosts: II_HOSTS,
                args: &[],
            },
            PlaybookRun {
                playbook: "role/test_include_role.yml",
                hosts: II_HOSTS,
                args: &[],
            },
        ]),
        skips: &[],
        home_files: &[],
        // runme.sh runs with ANSIBLE_ROLES_PATH=./roles; the playbooks under role/ find the
        // target's roles through this link instead, under both tools
        links: &[("include_import/role/roles", "../roles")],
    },
    Target {
        name: "fetch",
        kind: Kind::Playbooks(&[PlaybookRun {
            playbook: "run_fetch_tests.yml",
            hosts: &["testhost"],
            args: &[],
        }]),
        skips: &[Skip {
            file: "fetch/roles/fetch_tests/meta/main.yml",
            task: "setup_remote_tmp_dir",
            reason: "the run supplies remote_tmp_dir (runme.sh links the role in; its set_fact \
                     would override the supplied directory, as for role-style targets)",
        }],
        home_files: &[],
        links: &[],
    },
    Target {
        name: "tasks",
        kind: Kind::Playbooks(&[PlaybookRun {
            playbook: "playbook.yml",
            hosts: &["localhost"],
            args: &[],
        }]),
        skips: &[],
        home_files: &[],
        links: &[],
    },
    Target {
        name: "register",
        // runme.sh's other run (invalid.yml) is expected to fail
        kind: Kind::Playbooks(&[PlaybookRun {
            playbook: "can_register.yml",
            hosts: &["testhost"],
            args: &["-v"],
        }]),
        skips: &[],
        home_files: &[],
        links: &[],
    },
    Target {
        name: "lookup_ini",
        kind: Kind::Playbooks(&[PlaybookRun {
            playbook: "test_ini.yml",
            hosts: &["testhost"],
            args: &["-v"],
        }]),
        skips: &[],
        home_files: &[],
        links: &[],
    },
    Target {
        name: "loop_control",
        // runme.sh also checks label.yml's output lines (not a pass or fail of the run)
        kind: Kind::Playbooks(&[
            PlaybookRun {
                playbook: "extended.yml",
                hosts: &["localhost"],
                args: &[],
            },
            PlaybookRun {
                playbook: "break_when.yml",
                hosts: &["localhost"],
                args: &[],
            },
        ]),
        skips: &[],
        home_files: &[],
        links: &[],
    },
    Target {
        name: "environment",
        kind: Kind::Playbooks(&[PlaybookRun {
            playbook: "test_environment.yml",
            hosts: &["testhost"],
            args: &[],
        }]),
        skips: &[],
        home_files: &[],
        links: &[],
    },
    Target {
        name: "lookup_unvault",
        kind: Kind::Playbooks(&[PlaybookRun {
            playbook: "unvault.yml",
            hosts: &["localhost"],
            // `{targets}`: the copy of the targets the run uses
            args: &[
                "--vault-password-file={targets}/lookup_unvault/secret",
                "-v",
            ],
        }]),
        skips: &[],
        home_files: &[],
        links: &[],
    },
    Target {
        name: "lookup_fileglob",
        kind: Kind::Playbooks(&[
            PlaybookRun {
                playbook: "find_levels/play.yml",
                hosts: &["localhost"],
                args: &["-e", "seed='play_adj'"],
            },
            PlaybookRun {
                playbook: "find_levels/play.yml",
                hosts: &["localhost"],
                args: &["-e", "seed='play_adj_subdir'"],
            },
            PlaybookRun {
                playbook: "find_levels/play.yml",
                hosts: &["localhost"],
                args: &["-e", "seed='somepath/play_adj_subsubdir'"],
            },
            PlaybookRun {
                playbook: "find_levels/play.yml",
                hosts: &["localhost"],
                args: &["-e", "seed='in_role'"],
            },
            PlaybookRun {
                playbook: "find_levels/play.yml",
                hosts: &["localhost"],
                args: &["-e", "seed='otherpath/in_role_subdir'"],
            },
            PlaybookRun {
                playbook: "non_existent/play.yml",
                hosts: &["localhost"],
                args: &["-e", "seed='foo'"],
            },
            PlaybookRun {
                playbook: "non_existent/play.yml",
                hosts: &["localhost"],
                args: &["-e", "seed='foo/bar'"],
            },
            PlaybookRun {
                playbook: "non_existent/play.yml",
                hosts: &["localhost"],
                args: &["-e", "seed='foo/bar/baz'"],
            },
            PlaybookRun {
                playbook: "issue72873/test.yml",
                hosts: &["localhost"],
                args: &[],
            },
        ]),
        skips: &[],
        home_files: &[],
        links: &[],
    },
    Target {
        name: "includes",
        // runme.sh's other runs are expected to fail (an `include` of a playbook)
        kind: Kind::Playbooks(&[PlaybookRun {
            playbook: "test_includes.yml",
            hosts: &["testhost"],
            args: &[],
        }]),
        skips: &[],
        home_files: &[],
        links: &[],
    },
    Target {
        name: "var_templating",
        // runme.sh's last run greps `-vvvv` output for sudo's command line (not a pass or fail)
        kind: Kind::Playbooks(&[
            PlaybookRun {
                playbook: "undefined.yml",
                hosts: &["localhost"],
                args: &["-v", "-e", r#"{"override_value": "overridden by -e"}"#],
            },
            PlaybookRun {
                playbook: "undall.yml",
                hosts: &["localhost"],
                args: &["-v"],
            },
            PlaybookRun {
                playbook: "task_vars_templating.yml",
                hosts: &["localhost", "host1"],
                args: &["-v"],
            },
        ]),
        skips: &[],
        home_files: &[],
        links: &[],
    },
    role("filter_urlsplit", &[]),
    role("filter_urls", &[]),
    role("lookup_sequence", &[]),
    role("lookup_together", &[]),
    role("lookup_nested", &[]),
    role("lookup_subelements", &[]),
    role("lookup_dict", &[]),
    role("lookup_varnames", &[]),
    role("lookup_vars", &[]),
    role("lookup_template", &[]),
    role("lookup_csvfile", &[]),
    role("ping", &[]),
    role("failed_when", &[]),
    role("test_mathstuff", &[]),
    role("group", &[]),
    role("user", &[]),
    role("lookup_config", &[]),
    role(
        "include_vars",
        &[Skip {
            file: "include_vars/tasks/main.yml",
            task: "ansible._protomatter.tagged_with",
            reason: "it asserts on ansible-core's internal data tags (TrustedAsTemplate), which \
                     are no behaviour of a playbook",
        }],
    ),
    role("tempfile", &[]),
    role("known_hosts", &[]),
    role("getent", &[]),
    role("wait_for", &[]),
    role("lookup_lines", &[]),
    role("lookup_random_choice", &[]),
    role("add_host", &[]),
    role("changed_when", &[]),
    role("special_vars", &[]),
    role("script", &[]),
    role("lookup_items", &[]),
    role("lookup_indexed_items", &[]),
    role("lookup_list", &[]),
    role("lookup_file", &[]),
    role("ignore_errors", &[]),
    role("assemble", &[]),
    role("hostname", &[]),
    role("dict_transformations", &[]),
    role("old_style_modules_posix", &[]),
    role("want_json_modules_posix", &[]),
    role("embedded_module", &[]),
    role("facts_d", &[]),
    role("task_ordering", &[]),
    role("split", &[]),
    role("var_inheritance", &[]),
    role("until", &[]),
    role("lookup_first_found", &[]),
    Target {
        name: "filter_mathstuff",
        kind: Kind::Playbooks(&[PlaybookRun {
            playbook: "runme.yml",
            hosts: &["localhost"],
            args: &[],
        }]),
        skips: &[
            Skip {
                file: "filter_mathstuff/tasks/main.yml",
                task: "Test for do_unique",
                reason: NO_JINJA2_ON_TARGET,
            },
            Skip {
                file: "filter_mathstuff/tasks/main.yml",
                task: "Verify unique some more",
                reason: NO_JINJA2_ON_TARGET,
            },
            Skip {
                file: "filter_mathstuff/tasks/main.yml",
                task: "Verify unique some more",
                reason: NO_JINJA2_ON_TARGET,
            },
        ],
        home_files: &[],
        // runme.sh runs with ANSIBLE_ROLES_PATH=../; runme.yml finds its role through this link
        links: &[("filter_mathstuff/roles", "..")],
    },
];

/// filter_mathstuff asks the target's Python whether Jinja2 has `do_unique` and checks
/// `unique`'s options only then; the targets' `/usr/bin/python3` has no Jinja2 (the cases
/// are in tests/fleet/templates.rs instead).
const NO_JINJA2_ON_TARGET: &str = "the target's Python has no Jinja2 to ask about do_unique";

/// include_import's own inventory, over ssh instead of `ansible_connection=local`.
const II_HOSTS: &[&str] = &[
    "testhost host_var_role_name=role3",
    "testhost2 host_var_role_name=role2",
    "localhost",
];

const fn role(name: &'static str, skips: &'static [Skip]) -> Target {
    Target {
        name,
        kind: Kind::Role,
        skips,
        home_files: &[],
        links: &[],
    }
}

/// fleet's lab: ansible-core is importable on this controller (the reference venv), so what
/// fleet leaves to Ansible's module code (item 3 of issue 18) runs as it would for an operator.
fn candidate() -> FleetLab {
    let python = e2e::fleet::ansible_venv().join("bin/python");
    FleetLab::new(1)
        .with_fleet_bin(env!("CARGO_BIN_EXE_fleet"))
        .with_env("FLEET_ANSIBLE_PYTHON", python.to_string_lossy())
}

fn target(name: &str) -> &'static Target {
    TARGETS
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no target {name}"))
}

/// Runs `name` under both tools; ansible-playbook must pass it (else this test is broken), and
/// so must fleet.
fn both_pass(name: &str) {
    let t = target(name);
    let reference = FleetLab::new(1);
    let candidate = candidate();
    let targets = patched_targets(reference.dir(), &[t]);
    let want = run_target(&reference, Tool::Ansible, &targets, t);
    assert!(
        want.passed,
        "ansible-playbook fails integration target {name}; the test itself is broken:\n{}",
        want.detail
    );
    let got = run_target(&candidate, Tool::Fleet, &targets, t);
    assert!(
        got.passed,
        "fleet fails integration target {name}, which ansible-playbook passes:\n{}",
        got.detail
    );
}

/// Every target under both tools: prints the figures, then requires fleet to pass every target
/// ansible-playbook passed. Long (minutes per target under ansible-playbook), so run by
/// `bench/ansible_targets.sh` rather than in `cargo test --workspace`.
#[test]
#[ignore = "long: bench/ansible_targets.sh runs it"]
fn all_targets() {
    let only = std::env::var("AIT_ONLY").unwrap_or_default();
    let chosen: Vec<&Target> = TARGETS
        .iter()
        .filter(|t| only.is_empty() || only.split(',').any(|o| o == t.name))
        .collect();
    let reference = FleetLab::new(1);
    let candidate = candidate();
    let targets = patched_targets(reference.dir(), &chosen);
    let mut rows = Vec::new();
    let tools = std::env::var("AIT_TOOL").unwrap_or_default();
    let skipped = || e2e::ansible_targets::Verdict {
        passed: false,
        detail: "not run (AIT_TOOL)".into(),
    };
    for t in &chosen {
        let a = if tools.is_empty() || tools == "ansible" {
            run_target(&reference, Tool::Ansible, &targets, t)
        } else {
            skipped()
        };
        let f = if tools.is_empty() || tools == "fleet" {
            run_target(&candidate, Tool::Fleet, &targets, t)
        } else {
            skipped()
        };
        println!(
            "{:<16} ansible-playbook: {:<6} fleet: {}",
            t.name,
            if a.passed { "pass" } else { "FAIL" },
            if f.passed { "pass" } else { "FAIL" }
        );
        if !f.passed {
            println!("--- fleet on {}:\n{}", t.name, tail(&f.detail, 60));
        }
        if !a.passed {
            println!(
                "--- ansible-playbook on {}:\n{}",
                t.name,
                tail(&a.detail, 60)
            );
        }
        rows.push((t.name, a.passed, f.passed));
    }
    let count = |f: fn(&(&str, bool, bool)) -> bool| rows.iter().filter(|r| f(r)).count();
    let n = rows.len();
    println!(
        "ansible-playbook: {} targets passed / {n} run",
        count(|r| r.1)
    );
    println!("fleet: {} targets passed / {n} run", count(|r| r.2));
    let missing: Vec<&str> = rows.iter().filter(|r| r.1 && !r.2).map(|r| r.0).collect();
    assert!(
        missing.is_empty(),
        "fleet fails targets ansible-playbook passes: {missing:?}"
    );
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

// The targets fleet passes that fit CI time, each its own test (they run two at a time, as
// every playbook run of this binary takes one of two slots). copy and file, which fleet passes
// too but ansible-playbook needs minutes for, and fetch (which ansible-playbook fails here)
// run in `all_targets` (bench/ansible_targets.sh).

#[test]
fn lineinfile() {
    both_pass("lineinfile");
}

#[test]
fn blockinfile() {
    both_pass("blockinfile");
}

#[test]
fn replace() {
    both_pass("replace");
}

#[test]
fn stat() {
    both_pass("stat");
}

#[test]
fn slurp() {
    both_pass("slurp");
}

#[test]
fn template() {
    both_pass("template");
}

#[test]
fn loops() {
    both_pass("loops");
}

#[test]
fn command_shell() {
    both_pass("command_shell");
}

#[test]
fn set_fact() {
    both_pass("set_fact");
}

#[test]
fn blocks() {
    both_pass("blocks");
}

#[test]
fn handlers() {
    both_pass("handlers");
}

#[test]
fn assert() {
    both_pass("assert");
}

#[test]
fn include_import() {
    both_pass("include_import");
}

#[test]
fn filter_urlsplit() {
    both_pass("filter_urlsplit");
}

#[test]
fn filter_urls() {
    both_pass("filter_urls");
}

#[test]
fn lookup_sequence() {
    both_pass("lookup_sequence");
}

#[test]
fn lookup_together() {
    both_pass("lookup_together");
}

#[test]
fn filter_mathstuff() {
    both_pass("filter_mathstuff");
}

#[test]
fn lookup_nested() {
    both_pass("lookup_nested");
}

#[test]
fn lookup_subelements() {
    both_pass("lookup_subelements");
}

#[test]
fn lookup_dict() {
    both_pass("lookup_dict");
}

#[test]
fn lookup_lines() {
    both_pass("lookup_lines");
}

#[test]
fn lookup_random_choice() {
    both_pass("lookup_random_choice");
}

#[test]
fn lookup_varnames() {
    both_pass("lookup_varnames");
}

#[test]
fn lookup_vars() {
    both_pass("lookup_vars");
}

#[test]
fn lookup_template() {
    both_pass("lookup_template");
}

/// The targets that add and remove local accounts take turns: two `useradd`/`groupadd` at
/// once contend for the lock on /etc/passwd and /etc/group.
static ACCOUNTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn failed_when() {
    both_pass("failed_when");
}

#[test]
fn test_mathstuff() {
    both_pass("test_mathstuff");
}

#[test]
fn ping() {
    both_pass("ping");
}

/// Creates and removes local groups (`ansibullgroup`...) on this machine, as under Ansible.
#[test]
fn group() {
    let _turn = ACCOUNTS.lock().unwrap_or_else(|p| p.into_inner());
    both_pass("group");
}

/// Creates, changes and removes local accounts on this machine, as under Ansible.
#[test]
fn user() {
    let _turn = ACCOUNTS.lock().unwrap_or_else(|p| p.into_inner());
    both_pass("user");
}

/// Template variables (`template_host`, `template_mtime`...), the role-name variables, a role importing itself for another task file.
#[test]
fn special_vars() {
    both_pass("special_vars");
}

/// Quoted paths, `creates`/`removes` messages, its argument checks and its refusal of `async`.
#[test]
fn script() {
    both_pass("script");
}

#[test]
fn lookup_items() {
    both_pass("lookup_items");
}

#[test]
fn lookup_indexed_items() {
    both_pass("lookup_indexed_items");
}

#[test]
fn lookup_list() {
    both_pass("lookup_list");
}

#[test]
fn lookup_file() {
    both_pass("lookup_file");
}

#[test]
fn ignore_errors() {
    both_pass("ignore_errors");
}

/// Fragments on the host and on the controller, a delimiter, a regexp, diff mode.
#[test]
fn assemble() {
    both_pass("assemble");
}

/// Facts decide what runs: on this machine (a Debian container) the hostname module's
/// distribution-specific tasks are skipped by both tools.
#[test]
fn hostname() {
    both_pass("hostname");
}

/// Modules from the role's `library/`, named in task files the role includes.
#[test]
fn dict_transformations() {
    both_pass("dict_transformations");
}

/// An old-style shell module (`library/helloworld.sh`: arguments in a file) through Ansible's
/// packager, found by its name without the extension.
#[test]
fn old_style_modules_posix() {
    both_pass("old_style_modules_posix");
}

/// A `WANT_JSON` shell module: arguments as a JSON file.
#[test]
fn want_json_modules_posix() {
    both_pass("want_json_modules_posix");
}

/// A Python module that embeds another module's code.
#[test]
fn embedded_module() {
    both_pass("embedded_module");
}

/// Local facts (`facts.d`, `ansible_local`), executable and static, re-gathered by `setup`.
#[test]
fn facts_d() {
    both_pass("facts_d");
}

/// Tasks, blocks and includes run in the order written.
#[test]
fn task_ordering() {
    both_pass("task_ordering");
}

/// The `split` filter.
#[test]
fn split() {
    both_pass("split");
}

/// Block `vars`: an inner block's shadow the outer's, which hold again after it.
#[test]
fn var_inheritance() {
    both_pass("var_inheritance");
}

/// `until`/`retries` with `failed_when` and `changed_when` in the retry decision, `attempts` as
/// Ansible counts them, and a custom action plugin (`action_plugins/shell_no_failed.py`, which
/// runs Ansible's own shell action) on the controller.
#[test]
fn until() {
    both_pass("until");
}

/// `first_found` as Ansible's plugin: per-term options, path-major paths, undefined terms of a
/// `with_first_found:` dropped, the `files/`/`vars/`/`templates/` directory its task's action
/// names (through custom action plugins named `debug_var_alias`...), Python's division by zero.
#[test]
fn lookup_first_found() {
    both_pass("lookup_first_found");
}

/// Free-form text to an action that takes none fails when the task runs (Ansible's words); a
/// custom action plugin's exception and its failed result become the task's failure.
#[test]
fn tasks() {
    both_pass("tasks");
}

/// `register` on every kind of task.
#[test]
fn register() {
    both_pass("register");
}

/// The ini lookup (through Ansible's own code) and `debug: var={{ item }}`.
#[test]
fn lookup_ini() {
    both_pass("lookup_ini");
}

/// `loop_control.extended` on an include loop, `extended_allitems`, `break_when`.
#[test]
fn loop_control() {
    both_pass("loop_control");
}

/// `environment` as a list of mappings with `omit`, and `ansible_env` in a play's environment while facts are gathered.
#[test]
fn environment() {
    both_pass("environment");
}

/// The unvault lookup opens a vaulted file with the run's `--vault-password-file`.
#[test]
fn lookup_unvault() {
    both_pass("lookup_unvault");
}

/// The fileglob lookup's search: beside the play, in its `files/`, in the role's, in
/// subdirectories of each; nothing for paths that do not exist.
#[test]
fn lookup_fileglob() {
    both_pass("lookup_fileglob");
}

/// `include_tasks` and `include_role` under `when`, in loops, with the free and host_pinned
/// strategies (host_pinned runs as free).
#[test]
fn includes() {
    both_pass("includes");
}

/// `debug: var=` of a variable whose template is undefined shows 2.19's marker text; variables
/// templated per host through `hostvars`.
#[test]
fn var_templating() {
    both_pass("var_templating");
}

#[test]
fn add_host() {
    both_pass("add_host");
}

#[test]
fn changed_when() {
    both_pass("changed_when");
}

#[test]
fn lookup_csvfile() {
    both_pass("lookup_csvfile");
}

#[test]
fn lookup_config() {
    both_pass("lookup_config");
}

#[test]
fn include_vars() {
    both_pass("include_vars");
}

#[test]
fn tempfile() {
    both_pass("tempfile");
}

#[test]
fn known_hosts() {
    both_pass("known_hosts");
}

#[test]
fn getent() {
    both_pass("getent");
}
