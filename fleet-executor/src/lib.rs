//! fleet-executor: running parsed playbooks on hosts. Plays in order over their hosts, tasks in
//! lockstep across hosts (linear strategy) or independently per host (free strategy), with
//! Ansible's recap counting; the SSH connections that reach the hosts ([`connection`]); what a run
//! shows ([`output`]).
//!
//! Owns: variable precedence, `when`/loops/`register`/handlers/includes at run time, `become`
//! and `environment` resolution per task, the host-less actions (`debug`, `set_fact`, `assert`...),
//! connections (russh, known_hosts, the bastion route) and the reporters.
//!
//! Must not know: YAML syntax or how a task's action and arguments are spelled (that is
//! `fleet-playbook`), the shell scripts of a module (`fleet-modules`), Jinja internals
//! (`fleet-templates`), or the command line (`fleet`).
//!
//! - [`context`]: run-wide state and the scope a task inherits.
//! - [`play`]: hosts, batches, facts, sections and handler flushes of one play.
//! - [`walk`]: task lists, blocks, roles, `meta`; [`include`]: dynamic includes.
//! - [`task`]: one task on one host, `attempt`: one execution (`when`, `until` retries),
//!   `execute`: its action, `target`: the connection it runs over; [`result`]: what its
//!   executions add up to;
//!   [`actions`]: host-less actions; [`handlers`]; [`fallback`]: which path a task's module
//!   takes (native, or Ansible's own module code).
//! - [`vars`]: variable precedence; [`connect`]: how a host is reached; [`host`]: per-host state.

pub mod connection;
pub mod dynamic_inventory;
mod error;
pub mod output;

pub mod actions;
mod assert;
mod attempt;
pub mod connect;
pub mod context;
pub mod escalation;
mod execute;
pub mod fallback;
pub mod handlers;
pub mod host;
mod hostvars;
pub mod include;
mod include_vars;
pub mod loops;
pub mod play;
pub mod result;
mod role_names;
pub mod start_at;
mod tags;
mod target;
pub mod task;
mod task_async;
mod task_label;
mod task_timeout;
pub mod vars;
pub mod walk;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{json, Map, Value};
use tokio::sync::{Mutex, Semaphore};

pub use connect::Connector;
pub use context::{Run, RunOptions};
pub use error::ExecError;
pub use host::HostState;
pub use start_at::StartAt;

use crate::output::{Event, HostStats};
use fleet_playbook::Playbook;
use walk::Hosts;

/// How a run ended, for the exit status and `--json`.
pub struct Summary {
    /// Totals per host, sorted by host name (the recap's order).
    pub recap: Vec<(String, HostStats)>,
    /// 0 all good, 2 a host failed, 4 a host unreachable (PRODUCT.md 2.2).
    pub exit_code: i32,
}

/// Magic variables that are the same for every play: `groups`, `playbook_dir`, modes.
fn run_magic(
    run: &Run,
    inv: &inventory::Inventory,
    playbook_dir: &std::path::Path,
    inventory_path: &std::path::Path,
) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("groups".into(), dynamic_inventory::groups_var(inv));
    let abs = |p: &std::path::Path| {
        std::fs::canonicalize(p)
            .unwrap_or_else(|_| p.to_path_buf())
            .display()
            .to_string()
    };
    m.insert("playbook_dir".into(), json!(abs(playbook_dir)));
    let inv_abs = abs(inventory_path);
    m.insert("inventory_file".into(), json!(inv_abs));
    let inv_dir = std::path::Path::new(&inv_abs)
        .parent()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    m.insert("inventory_dir".into(), json!(inv_dir));
    // the controller's Python: Ansible gives its own; fleet the one it runs Ansible's code with
    let python = fleet_templates::controller_python::from_env();
    m.insert(
        "ansible_playbook_python".into(),
        json!(python.to_string_lossy()),
    );
    m.insert("ansible_check_mode".into(), json!(run.options.check));
    m.insert("ansible_diff_mode".into(), json!(run.options.diff));
    m.insert("ansible_verbosity".into(), json!(run.options.verbosity));
    m.insert(
        "ansible_run_tags".into(),
        json!(if run.options.tags.is_empty() {
            vec!["all".to_string()]
        } else {
            run.options.tags.clone()
        }),
    );
    m.insert("ansible_skip_tags".into(), json!(run.options.skip_tags));
    m.insert(
        "ansible_version".into(),
        json!({"full": "2.19.0", "major": 2, "minor": 19, "revision": 0, "string": "2.19.0"}),
    );
    m
}

/// Each inventory host's position, by name: the index of its state in [`Hosts`].
fn host_index(inv: &inventory::Inventory) -> BTreeMap<String, usize> {
    inv.hosts()
        .enumerate()
        .map(|(i, h)| (h.name.clone(), i))
        .collect()
}

