//! `console:` — what a role lets its members do in the web console, and over which sessions.
//!
//! The console shows what happened on hosts, so who may look is a policy question like who may
//! log in, answered from the same file: a role lists its console rights (`audit`: sessions,
//! commands, recordings, the audit log, reports; `live`: watch and kill running sessions;
//! `approve`: decide access requests), and its `hosts:` selectors scope them: an auditor of
//! `web*` sees the sessions on web hosts and nothing else. A role may carry `console:` and no
//! `logins:` at all, for people who look but never log in to hosts. Deny by default: a user
//! whose roles list no console right has no console.

use std::fmt;
use std::str::FromStr;

use crate::{PolicySet, Role};

/// One console right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConsoleRight {
    /// Sessions, commands, recordings, the audit log and reports.
    Audit,
    /// Watching and killing running sessions.
    Live,
    /// Deciding access requests.
    Approve,
}

impl ConsoleRight {
    pub const ALL: [ConsoleRight; 3] = [
        ConsoleRight::Audit,
        ConsoleRight::Live,
        ConsoleRight::Approve,
    ];

    /// The name used in policy files.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsoleRight::Audit => "audit",
            ConsoleRight::Live => "live",
            ConsoleRight::Approve => "approve",
        }
    }
}

impl fmt::Display for ConsoleRight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ConsoleRight {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ConsoleRight::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown console right {s:?}; expected audit, live or approve"))
    }
}

/// A user's console rights: the union over their roles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsoleGrant {
    /// Every right any role gives, sorted.
    pub rights: Vec<ConsoleRight>,
    /// The roles giving any, sorted by name.
    pub roles: Vec<String>,
}

impl ConsoleGrant {
    pub fn has(&self, right: ConsoleRight) -> bool {
        self.rights.contains(&right)
    }
}

impl PolicySet {
    /// What `user` may do in the console (nothing when no role of theirs lists `console:`).
    pub fn console_rights(&self, user: &str) -> ConsoleGrant {
        let mut grant = ConsoleGrant::default();
        for role in self.roles_of(user) {
            if role.console.is_empty() {
                continue;
            }
            grant.roles.push(role.name.clone());
            for r in &role.console {
                if !grant.rights.contains(r) {
                    grant.rights.push(*r);
                }
            }
        }
        grant.rights.sort();
        grant.roles.sort();
        grant
    }

    /// Whether some role gives `user` the `right` over every host (`hosts: ["*"]`, no
    /// exclusion): such a viewer also sees audit records that name no host (logins, admin
    /// changes, policy reloads); a viewer scoped to some hosts sees only records about them.
    pub fn console_everywhere(&self, user: &str, right: ConsoleRight) -> bool {
        self.roles_of(user)
            .iter()
            .any(|r| r.console.contains(&right) && r.covers_everything())
    }

    /// Whether `user` may use `right` on what happened on `host` (with its inventory `groups`):
    /// some role of theirs gives the right and covers the host.
    pub fn console_covers(
        &self,
        user: &str,
        right: ConsoleRight,
        host: &str,
        groups: &[String],
    ) -> bool {
        self.roles_of(user)
            .iter()
            .any(|r: &&Role| r.console.contains(&right) && r.covers_host(host, groups))
    }
}
