//! The typed playbook the executor runs: plays, roles, blocks and tasks.
//!
//! Values that Ansible templates stay raw here (strings with `{{ }}`, raw JSON for `vars`,
//! `loop`, `environment`); the executor templates them per host. Fields that take a fixed type but
//! may also be templated use [`Templatable`]. Static imports (`import_playbook`, `import_tasks`,
//! `import_role`) are already inlined; dynamic includes stay tasks for the executor.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};

pub use super::keyword_values::Keywords;

/// Where something was written: file, 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// The file, as reached from the playbook path the user gave.
    pub file: Arc<Path>,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.col)
    }
}

/// A keyword value that is either known now or a template evaluated per host at run time
/// (`become: "{{ use_sudo }}"`).
#[derive(Debug, Clone, PartialEq)]
pub enum Templatable<T> {
    /// The value as written (booleans also from `"yes"`/`"no"`/`"true"`/`"false"` strings).
    Literal(T),
    /// A string holding `{{ }}` or `{% %}`, to evaluate later.
    Template(String),
}

/// A boolean keyword (`become`, `ignore_errors`, `gather_facts`...).
pub type Flag = Templatable<bool>;

/// A parsed playbook: its plays in order, imported playbooks inlined.
#[derive(Debug, Clone)]
pub struct Playbook {
    /// The playbook file as given.
    pub path: PathBuf,
    /// Every play, including those of `import_playbook` entries, in run order.
    pub plays: Vec<Play>,
}

/// A play's `order:`: the inventory's order (Ansible's default), reversed, sorted by name,
/// reverse-sorted, or shuffled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HostOrder {
    #[default]
    Inventory,
    ReverseInventory,
    Sorted,
    ReverseSorted,
    Shuffle,
}

impl HostOrder {
    /// One of Ansible's five words, or `None`.
    pub fn from_word(word: &str) -> Option<HostOrder> {
        Some(match word {
            "inventory" => HostOrder::Inventory,
            "reverse_inventory" => HostOrder::ReverseInventory,
            "sorted" => HostOrder::Sorted,
            "reverse_sorted" => HostOrder::ReverseSorted,
            "shuffle" => HostOrder::Shuffle,
            _ => return None,
        })
    }

    /// Ansible's message for a word that is none of the five.
    pub fn invalid(word: &str) -> String {
        format!(
            "'{word}' is not a valid value for 'order': must be one of inventory, \
             reverse_inventory, sorted, reverse_sorted, shuffle"
        )
    }
}

/// One `vars_prompt:` entry: the variable `name`, asked with `prompt` (the name when unset),
/// `default` when the answer is empty, without echo when `private` (Ansible's default), twice
/// when `confirm`. `encrypt` (a passlib hash scheme) is kept so the asking side can refuse it.
#[derive(Debug, Clone, PartialEq)]
pub struct VarsPrompt {
    pub name: String,
    pub prompt: Option<String>,
    pub default: Option<String>,
    pub private: bool,
    pub confirm: bool,
    pub encrypt: Option<String>,
}

