//! Ansible's own integration targets under both tools (issue 18 item 1): each target runs
//! under `ansible-playbook` on one real sshd target and under `fleet run` on another, and fleet
//! must pass every target ansible-playbook passes. The targets that fit CI time and that fleet
//! passes today each have a test here (ansible-playbook must pass it too, or the test is
//! broken); `all_targets` (run by `bench/ansible_targets.sh`) runs every target of
//! [`all`]
//! and prints "targets passed / run" per tool.
//!
//! Parts this machine cannot give are removed for both tools, each with its reason in
//! `table.rs`; everything else runs as Ansible ships it.

use e2e::ansible_targets::{patched_targets, run_target, Target, Tool};
use e2e::fleet::FleetLab;

#[path = "ansible_targets/plain.rs"]
mod plain;
#[path = "ansible_targets/runme.rs"]
mod runme;
#[path = "ansible_targets/table.rs"]
mod table;

/// Every target this binary knows: those adjusted for this machine, then those run as shipped.
fn all() -> impl Iterator<Item = &'static Target> {
    table::ADJUSTED
        .iter()
        .chain(plain::PLAIN)
        .chain(runme::RUNME)
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
    all()
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
    let chosen: Vec<&Target> = all()
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

/// One `#[test]` per target, each running [`both_pass`] on the target its name (or the string
/// after `=>`, for target names that are not Rust identifiers) names.
macro_rules! targets {
    ($($(#[$doc:meta])* $test:ident $(=> $name:literal)?,)*) => {$(
        $(#[$doc])*
        #[test]
        fn $test() {
            both_pass(targets!(@name $test $($name)?));
        }
    )*};
    (@name $test:ident $name:literal) => { $name };
    (@name $test:ident) => { stringify!($test) };
}

// The targets fleet passes that fit CI time, each its own test (they run two at a time, as
// every playbook run of this binary takes one of two slots). copy and file, which fleet passes
// too but ansible-playbook needs minutes for, and fetch (which ansible-playbook fails here)
// run in `all_targets` (bench/ansible_targets.sh).

targets! {
    lineinfile,
    blockinfile,
    replace,
    stat,
    slurp,
    template,
    loops,
    command_shell,
    set_fact,
    blocks,
    handlers,
    assert,
    include_import,
    filter_urlsplit,
    filter_urls,
    lookup_sequence,
    lookup_together,
    filter_mathstuff,
    lookup_nested,
    lookup_subelements,
    lookup_dict,
    lookup_lines,
    lookup_random_choice,
    lookup_varnames,
    lookup_vars,
    lookup_template,
    failed_when,
    test_mathstuff,
    ping,
    /// Template variables (`template_host`, `template_mtime`...), the role-name variables, a role importing itself for another task file.
    special_vars,
    /// Quoted paths, `creates`/`removes` messages, its argument checks and its refusal of `async`.
    script,
    lookup_items,
    lookup_indexed_items,
    lookup_list,
    lookup_file,
    ignore_errors,
    /// Fragments on the host and on the controller, a delimiter, a regexp, diff mode.
    assemble,
    /// Facts decide what runs: on this machine (a Debian container) the hostname module's
    /// distribution-specific tasks are skipped by both tools.
    hostname,
    /// Modules from the role's `library/`, named in task files the role includes.
    dict_transformations,
    /// An old-style shell module (`library/helloworld.sh`: arguments in a file) through Ansible's
    /// packager, found by its name without the extension.
    old_style_modules_posix,
    /// A `WANT_JSON` shell module: arguments as a JSON file.
    want_json_modules_posix,
    /// A Python module that embeds another module's code.
    embedded_module,
    /// Local facts (`facts.d`, `ansible_local`), executable and static, re-gathered by `setup`.
    facts_d,
    /// Tasks, blocks and includes run in the order written.
    task_ordering,
    /// The `split` filter.
    split,
    /// Block `vars`: an inner block's shadow the outer's, which hold again after it.
    var_inheritance,
    /// `until`/`retries` with `failed_when` and `changed_when` in the retry decision, `attempts` as
    /// Ansible counts them, and a custom action plugin (`action_plugins/shell_no_failed.py`, which
    /// runs Ansible's own shell action) on the controller.
    until,
    /// `first_found` as Ansible's plugin: per-term options, path-major paths, undefined terms of a
    /// `with_first_found:` dropped, the `files/`/`vars/`/`templates/` directory its task's action
    /// names (through custom action plugins named `debug_var_alias`...), Python's division by zero.
    lookup_first_found,
    /// Free-form text to an action that takes none fails when the task runs (Ansible's words); a
    /// custom action plugin's exception and its failed result become the task's failure.
    tasks,
    /// `register` on every kind of task.
    register,
    /// The ini lookup (through Ansible's own code) and `debug: var={{ item }}`.
    lookup_ini,
    /// `loop_control.extended` on an include loop, `extended_allitems`, `break_when`.
    loop_control,
    /// `environment` as a list of mappings with `omit`, and `ansible_env` in a play's environment while facts are gathered.
    environment,
    /// The unvault lookup opens a vaulted file with the run's `--vault-password-file`.
    lookup_unvault,
    /// The fileglob lookup's search: beside the play, in its `files/`, in the role's, in
    /// subdirectories of each; nothing for paths that do not exist.
    lookup_fileglob,
    /// `include_tasks` and `include_role` under `when`, in loops, with the free and host_pinned
    /// strategies (host_pinned runs as free).
    includes,
    /// `debug: var=` of a variable whose template is undefined shows 2.19's marker text; variables
    /// templated per host through `hostvars`.
    var_templating,
    add_host,
    changed_when,
    lookup_csvfile,
    lookup_config,
    include_vars,
    tempfile,
    known_hosts,
    getent,
    // found by the survey of every role-style target (2026-12-07): these pass under both
    async_fail,
    binary,
    controller,
    include_import_tasks_nested,
    include_with_templating,
    lookup_option_name => "lookup-option-name",
    module_utils_ansible_release,
    module_utils_facts_system_selinux => "module_utils_facts.system.selinux",
    pkg_resources,
    plugin_namespace,
    test_uri,
    unexpected_executor_exception,
    test_utils,
    package_facts,
    service_facts,
    /// `map(attribute=)` on an item without it: Ansible's message.
    undefined,
    /// A module's unhandled exception as 2.19 reports it.
    module_utils_common_respawn => "module_utils_common.respawn",
    /// `retries` templated per item, `{{ }}` with a trailing newline, ignored failed loops.
    loop_until => "loop-until",
    /// Arguments splatted from a template, under the task's own.
    task_esoterica => "task-esoterica",
    /// `timeout` limits, a value out of Ansible's range refused.
    task_timeout => "task-timeout",
    /// Non-ASCII names, arguments and output; plays for the implicit `localhost`.
    unicode,
    // runme.sh-style targets a survey of them found passing under both (2026-12-07)
    check_mode,
    group_by,
    import_role_tasks => "import-role-tasks",
    includes_race,
    lookup_inventory_hostnames,
    strategy_linear,
    json_cleanup,
    template_jinja2_non_native,
    unvault,
    /// `hostvars` in a template file, and `debug: var=` of an undefined variable (2.19's text).
    var_blending,
}

/// The targets that add and remove local accounts take turns: two `useradd`/`groupadd` at
/// once contend for the lock on /etc/passwd and /etc/group.
static ACCOUNTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

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
