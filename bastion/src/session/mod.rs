//! One task per session channel: collect the client's requests, work out the target, check the
//! policy, then proxy (or show the host menu). Data flows user → policy → proxy → recorder → store.

mod authorize;
mod command_guard;
mod console_link;
mod forward;
mod judged_input;
mod line_shell;
mod menu_loop;
mod prompt;
mod proxy;
mod quick_ack;
mod recording;
mod request_words;
mod review;
mod run;
mod scp_log;
mod session_audit;
mod sftp_log;
mod shell_log;
mod supervise;
mod taps;
pub mod task_label;
mod upstream;
mod upstream_pool;

use std::sync::Arc;

use russh::server::{Handle, Msg};
use russh::{Channel, ChannelMsg, ChannelReadHalf, ChannelWriteHalf, Pty};

use crate::state::{ConnInfo, Shared};
use crate::target::{parse_target, split_exec, TargetSpec};

pub use authorize::authorize_jump;
pub use forward::{forward, ForwardRequest};
pub use run::Kind;
pub use supervise::supervise;
pub use upstream_pool::UpstreamPool;

/// The terminal the client asked for, forwarded to the target.
#[derive(Clone, Debug)]
pub struct PtyInfo {
    pub term: String,
    pub cols: u32,
    pub rows: u32,
    pub modes: Vec<(Pty, u32)>,
}

/// The user's side of one channel.
pub struct UserChannel {
    pub rx: ChannelReadHalf,
    pub tx: ChannelWriteHalf<Msg>,
    pub handle: Handle,
    pub pty: Option<PtyInfo>,
    /// The last message shown with [`UserChannel::say`] (the menu repeats it in its status line).
    pub last_said: Option<String>,
    /// Whether EOF was already passed on (it must be sent at most once).
    pub eof_sent: bool,
    /// Input that arrived before the session it belongs to started (a script piped in while
    /// a request waited); the pump passes it on first.
    pub replay: std::collections::VecDeque<ChannelMsg>,
    /// Whether the target's exit status was already passed on.
    pub exit_sent: bool,
    /// The client connection's idle target connections, reused by its exec sessions.
    pub upstreams: UpstreamPool,
    /// What the client says this channel runs, for the command log only ([`task_label`]).
    pub task_label: Option<String>,
}

impl UserChannel {
    /// Writes a message for the user: to the terminal with a PTY, else to stderr.
    pub async fn say(&mut self, text: &str) {
        self.last_said = Some(text.to_string());
        let line = format!("bastion: {text}\r\n");
        if self.pty.is_some() {
            let _ = self.tx.data_bytes(line.into_bytes()).await;
        } else {
            let _ = self.tx.extended_data_bytes(1, line.into_bytes()).await;
        }
    }

    /// Like [`UserChannel::say`], for a message that follows target output: on a terminal it
    /// starts on a fresh line.
    pub async fn say_on_new_line(&mut self, text: &str) {
        if self.pty.is_some() {
            let _ = self.tx.data_bytes(b"\r\n".to_vec()).await;
        }
        self.say(text).await;
    }

    /// Ends the channel with an exit status, the way a shell would.
    pub async fn finish(&self, status: u32) {
        if !self.exit_sent {
            let _ = self.tx.exit_status(status).await;
        }
        if !self.eof_sent {
            let _ = self.tx.eof().await;
        }
        let _ = self.tx.close().await;
    }
}

/// What the client asked the channel to do.
enum Start {
    Shell,
    Exec(String),
    Sftp,
}

