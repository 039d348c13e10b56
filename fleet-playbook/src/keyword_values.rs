//! The keywords a play, role, block or task sets ([`Keywords`]), and how a child inherits
//! them from its parent ([`Keywords::inherit`]): the typed values `keywords.rs` reads.

use serde_json::{Map, Value};

use super::model::{Flag, Templatable};

/// Keywords shared by plays, roles, blocks and tasks; a child inherits from its parent
/// (see [`Keywords::inherit`]). `None`/empty means "not set here".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Keywords {
    /// `when:` conditions, all of which must hold (a string, list or bool became a list of
    /// expression strings: `true` is `"True"`).
    pub when: Vec<String>,
    /// `tags:` (a comma-separated string is split).
    pub tags: Vec<String>,
    /// `vars:` raw, untemplated (a list of mappings is merged in order).
    pub vars: Map<String, Value>,
    /// `environment:` layers, outermost first; each a mapping or a template string. Later
    /// layers override earlier ones key by key.
    pub environment: Vec<Value>,
    /// `become:`.
    pub become_: Option<Flag>,
    /// `become_user:` (may be templated).
    pub become_user: Option<String>,
    /// `become_method:` (only `sudo` is accepted).
    pub become_method: Option<String>,
    /// `become_exe:` (may be templated): the sudo program.
    pub become_exe: Option<String>,
    /// `become_flags:` (may be templated): sudo's options.
    pub become_flags: Option<String>,
    /// `remote_user:` (may be templated): the login where the host has no `ansible_user`.
    pub remote_user: Option<String>,
    /// `port:`: the SSH port where the host has no `ansible_port`.
    pub port: Option<Templatable<i64>>,
    /// `ignore_errors:`.
    pub ignore_errors: Option<Flag>,
    /// `ignore_unreachable:`.
    pub ignore_unreachable: Option<Flag>,
    /// `any_errors_fatal:`.
    pub any_errors_fatal: Option<Flag>,
    /// `check_mode:` (forces check mode on or off for the task).
    pub check_mode: Option<Flag>,
    /// `diff:`.
    pub diff: Option<Flag>,
    /// `no_log:`.
    pub no_log: Option<Flag>,
    /// `run_once:`.
    pub run_once: Option<Flag>,
    /// `delegate_facts:`: facts a delegated task gathers belong to the host it is delegated to.
    pub delegate_facts: Option<Flag>,
    /// `delegate_to:` (may be templated); `local_action:` sets `localhost`.
    pub delegate_to: Option<String>,
    /// `connection:` (`local`, `ssh`...), as written.
    pub connection: Option<String>,
    /// `timeout:` seconds the task may run (0 or unset: no limit), or a template.
    pub timeout: Option<Templatable<i64>>,
    /// `async:` seconds a task may run as a job, or a template (see the executor's
    /// `task_async`).
    pub async_: Option<Templatable<i64>>,
    /// `poll:` seconds between checks of an `async` job (Ansible's default 15); 0: the task
    /// gives back the job's id and `async_status` reads its result.
    pub poll: Option<Templatable<i64>>,
    /// `throttle:` at most this many hosts run the task at once (0 or unset: `forks` only).
    pub throttle: Option<Templatable<i64>>,
    /// `collections:`: where short module names not built in are looked up, in order.
    pub collections: Vec<String>,
    /// `module_defaults:`: arguments by module name (short or qualified) that a task naming
    /// the module gets unless it sets them itself.
    pub module_defaults: Map<String, Value>,
}

impl Keywords {
    /// Applies a parent's keywords to a child, as Ansible's block/import inheritance does:
    /// the parent's `when` conditions come first, tags are united, `vars` and `environment` keys
    /// the child lacks come from the parent, and every other keyword the child leaves unset is
    /// taken from the parent.
    ///
    /// Used at parse time for `import_tasks`, `import_role` and `import_playbook`; the executor
    /// can use it for blocks. Play vars belong to a lower precedence level than task vars, so do
    /// not inherit a play's `vars` into tasks with it.
    pub fn inherit(&mut self, parent: &Keywords) {
        let mut when = parent.when.clone();
        when.append(&mut self.when);
        self.when = when;
        let mut tags = parent.tags.clone();
        for tag in self.tags.drain(..) {
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        self.tags = tags;
        for (k, v) in &parent.vars {
            if !self.vars.contains_key(k) {
                self.vars.insert(k.clone(), v.clone());
            }
        }
        let mut environment = parent.environment.clone();
        environment.append(&mut self.environment);
        self.environment = environment;
        // module by module: the child's defaults for a module replace the parent's (as
        // Ansible's), the parent's other modules' stay
        for (module, args) in &parent.module_defaults {
            if !self.module_defaults.contains_key(module) {
                self.module_defaults.insert(module.clone(), args.clone());
            }
        }
        fn fill<T: Clone>(child: &mut Option<T>, parent: &Option<T>) {
            if child.is_none() {
                child.clone_from(parent);
            }
        }
        fill(&mut self.become_, &parent.become_);
        fill(&mut self.become_user, &parent.become_user);
        fill(&mut self.become_method, &parent.become_method);
        fill(&mut self.become_exe, &parent.become_exe);
        fill(&mut self.become_flags, &parent.become_flags);
        fill(&mut self.remote_user, &parent.remote_user);
        fill(&mut self.port, &parent.port);
        fill(&mut self.ignore_errors, &parent.ignore_errors);
        fill(&mut self.ignore_unreachable, &parent.ignore_unreachable);
        fill(&mut self.any_errors_fatal, &parent.any_errors_fatal);
        fill(&mut self.check_mode, &parent.check_mode);
        fill(&mut self.diff, &parent.diff);
        fill(&mut self.no_log, &parent.no_log);
        fill(&mut self.timeout, &parent.timeout);
        fill(&mut self.async_, &parent.async_);
        fill(&mut self.poll, &parent.poll);
        fill(&mut self.throttle, &parent.throttle);
        if self.collections.is_empty() {
            self.collections.clone_from(&parent.collections);
        }
        fill(&mut self.run_once, &parent.run_once);
        fill(&mut self.delegate_facts, &parent.delegate_facts);
        fill(&mut self.delegate_to, &parent.delegate_to);
        fill(&mut self.connection, &parent.connection);
    }
}
