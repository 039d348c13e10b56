//! Same playbook, same results: each playbook runs under `ansible-playbook` (the reference)
//! on one lab and under `fleet run` on another lab of the same size, twice. After each run the
//! exit codes, the PLAY RECAP counts per host and the files the playbook left on the targets
//! (content and mode, host names normalized) must be equal; the second run checks idempotence.

use std::path::PathBuf;

use e2e::fleet::{self, diff_recaps, diff_snapshots, FleetLab};

/// Hosts per lab: enough for per-host differences (one host fails, one is skipped).
const HOSTS: usize = 3;

fn compare(playbook: PathBuf, extra: &[&str]) {
    compare_rounds(playbook, extra, &[FIRST_RUN, SECOND_RUN]);
}

/// One run of the playbook on both labs: its name and the options it adds.
type Round = (&'static str, &'static [&'static str]);

const FIRST_RUN: Round = ("first run", &[]);
const SECOND_RUN: Round = ("second run (idempotence)", &[]);
/// Check mode on clean targets: what would change, and nothing written.
const CHECK_RUN: Round = ("check run (--check --diff)", &["--check", "--diff"]);

fn compare_rounds(playbook: PathBuf, extra: &[&str], rounds: &[Round]) {
    let reference = FleetLab::new(HOSTS);
    let candidate = FleetLab::new(HOSTS).with_fleet_bin(env!("CARGO_BIN_EXE_fleet"));
    let mut report = Vec::new();
    for (round, options) in rounds {
        let extra: Vec<&str> = extra.iter().chain(options.iter()).copied().collect();
        let extra = extra.as_slice();
        let want = reference.play_ansible(&playbook, extra);
        let want_recap = reference.recap(&want.stdout);
        assert!(
            // at least the lab's hosts: a playbook may add more (`add_host`)
            want.success() && want_recap.len() >= HOSTS,
            "the reference ansible-playbook run failed ({round}); the test itself is broken:\n{want}"
        );
        let got = candidate.play_fleet(&playbook, extra);
        let got_recap = candidate.recap(&got.stdout);
        let mut problems = Vec::new();
        if got.code != want.code {
            problems.push(format!(
                "exit code {:?}, ansible-playbook {:?}",
                got.code, want.code
            ));
        }
        for line in diff_recaps(&want_recap, &got_recap) {
            problems.push(format!("recap {line}"));
        }
        let files = diff_snapshots(&reference.samples_snapshot(), &candidate.samples_snapshot());
        for line in files {
            problems.push(format!("file {line}"));
        }
        if !problems.is_empty() {
            report.push(format!(
                "== {round}:\n  {}\n--- fleet stdout ---\n{}\n--- fleet stderr ---\n{}\n\
                 --- ansible-playbook stdout ---\n{}",
                problems.join("\n  "),
                candidate.normalize(&got.stdout),
                candidate.normalize(&got.stderr),
                reference.normalize(&want.stdout),
            ));
        }
    }
    assert!(
        report.is_empty(),
        "fleet differs from ansible-playbook on {}:\n{}",
        playbook.display(),
        report.join("\n")
    );
}

fn sample(name: &str) -> PathBuf {
    fleet::samples_dir().join(name)
}

fn fixture(name: &str) -> PathBuf {
    fleet::fixtures_dir().join(name)
}

#[test]
fn sample_basic() {
    compare(sample("basic.yml"), &[]);
}

#[test]
fn sample_webapp() {
    compare(sample("webapp.yml"), &[]);
}

/// Every playbook in the samples directory has its own test above.
#[test]
fn every_sample_is_compared() {
    let mut found: Vec<String> = std::fs::read_dir(fleet::samples_dir())
        .expect("read samples dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yml") || n.ends_with(".yaml"))
        .collect();
    found.sort();
    assert_eq!(
        found,
        ["basic.yml", "webapp.yml"],
        "new sample playbooks need a test in tests/fleet/compare.rs"
    );
}

#[test]
fn handlers_and_loops() {
    compare(fixture("handlers_loops.yml"), &[]);
}

#[test]
fn facts_and_conditions() {
    compare(fixture("facts_when.yml"), &[]);
}

#[test]
fn blocks_and_includes() {
    compare(fixture("blocks_includes.yml"), &[]);
}

#[test]
fn text_files_and_templates() {
    compare(fixture("text_files.yml"), &[]);
}

/// Issue 18: run-time failures (module arguments, modules fleet lacks, `become_method`) fail
/// the task when it runs, not the playbook up front.
#[test]
fn run_time_failures_fail_late() {
    compare(fixture("fail_late.yml"), &[]);
}

/// Issue 18: Python's `re` in lineinfile, replace and the regex filters, and k=v `\1`.
#[test]
fn python_regular_expressions() {
    compare(fixture("python_regex.yml"), &[]);
}

#[test]
fn tags_select_tasks() {
    compare(
        fixture("tags.yml"),
        &["--tags", "config,debug", "--skip-tags", "slow"],
    );
}

#[test]
fn every_module_checked_applied_and_idempotent() {
    compare_rounds(
        fixture("modules.yml"),
        &[],
        &[CHECK_RUN, FIRST_RUN, SECOND_RUN],
    );
}

/// Issue 18: loops, facts and blocks as Ansible's integration targets use them.
#[test]
fn loops_and_facts_of_the_integration_targets() {
    compare(fixture("loops_facts.yml"), &[]);
}

#[test]
fn async_jobs_and_templated_module_names() {
    compare(fixture("async_jobs.yml"), &[]);
}

#[test]
fn facts_of_delegated_tasks() {
    compare(fixture("delegated_facts.yml"), &[]);
}

#[test]
fn groups_made_by_group_by() {
    compare(fixture("group_by.yml"), &[]);
}

#[test]
fn hosts_added_by_add_host() {
    compare(fixture("add_host.yml"), &[]);
}

#[test]
fn paths_under_home_expand_on_the_host() {
    compare(fixture("home_paths.yml"), &[]);
}

#[test]
fn default_facts_as_ansible_gathers_them() {
    compare(fixture("facts_default.yml"), &[]);
}

#[test]
fn module_defaults_of_plays_and_blocks() {
    compare(fixture("module_defaults.yml"), &[]);
}