/// Entry point: owns the channel until it closes.
pub async fn run_channel(
    shared: Arc<Shared>,
    conn: ConnInfo,
    channel: Channel<Msg>,
    handle: Handle,
    upstreams: UpstreamPool,
) {
    let mut user = UserChannel::new(channel, handle, upstreams);
    let Some(start) = collect_requests(&mut user).await else {
        return;
    };
    if let Start::Exec(cmd) = &start {
        if let Some(status) = bastion_command(&shared, &conn, &mut user, cmd).await {
            user.finish(status).await;
            return;
        }
    }
    let (target, kind, command) = match what_to_run(&conn, start) {
        Ok(what) => what,
        Err(word) => {
            user.say(&format!(
                "\"{word}\" is not a target; use HOST or LOGIN@HOST as the first word"
            ))
            .await;
            user.finish(2).await;
            return;
        }
    };
    match target {
        Some(t) => {
            let status = run::run_target(
                &shared,
                &conn,
                &mut user,
                &t,
                kind,
                command.as_deref(),
                true,
            )
            .await;
            user.finish(status.unwrap_or(255)).await;
        }
        None if kind == Kind::Shell && user.pty.is_some() => {
            menu_loop::run(&shared, &conn, &mut user).await;
        }
        None => {
            user.say("no target given: use `ssh -t USER@bastion HOST`, `ssh USER@bastion HOST COMMAND`, or USER+HOST as the login name")
                .await;
            user.finish(2).await;
        }
    }
}

impl UserChannel {
    fn new(channel: Channel<Msg>, handle: Handle, upstreams: UpstreamPool) -> UserChannel {
        let (rx, tx) = channel.split();
        UserChannel {
            rx,
            tx,
            handle,
            pty: None,
            last_said: None,
            eof_sent: false,
            replay: Default::default(),
            exit_sent: false,
            upstreams,
            task_label: None,
        }
    }
}

/// A command for the bastion itself rather than a host (`ssh bastion console`, `ssh bastion
/// request ...`), run when the login named no target; `Some(exit status)` when it was one.
async fn bastion_command(
    shared: &Arc<Shared>,
    conn: &ConnInfo,
    user: &mut UserChannel,
    cmd: &str,
) -> Option<u32> {
    if conn.target.is_some() {
        return None;
    }
    if console_link::is_console_request(cmd) {
        return Some(console_link::issue(shared, conn, user).await);
    }
    let word = crate::requests::parse_word(cmd)?;
    Some(request_words::run(shared, conn, user, word).await)
}

/// The target, kind and command of a session: the login's target (`alice+web1`), else the
/// exec command's first word. `Err` with that word when it is not a target.
fn what_to_run(
    conn: &ConnInfo,
    start: Start,
) -> Result<(Option<TargetSpec>, Kind, Option<String>), String> {
    Ok(match start {
        Start::Sftp => (conn.target.clone(), Kind::Sftp, None),
        Start::Shell => (conn.target.clone(), Kind::Shell, None),
        Start::Exec(cmd) => match &conn.target {
            Some(t) => (Some(t.clone()), Kind::for_command(&cmd), Some(cmd)),
            None => {
                let (word, rest) = split_exec(&cmd);
                match parse_target(word) {
                    Some(t) if rest.is_empty() => (Some(t), Kind::Shell, None),
                    Some(t) => (Some(t), Kind::for_command(rest), Some(rest.to_string())),
                    None => return Err(word.to_string()),
                }
            }
        },
    })
}

/// Reads requests until the client says what to run; `None` when it gave up first.
async fn collect_requests(user: &mut UserChannel) -> Option<Start> {
    loop {
        match user.rx.wait().await? {
            ChannelMsg::RequestPty {
                term,
                col_width,
                row_height,
                terminal_modes,
                ..
            } => {
                user.pty = Some(PtyInfo {
                    term,
                    cols: col_width,
                    rows: row_height,
                    modes: terminal_modes,
                });
            }
            ChannelMsg::WindowChange {
                col_width,
                row_height,
                ..
            } => {
                if let Some(p) = user.pty.as_mut() {
                    p.cols = col_width;
                    p.rows = row_height;
                }
            }
            ChannelMsg::SetEnv {
                variable_name,
                variable_value,
                ..
            } if variable_name == task_label::ENV => {
                user.task_label = task_label::clean(&variable_value);
            }
            ChannelMsg::RequestShell { .. } => return Some(Start::Shell),
            ChannelMsg::Exec { command, .. } => {
                return Some(Start::Exec(String::from_utf8_lossy(&command).into_owned()))
            }
            ChannelMsg::RequestSubsystem { name, .. } if name == "sftp" => {
                return Some(Start::Sftp)
            }
            ChannelMsg::Eof | ChannelMsg::Close => return None,
            _ => {}
        }
    }
}
