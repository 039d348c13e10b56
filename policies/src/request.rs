//! `request:` and `action: review` — access and commands that need a second person's yes.
//!
//! A role with `request:` grants its hosts only through an approved, time-boxed request: the
//! role is inert for a user until an approver says yes, and then only for the host and login
//! asked for, until the grant's end ([`HeldGrant`]). The caller (the bastion, which owns the
//! store) passes the user's grants in with each question, so the policy stays one pure
//! decision and never reads a database.
//!
//! A `deny_commands` entry with `action: review` holds a matching line until an approver
//! decides ([`ReviewRule`]). Approvers are named the same way in both places: a user name (or
//! glob) or `role:NAME`, meaning every member of that role. Nobody approves their own request.

use std::time::Duration;

use regex::Regex;

use crate::role::NamePattern;
use crate::PolicySet;

/// Who may approve: a user (name or glob) or the members of a role.
#[derive(Debug, Clone)]
pub enum Approver {
    User(NamePattern),
    /// `role:NAME`.
    Role(String),
}

impl Approver {
    /// Parses `bob`, `ops-*` or `role:leads`.
    pub fn parse(text: &str) -> Result<Approver, String> {
        let text = text.trim();
        match text.strip_prefix("role:") {
            Some("") => Err(format!("{text:?}: role name missing after role:")),
            Some(role) => Ok(Approver::Role(role.to_string())),
            None if text.is_empty() => Err("empty approver".into()),
            None => Ok(Approver::User(NamePattern::new(text)?)),
        }
    }

    /// The text it was written as (`bob`, `role:leads`).
    pub fn text(&self) -> String {
        match self {
            Approver::User(p) => p.text.clone(),
            Approver::Role(r) => format!("role:{r}"),
        }
    }
}

/// A role's `request:` block.
#[derive(Debug, Clone)]
pub struct RequestRule {
    pub approvers: Vec<Approver>,
    /// The longest grant an approval may give.
    pub max_duration: Duration,
    /// Whether a request must say why.
    pub reason_required: bool,
}

/// A `deny_commands` entry with `action: review`: a matching line waits for an approver.
#[derive(Debug, Clone)]
pub struct ReviewRule {
    pub pattern: Regex,
    /// The entry's own `approvers:`, else the role's `request.approvers`.
    pub approvers: Vec<Approver>,
    /// How long the line waits before it is refused.
    pub timeout: Duration,
}

/// How long a reviewed line waits when its entry does not say.
pub const DEFAULT_REVIEW_TIMEOUT: Duration = Duration::from_secs(300);
/// The longest grant when a `request:` block gives no `max_duration`.
pub const DEFAULT_MAX_DURATION: Duration = Duration::from_secs(3600);

/// An approved request the user holds: `login` on `host` until `until` (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldGrant {
    pub id: i64,
    pub host: String,
    pub login: String,
    pub until: i64,
}

/// Why a request was refused but could be asked for: the roles that would grant it once a
/// request is approved, and what such a request needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeedsRequest {
    /// The roles (sorted by name) that grant the host only through a request.
    pub roles: Vec<String>,
    /// The login a request would ask for.
    pub login: String,
    /// Who may approve, as written (`bob`, `role:leads`), without duplicates.
    pub approvers: Vec<String>,
    /// The shortest `max_duration` of those roles.
    pub max_duration: Duration,
    /// Whether any of them requires a reason.
    pub reason_required: bool,
}

impl NeedsRequest {
    /// `bob or role:leads`, for waiting lines and messages.
    pub fn approvers_text(&self) -> String {
        approvers_text(&self.approvers)
    }
}

/// `a`, `a or b`, `a, b or c`.
pub fn approvers_text(approvers: &[String]) -> String {
    match approvers {
        [] => "nobody".into(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

impl PolicySet {
    /// Whether `approver` may decide a request of `requester` whose approvers are
    /// `approvers` (as written: names, globs, `role:NAME`). Role membership is read from this
    /// policy set, so a member removed from `leads` can no longer approve. `Err` says why not.
    pub fn may_approve(
        &self,
        approver: &str,
        requester: &str,
        approvers: &[String],
    ) -> Result<(), String> {
        if approver == requester {
            return Err(format!(
                "{approver} cannot approve their own request (approvers: {})",
                approvers_text(approvers)
            ));
        }
        let listed = approvers.iter().any(|text| match Approver::parse(text) {
            Ok(Approver::User(p)) => p.matches(approver),
            Ok(Approver::Role(r)) => self
                .roles()
                .iter()
                .any(|role| role.name == r && role.has_member(approver)),
            Err(_) => false,
        });
        if listed {
            Ok(())
        } else {
            Err(format!(
                "{approver} is not an approver of this request (approvers: {})",
                approvers_text(approvers)
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approvers_parse_and_print_as_written() {
        assert!(matches!(Approver::parse("bob"), Ok(Approver::User(_))));
        assert!(matches!(Approver::parse("role:leads"), Ok(Approver::Role(r)) if r == "leads"));
        assert!(Approver::parse("role:").is_err());
        assert!(Approver::parse(" ").is_err());
        assert_eq!(Approver::parse("role:leads").unwrap().text(), "role:leads");
        assert_eq!(approvers_text(&["a".into()]), "a");
        assert_eq!(
            approvers_text(&["a".into(), "b".into(), "c".into()]),
            "a, b or c"
        );
    }

    #[test]
    fn approval_needs_a_listed_approver_who_is_not_the_requester() {
        let set = PolicySet::parse(
            "roles:\n  - {name: leads, members: [carol], hosts: [x], logins: [l]}\n",
            "t",
        )
        .unwrap();
        let approvers = vec!["bob".to_string(), "role:leads".to_string()];
        assert!(set.may_approve("bob", "alice", &approvers).is_ok());
        assert!(set.may_approve("carol", "alice", &approvers).is_ok());
        let own = set.may_approve("bob", "bob", &approvers).unwrap_err();
        assert!(own.contains("own request"), "{own}");
        let other = set.may_approve("mallory", "alice", &approvers).unwrap_err();
        assert!(other.contains("not an approver"), "{other}");
    }
}
