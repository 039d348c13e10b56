//! The route through our bastion (`--via USER@BASTION[:PORT]`): one authenticated connection
//! to the bastion for the whole run, and one exec channel per task on it with the command
//! `LOGIN@HOST <script>`, so the bastion authorizes, logs and audits every module script in
//! readable form (PRODUCT.md 1.3). stdout, stderr and exit status come back unchanged.
//!
//! Each exec request carries the task's label (`FLEET_TASK`: name, module, arguments), which
//! the bastion's command log shows instead of the script; the bastion keeps its connection to
//! each target across this connection's channels, so a task costs a channel, not a handshake.
//! A script the bastion's rules refuse fails its task (naming the rule); the bastion's other
//! refusals make the host unreachable.

use std::io::{BufRead, Write};
use std::sync::Arc;

use async_trait::async_trait;
use russh::client::{self, Handle, KeyboardInteractiveAuthResponse};
use russh::{Channel, ChannelMsg, ChannelReadHalf, MethodKind};

use super::ssh::{
    authenticate_with_keys, handshake, permission_denied, unreachable, ConnectOptions,
    HostKeyCheck, KeyAuth,
};
use fleet_modules::remote::{stopped, wrap_script, CmdOutput, Exec, Remote, RemoteError};

/// The environment variable carrying the task's one-line label (name, module, arguments) on
/// each exec channel: the bastion shows it in its command log in place of the wrapper script.
const TASK_LABEL_ENV: &str = "FLEET_TASK";

/// The exit status and stderr start of an exec the bastion's `deny_commands` refused.
const BLOCKED_STATUS: i32 = 126;
const BLOCKED_PREFIX: &str = "bastion: command blocked by policy";

/// Where the bastion's one-time verification code (TOTP) comes from.
#[derive(Debug, Clone)]
pub enum CodeSource {
    /// Like OpenSSH: the `SSH_ASKPASS` program when `SSH_ASKPASS_REQUIRE=force`, else a
    /// prompt on `/dev/tty` (falling back to `SSH_ASKPASS` when there is no terminal).
    Prompt,
    /// A code given up front (tests, or a caller that already asked).
    Fixed(String),
}

impl CodeSource {
    /// Asks for the code once; `prompt` is the server's prompt text.
    async fn obtain(&self, prompt: &str, who: &str) -> Result<String, RemoteError> {
        match self {
            CodeSource::Fixed(code) => Ok(code.clone()),
            CodeSource::Prompt => {
                let prompt = format!("({who}) {prompt}");
                tokio::task::spawn_blocking(move || ask_user(&prompt))
                    .await
                    .map_err(|e| unreachable(&format!("cannot ask for the code: {e}")))?
            }
        }
    }
}

fn ask_user(prompt: &str) -> Result<String, RemoteError> {
    let askpass = std::env::var_os("SSH_ASKPASS").filter(|p| !p.is_empty());
    let forced = std::env::var("SSH_ASKPASS_REQUIRE").is_ok_and(|v| v == "force");
    if let (true, Some(program)) = (forced, &askpass) {
        return run_askpass(program, prompt);
    }
    match ask_on_tty(prompt) {
        Ok(code) => Ok(code),
        Err(tty_error) => match &askpass {
            Some(program) => run_askpass(program, prompt),
            None => Err(unreachable(&format!(
                "cannot ask for the verification code: /dev/tty: {tty_error}"
            ))),
        },
    }
}

fn run_askpass(program: &std::ffi::OsStr, prompt: &str) -> Result<String, RemoteError> {
    let out = std::process::Command::new(program)
        .arg(prompt)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| unreachable(&format!("cannot run SSH_ASKPASS: {e}")))?;
    if !out.status.success() {
        return Err(unreachable("SSH_ASKPASS gave no verification code"));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .trim_end_matches(['\r', '\n'])
        .to_string())
}

fn ask_on_tty(prompt: &str) -> std::io::Result<String> {
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")?;
    let mut writer = &tty;
    writer.write_all(prompt.as_bytes())?;
    writer.flush()?;
    let mut line = String::new();
    std::io::BufReader::new(&tty).read_line(&mut line)?;
    Ok(line.trim().to_string())
}

