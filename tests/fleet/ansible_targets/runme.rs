//! The runme.sh-style targets that run as their script runs them, nothing removed: the
//! playbooks in order, with the script's arguments; most plays name `localhost`, which
//! their inventories do not list (Ansible's implicit localhost, on the controller).

use e2e::ansible_targets::{Kind, PlaybookRun, Target};

pub(crate) const RUNME: &[Target] = &[
    Target {
        name: "check_mode",
        kind: Kind::Playbooks(&[
            PlaybookRun {
                playbook: "check_mode.yml",
                hosts: &["testhost"],
                args: &["-v", "--check"],
            },
            PlaybookRun {
                playbook: "check_mode-on-cli.yml",
                hosts: &["testhost"],
                args: &["-v", "--check"],
            },
            PlaybookRun {
                playbook: "check_mode-not-on-cli.yml",
                hosts: &["testhost"],
                args: &["-v"],
            },
        ]),
        skips: &[],
        home_files: &[],
        links: &[],
    },
    own_inventory(
        "group_by",
        "inventory.group_by",
        &["test_group_by.yml", "test_group_by_skipped.yml"],
    ),
    Target {
        name: "import-role-tasks",
        kind: Kind::Playbooks(&[PlaybookRun {
            playbook: "import.yml",
            hosts: &["testhost"],
            args: &[],
        }]),
        skips: &[],
        home_files: &[],
        links: &[],
    },
    own_inventory("includes_race", "inventory", &["test_includes_race.yml"]),
    // runme.sh's first run: variable precedence across group_vars, host_vars, roles and `-e`
    // (its others expect failures and grep their output)
    own_inventory(
        "var_blending",
        "inventory",
        &["test_var_blending.yml -e @{targets}/var_blending/test_vars.yml -v"],
    ),
    own_inventory("lookup_inventory_hostnames", "inventory", &["main.yml"]),
    own_inventory(
        "strategy_linear",
        "inventory",
        &[
            "test_include_file_noop.yml",
            "task_action_templating.yml",
            "task_templated_run_once.yml",
        ],
    ),
    Target {
        name: "unicode",
        // runme.sh's two runs (its plays name `localhost`, which the inventory does not list:
        // Ansible's implicit localhost), the second from a task found with `--start-at-task`
        kind: Kind::Playbooks(&[
            PlaybookRun {
                playbook: "unicode.yml",
                hosts: &["testhost"],
                args: &["-v", "-e", "extra_var=café"],
            },
            PlaybookRun {
                playbook: "unicode.yml",
                hosts: &["testhost"],
                args: &["-v", "--start-at-task", "*¶", "-e", "start_at_task=True"],
            },
        ]),
        skips: &[],
        home_files: &[],
        links: &[],
    },
    Target {
        name: "json_cleanup",
        kind: Kind::Playbooks(&[PlaybookRun {
            playbook: "module_output_cleaning.yml",
            hosts: &["testhost"],
            args: &[],
        }]),
        skips: &[],
        home_files: &[],
        links: &[],
    },
    Target {
        name: "template_jinja2_non_native",
        // runme.sh also pip-installs Jinja2 >= 3.1, which the reference venv has
        kind: Kind::Playbooks(&[
            PlaybookRun {
                playbook: "46169.yml",
                hosts: &["testhost"],
                args: &["-v"],
            },
            PlaybookRun {
                playbook: "macro_override.yml",
                hosts: &["testhost"],
                args: &["-v"],
            },
        ]),
        skips: &[],
        home_files: &[],
        links: &[],
    },
    Target {
        name: "unvault",
        kind: Kind::Playbooks(&[PlaybookRun {
            playbook: "main.yml",
            hosts: &["testhost"],
            args: &["--vault-password-file", "{targets}/unvault/password"],
        }]),
        skips: &[],
        home_files: &[],
        links: &[],
    },
];

/// A runme.sh-style target whose script runs `playbooks` in turn with the target's own
/// inventory file (`-i inventory`: its hosts are local connections, as ansible-test runs them).
const fn own_inventory(
    name: &'static str,
    inventory: &'static str,
    playbooks: &'static [&'static str],
) -> Target {
    Target {
        name,
        kind: Kind::OwnInventory(inventory, playbooks),
        skips: &[],
        home_files: &[],
        links: &[],
    }
}
