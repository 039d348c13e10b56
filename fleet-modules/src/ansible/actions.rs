//! Action plugins through Ansible's own code: a role's or playbook's `action_plugins/`, and the
//! action plugin a collection module (or an `ansible.builtin` one fleet leaves to Ansible)
//! comes with.
//!
//! Why: an action plugin is Python that runs on the controller and decides what, if anything,
//! runs on the target (often the module of the same name, sometimes several commands and file
//! transfers). fleet cannot rewrite the user's Python, so it runs it in Ansible's own classes
//! (the embedded `action_host.py`), with a connection whose every command comes back here and
//! runs over the host's existing connection, with the task's `become` and `environment` as
//! every fleet module runs: fleet stays the only one talking to hosts, and nothing is recorded
//! or reached outside it.
//!
//! A helper serves one task at a time (it waits on fleet while the plugin's command runs), so
//! the host keeps a pool: idle helpers are reused, at most [`MAX_HELPERS`] run at once, and a
//! helper that dies takes only its own task down.

use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::{json, Map, Value};
use tokio::io::AsyncBufReadExt;
use tokio::sync::{Mutex, Semaphore};

use super::controller::{start, write_line, FallbackError, Helper};
use crate::remote::RemoteError;
use crate::{Args, ModuleCtx, ModuleResult};

/// The host script, run with the controller's Python.
const ACTION_HOST: &str = include_str!("action_host.py");

/// Helpers running action plugins at once: each holds a Python with Ansible imported (~60 MiB),
/// and a plugin mostly waits on its host.
pub const MAX_HELPERS: usize = 8;

/// Everything one action-plugin task needs besides the module context.
pub struct ActionCall<'a> {
    /// The action as Ansible resolves it (the task's name, or the module's FQCN).
    pub action: &'a str,
    /// The task's arguments as fleet rendered them.
    pub args: &'a Args,
    /// The task's arguments as the playbook wrote them: strings left unchanged by rendering are
    /// the playbook's own text, which Ansible trusts as templates (`debug: var=`).
    pub raw_args: &'a Args,
    /// The host's variables for the task, rendered (`task_vars`).
    pub task_vars: Map<String, Value>,
    /// `action_plugins/`, `library/` and `module_utils/` directories to add to Ansible's loaders.
    pub action_dirs: &'a [PathBuf],
    pub library_dirs: &'a [PathBuf],
    pub module_utils: &'a [PathBuf],
    /// The task's `collections:`.
    pub collections: &'a [String],
    /// The playbook's directory (the loader's base directory).
    pub basedir: &'a Path,
    /// `ansible_python_interpreter`, when the host sets one.
    pub interpreter: Option<&'a str>,
    /// `-v` count, `no_log`.
    pub verbosity: u8,
    pub no_log: bool,
}

/// Action plugins' helpers for the run: started on demand, pooled.
pub struct ActionHost {
    python: Option<PathBuf>,
    idle: std::sync::Mutex<Vec<Helper>>,
    running: Semaphore,
    /// Set when no helper can start (no ansible-core on the controller): every later task gets
    /// the same answer without trying again.
    broken: Mutex<Option<FallbackError>>,
}

impl ActionHost {
    pub fn new(python: Option<PathBuf>) -> Self {
        ActionHost {
            python,
            idle: std::sync::Mutex::new(Vec::new()),
            running: Semaphore::new(MAX_HELPERS),
            broken: Mutex::new(None),
        }
    }

    /// Runs the action plugin of `call` for the host of `ctx`. `Err` only when the host could
    /// not be reached while the plugin ran a command on it.
    pub async fn run(
        &self,
        call: &ActionCall<'_>,
        ctx: &mut ModuleCtx<'_>,
    ) -> Result<ModuleResult, RemoteError> {
        let _slot = self.running.acquire().await.expect("never closed");
        let mut helper = match self.take().await {
            Ok(helper) => helper,
            Err(e) => return Ok(unavailable(call.action, &e)),
        };
        let request = request(call, ctx);
        match converse(&mut helper, &request, ctx).await {
            Ok(Conversation::Done(answer)) => {
                self.give_back(helper);
                Ok(result_of(&answer, ctx.diff))
            }
            Ok(Conversation::Unreachable(e)) => {
                self.give_back(helper);
                Err(e)
            }
            // the helper is dropped (and killed): the next task starts another
            Err(why) => Ok(ModuleResult::fail(format!(
                "fleet's Ansible action host failed running {}: {why}",
                call.action
            ))),
        }
    }