/// One play: a host pattern and what to run there.
#[derive(Debug, Clone)]
pub struct Play {
    /// `name:`; Ansible shows the host pattern when it is missing (see [`Play::display_name`]).
    pub name: Option<String>,
    /// Host pattern (a list is joined with `,`); may be templated.
    pub hosts: String,
    /// `gather_facts:` (default true).
    pub gather_facts: Flag,
    /// `order:` the order the play takes its hosts in (a template is evaluated with the
    /// extra variables when the play starts).
    pub order: Templatable<HostOrder>,
    /// `vars_prompt:`: variables asked of the operator before the play runs (see
    /// [`VarsPrompt`]).
    pub vars_prompt: Vec<VarsPrompt>,
    /// `gather_subset:`, `gather_timeout:`, `fact_path:`: the arguments of the play's fact
    /// gathering (its `setup` task), as written.
    pub fact_args: serde_json::Map<String, serde_json::Value>,
    /// `vars_files:` in order; each may be templated.
    pub vars_files: Vec<VarsFile>,
    /// `serial:` batch sizes; empty means all hosts at once. The last size repeats.
    pub serial: Vec<BatchSize>,
    /// `strategy:` (default linear).
    pub strategy: Strategy,
    /// A templated `strategy:` (`"{{ test_strategy | default('linear') }}"`), resolved with
    /// the play's and extra variables when the play starts; `strategy` is unused then.
    pub strategy_template: Option<String>,
    /// `max_fail_percentage:` (0-100).
    pub max_fail_percentage: Option<Templatable<f64>>,
    /// `force_handlers:`: run notified handlers even after a failure.
    pub force_handlers: Option<Flag>,
    /// `roles:`, resolved and loaded, in order (their dependencies inside each).
    pub roles: Vec<Role>,
    /// `pre_tasks:` (run before roles).
    pub pre_tasks: Vec<TaskItem>,
    /// `tasks:` (run after roles).
    pub tasks: Vec<TaskItem>,
    /// `post_tasks:`.
    pub post_tasks: Vec<TaskItem>,
    /// `handlers:` of the play itself (roles carry their own).
    pub handlers: Vec<TaskItem>,
    /// Play-level keywords: `vars` (raw, untemplated), `environment`, `tags`, `become`,
    /// `become_user`, `become_method`, `remote_user`, `check_mode`, `diff`, `ignore_errors`,
    /// `ignore_unreachable`, `any_errors_fatal`, `no_log`, `run_once`, `connection`. `when` and
    /// `delegate_to` are not play keywords and stay empty.
    pub keywords: Keywords,
    /// Directory of the playbook file that defined the play (relative paths, `files/`,
    /// `templates/`, `vars_files` and `include_tasks` resolve from here).
    pub base_dir: PathBuf,
    /// Where the play starts.
    pub position: Position,
}

impl Play {
    /// The name ansible-playbook prints in `PLAY [...]`: the name, else the host pattern.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.hosts)
    }
}

/// How a play spreads tasks over its hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Every host finishes a task before any starts the next (Ansible's default).
    #[default]
    Linear,
    /// Each host runs through its tasks as fast as it can.
    Free,
}

/// One `serial:` batch size.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchSize {
    /// A number of hosts (0 means all).
    Count(u64),
    /// A percentage of the play's hosts (`"30%"`), rounded down, at least one host.
    Percent(f64),
    /// A template evaluated at run time.
    Template(String),
}

/// One `vars_files:` entry.
#[derive(Debug, Clone, PartialEq)]
pub enum VarsFile {
    /// A file that must exist.
    Path(String),
    /// A nested list: the first file that exists is loaded.
    FirstFound(Vec<String>),
}

/// A role, loaded from its directory with the parameters it was called with.
#[derive(Debug, Clone)]
pub struct Role {
    /// The name as referenced (`app`, or a path).
    pub name: String,
    /// The role's directory (for `files/` and `templates/` lookups).
    pub dir: PathBuf,
    /// `defaults/main.yml` (or `defaults_from`), raw.
    pub defaults: Map<String, Value>,
    /// `vars/main.yml` (or `vars_from`), raw.
    pub vars: Map<String, Value>,
    /// Role parameters: the non-keyword keys of a `roles:` entry (`app_port: 8081`).
    pub params: Map<String, Value>,
    /// `tasks/main.yml` (or `tasks_from`).
    pub tasks: Vec<TaskItem>,
    /// `handlers/main.yml` (or `handlers_from`); they join the play's handlers.
    pub handlers: Vec<TaskItem>,
    /// `meta/main.yml` `dependencies:`, loaded; they run before this role, in order.
    pub dependencies: Vec<Role>,
    /// `meta/main.yml` `allow_duplicates:` (a role with the same params runs once per play
    /// unless set).
    pub allow_duplicates: bool,
    /// Keywords of the `roles:` entry or `import_role` task (`when`, `tags`, `vars`, `become`...);
    /// every task of the role inherits them.
    pub keywords: Keywords,
    /// Where the role was referenced.
    pub position: Position,
    /// The `*_from` files it was loaded with (`tasks=a.yml handlers=`...): part of what makes
    /// two references the same role, as Ansible's role hash (a second `import_role` with
    /// another `tasks_from` runs; the same handlers file joins the handlers once).
    pub from_files: FromFiles,
}

