//! Ansible's own integration targets (`test/integration/targets` of the ansible-core source
//! distribution) as a yardstick for fleet: issue 18 asks that fleet pass every target
//! ansible-playbook passes on this machine.
//!
//! The sdist is the one of the exact ansible-core version in the reference virtualenv
//! ([`crate::fleet::ansible_venv`]), fetched with that venv's `pip download` at run time and
//! cached under the workspace's `target/` like the venv (nothing of it is vendored in git).
//! Each test gets its own patched copy of the targets: the few parts this machine cannot give
//! (another distribution, SELinux, a password for `su`, ...) are removed task by task, each
//! with its reason in the calling test, so both tools run exactly the same files. A target is
//! run on one real sshd target per tool, role-style targets as a role of a play that supplies
//! `remote_tmp_dir` and `output_dir` (what ansible-test's `setup_remote_tmp_dir` would make),
//! playbook-style targets (`runme.sh`) as the playbooks their script runs.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use crate::fleet::{ansible_venv, workspace_root, FleetLab, SAMPLES_ROOT};
use crate::proc::{run, Outcome};

/// How long one playbook run of a target may take: ansible-playbook needs over five minutes for
/// the larger targets (copy, file) on a busy 2-core machine.
const TARGET_TIMEOUT: Duration = Duration::from_secs(1500);

/// How one integration target is run.
pub enum Kind {
    /// `tasks/main.yml`: run as a role; `gather_facts` as the target's `aliases` say.
    Role,
    /// `runme.sh`-style: these playbooks of the target's directory, in order, each with the
    /// inventory host names it plays on (all pointing at the one sshd target) and extra args.
    Playbooks(&'static [PlaybookRun]),
    /// `runme.sh`-style with the target's own inventory file (its hosts local connections, as
    /// ansible-test runs them): that file, then the playbooks run in order with it, each
    /// followed by its arguments (`site.yml -e @{targets}/t/vars.yml`, split on whitespace).
    OwnInventory(&'static str, &'static [&'static str]),
}

/// One `ansible-playbook` run of a playbook-style target's `runme.sh`.
pub struct PlaybookRun {
    pub playbook: &'static str,
    pub hosts: &'static [&'static str],
    /// Extra arguments of both tools; `{targets}` is replaced by the directory of the copy of
    /// the targets the run uses (for a file a target ships, named relative to the target).
    pub args: &'static [&'static str],
}

/// A task removed from a target for both tools, and why this machine cannot run it.
pub struct Skip {
    /// The file, relative to the targets directory (`copy/tasks/tests.yml`).
    pub file: &'static str,
    /// The task's `name:` exactly as written, or the whole text of an unnamed list item's first
    /// line after `- ` (`import_tasks: acls.yml`, a role dependency); the first match goes.
    /// When neither matches: text that only the wanted item holds, on any of its lines (for an
    /// unnamed item whose first line, `- assert:`, is not unique).
    pub task: &'static str,
    pub reason: &'static str,
}

/// An integration target to run under both tools.
pub struct Target {
    pub name: &'static str,
    pub kind: Kind,
    pub skips: &'static [Skip],
    /// Paths (files or directories) the target writes relative to the remote login's home
    /// (root's, on this machine), removed before each run so one run does not see the last
    /// one's files.
    pub home_files: &'static [&'static str],
    /// Symlinks (path, target) made in the copy, relative to the targets directory: what the
    /// target's `runme.sh` sets up (`ANSIBLE_ROLES_PATH=./roles`, a linked role) for both tools.
    pub links: &'static [(&'static str, &'static str)],
}

/// What one tool did with one target.
pub struct Verdict {
    pub passed: bool,
    /// The failing run's output (empty when passed).
    pub detail: String,
}

/// The exact ansible-core version of the reference venv (`2.19.14`).
pub fn ansible_version() -> String {
    static V: OnceLock<String> = OnceLock::new();
    V.get_or_init(|| {
        let py = ansible_venv().join("bin/python");
        let out = run(
            Command::new(py).args(["-c", "import ansible.release as r; print(r.__version__)"]),
            Duration::from_secs(60),
        );
        assert!(
            out.success(),
            "cannot read the venv's ansible-core version:\n{out}"
        );
        out.stdout.trim().to_string()
    })
    .clone()
}

