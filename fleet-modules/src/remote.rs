//! How modules reach a host: one trait for "run this shell script there", implemented by the SSH
//! connection (`connection`), by the bastion route, and by [`LocalRemote`] for `delegate_to:
//! localhost` and for module tests.
//!
//! Modules only ever build POSIX shell scripts and read back exit status, stdout and stderr, so a
//! target needs nothing beyond `sh` and coreutils.

use std::time::Duration;

use async_trait::async_trait;

/// What one remote script produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CmdOutput {
    /// Exit status of the script (`sh` convention: 128+N for a signal).
    pub rc: i32,
    /// Raw standard output (may be binary, e.g. `slurp`/`fetch`).
    pub stdout: Vec<u8>,
    /// Raw standard error.
    pub stderr: Vec<u8>,
}

impl CmdOutput {
    /// Standard output as text (lossy UTF-8), the way Ansible shows it.
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Standard error as text (lossy UTF-8).
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// Why a script could not be run at all (as opposed to running and failing).
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The host cannot be reached or the connection broke: Ansible's UNREACHABLE.
    #[error("{0}")]
    Unreachable(String),
    /// The script ran longer than the command timeout.
    #[error("command timed out after {0:?}")]
    Timeout(Duration),
    /// The operator stopped the run (Ctrl-C); the script was ended on the host.
    #[error("interrupted by the user")]
    Interrupted,
    /// A bastion refused to run the script (a `deny_commands` rule): the task fails, the host
    /// stays reachable. The text names the rule.
    #[error("{0}")]
    Blocked(String),
}

/// Tells running commands that the operator stopped the run: `true` is sent once, on Ctrl-C.
pub type StopSignal = tokio::sync::watch::Receiver<bool>;

/// Resolves once `stop` says the run was stopped; never, without a signal.
pub async fn stopped(stop: Option<&StopSignal>) {
    if let Some(stop) = stop {
        let mut stop = stop.clone();
        if stop.wait_for(|s| *s).await.is_ok() {
            return;
        }
    }
    std::future::pending::<()>().await
}

/// One request: a script for `sh`, optional bytes for its standard input, and privilege escalation.
#[derive(Debug, Clone, Default)]
pub struct Exec<'a> {
    /// POSIX shell script, run by `sh -c` semantics (syntax errors give rc 2, not a broken session).
    pub script: &'a str,
    /// Bytes fed to the script's standard input; empty means `/dev/null`.
    pub stdin: &'a [u8],
    /// Run as another user through sudo (Ansible's `become: true`).
    pub become_: Option<&'a Become>,
    /// Extra environment variables (`environment:` on a task or play).
    pub env: &'a [(String, String)],
}

/// A host on which scripts can be run. One value per host for the whole run; calls are sequential.
#[async_trait]
pub trait Remote: Send {
    /// Runs one script and returns its exit status and output.
    async fn exec(&mut self, req: Exec<'_>) -> Result<CmdOutput, RemoteError>;

    /// Names the task the following requests belong to (one line: name, module, arguments) for
    /// routes that log it, such as the bastion's command log; others ignore it.
    fn set_task_label(&mut self, _label: Option<String>) {}

    /// The host's local clock minus the controller's UTC clock, in microseconds, once a task has
    /// read the host's clock on this connection (see [`Remote::set_clock_offset`]); `None` until
    /// then, and for routes that keep no connection. `command` and `shell` time their runs
    /// with it instead of starting two `date` processes on the host per task.
    fn clock_offset(&self) -> Option<i64> {
        None
    }

    /// Records the offset [`Remote::clock_offset`] returns from now on; ignored by routes that
    /// keep no connection.
    fn set_clock_offset(&mut self, _micros: i64) {}
}

/// Quotes a string for a POSIX shell: `'...'` with embedded quotes as `'\''`.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./-_".contains(&b))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// How a request becomes another user: the settings of Ansible's `sudo` become plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Become {
    /// `become_user` (Ansible's default: root).
    pub user: String,
    /// `become_exe`: the sudo program (default `sudo`).
    pub exe: String,
    /// `become_flags`: sudo's options, shell words as written (default `-H -S -n`).
    pub flags: String,
}

impl Become {
    /// Ansible's defaults, as `user`.
    pub fn sudo_as(user: &str) -> Become {
        Become {
            user: user.to_string(),
            exe: "sudo".into(),
            flags: "-H -S -n".into(),
        }
    }
}

/// Wraps a script so it runs as another user through `sudo` (non-interactive) with `env` set, or just
/// with `env` set; what every [`Remote`] implementation runs.
pub fn wrap_script(req: &Exec<'_>) -> String {
    let mut prefix = String::new();
    for (k, v) in req.env {
        prefix.push_str(&format!("export {}={}\n", k, shell_quote(v)));
    }
    let body = format!("{prefix}{}", req.script);
    match req.become_ {
        Some(how) => sudo(how, &body),
        None => body,
    }
}

/// The one `become` wrapper: `body` run by `/bin/sh` as `how.user` through `how.exe` with
/// `how.flags` (as Ansible's sudo plugin writes them: shell words, verbatim), always
/// non-interactive (`-n` added when the flags lack it: fails instead of prompting, so a
/// wrong or missing password can never hang a host).
pub fn sudo(how: &Become, body: &str) -> String {
    let interactive = !how.flags.split_whitespace().any(|w| w == "-n");
    format!(
        "{} {}{} -u {} -- /bin/sh -c {}",
        shell_quote(&how.exe),
        how.flags.trim(),
        if interactive { " -n" } else { "" },
        shell_quote(&how.user),
        shell_quote(body)
    )
}

