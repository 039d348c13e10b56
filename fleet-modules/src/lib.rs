//! fleet-modules: task modules. Each one turns its arguments into shell scripts run on the host
//! through a [`Remote`], parses what came back, and reports an Ansible-shaped result.
//!
//! Modules are idempotent (they look before they change), honour check mode (report what would
//! change, change nothing) and diff mode (before/after text). Arguments arrive already templated;
//! the free-form string of `command`/`shell`/`raw`/`script` arrives as `_raw_params`.
//!
//! Actions that never touch the host (`debug`, `set_fact`, `assert`, `fail`, `pause`, `meta`,
//! includes and imports) are not modules: the executor handles them (see [`EXECUTOR_ACTIONS`]).
//!
//! Owns: the module registry ([`all`], [`find`], [`is_action`], [`EXECUTOR_ACTIONS`]: every
//! action name a task may use), argument checking ([`BadArg`], [`ModuleError`]), the POSIX `sh`
//! each module sends, parsing what came back, the [`remote::Remote`] trait a host is reached
//! through, the one place that wraps a script for `become` ([`remote::sudo`]), and the fallback
//! for every other module through Ansible's own module code ([`ansible`]).
//!
//! Must not know: playbooks, plays, hosts' inventory, SSH, or how results are displayed.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use serde_json::{Map, Value};

pub use crate::action_args::check_action_args;
pub use crate::builtin::{
    is_builtin, is_collection_name, unavailable_message, ANSIBLE_BUILTIN_MODULES,
};
pub use crate::error::{BadArg, ModuleError};
use crate::remote::{CmdOutput, Exec, Remote, RemoteError};

pub mod action_args;
pub mod ansible;
pub mod ansible_only;
mod builtin;
mod error;
pub mod files;
mod path_args;
pub mod remote;
pub mod system;

/// Module arguments after templating (`key: value`; free-form text under `_raw_params`).
pub type Args = Map<String, Value>;

/// What a module accepts, checked at parse time (`fleet check`) before anything connects.
#[derive(Debug, Clone, Copy)]
pub struct ArgSpec {
    /// Whether a free-form string (`command: ls -l`) is accepted, stored as `_raw_params`.
    pub free_form: bool,
    /// Every accepted key, aliases included.
    pub params: &'static [&'static str],
    /// Keys of which at least one of each group must be present (`&[&["path", "dest", "name"]]`).
    pub required: &'static [&'static [&'static str]],
}

/// One before/after pair for `--diff` output.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Diff {
    /// Label of the old side (usually the path).
    pub before_header: String,
    /// Label of the new side.
    pub after_header: String,
    /// Old content (or state description).
    pub before: String,
    /// New content.
    pub after: String,
}

/// A module's outcome, shaped like Ansible's result dictionary.
#[derive(Debug, Clone, Default)]
pub struct ModuleResult {
    /// The module changed (or in check mode would change) the host.
    pub changed: bool,
    /// The module failed; `msg` says why.
    pub failed: bool,
    /// Human-readable message (`msg` in Ansible results).
    pub msg: Option<String>,
    /// Other result keys (`rc`, `stdout`, `stdout_lines`, `stat`, `path`, `ansible_facts`...).
    pub data: Map<String, Value>,
    /// Before/after pairs for `--diff`.
    pub diffs: Vec<Diff>,
    /// Set when this call is a case the native module leaves to Ansible's own module code
    /// (why, for the error when ansible-core is not on the controller): the executor then runs
    /// the task through [`ansible`] instead, and this result is not used.
    pub defer_to_ansible: Option<String>,
}

impl ModuleResult {
    /// An unchanged, successful result.
    pub fn ok() -> Self {
        Self::default()
    }

    /// A successful result that changed the host.
    pub fn changed() -> Self {
        ModuleResult {
            changed: true,
            ..Self::default()
        }
    }

    /// A failure with a message.
    pub fn fail(msg: impl Into<String>) -> Self {
        ModuleResult {
            failed: true,
            msg: Some(msg.into()),
            ..Self::default()
        }
    }