/// `test/integration/targets` of the ansible-core sdist matching the venv, downloaded and
/// unpacked once under `target/ansible-sdist-<version>/` (under a file lock). Panics with a
/// clear message when PyPI cannot be reached.
pub fn sdist_targets() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(fetch_sdist).clone()
}

fn fetch_sdist() -> PathBuf {
    let version = ansible_version();
    let target = workspace_root().join("target");
    let dir = target.join(format!("ansible-sdist-{version}"));
    let targets = dir.join(format!("ansible_core-{version}/test/integration/targets"));
    let marker = dir.join(".ready");
    if marker.is_file() {
        return targets;
    }
    let script = format!(
        "set -e\n\
         [ -f '{marker}' ] && exit 0\n\
         rm -rf '{dir}'; mkdir -p '{dir}'\n\
         '{pip}' download -q --disable-pip-version-check --no-binary :all: --no-deps \
           'ansible-core=={version}' -d '{dir}'\n\
         tar -xzf '{dir}/ansible_core-{version}.tar.gz' -C '{dir}' \
           'ansible_core-{version}/test/integration/targets'\n\
         touch '{marker}'\n",
        marker = marker.display(),
        dir = dir.display(),
        pip = ansible_venv().join("bin/pip").display(),
    );
    let out = run(
        Command::new("flock")
            .arg(target.join("ansible-sdist.lock"))
            .args(["sh", "-c", &script]),
        Duration::from_secs(600),
    );
    assert!(
        out.success() && targets.is_dir(),
        "cannot fetch the ansible-core {version} source distribution from PyPI into {} \
         (Ansible's integration targets come from it; needs network access to PyPI):\n{out}",
        dir.display()
    );
    targets
}

/// A patched copy of the targets for one test: `skips` removed, and `setup_remote_tmp_dir`
/// dropped from role dependencies (the play supplies `remote_tmp_dir`; the role's `set_fact`
/// would override it). Panics if a skip names a task that is not there, so the list stays true.
pub fn patched_targets(into: &Path, targets: &[&Target]) -> PathBuf {
    let copy = into.join("targets");
    let out = run(
        Command::new("cp").arg("-a").arg(sdist_targets()).arg(&copy),
        Duration::from_secs(120),
    );
    assert!(out.success(), "copy the integration targets:\n{out}");
    for t in targets {
        let meta = copy.join(t.name).join("meta/main.yml");
        if let Ok(text) = fs::read_to_string(&meta) {
            let kept: Vec<&str> = text
                .lines()
                .filter(|l| l.trim() != "- setup_remote_tmp_dir")
                .collect();
            fs::write(&meta, kept.join("\n") + "\n").expect("write meta");
        }
        for (link, to) in t.links {
            std::os::unix::fs::symlink(to, copy.join(link))
                .unwrap_or_else(|e| panic!("link {link} -> {to}: {e}"));
        }
        for skip in t.skips {
            let path = copy.join(skip.file);
            let text = fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("skip list names {}: {e}", skip.file));
            let cut = remove_task(&text, skip.task).unwrap_or_else(|| {
                panic!(
                    "skip list: no task named {:?} in {} (skipped because {})",
                    skip.task, skip.file, skip.reason
                )
            });
            fs::write(&path, cut).expect("write patched task file");
        }
    }
    copy
}

/// `text` without the YAML list item whose `name:` is `task`: from its `- name:` line to the
/// next line indented as much or less (comments and blank lines in between go with it).
pub fn remove_task(text: &str, task: &str) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let is_start = |l: &str| {
        let t = l.trim_start();
        if t.strip_prefix("- ").map(str::trim_end) == Some(task) {
            return true;
        }
        let Some(rest) = t.strip_prefix("- name:") else {
            return false;
        };
        let rest = rest.trim();
        let unquoted = rest.trim_matches('"').trim_matches('\'');
        rest == task || unquoted == task
    };
    let start = match lines.iter().position(|l| is_start(l)) {
        Some(start) => start,
        None => item_holding(&lines, task)?,
    };
    let indent = lines[start].len() - lines[start].trim_start().len();
    let end = lines[start + 1..]
        .iter()
        .position(|l| {
            let t = l.trim_start();
            !t.is_empty() && !t.starts_with('#') && l.len() - t.len() <= indent
        })
        .map_or(lines.len(), |i| start + 1 + i);
    let mut out: Vec<&str> = lines[..start].to_vec();
    out.extend_from_slice(&lines[end..]);
    Some(out.join("\n") + "\n")
}