/// A role's `tasks_from`, `handlers_from`, `vars_from`, `defaults_from`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FromFiles {
    pub tasks: Option<String>,
    pub handlers: Option<String>,
    pub vars: Option<String>,
    pub defaults: Option<String>,
}

/// One entry of a task list.
#[derive(Debug, Clone)]
pub enum TaskItem {
    /// A task (including dynamic `include_tasks`/`include_role`, which the executor expands).
    Task(Box<Task>),
    /// A `block:` with optional `rescue:` and `always:`.
    Block(Box<Block>),
    /// A static `import_role:`, loaded at parse time; the role's keywords hold the import's
    /// `when`/`tags`/`vars`.
    Role(Box<Role>),
}

impl TaskItem {
    /// The keywords of whichever item this is.
    pub fn keywords(&self) -> &Keywords {
        match self {
            TaskItem::Task(task) => &task.keywords,
            TaskItem::Block(block) => &block.keywords,
            TaskItem::Role(role) => &role.keywords,
        }
    }

    /// The keywords of whichever item this is, to change.
    pub fn keywords_mut(&mut self) -> &mut Keywords {
        match self {
            TaskItem::Task(task) => &mut task.keywords,
            TaskItem::Block(block) => &mut block.keywords,
            TaskItem::Role(role) => &mut role.keywords,
        }
    }

    /// Where the item starts.
    pub fn position(&self) -> &Position {
        match self {
            TaskItem::Task(task) => &task.position,
            TaskItem::Block(block) => &block.position,
            TaskItem::Role(role) => &role.position,
        }
    }
}

/// `block:` / `rescue:` / `always:` with the keywords its tasks inherit.
#[derive(Debug, Clone)]
pub struct Block {
    /// `name:` (never printed by ansible-playbook).
    pub name: Option<String>,
    /// The tasks tried in order.
    pub block: Vec<TaskItem>,
    /// Run when a task of `block` fails (the host's failure is then rescued).
    pub rescue: Vec<TaskItem>,
    /// Run in every case.
    pub always: Vec<TaskItem>,
    /// `notify:` of the block, inherited by its tasks.
    pub notify: Vec<String>,
    /// Keywords inherited by every task inside.
    pub keywords: Keywords,
    /// Where the block starts.
    pub position: Position,
}

/// One task: an action with its arguments and keywords.
#[derive(Debug, Clone)]
pub struct Task {
    /// `name:` (may be templated); see [`Task::display_name`].
    pub name: Option<String>,
    /// Module or executor action, short name (`ansible.builtin.copy` is `copy`).
    pub action: String,
    /// The action's key as written when it is not the short name (`ansible.builtin.copy`):
    /// what Ansible shows as the name of an unnamed task.
    pub written_action: Option<String>,
    /// Arguments, raw. A free-form string is split into `k=v` pairs; what is left is
    /// `_raw_params` (only allowed for `command`, `shell`, `raw`, `script`, includes, `meta`,
    /// `set_fact`...). The file of `include_tasks`/`import_tasks` is always `_raw_params`.
    /// A whole-args template (`copy: "{{ args }}"`) is `_variable_params`.
    pub args: Map<String, Value>,
    /// Keywords (`when`, `tags`, `vars`, `become`, `delegate_to`...).
    pub keywords: Keywords,
    /// `loop:` or `with_<lookup>:`.
    pub loop_: Option<Loop>,
    /// `loop_control:`.
    pub loop_control: Option<LoopControl>,
    /// `register:`.
    pub register: Option<String>,
    /// `notify:` handler names or listen topics.
    pub notify: Vec<String>,
    /// `listen:` topics (handlers only).
    pub listen: Vec<String>,
    /// `changed_when:` conditions (any true: changed).
    pub changed_when: Vec<String>,
    /// `failed_when:` conditions (any true: failed).
    pub failed_when: Vec<String>,
    /// `until:` conditions, retried until all hold. Ansible retries 3 times, 5 s apart, unless
    /// `retries`/`delay` say otherwise.
    pub until: Vec<String>,
    /// `retries:`.
    pub retries: Option<Templatable<i64>>,
    /// `delay:` in seconds.
    pub delay: Option<Templatable<f64>>,
    /// Where the task starts.
    pub position: Position,
}

