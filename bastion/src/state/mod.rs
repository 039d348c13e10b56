//! What every connection shares, beside the listener: the store, keys and access rules
//! ([`Shared`]), who is on a connection ([`ConnInfo`]), the login failure counters, the registry of live sessions that
//! `bastion watch` and `kill` reach, and the sealing of sessions that ended abnormally.
//!
//! It sits below both `server/` (the listener, the russh handler, the control socket) and
//! `session/` and `auth/`, which use it; it imports from none of them, so the data flows one way.

pub mod fence;
pub mod kill;
mod live;
mod ratelimit;
mod recovery;
mod running;
mod shared;
pub mod shared_recordings;
pub mod watch_relay;

pub use live::{LiveSession, LiveSessions, ScreenSource, Watch};
pub use ratelimit::RateLimiter;
pub use recovery::{seal_interrupted, seal_session};
pub use running::Running;
pub use shared::{load_access, ConnInfo, Shared, Via};