/// Runs a playbook. `limit` narrows every play's hosts (`--limit`).
pub async fn run_playbook(
    run: &Run,
    playbook: &Playbook,
    inv: &inventory::Inventory,
    inventory_path: &std::path::Path,
    limit: Option<&str>,
    extra_vars: Map<String, Value>,
) -> Result<Summary, ExecError> {
    let mut hosts = Hosts {
        states: dynamic_inventory::new_states(inv, 0)
            .into_iter()
            .map(Mutex::new)
            .collect(),
        forks: Semaphore::new(run.options.forks.max(1)),
    };
    let mut selection = Selection {
        inv,
        index: host_index(inv),
        limited: match limit {
            Some(l) => Some(inv.select(l)?.iter().map(|h| h.name.clone()).collect()),
            None => None,
        },
    };
    // `site.yml` has the empty path as its parent: the playbook's directory is then the
    // current one (an empty `playbook_dir` made `{{ playbook_dir }}/x` the root's `/x`)
    let playbook_dir = playbook
        .path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."))
        .to_path_buf();
    let mut magic = Arc::new(run_magic(run, inv, &playbook_dir, inventory_path));
    let extra = Arc::new(extra_vars);
    let mut processed = BTreeSet::new();
    // the inventory as `group_by` and `add_host` change it, play by play
    let mut inv_now = std::borrow::Cow::Borrowed(inv);
    for play in &playbook.plays {
        if run.interrupted() {
            break;
        }
        dynamic_inventory::publish(run, &hosts).await;
        if let Some(changed) = dynamic_inventory::take(run) {
            let added = dynamic_inventory::new_states(&changed, hosts.states.len());
            hosts.states.extend(added.into_iter().map(Mutex::new));
            selection.index = host_index(&changed);
            inv_now = std::borrow::Cow::Owned(changed);
            magic = Arc::new(run_magic(run, &inv_now, &playbook_dir, inventory_path));
        }
        let selection = Selection {
            inv: &inv_now,
            ..selection.clone()
        };
        let host_ids = selection.play_hosts(run, play, &extra, &magic)?;
        if run.start_at.play_may_start(play) {
            processed.extend(host_ids.iter().copied());
        }
        let input = play::PlayInput {
            inventory: &inv_now,
            host_ids,
            extra_vars: extra.clone(),
            magic: magic.clone(),
        };
        play::run_play(run, play, &hosts, input).await;
        run.start_at.play_ended();
    }
    Ok(summary(run, &hosts, processed).await)
}

/// The inventory hosts a run may reach: by name, and narrowed by `--limit`.
#[derive(Clone)]
struct Selection<'i> {
    inv: &'i inventory::Inventory,
    index: BTreeMap<String, usize>,
    limited: Option<Vec<String>>,
}

impl Selection<'_> {
    /// The hosts of `play`: its `hosts:` pattern templated with the run's variables, within the
    /// limit. A pattern that matches nothing is a warning, as in Ansible.
    fn play_hosts(
        &self,
        run: &Run,
        play: &fleet_playbook::Play,
        extra: &Map<String, Value>,
        magic: &Map<String, Value>,
    ) -> Result<Vec<usize>, ExecError> {
        let mut pattern_vars = extra.clone();
        pattern_vars.extend(magic.clone());
        let pattern_vars = Value::Object(pattern_vars);
        // a template may give a list of patterns (`hosts: "{{ targets }}"`), joined as Ansible
        // joins a `hosts:` list
        let pattern = run
            .templar
            .template_value(&Value::String(play.hosts.clone()), &pattern_vars)
            .map_err(|error| ExecError::HostsPattern {
                position: play.position.to_string(),
                error,
            })?;
        let pattern = task::texts(pattern).join(",");
        let selected = match self.inv.select(&pattern) {
            Ok(hs) => hs,
            Err(e) => {
                run.report(Event::Warning(format!(
                    "Could not match supplied host pattern, ignoring: {pattern} ({e})"
                )));
                Vec::new()
            }
        };
        let mut selected: Vec<_> = selected
            .into_iter()
            .filter(|h| self.limited.as_ref().is_none_or(|l| l.contains(&h.name)))
            .collect();
        use fleet_playbook::{HostOrder, Templatable};
        let order = match &play.order {
            Templatable::Literal(order) => *order,
            Templatable::Template(t) => {
                let word = run.templar.render_str(t, &pattern_vars)?;
                HostOrder::from_word(word.trim())
                    .ok_or_else(|| ExecError::PlayKeyword(HostOrder::invalid(&word)))?
            }
        };
        match order {
            HostOrder::Inventory => {}
            HostOrder::ReverseInventory => selected.reverse(),
            HostOrder::Sorted => selected.sort_by(|a, b| a.name.cmp(&b.name)),
            HostOrder::ReverseSorted => selected.sort_by(|a, b| b.name.cmp(&a.name)),
            HostOrder::Shuffle => {
                use rand::seq::SliceRandom;
                selected.shuffle(&mut rand::thread_rng());
            }
        }
        Ok(selected
            .iter()
            .filter_map(|h| self.index.get(&h.name).copied())
            .collect())
    }
}

/// The recap of the hosts any play ran on, reported, and the exit code it makes.
async fn summary(run: &Run, hosts: &Hosts, processed: BTreeSet<usize>) -> Summary {
    let mut recap = Vec::new();
    let mut failed = false;
    let mut unreachable = false;
    for i in processed {
        let h = hosts.states[i].lock().await;
        failed |= h.stats.failed > 0;
        unreachable |= h.stats.unreachable > 0;
        recap.push((h.name.clone(), h.stats.clone()));
    }
    recap.sort_by(|a, b| a.0.cmp(&b.0));
    run.report(Event::Recap(recap.clone()));
    let exit_code = if unreachable {
        4
    } else if failed {
        2
    } else {
        0
    };
    Summary { recap, exit_code }
}
