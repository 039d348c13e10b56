//! The kinds of SSH channel a role can allow.

use std::fmt;
use std::str::FromStr;

/// A channel a user may open on a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelKind {
    /// Interactive shell with a PTY.
    Shell,
    /// A single command (`ssh bastion host cmd`, also scp and rsync).
    Exec,
    /// The sftp subsystem.
    Sftp,
    /// TCP forwarding (`ssh -L`).
    PortForward,
    /// SSH agent forwarding (`ssh -A`).
    AgentForward,
}

impl ChannelKind {
    /// Every kind, in the order documented.
    pub const ALL: [ChannelKind; 5] = [
        ChannelKind::Shell,
        ChannelKind::Exec,
        ChannelKind::Sftp,
        ChannelKind::PortForward,
        ChannelKind::AgentForward,
    ];

    /// The name used in policy files.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Shell => "shell",
            ChannelKind::Exec => "exec",
            ChannelKind::Sftp => "sftp",
            ChannelKind::PortForward => "port_forward",
            ChannelKind::AgentForward => "agent_forward",
        }
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ChannelKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ChannelKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| {
            format!("unknown channel {s:?}; expected one of shell, exec, sftp, port_forward, agent_forward")
        })
    }
}
