//! Role policies: who may reach which host, as which login, over which channel, when, and
//! under which session limits (PRODUCT.md 1.4).
//!
//! Deny by default; a user's access is the union of their roles. A request is allowed when any
//! role grants it now, and then the limits of *every* granting role apply, most restrictive
//! first ([`SessionLimits::merge`]): all their `deny_commands`, `record_input` and
//! `require_totp` if any says so, the shortest `max_session` and `idle_timeout`. Role order in
//! the file never changes a decision, and a decision names every role that granted it.
//!
//! It owns the policy file's grammar and the rules; it must not know the inventory's files (the
//! caller passes a host's groups: the `access` crate joins the two), SSH, or the audit log.

mod channel;
mod console;
mod decide;
mod duration;
mod error;
mod hours;
mod limits;
mod parse;
mod parse_rules;
mod request;
mod role;
mod role_fields;

pub use channel::ChannelKind;
pub use console::{ConsoleGrant, ConsoleRight};
pub use decide::{AccessRequest, Decision, PolicySet, Reach};
pub use duration::{format_duration, parse_duration};
pub use error::PolicyError;
pub use hours::Hours;
pub use limits::SessionLimits;
pub use parse_rules::check_approver_users;
pub use request::{
    approvers_text, Approver, HeldGrant, NeedsRequest, RequestRule, ReviewRule,
    DEFAULT_MAX_DURATION, DEFAULT_REVIEW_TIMEOUT,
};
pub use role::{HostSelector, Role};