/// The one connection to the bastion, shared by every host's [`ViaBastion`].
#[derive(Clone)]
pub struct BastionLink {
    handle: Arc<Handle<HostKeyCheck>>,
    opts: Arc<ConnectOptions>,
}

impl BastionLink {
    /// Connects to the bastion at `opts` (host key checked against known_hosts as
    /// `[host]:port`), logs in with public keys, then answers the keyboard-interactive
    /// `Verification code:` prompt with a code from `codes`, asked for only if the bastion asks.
    pub async fn connect(
        opts: &ConnectOptions,
        codes: CodeSource,
    ) -> Result<BastionLink, RemoteError> {
        let login = async {
            let mut handle = handshake(opts).await?;
            match authenticate_with_keys(&mut handle, opts).await? {
                KeyAuth::Success => {}
                KeyAuth::Partial { remaining }
                    if remaining.contains(&MethodKind::KeyboardInteractive) =>
                {
                    answer_prompts(&mut handle, opts, &codes).await?
                }
                KeyAuth::Partial { remaining } | KeyAuth::Denied { remaining } => {
                    return Err(permission_denied(opts, &remaining))
                }
            }
            Ok(handle)
        };
        // The code prompt waits for a person, so only the network part is timed.
        let handle = login.await?;
        Ok(BastionLink {
            handle: Arc::new(handle),
            opts: Arc::new(opts.clone()),
        })
    }

    /// A [`Remote`] for `host` as the bastion names it, logging in as `login` (or the
    /// policy's default login when `None`).
    pub fn open(&self, login: Option<&str>, host: &str) -> ViaBastion {
        let target = match login {
            Some(l) => format!("{l}@{host}"),
            None => host.to_string(),
        };
        ViaBastion {
            link: self.clone(),
            target,
            label: None,
        }
    }
}

async fn answer_prompts(
    handle: &mut Handle<HostKeyCheck>,
    opts: &ConnectOptions,
    codes: &CodeSource,
) -> Result<(), RemoteError> {
    let lost = |e: russh::Error| unreachable(&format!("authentication failed: {e}"));
    let who = format!("{}@{}", opts.user, opts.address);
    let mut code: Option<String> = None;
    let mut reply = handle
        .authenticate_keyboard_interactive_start(opts.user.clone(), None)
        .await
        .map_err(lost)?;
    loop {
        match reply {
            KeyboardInteractiveAuthResponse::Success => return Ok(()),
            KeyboardInteractiveAuthResponse::Failure {
                remaining_methods, ..
            } => return Err(permission_denied(opts, &remaining_methods)),
            KeyboardInteractiveAuthResponse::InfoRequest { prompts, .. } => {
                let mut answers = Vec::with_capacity(prompts.len());
                for p in &prompts {
                    if code.is_none() {
                        code = Some(codes.obtain(&p.prompt, &who).await?);
                    }
                    answers.push(code.clone().unwrap_or_default());
                }
                reply = handle
                    .authenticate_keyboard_interactive_respond(answers)
                    .await
                    .map_err(lost)?;
            }
        }
    }
}

/// A host reached through the bastion: each request is one exec channel `TARGET SCRIPT`.
pub struct ViaBastion {
    link: BastionLink,
    target: String,
    /// The running task, sent as `FLEET_TASK` for the bastion's command log.
    label: Option<String>,
}

impl ViaBastion {
    /// One request: an exec channel carrying the task's label, its stdin sent while its output
    /// is read, under the command timeout and the run's stop signal.
    async fn run(&self, req: &Exec<'_>) -> Result<CmdOutput, RemoteError> {
        let lost = |e: russh::Error| {
            unreachable(&format!(
                "Connection to bastion {} closed: {e}",
                self.link.opts.address
            ))
        };
        let channel = self.open_exec(req).await.map_err(lost)?;
        let (mut read, write) = channel.split();
        let send = async {
            if !req.stdin.is_empty() {
                write.data(req.stdin).await?;
            }
            write.eof().await
        };
        let both = async { tokio::join!(send, receive(&mut read)) };
        let limited = async {
            match self.link.opts.command_timeout {
                Some(limit) => tokio::time::timeout(limit, both)
                    .await
                    .map_err(|_| RemoteError::Timeout(limit)),
                None => Ok(both.await),
            }
        };
        let finished = tokio::select! {
            finished = limited => finished,
            () = stopped(self.link.opts.stop.as_ref()) => Err(RemoteError::Interrupted),
        };
        // Closing the channel also makes the bastion end the target side of a timed-out or
        // interrupted task.
        let _ = write.close().await;
        let (sent, (mut out, status)) = finished?;
        let Some(rc) = status else {
            let why = sent
                .err()
                .map(|e| e.to_string())
                .unwrap_or_else(|| "no exit status".into());
            return Err(lost(russh::Error::IO(std::io::Error::other(why))));
        };
        out.rc = rc;
        refused(out)
    }

