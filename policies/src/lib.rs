//! Role policies: who may reach which host, as which login, over which channel, when, and
//! under which session limits (PRODUCT.md 1.4).
//!
//! Deny by default; a user's access is the union of their roles. The first role in file order
//! that grants a request decides it, and its limits apply, so `policy explain` can always name
//! one rule.

mod channel;
mod decide;
mod duration;
mod error;
mod hours;
mod parse;
mod role;

pub use channel::ChannelKind;
pub use decide::{AccessRequest, Decision, PolicySet, Reach, SessionLimits};
pub use duration::{format_duration, parse_duration};
pub use error::PolicyError;
pub use hours::Hours;
pub use role::{HostSelector, Role};
