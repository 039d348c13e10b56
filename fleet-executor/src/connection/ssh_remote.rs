//! [`SshRemote`]: one SSH connection per host, one long-lived `sh` on it serving every task.

use async_trait::async_trait;
use russh::client::{Handle, Msg};
use russh::{ChannelMsg, ChannelReadHalf, ChannelWriteHalf};

use super::shell_session::{Chunk, ShellGone, ShellInput, ShellOutput, ShellSession};
use super::ssh::{connect_and_login, unreachable, ConnectOptions, HostKeyCheck};
use fleet_modules::remote::{stopped, CmdOutput, Exec, Remote, RemoteError};

/// The shell the serving session runs: plain `sh`, not a login shell, no PTY.
const SHELL_COMMAND: &str = "exec /bin/sh";

/// A host reached directly over SSH.
pub struct SshRemote {
    opts: ConnectOptions,
    handle: Handle<HostKeyCheck>,
    shell: Option<Served>,
    /// The host's local clock minus the controller's, once a task has read it (see
    /// [`Remote::clock_offset`]); cleared when the connection is made again.
    clock_offset: Option<i64>,
}

/// The serving shell and its process id (its process group, since sshd starts it with setsid).
struct Served {
    session: ShellSession,
    pid: Option<u32>,
}

/// Connects, authenticates and starts the serving shell; the host's one connection for the run.
pub async fn connect(opts: &ConnectOptions) -> Result<SshRemote, RemoteError> {
    let handle = connect_and_login(opts).await?;
    let mut remote = SshRemote {
        opts: opts.clone(),
        handle,
        shell: None,
        clock_offset: None,
    };
    remote.shell = Some(remote.start_shell().await?);
    Ok(remote)
}

impl SshRemote {
    /// The options this connection was made with.
    pub fn options(&self) -> &ConnectOptions {
        &self.opts
    }

    /// The process id of the shell serving requests right now (for tests and diagnostics).
    pub fn shell_pid(&self) -> Option<u32> {
        self.shell.as_ref().and_then(|s| s.pid)
    }

    async fn start_shell(&self) -> Result<Served, RemoteError> {
        let lost = |e: russh::Error| self.connection_lost(&e.to_string());
        let channel = self.handle.channel_open_session().await.map_err(lost)?;
        channel.exec(true, SHELL_COMMAND).await.map_err(lost)?;
        let (read, write) = channel.split();
        let mut session =
            ShellSession::new(Box::new(ChannelInput(write)), Box::new(ChannelOutput(read)));
        let pid = session.shell_pid().await.map_err(|_| self.shell_failed())?;
        Ok(Served { session, pid })
    }

    fn connection_lost(&self, why: &str) -> RemoteError {
        unreachable(&format!(
            "Connection to {} port {} closed: {why}",
            self.opts.address, self.opts.port
        ))
    }

    fn shell_failed(&self) -> RemoteError {
        if self.handle.is_closed() {
            unreachable(&format!(
                "Connection to {} closed by remote host.",
                self.opts.address
            ))
        } else {
            unreachable(&format!(
                "the remote shell on {} exited unexpectedly",
                self.opts.address
            ))
        }
    }

    /// After a timeout the old shell is still busy: end it and everything it started.
    async fn abandon_shell(&mut self, old: Served) {
        let Served { mut session, pid } = old;
        session.close().await;
        let Some(pid) = pid else { return };
        if let Ok(mut fresh) = self.start_shell().await {
            let kill = format!("kill -s KILL -- -{pid} 2>/dev/null; true");
            let _ = fresh
                .session
                .run(&Exec {
                    script: &kill,
                    ..Default::default()
                })
                .await;
            self.shell = Some(fresh);
        }
    }
}

#[async_trait]
impl Remote for SshRemote {
    async fn exec(&mut self, req: Exec<'_>) -> Result<CmdOutput, RemoteError> {
        if self.handle.is_closed() {
            // The host went away (a reboot, a network cut): one new connection, as ssh would.
            self.shell = None;
            self.clock_offset = None;
            self.handle = connect_and_login(&self.opts).await?;
        }
        if self.shell.is_none() {
            self.shell = Some(self.start_shell().await?);
        }
        let Some(mut served) = self.shell.take() else {
            return Err(self.shell_failed());
        };
        let limited = async {
            match self.opts.command_timeout {
                Some(limit) => tokio::time::timeout(limit, served.session.run(&req))
                    .await
                    .map_err(|_| RemoteError::Timeout(limit)),
                None => Ok(served.session.run(&req).await),
            }
        };
        let outcome = tokio::select! {
            outcome = limited => outcome,
            () = stopped(self.opts.stop.as_ref()) => Err(RemoteError::Interrupted),
        };
        match outcome {
            Ok(Ok(out)) => {
                self.shell = Some(served);
                Ok(out)
            }
            Ok(Err(ShellGone)) => Err(self.shell_failed()),
            Err(e) => {
                self.abandon_shell(served).await;
                Err(e)
            }
        }
    }

    fn clock_offset(&self) -> Option<i64> {
        self.clock_offset
    }

    fn set_clock_offset(&mut self, micros: i64) {
        self.clock_offset = Some(micros);
    }
}

/// The serving shell's standard input: data on the session channel.
struct ChannelInput(ChannelWriteHalf<Msg>);

#[async_trait]
impl ShellInput for ChannelInput {
    async fn send(&mut self, data: &[u8]) -> Result<(), ShellGone> {
        self.0.data(data).await.map_err(|_| ShellGone)
    }

    async fn close(&mut self) {
        let _ = self.0.eof().await;
        let _ = self.0.close().await;
    }
}

/// The serving shell's output: data and extended data (stderr) on the session channel.
struct ChannelOutput(ChannelReadHalf);

#[async_trait]
impl ShellOutput for ChannelOutput {
    async fn next(&mut self) -> Option<Chunk> {
        loop {
            match self.0.wait().await? {
                ChannelMsg::Data { data } => return Some(Chunk::Stdout(data.to_vec())),
                ChannelMsg::ExtendedData { data, ext: 1 } => {
                    return Some(Chunk::Stderr(data.to_vec()))
                }
                ChannelMsg::Eof | ChannelMsg::Close | ChannelMsg::Failure => return None,
                ChannelMsg::ExitStatus { .. } | ChannelMsg::ExitSignal { .. } => return None,
                _ => continue,
            }
        }
    }
}
