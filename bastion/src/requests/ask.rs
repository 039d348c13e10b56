//! Asking: a request for access to a host, or for one held command line.
//!
//! An access request is accepted only when it could ever be granted: the host needs an approved
//! request for this user (`access::Grant::needs_request`), the duration fits every role's
//! `max_duration`, and a reason is given where a role requires one. A user who already has
//! access is told so instead; a user with the same request still pending gets that one back
//! rather than a second (approvers see each request once).

use std::time::Duration;

use chrono::Local;
use policies::{format_duration, ChannelKind, ReviewRule};
use store::{NewRequest, RequestKind, RequestRow, Store};

use crate::state::{ConnInfo, Shared};

/// What a user asks for.
#[derive(Debug, Clone, Default)]
pub struct AccessAsk {
    pub host: String,
    pub login: Option<String>,
    /// `None`: the shorter of one hour and the roles' maximum.
    pub duration: Option<Duration>,
    pub reason: String,
}

/// The outcome of asking.
#[derive(Debug)]
pub enum Asked {
    /// A pending request (new, or the same one already waiting).
    Pending(Box<RequestRow>),
    /// Nothing to ask: the user may already go there (the reason says how).
    AlreadyAllowed { login: String, reason: String },
}

/// The default grant asked for when no duration is given.
const DEFAULT_ASK: Duration = Duration::from_secs(3600);

/// Checks and stores an access request of `conn.user`. `Err` is the message for the user.
pub fn access(shared: &Shared, conn: &ConnInfo, ask: &AccessAsk) -> Result<Asked, String> {
    let held = super::held(&shared.store, &conn.user);
    let grant = shared.access().grant(
        &conn.user,
        &ask.host,
        ask.login.as_deref(),
        ChannelKind::Shell,
        Local::now(),
        &held,
    );
    if grant.allowed {
        return Ok(Asked::AlreadyAllowed {
            login: grant.login.unwrap_or_default(),
            reason: grant.reason,
        });
    }
    let Some(need) = grant.needs_request else {
        return Err(format!("access denied: {}", grant.reason));
    };
    let duration = ask.duration.unwrap_or(DEFAULT_ASK.min(need.max_duration));
    if duration > need.max_duration {
        return Err(format!(
            "--for {} is longer than the maximum of {} (role {})",
            format_duration(duration),
            format_duration(need.max_duration),
            need.roles.join(", ")
        ));
    }
    if duration.is_zero() {
        return Err("--for must be longer than zero".into());
    }
    let reason = ask.reason.trim();
    if need.reason_required && reason.is_empty() {
        return Err(format!(
            "role {} requires a reason: add --reason TEXT",
            need.roles.join(", ")
        ));
    }
    if let Some(same) = pending_same(&shared.store, &conn.user, &grant.host, &need.login) {
        return Ok(Asked::Pending(Box::new(same)));
    }
    let row = shared
        .store
        .create_request(
            &NewRequest {
                kind: RequestKind::Access,
                user: &conn.user,
                host: &grant.host,
                login: &need.login,
                text: reason,
                rule: None,
                session: None,
                approvers: &need.approvers,
                seconds: Some(duration.as_secs() as i64),
            },
            Some(&conn.source),
        )
        .map_err(|e| {
            tracing::error!("cannot store a request: {e}");
            "the request cannot be stored; try again later".to_string()
        })?;
    shared.requests_changed();
    Ok(Asked::Pending(Box::new(row)))
}

/// The user's pending access request for the same host and login, if any.
fn pending_same(store: &Store, user: &str, host: &str, login: &str) -> Option<RequestRow> {
    store
        .requests(true, 1000)
        .ok()?
        .into_iter()
        .find(|r| r.kind == "access" && r.user == user && r.host == host && r.login == login)
}

/// Where a held command line was typed.
pub struct HeldLine<'a> {
    pub session: i64,
    pub host: &'a str,
    pub login: &'a str,
    pub line: &'a str,
    pub rule: &'a ReviewRule,
}

/// Stores a review request for a held command line.
pub fn command(shared: &Shared, conn: &ConnInfo, held: &HeldLine) -> Result<RequestRow, String> {
    let approvers: Vec<String> = held.rule.approvers.iter().map(|a| a.text()).collect();
    let row = shared
        .store
        .create_request(
            &NewRequest {
                kind: RequestKind::Command,
                user: &conn.user,
                host: held.host,
                login: held.login,
                text: held.line,
                rule: Some(held.rule.pattern.as_str()),
                session: Some(held.session),
                approvers: &approvers,
                seconds: None,
            },
            Some(&conn.source),
        )
        .map_err(|e| {
            tracing::error!("cannot store a review request: {e}");
            "the review request cannot be stored, so the line is not run".to_string()
        })?;
    shared.requests_changed();
    Ok(row)
}