/// [`sudo`] when sudo needs a password: the script and the standard input to send. The password
/// travels as the first line of stdin, never in the script text (which the bastion's command log
/// shows): `sudo -S` validates it once, then `body` runs under [`sudo`] with the rest of `stdin`.
pub fn sudo_with_password(
    how: &Become,
    password: &str,
    body: &str,
    stdin: &[u8],
) -> (String, Vec<u8>) {
    let script = format!(
        "IFS= read -r __fleet_pw\nprintf '%s\\n' \"$__fleet_pw\" | {} -S -p '' -v 2>/dev/null\n\
         unset __fleet_pw\n{}",
        shell_quote(&how.exe),
        sudo(how, body)
    );
    let mut input = Vec::with_capacity(password.len() + 1 + stdin.len());
    input.extend_from_slice(password.as_bytes());
    input.push(b'\n');
    input.extend_from_slice(stdin);
    (script, input)
}

/// Runs scripts on this machine with `/bin/sh`: `delegate_to: localhost`, `connection: local`,
/// and the module tests.
#[derive(Debug, Default)]
pub struct LocalRemote;

#[async_trait]
impl Remote for LocalRemote {
    async fn exec(&mut self, req: Exec<'_>) -> Result<CmdOutput, RemoteError> {
        local_exec(req, None).await
    }
}

/// The controller itself, running commands in a directory: `delegate_to: localhost` runs in
/// the playbook's directory, as Ansible's local connection does (relative paths of such tasks
/// resolve there).
pub struct LocalRemoteIn(pub std::path::PathBuf);

#[async_trait]
impl Remote for LocalRemoteIn {
    async fn exec(&mut self, req: Exec<'_>) -> Result<CmdOutput, RemoteError> {
        let dir = Some(self.0.as_path()).filter(|d| !d.as_os_str().is_empty());
        local_exec(req, dir).await
    }
}

async fn local_exec(
    req: Exec<'_>,
    dir: Option<&std::path::Path>,
) -> Result<CmdOutput, RemoteError> {
    {
        use std::process::Stdio;
        use tokio::io::AsyncWriteExt;
        let script = wrap_script(&req);
        let mut command = tokio::process::Command::new("/bin/sh");
        if let Some(dir) = dir {
            command.current_dir(dir);
        }
        let mut child = command
            .arg("-c")
            .arg(&script)
            .stdin(if req.stdin.is_empty() {
                Stdio::null()
            } else {
                Stdio::piped()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| RemoteError::Unreachable(format!("cannot run /bin/sh: {e}")))?;
        if let Some(mut stdin) = child.stdin.take() {
            let data = req.stdin.to_vec();
            tokio::spawn(async move {
                let _ = stdin.write_all(&data).await;
            });
        }
        let stdout = drain(child.stdout.take());
        let stderr = drain(child.stderr.take());
        let status = child
            .wait()
            .await
            .map_err(|e| RemoteError::Unreachable(format!("/bin/sh failed: {e}")))?;
        Ok(CmdOutput {
            rc: exit_code(status),
            stdout: collected(stdout).await,
            stderr: collected(stderr).await,
        })
    }
}

/// Reads `pipe` to its end in the background, into a shared buffer.
fn drain(
    pipe: Option<impl tokio::io::AsyncRead + Unpin + Send + 'static>,
) -> (
    std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    tokio::task::JoinHandle<()>,
) {
    use tokio::io::AsyncReadExt;
    let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = buf.clone();
    let task = tokio::spawn(async move {
        let Some(mut pipe) = pipe else { return };
        let mut chunk = [0u8; 8192];
        while let Ok(n) = pipe.read(&mut chunk).await {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend_from_slice(&chunk[..n]);
        }
    });
    (buf, task)
}

/// What a drained pipe held once the shell exited: a command it left in the background may
/// keep the pipe open, so (like Ansible's run_command, which stops once the process is gone)
/// the rest is awaited only briefly.
async fn collected(
    (buf, task): (
        std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
        tokio::task::JoinHandle<()>,
    ),
) -> Vec<u8> {
    // on timeout the reader stays behind with the background process; it ends with the pipe
    let _ = tokio::time::timeout(std::time::Duration::from_millis(200), task).await;
    let held = buf.lock().unwrap_or_else(|e| e.into_inner());
    held.clone()
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 18: a command left in the background holding stdout does not hold the task.
    #[tokio::test]
    async fn local_remote_returns_when_the_shell_exits() {
        let started = std::time::Instant::now();
        let out = LocalRemote
            .exec(Exec {
                script: "echo before; sleep 5 &",
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(out.stdout, b"before\n");
        assert!(started.elapsed() < std::time::Duration::from_secs(3));
    }

    #[tokio::test]
    async fn local_remote_runs_scripts_with_stdin_and_env() {
        let mut r = LocalRemote;
        let env = vec![("GREETING".to_string(), "it's me".to_string())];
        let out = r
            .exec(Exec {
                script: "cat; echo \"$GREETING\"; echo err >&2; exit 3",
                stdin: b"in\n",
                env: &env,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(out.rc, 3);
        assert_eq!(out.stdout_text(), "in\nit's me\n");
        assert_eq!(out.stderr_text(), "err\n");
    }

    #[test]
    fn quoting_round_trips_through_sh() {
        for s in ["plain", "with space", "it's", "", "$HOME `x` \"q\"", "a\nb"] {
            let out = std::process::Command::new("/bin/sh")
                .arg("-c")
                .arg(format!("printf %s {}", shell_quote(s)))
                .output()
                .unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout), s);
        }
    }
}