impl Task {
    /// A task at `position` with no name, action or keywords yet (the parser fills them in).
    pub fn empty(position: Position) -> Task {
        Task {
            name: None,
            action: String::new(),
            written_action: None,
            args: Map::new(),
            keywords: Keywords::default(),
            loop_: None,
            loop_control: None,
            register: None,
            notify: Vec::new(),
            listen: Vec::new(),
            changed_when: Vec::new(),
            failed_when: Vec::new(),
            until: Vec::new(),
            retries: None,
            delay: None,
            position,
        }
    }

    /// The name ansible-playbook prints in `TASK [...]`: the name, else the action.
    pub fn display_name(&self) -> &str {
        self.name
            .as_deref()
            .or(self.written_action.as_deref())
            .unwrap_or(&self.action)
    }

    /// The file of an `include_tasks`/`import_tasks` task (possibly templated).
    pub fn include_file(&self) -> Option<&str> {
        match self.action.as_str() {
            "include_tasks" | "import_tasks" => self.args.get("_raw_params")?.as_str(),
            _ => None,
        }
    }
}

/// A task loop: where the items come from and the raw value that gives them.
#[derive(Debug, Clone, PartialEq)]
pub struct Loop {
    /// `loop:` or which `with_` lookup.
    pub kind: LoopKind,
    /// The raw value (a list, or a template string yielding one; a mapping for `with_dict`;
    /// a `k=v` string for `with_sequence`).
    pub items: Value,
    /// For [`LoopKind::Lookup`], the lookup's name (`nested` for `with_nested:`).
    pub lookup: Option<String>,
}

/// Which loop keyword a task used; each turns its value into items differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoopKind {
    /// `loop:`: the list as is.
    Loop,
    /// `with_items:`: the list flattened one level.
    Items,
    /// `with_list:`: the list as is.
    List,
    /// `with_dict:`: `{key, value}` items of a mapping.
    Dict,
    /// `with_indexed_items:`: `[index, item]` pairs.
    IndexedItems,
    /// `with_sequence:`: `start=1 end=5 stride=1 format=...` numbers.
    Sequence,
    /// `with_fileglob:`: local files matching the patterns.
    Fileglob,
    /// `with_together:`: the lists zipped, `[a0, b0]`, `[a1, b1]`, ...
    Together,
    /// Any other `with_<lookup>:` (`with_nested`, `with_subelements`, `with_first_found`, a
    /// collection's or the playbook's lookup): the items are what the lookup returns for the
    /// terms, as Ansible runs it; an unknown lookup fails the task when it runs.
    Lookup,
}

impl LoopKind {
    /// The `with_<name>` lookups fleet supports, by name.
    pub const WITH_LOOKUPS: &'static [(&'static str, LoopKind)] = &[
        ("items", LoopKind::Items),
        ("list", LoopKind::List),
        ("dict", LoopKind::Dict),
        ("indexed_items", LoopKind::IndexedItems),
        ("sequence", LoopKind::Sequence),
        ("fileglob", LoopKind::Fileglob),
        ("together", LoopKind::Together),
    ];
}

/// `loop_control:`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoopControl {
    /// `loop_var:` (default `item`).
    pub loop_var: Option<String>,
    /// `index_var:`: variable holding the 0-based index.
    pub index_var: Option<String>,
    /// `label:` shown instead of the item (a template).
    pub label: Option<String>,
    /// `pause:` seconds between items.
    pub pause: Option<Templatable<f64>>,
    /// `extended:`: provide `ansible_loop`.
    pub extended: Option<Flag>,
    /// `extended_allitems:` (default true): `ansible_loop.allitems` with `extended`.
    pub extended_allitems: Option<Flag>,
    /// `break_when:` conditions that end the loop after an item.
    pub break_when: Vec<String>,
}
