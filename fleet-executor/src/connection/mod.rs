//! SSH connections to hosts: one russh connection per host for the whole run, a long-lived
//! remote shell serving every task, known_hosts checking, and the route through the bastion.
//!
//! - [`ssh`]: connect, host key check, public key authentication, OpenSSH-like errors.
//! - [`known_hosts`]: the known_hosts files, matched as OpenSSH does.
//! - [`shell_session`]: the framing protocol of the long-lived `sh`.
//! - [`ssh_remote`]: [`SshRemote`], the direct route.
//! - [`bastion`]: [`BastionLink`] and [`ViaBastion`], the route through the bastion.

pub mod bastion;
pub mod known_hosts;
pub mod shell_session;
pub mod ssh;
pub mod ssh_remote;

pub use bastion::{BastionLink, CodeSource, ViaBastion};
pub use ssh::{preferred_algorithms, ConnectOptions};
pub use ssh_remote::{connect, SshRemote};
