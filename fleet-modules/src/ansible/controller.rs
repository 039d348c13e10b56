//! The controller side of the fallback: finds a Python that can `import ansible`, keeps one
//! helper process (the embedded `helper.py`) alive for the whole run, and asks it for module
//! payloads built by Ansible's own packager.
//!
//! Why one persistent helper: starting Python and importing Ansible costs about half a second;
//! paid once per run it is noise, paid per task it would dwarf the task. Payloads are cached by
//! request, so a task with the same arguments on a thousand hosts is packaged once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;

use base64::Engine;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout};
use tokio::sync::Mutex;

/// The helper script, run with the controller's Python.
const HELPER: &str = include_str!("helper.py");

/// Environment variable naming the Python to use (a venv's `bin/python`, for example).
pub use fleet_templates::controller_python::PYTHON_ENV;

/// Why a module could not be packaged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FallbackError {
    /// No Python on the controller can import ansible-core.
    #[error("ansible-core is not importable on the controller ({0})")]
    Unavailable(String),
    /// The helper process died or spoke nonsense.
    #[error("fleet's Ansible helper failed: {0}")]
    Helper(String),
    /// Ansible refused to package the module (not found, bad module file); Ansible's message.
    #[error("{0}")]
    Build(String),
    /// The module comes with a controller-side action plugin (named), which must run instead
    /// of the module alone ([`super::actions`]).
    #[error("module runs through Ansible's action plugin {0}")]
    ActionPlugin(String),
}

/// A payload ready to run on a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    /// The module data (for Python modules: the AnsiballZ wrapper, arguments inside).
    pub payload: Vec<u8>,
    /// Ansible's module style: `new` (AnsiballZ), `old`, `non_native_want_json`, `binary`.
    pub style: String,
    /// The fully-qualified name Ansible resolved.
    pub fqcn: String,
    /// The arguments file, for modules that read one (every style but `new`).
    pub args_file: Option<String>,
}

/// What the helper needs to build one payload.
#[derive(Debug, Clone)]
pub struct BuildRequest<'a> {
    /// The module's name as the task gives it (or its FQCN).
    pub name: &'a str,
    /// A `library/` module file, when the lookup found one.
    pub path: Option<&'a Path>,
    /// Module arguments, `_ansible_*` internals included.
    pub args: &'a serde_json::Map<String, Value>,
    /// The target's Python (only the shebang Ansible writes depends on it).
    pub interpreter: &'a str,
    /// `module_utils/` directories beside the playbook and in the roles, for custom modules'
    /// own utilities (`ansible.module_utils.NAME`), as Ansible adds them.
    pub module_utils: &'a [PathBuf],
    /// The task's `collections:` (Ansible's collection search list for a short name).
    pub collections: &'a [String],
}

/// A running helper process and its pipes.
pub(super) struct Helper {
    _child: Child,
    pub(super) stdin: ChildStdin,
    pub(super) stdout: BufReader<ChildStdout>,
}

enum State {
    Unstarted,
    Ready(Box<Helper>),
    /// Ansible cannot be used for the rest of the run (not importable, or the helper died).
    Broken(FallbackError),
}

/// The run's handle on Ansible: started on first use, shared by every host.
pub struct Controller {
    python: Option<PathBuf>,
    state: Mutex<State>,
    cache: std::sync::Mutex<HashMap<String, Arc<Built>>>,
    /// Action plugins' host processes ([`super::actions`]).
    pub actions: super::actions::ActionHost,
}

impl Default for Controller {
    fn default() -> Self {
        Controller::new(std::env::var_os(PYTHON_ENV).map(PathBuf::from))
    }
}

