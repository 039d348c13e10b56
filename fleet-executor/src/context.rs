//! The run-wide and scope-wide state a task needs: templar, connector, options, reporter,
//! and the keywords and roles inherited from enclosing blocks and roles.

use std::path::PathBuf;
use std::sync::Mutex;

use serde_json::{Map, Value};

use super::connect::Connector;
use super::vars::{PlayVars, RoleVars};
use crate::output::{Event, Reporter};
use fleet_playbook::{Keywords, ParseOptions, Role};
use fleet_templates::Templar;

/// Options of `fleet run`/`fleet exec` that change how tasks run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// `-f`: hosts in flight at once.
    pub forks: usize,
    /// `-C`.
    pub check: bool,
    /// `-D`.
    pub diff: bool,
    /// `-t`: run only tasks with these tags (empty: all).
    pub tags: Vec<String>,
    /// `--skip-tags`.
    pub skip_tags: Vec<String>,
    /// `-v` count.
    pub verbosity: u8,
    /// `-K`: the sudo password asked once at the start (hosts may set `ansible_become_password`).
    pub become_password: Option<String>,
}

/// Everything shared by the whole run.
pub struct Run {
    pub templar: Templar,
    pub connector: Connector,
    pub options: RunOptions,
    pub reporter: Mutex<Box<dyn Reporter>>,
    pub parse_options: ParseOptions,
    /// Flipped to `true` by Ctrl-C: no new task starts, and the connections (which hold its
    /// receivers, see [`Connector::stop`]) end the commands still running.
    pub stop: tokio::sync::watch::Sender<bool>,
    /// Ansible on the controller, for the modules fleet runs through Ansible's own code
    /// (started on first use; `FLEET_ANSIBLE_PYTHON` or the `ansible-playbook` on `PATH`).
    pub ansible: fleet_modules::ansible::Controller,
    /// The inventory as `group_by` and `add_host` change it during a play
    /// (`dynamic_inventory`).
    pub dynamic: Mutex<super::dynamic_inventory::Changes>,
    /// `--start-at-task`: the tasks skipped before it.
    pub start_at: super::start_at::StartAt,
}

impl Run {
    /// Passes an event to the reporter.
    pub fn report(&self, event: Event) {
        let mut reporter = self.reporter.lock().unwrap_or_else(|p| p.into_inner());
        reporter.report(&event);
    }

    /// Whether Ctrl-C was pressed.
    pub fn interrupted(&self) -> bool {
        *self.stop.borrow()
    }

    /// Stops the run (Ctrl-C).
    pub fn interrupt(&self) {
        self.stop.send_replace(true);
    }
}

/// One play being run.
pub struct PlayCtx<'a> {
    pub play: &'a fleet_playbook::Play,
    pub vars: PlayVars,
    /// Variables every task of the play may read refer to `hostvars` (the play's, the extra
    /// ones, the inventory's): each task then gets a `hostvars` snapshot (`hostvars.rs`).
    pub hostvars_in_vars: bool,
    /// The inventory, for `delegate_to` another host (its connection variables).
    pub inventory: &'a inventory::Inventory,
    /// The hosts of the current `serial` batch (what `max_fail_percentage` counts against).
    pub batch: Vec<usize>,
    /// Roles loaded by `include_role` so far: their handlers (`handlers_from`) join the play's
    /// from then on, as in Ansible.
    /// Keyed by the role's directory and its `handlers_from`.
    pub included_roles: std::sync::Mutex<Vec<(String, std::sync::Arc<Role>)>>,
}

/// What a task inherits from the blocks, roles and includes around it.
#[derive(Clone, Default)]
pub struct Scope<'a> {
    /// Keywords of enclosing blocks/roles/includes (child values win when a task sets them).
    pub keywords: Keywords,
    /// Enclosing roles, outermost first.
    pub roles: Vec<&'a Role>,
    /// The roles whose tasks imported or included the enclosing roles, innermost first
    /// (`ansible_parent_role_names`); dependencies are not among them.
    pub parent_roles: Vec<&'a Role>,
    /// Inside a block that has a `rescue` section.
    pub rescuable: bool,
    /// Running handlers (banner says `RUNNING HANDLER`).
    pub handler: bool,
    /// Gathering facts at the start of a play (never skipped by `--start-at-task` in a play
    /// that holds the start).
    pub gathering: bool,
    /// Extra variables of an `include_tasks`/`include_role` (task-vars precedence).
    pub include_vars: Map<String, Value>,
    /// The play's magic variables as this task sees them, when they differ from
    /// `PlayVars::magic`: with `hostvars` when the task refers to it (every host's variables as
    /// they stood when the task started), with `groups` as `group_by`/`add_host` changed them.
    /// One copy for every host of the task, which its variables share.
    pub magic: Option<fleet_templates::SharedVars>,
    /// `notify:` of the innermost enclosing block that has one, for tasks without their own.
    pub notify: Vec<String>,
}

impl<'a> Scope<'a> {
    /// This scope with the magic variables `magic` (see [`Scope::magic`]).
    pub fn with_magic(&self, magic: fleet_templates::SharedVars) -> Scope<'a> {
        let mut s = self.clone();
        s.magic = Some(magic);
        s
    }

    /// The scope a role imported or included by a task of this scope runs in: the enclosing
    /// role, if any, becomes its innermost parent.
    pub fn importing_role(&self) -> Scope<'a> {
        let mut s = self.clone();
        if let Some(parent) = self.roles.last() {
            s.parent_roles.insert(0, parent);
        }
        s
    }

    /// The scope inside an item with `keywords`.
    pub fn enter(&self, keywords: &Keywords) -> Scope<'a> {
        let mut inner = self.clone();
        let mut kw = keywords.clone();
        kw.inherit(&self.keywords);
        inner.keywords = kw;
        inner
    }

    /// The scope inside `block`: its keywords, and its `notify` for tasks without one.
    pub fn enter_block(&self, block: &fleet_playbook::Block) -> Scope<'a> {
        let mut inner = self.enter(&block.keywords);
        if !block.notify.is_empty() {
            inner.notify = block.notify.clone();
        }
        inner
    }

    /// Role variable layers, outermost first.
    pub fn role_vars(&self) -> Vec<RoleVars<'a>> {
        self.roles
            .iter()
            .map(|r| RoleVars {
                name: &r.name,
                dir: &r.dir,
                defaults: &r.defaults,
                vars: &r.vars,
                params: &r.params,
            })
            .collect()
    }

    /// Local directories searched for `src` files: the innermost role's, then the playbook's.
    pub fn search_dirs(&self, play_dir: &std::path::Path) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = self.roles.iter().rev().map(|r| r.dir.clone()).collect();
        dirs.push(play_dir.to_path_buf());
        dirs
    }

    /// The role name prefix Ansible shows before task names (`app : task`).
    pub fn role_prefix(&self) -> Option<&str> {
        self.roles.last().map(|r| r.name.as_str())
    }
}