    async fn take(&self) -> Result<Helper, FallbackError> {
        if let Some(helper) = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(helper);
        }
        let mut broken = self.broken.lock().await;
        if let Some(e) = &*broken {
            return Err(e.clone());
        }
        match start(self.python.clone(), ACTION_HOST).await {
            Ok(helper) => Ok(helper),
            Err(why) => {
                let e = FallbackError::Unavailable(why);
                *broken = Some(e.clone());
                Err(e)
            }
        }
    }

    fn give_back(&self, helper: Helper) {
        self.idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(helper);
    }
}

/// The failure of a task whose action plugin cannot run: ansible-core is not importable.
fn unavailable(action: &str, e: &FallbackError) -> ModuleResult {
    ModuleResult::fail(format!(
        "action '{action}' is an Ansible action plugin, which needs ansible-core on the \
         controller"
    ))
    .with("fleet_fallback", e.to_string())
}

fn request(call: &ActionCall<'_>, ctx: &ModuleCtx<'_>) -> String {
    json!({
        "action": call.action,
        "args": call.args,
        "raw_args": call.raw_args,
        "task_vars": call.task_vars,
        "check_mode": ctx.check_mode,
        "diff": ctx.diff,
        "no_log": call.no_log,
        "verbosity": call.verbosity,
        "collections": call.collections,
        "action_dirs": call.action_dirs,
        "library_dirs": call.library_dirs,
        "module_utils": call.module_utils,
        "basedir": std::path::absolute(call.basedir).unwrap_or_else(|_| call.basedir.into()),
        "interpreter": call.interpreter,
    })
    .to_string()
}

/// How one plugin run ended.
enum Conversation {
    /// The plugin's answer (`result` or `error`).
    Done(Value),
    /// A command the plugin ran could not reach the host.
    Unreachable(RemoteError),
}

/// Sends the request, then runs each command the plugin asks for until it answers. `Err` when
/// the helper died or spoke nonsense.
async fn converse(
    helper: &mut Helper,
    request: &str,
    ctx: &mut ModuleCtx<'_>,
) -> Result<Conversation, String> {
    send(helper, request).await?;
    let mut unreachable = None;
    loop {
        let mut line = String::new();
        match helper.stdout.read_line(&mut line).await {
            Ok(0) => return Err("the helper exited".into()),
            Ok(_) => {}
            Err(e) => return Err(e.to_string()),
        }
        let message: Value = serde_json::from_str(&line).map_err(|e| e.to_string())?;
        if message["done"] == true {
            return Ok(match unreachable {
                Some(e) => Conversation::Unreachable(e),
                None => Conversation::Done(message),
            });
        }
        let reply = match message["call"].as_str() {
            Some("exec") => match exec(&message, ctx).await {
                Ok(reply) => reply,
                Err(e) => {
                    let reply = json!({"error": e.to_string()});
                    unreachable = Some(e);
                    reply
                }
            },
            _ => json!({"error": format!("unknown request {}", message["call"])}),
        };
        send(helper, &reply.to_string()).await?;
    }
}

async fn send(helper: &mut Helper, line: &str) -> Result<(), String> {
    write_line(helper, line).await.map_err(|e| e.to_string())
}

/// Runs one command of the plugin on the host: with the task's `become` when Ansible would
/// (`sudoable`), always with its `environment`.
async fn exec(message: &Value, ctx: &mut ModuleCtx<'_>) -> Result<Value, RemoteError> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let cmd = message["cmd"].as_str().unwrap_or_default();
    let stdin = match message["stdin"].as_str() {
        Some(data) => b64.decode(data).unwrap_or_default(),
        None => Vec::new(),
    };
    let become_ = if message["sudoable"] == true {
        ctx.become_.clone()
    } else {
        ctx.become_.take()
    };
    let out = ctx.sh_with_input(cmd, &stdin).await;
    ctx.become_ = become_;
    let out = out?;
    Ok(json!({
        "rc": out.rc,
        "stdout": b64.encode(&out.stdout),
        "stderr": b64.encode(&out.stderr),
    }))
}

/// The plugin's result as a [`ModuleResult`]: its `failed`, `changed` and `msg`, everything
/// else as data. Unlike a module's output, a non-zero `rc` alone does not fail the task (the
/// plugin decided).
fn result_of(answer: &Value, want_diff: bool) -> ModuleResult {
    let mut data = match &answer["result"] {
        Value::Object(map) => map.clone(),
        _ => {
            let why = answer["error"].as_str().unwrap_or("no result");
            return ModuleResult::fail(format!("fleet's Ansible action host: {why}"));
        }
    };
    if data.remove("unreachable") == Some(Value::Bool(true)) {
        // only reached when the host failed between commands; the error is the message
        data.insert("failed".into(), true.into());
    }
    if !data.contains_key("failed") {
        data.insert("failed".into(), false.into());
    }
    super::target::result_from(data, want_diff)
}