    /// Opens a channel on the bastion connection and execs `TARGET SCRIPT` on it, with the
    /// task's label in the environment.
    async fn open_exec(&self, req: &Exec<'_>) -> Result<Channel<client::Msg>, russh::Error> {
        let mut script = wrap_script(req);
        if script.trim().is_empty() {
            script = ":".into(); // a bare target word would ask the bastion for a shell
        }
        let channel = self.link.handle.channel_open_session().await?;
        if let Some(label) = &self.label {
            // No reply wanted: a bastion that does not know the label refuses it harmlessly.
            channel
                .set_env(false, TASK_LABEL_ENV, label.as_str())
                .await?;
        }
        channel
            .exec(true, format!("{} {script}", self.target))
            .await?;
        Ok(channel)
    }
}

/// Reads a channel's stdout, stderr and exit status. Done once the status and the end of
/// output are in: the bastion's bookkeeping before it closes the channel (session end, audit)
/// then overlaps the next task.
async fn receive(read: &mut ChannelReadHalf) -> (CmdOutput, Option<i32>) {
    let mut out = CmdOutput::default();
    let mut status = None;
    let mut eof = false;
    while !(eof && status.is_some()) {
        let Some(msg) = read.wait().await else { break };
        match msg {
            ChannelMsg::Eof => eof = true,
            ChannelMsg::Data { data } => out.stdout.extend_from_slice(&data),
            ChannelMsg::ExtendedData { data, ext: 1 } => out.stderr.extend_from_slice(&data),
            ChannelMsg::ExitStatus { exit_status } => status = Some(exit_status as i32),
            ChannelMsg::ExitSignal { signal_name, .. } => {
                status = Some(128 + signal_number(&signal_name))
            }
            ChannelMsg::Close => break,
            _ => {}
        }
    }
    (out, status)
}

/// The output of a script the bastion ran, or the bastion's own refusal as an error: a rule
/// refusing the script fails the task (the host is still there); the bastion's other
/// refusals are about reaching the host, not the task.
fn refused(out: CmdOutput) -> Result<CmdOutput, RemoteError> {
    if out.rc != 0 && out.stdout.is_empty() && out.stderr.starts_with(b"bastion: ") {
        let text = out.stderr_text();
        let text = text.trim_end();
        if out.rc == BLOCKED_STATUS && text.starts_with(BLOCKED_PREFIX) {
            return Err(RemoteError::Blocked(text.to_string()));
        }
        return Err(unreachable(text));
    }
    Ok(out)
}

#[async_trait]
impl Remote for ViaBastion {
    fn set_task_label(&mut self, label: Option<String>) {
        self.label = label;
    }

    async fn exec(&mut self, req: Exec<'_>) -> Result<CmdOutput, RemoteError> {
        if self.link.handle.is_closed() {
            return Err(unreachable(&format!(
                "Connection to bastion {} closed.",
                self.link.opts.address
            )));
        }
        self.run(&req).await
    }
}

fn signal_number(name: &russh::Sig) -> i32 {
    use russh::Sig::*;
    match name {
        HUP => 1,
        INT => 2,
        QUIT => 3,
        ILL => 4,
        ABRT => 6,
        FPE => 8,
        KILL => 9,
        USR1 => 10,
        SEGV => 11,
        PIPE => 13,
        ALRM => 14,
        TERM => 15,
        _ => 0,
    }
}