    /// This call is a case fleet's module leaves to Ansible's own module code: `why` names the
    /// case (e.g. a `remote_src` copy of a directory).
    pub fn defer_to_ansible(why: impl Into<String>) -> Self {
        ModuleResult {
            defer_to_ansible: Some(why.into()),
            ..Self::default()
        }
    }

    /// Adds a result key.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.data.insert(key.to_string(), value.into());
        self
    }

    /// Adds `message` to the result's `warnings` (Ansible's `module.warn`).
    pub fn with_warning(mut self, message: impl Into<String>) -> Self {
        let list = self
            .data
            .entry("warnings")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(items) = list {
            items.push(Value::String(message.into()));
        }
        self
    }

    /// The dictionary `register:` stores and `-v` prints.
    pub fn to_json(&self) -> Value {
        let mut map = self.data.clone();
        map.insert("changed".into(), Value::Bool(self.changed));
        if self.failed {
            map.insert("failed".into(), Value::Bool(true));
        }
        if let Some(msg) = &self.msg {
            map.insert("msg".into(), Value::String(msg.clone()));
        }
        // a module's own `diff` result (file's before/after dictionaries) is what register sees
        if !self.diffs.is_empty() && !map.contains_key("diff") {
            let diffs: Vec<Value> = self
                .diffs
                .iter()
                .map(|d| {
                    serde_json::json!({
                        "before_header": d.before_header, "after_header": d.after_header,
                        "before": d.before, "after": d.after,
                    })
                })
                .collect();
            map.insert("diff".into(), Value::Array(diffs));
        }
        Value::Object(map)
    }
}

/// Everything a module may use while it runs on one host.
pub struct ModuleCtx<'a> {
    /// The host (or localhost for `delegate_to: localhost`).
    pub remote: &'a mut dyn Remote,
    /// `--check`: report, change nothing.
    pub check_mode: bool,
    /// `--diff`: fill [`ModuleResult::diffs`].
    pub diff: bool,
    /// How to become another user, when `become: true`.
    pub become_: Option<crate::remote::Become>,
    /// The sudo password (`ansible_become_password`, `-K`); `None` when sudo must not ask.
    pub become_password: Option<String>,
    /// `environment:` of the task/play.
    pub env: Vec<(String, String)>,
    /// All variables of the host for this task (for `template`): its own over the play's
    /// shared ones.
    pub vars: &'a fleet_templates::Vars,
    /// The host's inventory name (for `fetch` destinations).
    pub inventory_hostname: String,
    /// Local directories searched for `src` of `copy`/`template`/`script`, most specific first
    /// (role directory, then the playbook's directory). `files/` or `templates/` is tried inside
    /// each, then the directory itself, as Ansible does.
    pub search_dirs: Vec<PathBuf>,
}

impl ModuleCtx<'_> {
    /// Runs a script on the host with the task's `become` and `environment`.
    pub async fn sh(&mut self, script: &str) -> Result<CmdOutput, RemoteError> {
        self.sh_with_input(script, &[]).await
    }

    /// Runs a script on the host, feeding `stdin`.
    pub async fn sh_with_input(
        &mut self,
        script: &str,
        stdin: &[u8],
    ) -> Result<CmdOutput, RemoteError> {
        let env = self.env.clone();
        if let (Some(how), Some(password)) = (&self.become_, &self.become_password) {
            let inner = crate::remote::wrap_script(&Exec {
                script,
                env: &env,
                ..Exec::default()
            });
            let (wrapped, input) = crate::remote::sudo_with_password(how, password, &inner, stdin);
            return self
                .remote
                .exec(Exec {
                    script: &wrapped,
                    stdin: &input,
                    ..Exec::default()
                })
                .await;
        }
        let become_ = self.become_.clone();
        self.remote
            .exec(Exec {
                script,
                stdin,
                become_: become_.as_ref(),
                env: &env,
            })
            .await
    }

    /// Finds a local source file: absolute paths as given, else `<dir>/<kind>/<name>` then
    /// `<dir>/<name>` for each search directory. `kind` is `files` or `templates`.
    pub fn find_local(&self, kind: &str, name: &str) -> Option<PathBuf> {
        let path = Path::new(name);
        if path.is_absolute() {
            return path.exists().then(|| path.to_path_buf());
        }
        for dir in &self.search_dirs {
            for candidate in [dir.join(kind).join(name), dir.join(name)] {
                if candidate.exists() {
                    return Some(candidate);
                }
            }
        }
        None
    }
}