/// The first line of the task that holds `text` on one of its lines: the nearest line above it
/// (or it) that starts a list item holding a mapping (`- assert:`, not a `that:` list's
/// `- x is y`), indented less than the line with `text` unless it is that line.
fn item_holding(lines: &[&str], text: &str) -> Option<usize> {
    let at = lines.iter().position(|l| l.contains(text))?;
    let indent = |l: &str| l.len() - l.trim_start().len();
    let starts_task = |l: &str| {
        let Some(rest) = l.trim_start().strip_prefix("- ") else {
            return false;
        };
        let key: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '.'))
            .collect();
        !key.is_empty() && rest[key.len()..].starts_with(':')
    };
    (0..=at)
        .rev()
        .find(|&i| starts_task(lines[i]) && (i == at || indent(lines[i]) < indent(lines[at])))
}

/// Which tool runs a target.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Tool {
    Ansible,
    Fleet,
}

/// Runs `target` (from the patched copy `targets`) under `tool` on `lab`'s first host.
pub fn run_target(lab: &FleetLab, tool: Tool, targets: &Path, target: &Target) -> Verdict {
    let host = lab.host_names()[0].to_string();
    let work = lab.dir().join(format!("ait-{}-{tool:?}", target.name));
    let scratch = Path::new(SAMPLES_ROOT).join(&host).join(target.name);
    let _ = fs::remove_dir_all(&scratch);
    fs::create_dir_all(&work).expect("mkdir work");
    let vars = format!(
        "remote_tmp_dir={s}/remote_tmp output_dir={s}/output",
        s = scratch.display()
    );
    let runs: Vec<(PathBuf, PathBuf, Vec<String>)> = match &target.kind {
        Kind::Role => {
            let play = role_play(targets, target.name);
            let pb = work.join("site.yml");
            fs::write(&pb, play).expect("write play");
            std::os::unix::fs::symlink(targets, work.join("roles")).ok();
            let inv = work.join("inventory.yml");
            fs::write(&inv, inventory_for(lab, &host, &[&host])).expect("write inventory");
            vec![(pb, inv, Vec::new())]
        }
        Kind::Playbooks(list) => list
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let inv = work.join(format!("inventory-{i}.yml"));
                fs::write(&inv, inventory_for(lab, &host, r.hosts)).expect("write inventory");
                let pb = targets.join(target.name).join(r.playbook);
                let args = r
                    .args
                    .iter()
                    .map(|a| a.replace("{targets}", &targets.to_string_lossy()))
                    .collect();
                (pb, inv, args)
            })
            .collect(),
        Kind::OwnInventory(inventory, playbooks) => {
            let dir = targets.join(target.name);
            playbooks
                .iter()
                .map(|line| {
                    let mut words = line.split_whitespace();
                    let pb = dir.join(words.next().expect("a playbook"));
                    let args = words
                        .map(|a| a.replace("{targets}", &targets.to_string_lossy()))
                        .collect();
                    (pb, dir.join(inventory), args)
                })
                .collect()
        }
    };
    let home = root_home();
    for (pb, inv, args) in runs {
        for f in target.home_files {
            let path = home.join(f);
            let _ = if path.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
        }
        for d in ["remote_tmp", "output"] {
            fs::create_dir_all(scratch.join(d)).expect("mkdir scratch");
        }
        let (pb, inv) = (pb.to_string_lossy(), inv.to_string_lossy());
        let mut all = vec!["-i", &inv, &pb, "-e", &vars];
        all.extend(args.iter().map(String::as_str));
        let out = match tool {
            Tool::Ansible => lab.run_ansible_for(&all, TARGET_TIMEOUT),
            Tool::Fleet => {
                let mut f = vec!["run"];
                f.extend(all);
                lab.run_fleet_for(&f, TARGET_TIMEOUT)
            }
        };
        if !passed(lab, &out) {
            return Verdict {
                passed: false,
                detail: lab.normalize(&format!(
                    "{pb}: exit {:?}\n{}\n--- stderr ---\n{}",
                    out.code, out.stdout, out.stderr
                )),
            };
        }
    }
    Verdict {
        passed: true,
        detail: String::new(),
    }
}

