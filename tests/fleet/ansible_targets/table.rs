//! The integration targets this binary runs, each with the parts this machine cannot give
//! removed for both tools and the reason why.

use e2e::ansible_targets::{Kind, PlaybookRun, Skip, Target};

/// `setfacl`/`getfacl` (Debian's `acl` package) are not installed here, and the targets
/// install them only on Ubuntu and RedHat.
const NO_ACL_TOOLS: &str = "setfacl is not installed on this machine (the acl package; the \
                            target installs it only on Ubuntu and RedHat)";

/// `setup_test_user` makes a user with a password (hashed with passlib, which the reference
/// venv does not have) for tests that `become` it with that password.
const SU_PASSWORD: &str = "the test becomes a user by its password, made with passlib's \
                           password_hash, which the reference venv lacks";

/// The targets that need parts removed or set-up of their own on this machine.
pub(crate) const ADJUSTED: &[Target] = &[
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
    role(
        "include_vars",
        &[Skip {
            file: "include_vars/tasks/main.yml",
            task: "ansible._protomatter.tagged_with",
            reason: "it asserts on ansible-core's internal data tags (TrustedAsTemplate), which \
                     are no behaviour of a playbook",
        }],
    ),
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

pub(crate) const fn role(name: &'static str, skips: &'static [Skip]) -> Target {
    Target {
        name,
        kind: Kind::Role,
        skips,
        home_files: &[],
        links: &[],
    }
}
