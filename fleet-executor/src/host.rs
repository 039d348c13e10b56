//! What the executor keeps per host during a run: its connection, facts, registered results,
//! notified handlers, failure state and recap counters.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::output::HostStats;
use fleet_modules::remote::Remote;

/// One inventory host, for the whole run.
pub struct HostState {
    /// Inventory name.
    pub name: String,
    /// Position in the inventory's host order (the recap's order).
    pub order: usize,
    /// Inventory variables (groups, group_vars, host_vars merged by the inventory crate).
    pub inventory_vars: Map<String, Value>,
    /// Gathered facts, `ansible_`-prefixed keys.
    pub facts: Map<String, Value>,
    /// `set_fact` and `register` results (they share one precedence level in Ansible).
    pub runtime_vars: Map<String, Value>,
    /// The open connection; opened on the first task that needs the host.
    pub remote: Option<Box<dyn Remote>>,
    /// The `remote_user`/`port` keywords of the task that opened [`Self::remote`] and the
    /// login and port it was opened with: a task whose keywords name another one reconnects.
    pub remote_login: (crate::target::Login, crate::target::Identity),
    /// Connections to other hosts for tasks this host delegates (`delegate_to`), by host name.
    pub delegates: std::collections::HashMap<String, Box<dyn Remote>>,
    /// Handler names (and `listen` topics) notified and not yet run, in notification order.
    pub notified: Vec<String>,
    /// A task failed (and was not ignored): the host takes no further tasks, except in
    /// `rescue`/`always` sections and handlers with `force_handlers`.
    pub failed: bool,
    /// The failure happened inside a block that has a `rescue` section.
    pub failure_rescuable: bool,
    /// The host could not be reached; it takes no further tasks in the run.
    pub unreachable: bool,
    /// `meta: end_host` (or `end_play`) stopped the host for this play.
    pub ended: bool,
    /// Recap counters.
    pub stats: HostStats,
    /// Roles already run on this host in this play (no `allow_duplicates`).
    pub roles_done: BTreeSet<String>,
    /// Results of this host's `async` jobs by job id, for `async_status`.
    pub async_jobs: std::collections::HashMap<String, Value>,
    /// Facts a task delegated with `delegate_facts` gathered, by the host they belong to; the
    /// walker hands them over when the task is done on every host.
    pub delegated_facts: Vec<(String, Map<String, Value>)>,
}

impl HostState {
    /// A host at the start of the run.
    pub fn new(name: &str, order: usize, inventory_vars: Map<String, Value>) -> HostState {
        HostState {
            name: name.to_string(),
            order,
            inventory_vars,
            facts: Map::new(),
            runtime_vars: Map::new(),
            remote: None,
            remote_login: Default::default(),
            delegates: std::collections::HashMap::new(),
            notified: Vec::new(),
            failed: false,
            failure_rescuable: false,
            unreachable: false,
            ended: false,
            stats: HostStats::default(),
            roles_done: BTreeSet::new(),
            async_jobs: std::collections::HashMap::new(),
            delegated_facts: Vec::new(),
        }
    }

    /// Whether the host takes the next normal task.
    pub fn active(&self) -> bool {
        !self.failed && !self.unreachable && !self.ended
    }
}