/// The lab's login (root)'s home directory, from /etc/passwd.
fn root_home() -> PathBuf {
    let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .find_map(|l| l.strip_prefix("root:"))
        .and_then(|rest| rest.split(':').nth(4))
        .map_or_else(|| PathBuf::from("/root"), PathBuf::from)
}

/// A run passes when it exits 0 and its recap shows no failed or unreachable host.
fn passed(lab: &FleetLab, out: &Outcome) -> bool {
    let recap = lab.recap(&out.stdout);
    out.success()
        && !recap.is_empty()
        && recap.values().all(|r| r.failed == 0 && r.unreachable == 0)
}

/// The play running role-style target `name`: facts gathered unless its `aliases` say
/// `gather_facts/no` (as ansible-test does); `remote_tmp_dir`/`output_dir` come as extra vars.
fn role_play(targets: &Path, name: &str) -> String {
    let aliases = fs::read_to_string(targets.join(name).join("aliases")).unwrap_or_default();
    let facts = !aliases.lines().any(|l| l.trim() == "gather_facts/no");
    format!("- hosts: all\n  gather_facts: {facts}\n  roles:\n    - role: {name}\n")
}

/// An inventory naming `hosts` (e.g. `testhost`, or `testhost k=v ...` with host vars), all
/// the lab's host `real`, in group `testgroup` (the targets' own inventories' group), with
/// `ansible_python_interpreter` set as ansible-test's inventories set it.
fn inventory_for(lab: &FleetLab, real: &str, hosts: &[&str]) -> String {
    let t = lab.target(real);
    let mut out = String::from("all:\n  children:\n    testgroup:\n      hosts:\n");
    for spec in hosts {
        let mut words = spec.split_whitespace();
        let name = words.next().expect("host name");
        out.push_str(&format!(
            "        {name}:\n          ansible_host: {}\n          ansible_port: {}\n          \
             ansible_user: root\n          ansible_ssh_private_key_file: {}\n          \
             ansible_python_interpreter: /usr/bin/python3\n",
            t.addr(),
            t.port(),
            lab.key().private.display()
        ));
        for kv in words {
            let (k, v) = kv.split_once('=').expect("host var k=v");
            out.push_str(&format!("          {k}: {v}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remove_task_finds_an_unnamed_item_by_what_it_holds() {
        let text =
            "- assert:\n    that: a\n- assert:\n    that:\n      - b is tagged\n- debug: x\n";
        assert_eq!(
            remove_task(text, "is tagged").unwrap(),
            "- assert:\n    that: a\n- debug: x\n"
        );
        assert!(remove_task(text, "nowhere").is_none());
    }

    #[test]
    fn remove_task_cuts_one_list_item() {
        let text = "- name: a\n  file: x\n\n# note\n- name: \"b c\"\n  shell: y\n  when: z\n- name: d\n  debug:\n";
        let cut = remove_task(text, "b c").expect("found");
        assert_eq!(cut, "- name: a\n  file: x\n\n# note\n- name: d\n  debug:\n");
        assert!(remove_task(text, "nope").is_none());
        let deps = "dependencies:\n  - a\n  - setup_test_user\n  - b\n";
        assert_eq!(
            remove_task(deps, "setup_test_user").unwrap(),
            "dependencies:\n  - a\n  - b\n"
        );
        let nested = "- block:\n    - name: in\n      x: 1\n    - name: out\n";
        assert_eq!(
            remove_task(nested, "in").unwrap(),
            "- block:\n    - name: out\n"
        );
    }
}