/// A task module.
#[async_trait]
pub trait Module: Send + Sync {
    /// Short name (`copy`); `ansible.builtin.copy` resolves to it.
    fn name(&self) -> &'static str;
    /// Accepted arguments, checked before the run.
    fn spec(&self) -> ArgSpec;
    /// Runs the module on one host. `Err` only when the host could not be reached.
    async fn run(&self, args: &Args, ctx: &mut ModuleCtx<'_>) -> Result<ModuleResult, RemoteError>;
}

/// Runs a native module, unless the call sets an argument the module leaves to Ansible's own
/// code (see [`ansible_only`]): then the result defers to Ansible and nothing runs natively.
/// Its `~` and `$VAR` paths are expanded on the host first, as Ansible's are (`path_args`).
pub async fn run_native(
    module: &dyn Module,
    args: &Args,
    ctx: &mut ModuleCtx<'_>,
) -> Result<ModuleResult, RemoteError> {
    if let Some(deferred) = ansible_only::defer_if_unimplemented(module.name(), args) {
        return Ok(deferred);
    }
    match path_args::expand(module.name(), args, ctx).await? {
        Some(expanded) => module.run(&expanded, ctx).await,
        None => module.run(args, ctx).await,
    }
}

/// Task actions the executor handles itself; valid task keys but not [`Module`]s.
pub const EXECUTOR_ACTIONS: &[&str] = &[
    "debug",
    "set_fact",
    "assert",
    "fail",
    "pause",
    "meta",
    "include_tasks",
    "import_tasks",
    "include_role",
    "import_role",
    "include_vars",
    "async_status",
    "group_by",
];

/// Strips the collection prefix Ansible allows (`ansible.builtin.copy`, `ansible.legacy.copy`).
pub fn short_name(name: &str) -> &str {
    name.strip_prefix("ansible.builtin.")
        .or_else(|| name.strip_prefix("ansible.legacy."))
        .unwrap_or(name)
}

/// Looks a module up by short or fully-qualified name.
pub fn find(name: &str) -> Option<&'static dyn Module> {
    let name = short_name(name);
    all().iter().copied().find(|m| m.name() == name)
}

/// Whether `name` (short or fully-qualified) is an action a task may name: a module of the
/// registry or one of the [`EXECUTOR_ACTIONS`]. The one list of action names the parser uses.
pub fn is_action(name: &str) -> bool {
    find(name).is_some() || EXECUTOR_ACTIONS.contains(&short_name(name))
}

/// Every module fleet ships.
pub fn all() -> &'static [&'static dyn Module] {
    static ALL: std::sync::OnceLock<Vec<&'static dyn Module>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        let mut all = files::modules();
        all.extend(system::modules());
        all
    })
}

/// Checks `args` against `spec`: unknown keys and missing required ones are errors naming them,
/// in Ansible's words (`fleet check` reports them up front; `fleet run` when the task runs).
pub fn check_args(module: &str, spec: &ArgSpec, args: &Args) -> Result<(), BadArg> {
    for key in args.keys() {
        if key == "_raw_params" {
            if !spec.free_form {
                return Err(format!("{module} does not take a free-form argument").into());
            }
            continue;
        }
        if !spec.params.contains(&key.as_str()) {
            let mut accepted: Vec<&str> = spec.params.to_vec();
            accepted.sort_unstable();
            return Err(format!(
                "Unsupported parameters for ({module}) module: {key}. Supported parameters \
                 include: {}.",
                accepted.join(", ")
            )
            .into());
        }
    }
    for group in spec.required {
        if !group.iter().any(|k| args.contains_key(*k)) {
            // the first of a group is the canonical name, the others its aliases
            return Err(format!("missing required arguments: {}", group[0]).into());
        }
    }
    Ok(())
}
