//! The kinds of SSH channel a role can allow.
//!
//! Agent forwarding is deliberately not one of them: the bastion logs in to targets with its
//! own key, so a user's agent is never needed there, and forwarding it would hand every target
//! the power to use the user's keys elsewhere. A policy naming `agent_forward` is refused with
//! that reason rather than accepted and silently never honoured.

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
}

impl ChannelKind {
    /// Every kind, in the order documented.
    pub const ALL: [ChannelKind; 4] = [
        ChannelKind::Shell,
        ChannelKind::Exec,
        ChannelKind::Sftp,
        ChannelKind::PortForward,
    ];

    /// The name used in policy files.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Shell => "shell",
            ChannelKind::Exec => "exec",
            ChannelKind::Sftp => "sftp",
            ChannelKind::PortForward => "port_forward",
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
        if s == "agent_forward" {
            return Err("agent_forward is not supported: the bastion logs in to targets with its own key \
                        and never forwards a user's agent (ssh -J through the bastion needs none: it serves the session itself)"
                .into());
        }
        ChannelKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!("unknown channel {s:?}; expected one of shell, exec, sftp, port_forward")
            })
    }
}