impl Controller {
    /// A controller using `python`, or, without one, the interpreter of the `ansible-playbook`
    /// on `PATH`, else `python3`.
    pub fn new(python: Option<PathBuf>) -> Self {
        Controller {
            actions: super::actions::ActionHost::new(python.clone()),
            python,
            state: Mutex::new(State::Unstarted),
            cache: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// Builds (or takes from the cache) the payload for `req`.
    pub async fn build(&self, req: &BuildRequest<'_>) -> Result<Arc<Built>, FallbackError> {
        let line = json!({
            "name": req.name,
            "path": req.path,
            "args": req.args,
            "interpreter": req.interpreter,
            "module_utils": req.module_utils,
            "collections": req.collections,
        })
        .to_string();
        if let Some(hit) = self.cached(&line) {
            return Ok(hit);
        }
        let mut state = self.state.lock().await;
        // another host may have built it while this one waited
        if let Some(hit) = self.cached(&line) {
            return Ok(hit);
        }
        if matches!(*state, State::Unstarted) {
            *state = match start(self.python.clone(), HELPER).await {
                Ok(helper) => State::Ready(Box::new(helper)),
                Err(why) => State::Broken(FallbackError::Unavailable(why)),
            };
        }
        let helper = match &mut *state {
            State::Ready(helper) => helper,
            State::Broken(e) => return Err(e.clone()),
            State::Unstarted => unreachable!("started above"),
        };
        let answer = match ask(helper, &line).await {
            Ok(answer) => answer,
            Err(e) => {
                *state = State::Broken(e.clone());
                return Err(e);
            }
        };
        let built = Arc::new(parse_answer(&answer)?);
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.insert(line, built.clone());
        Ok(built)
    }

    fn cached(&self, line: &str) -> Option<Arc<Built>> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.get(line).cloned()
    }
}

/// Starts a helper running `script` and waits for its `ready` line.
pub(super) async fn start(configured: Option<PathBuf>, script: &str) -> Result<Helper, String> {
    let python = fleet_templates::controller_python::pick(configured);
    let mut child = tokio::process::Command::new(&python)
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    let stdin = child.stdin.take().expect("piped");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
    let stderr = child.stderr.take().expect("piped");
    // Ansible's warnings go to stderr; drain it so the helper never blocks on a full pipe, and
    // keep the end of it for the message if the helper dies.
    let tail = Arc::new(std::sync::Mutex::new(String::new()));
    let keep = tail.clone();
    tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let mut t = keep.lock().unwrap_or_else(|p| p.into_inner());
            t.push_str(&line);
            t.push('\n');
            if t.len() > 4000 {
                let cut = t.len() - 2000;
                let cut = (cut..t.len()).find(|i| t.is_char_boundary(*i)).unwrap_or(0);
                t.drain(..cut);
            }
        }
    });
    let mut ready = String::new();
    let read = stdout.read_line(&mut ready).await;
    if !fleet_templates::controller_python::is_ready(&read, &ready) {
        let _ = child.wait().await;
        let why = tail.lock().unwrap_or_else(|p| p.into_inner()).clone();
        return Err(fleet_templates::controller_python::cannot_import(
            &python, &why,
        ));
    }
    Ok(Helper {
        _child: child,
        stdin,
        stdout,
    })
}

/// Writes one line (a JSON message) to the helper.
pub(super) async fn write_line(helper: &mut Helper, line: &str) -> std::io::Result<()> {
    helper.stdin.write_all(line.as_bytes()).await?;
    helper.stdin.write_all(b"\n").await?;
    helper.stdin.flush().await
}

/// One request/answer exchange with the helper.
async fn ask(helper: &mut Helper, line: &str) -> Result<Value, FallbackError> {
    let gone = |e: std::io::Error| FallbackError::Helper(e.to_string());
    write_line(helper, line).await.map_err(gone)?;
    let mut answer = String::new();
    if helper.stdout.read_line(&mut answer).await.map_err(gone)? == 0 {
        return Err(FallbackError::Helper("the helper exited".into()));
    }
    serde_json::from_str(&answer).map_err(|e| FallbackError::Helper(e.to_string()))
}

fn parse_answer(answer: &Value) -> Result<Built, FallbackError> {
    if let Some(handler) = answer["action_plugin"].as_str() {
        return Err(FallbackError::ActionPlugin(handler.to_string()));
    }
    if answer["ok"] != true {
        let msg = answer["msg"]
            .as_str()
            .unwrap_or("unknown error")
            .to_string();
        return Err(FallbackError::Build(msg));
    }
    let payload = base64::engine::general_purpose::STANDARD
        .decode(answer["payload"].as_str().unwrap_or_default())
        .map_err(|e| FallbackError::Helper(format!("bad payload: {e}")))?;
    Ok(Built {
        payload,
        style: answer["style"].as_str().unwrap_or_default().to_string(),
        fqcn: answer["fqcn"].as_str().unwrap_or_default().to_string(),
        args_file: answer["args"].as_str().map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_python_without_ansible_is_reported_unavailable() {
        let controller = Controller::new(Some(PathBuf::from("/nonexistent/python3")));
        let args = serde_json::Map::new();
        let req = BuildRequest {
            name: "getent",
            path: None,
            args: &args,
            interpreter: "/usr/bin/python3",
            module_utils: &[],
            collections: &[],
        };
        let err = controller.build(&req).await.unwrap_err();
        assert!(
            matches!(&err, FallbackError::Unavailable(m) if m.contains("/nonexistent/python3")),
            "{err}"
        );
    }
}
