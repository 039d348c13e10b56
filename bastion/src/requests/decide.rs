//! Deciding a request: the one rule about who may say yes or no, shared by the console,
//! `ssh bastion approve|deny` and the `bastion approve|deny|revoke` commands.
//!
//! A bastion user decides only requests that list them (by name, glob, or a `role:` they are a
//! member of, read from the current policy) and never their own. An administrator on the
//! bastion's own machine (the CLI, run as root) may decide any request except one they made
//! under the same name; the record says it was an administrator. An approval may shorten an
//! access request's duration, never lengthen it.

use std::time::Duration;

use access::Access;
use policies::format_duration;
use store::{RequestRow, Store, Verdict};

/// Who decides.
#[derive(Debug, Clone)]
pub enum Decider {
    /// A bastion user (console, `ssh bastion approve`).
    User(String),
    /// The operator of an admin command on the bastion's machine.
    Administrator(String),
}

impl Decider {
    fn name(&self) -> &str {
        match self {
            Decider::User(n) | Decider::Administrator(n) => n,
        }
    }

    /// How the audit record and the requester's message name them.
    pub fn by(&self) -> String {
        match self {
            Decider::User(n) => n.clone(),
            Decider::Administrator(n) => format!("{n} (administrator)"),
        }
    }
}

/// A decision as asked for.
#[derive(Debug, Clone)]
pub enum Answer {
    /// Yes; for access, optionally for less time than asked.
    Approve {
        duration: Option<Duration>,
    },
    Deny {
        reason: String,
    },
}

/// Decides request `id`; `Err` is the message for whoever tried.
pub fn decide(
    store: &Store,
    access: &Access,
    who: &Decider,
    id: i64,
    answer: &Answer,
) -> Result<RequestRow, String> {
    let request = store
        .request(id)
        .map_err(|e| format!("cannot read request {id}: {e}"))?
        .ok_or_else(|| format!("no request {id}"))?;
    if request.status != "pending" {
        return Err(format!("request {id} is {}, not pending", request.status));
    }
    match who {
        Decider::User(name) => {
            access
                .policies
                .may_approve(name, &request.user, &request.approvers)?;
        }
        Decider::Administrator(name) if name == &request.user => {
            return Err(format!("{name} cannot approve their own request"));
        }
        Decider::Administrator(_) => {}
    }
    let verdict = match answer {
        Answer::Deny { reason } if reason.trim().is_empty() => {
            return Err("a denial needs a reason (--reason TEXT)".into())
        }
        Answer::Deny { reason } => Verdict::Deny {
            reason: reason.trim().to_string(),
        },
        Answer::Approve { duration } => Verdict::Approve {
            until: grant_end(&request, *duration)?,
        },
    };
    let decided = store
        .decide_request(id, &who.by(), &verdict)
        .map_err(|e| e.to_string())?;
    tracing::info!("request {id} {} by {}", decided.status, who.name());
    Ok(decided)
}

/// When an approved access request's grant ends: after the duration asked, or the shorter one
/// the approver gives. Command reviews have no duration.
fn grant_end(request: &RequestRow, shorter: Option<Duration>) -> Result<Option<f64>, String> {
    if request.kind != "access" {
        return match shorter {
            Some(_) => Err("a held command has no duration (drop --for)".into()),
            None => Ok(None),
        };
    }
    let asked = Duration::from_secs(request.seconds.unwrap_or(0).max(0) as u64);
    let duration = match shorter {
        Some(d) if d > asked => {
            return Err(format!(
                "--for {} is longer than the {} asked for",
                format_duration(d),
                format_duration(asked)
            ))
        }
        Some(d) if d.is_zero() => return Err("--for must be longer than zero".into()),
        Some(d) => d,
        None => asked,
    };
    Ok(Some(store::now_ts() + duration.as_secs_f64()))
}
