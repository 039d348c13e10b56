//! The limits a granted session runs under, merged over every role that grants it.
//!
//! Access is a union (PRODUCT.md 1.4): any granting role is enough to get in, but once in, the
//! session obeys *all* of them, most restrictive first. Merging here, in one place, is what makes
//! the outcome independent of the order roles are written in: every list is built from the
//! roles sorted by name, and every scalar is a commutative choice (any / minimum).

use std::time::Duration;

use chrono::{DateTime, TimeZone};
use regex::Regex;

use crate::{Hours, ReviewRule, Role};

/// Limits on one granted session: the merge of every role that grants it.
#[derive(Debug, Clone, Default)]
pub struct SessionLimits {
    /// The shortest `max_session` of the granting roles (`None` when none sets one).
    pub max_session: Option<Duration>,
    /// The shortest `idle_timeout` of the granting roles (`None` when none sets one).
    pub idle_timeout: Option<Duration>,
    /// Access hours are a condition of access, not a limit of their own: a role outside its
    /// hours does not grant, so it contributes nothing. A session may go on while at least one
    /// granting role is within its hours, so this holds the windows of the granting roles, and
    /// is empty when some granting role has no hours at all (hours then never end the session).
    /// See [`SessionLimits::hours_end`].
    pub hours: Vec<Hours>,
    /// True when any granting role records input.
    pub record_input: bool,
    /// True when any granting role requires TOTP; a connection that logged in without a code
    /// must then be refused (the caller knows how the connection authenticated).
    pub require_totp: bool,
    /// Every `deny_commands` rule of every granting role, deduplicated by pattern text, in role
    /// name order (then file order within a role).
    pub deny_commands: Vec<Regex>,
    /// For each rule of `deny_commands` (same index), the roles that set it.
    pub deny_roles: Vec<Vec<String>>,
    /// Every `action: review` entry of every granting role, one per pattern text (approvers
    /// joined, the shortest timeout), in role name order. A line a blocking rule matches is
    /// blocked, never reviewed.
    pub review_commands: Vec<ReviewRule>,
    /// The granting roles, sorted by name.
    pub roles: Vec<String>,
    /// Ports a `port_forward` grant may reach: any granting role's `forward_ports` (access is a
    /// union), sorted.
    pub forward_ports: Vec<u16>,
}

impl SessionLimits {
    /// Merges the limits of `granting` (any order; the result does not depend on it).
    pub fn merge(granting: &[&Role]) -> SessionLimits {
        let mut roles: Vec<&Role> = granting.to_vec();
        roles.sort_by(|a, b| a.name.cmp(&b.name));
        roles.dedup_by(|a, b| a.name == b.name);
        let mut out = SessionLimits {
            max_session: roles.iter().filter_map(|r| r.max_session).min(),
            idle_timeout: roles.iter().filter_map(|r| r.idle_timeout).min(),
            hours: Vec::new(),
            record_input: roles.iter().any(|r| r.record_input),
            require_totp: roles.iter().any(|r| r.require_totp),
            deny_commands: Vec::new(),
            deny_roles: Vec::new(),
            review_commands: Vec::new(),
            roles: roles.iter().map(|r| r.name.clone()).collect(),
            forward_ports: Vec::new(),
        };
        out.forward_ports = roles
            .iter()
            .flat_map(|r| r.forward_ports.iter().copied())
            .collect();
        out.forward_ports.sort_unstable();
        out.forward_ports.dedup();
        if roles.iter().all(|r| r.hours.is_some()) {
            for h in roles.iter().filter_map(|r| r.hours.as_ref()) {
                if !out.hours.contains(h) {
                    out.hours.push(h.clone());
                }
            }
        }
        for r in &roles {
            for rule in &r.deny_commands {
                match out
                    .deny_commands
                    .iter()
                    .position(|x| x.as_str() == rule.as_str())
                {
                    Some(i) => out.deny_roles[i].push(r.name.clone()),
                    None => {
                        out.deny_commands.push(rule.clone());
                        out.deny_roles.push(vec![r.name.clone()]);
                    }
                }
            }
        }
        for rule in roles.iter().flat_map(|r| r.review_commands.iter()) {
            match out
                .review_commands
                .iter_mut()
                .find(|x| x.pattern.as_str() == rule.pattern.as_str())
            {
                Some(known) => {
                    known.timeout = known.timeout.min(rule.timeout);
                    for a in &rule.approvers {
                        if !known.approvers.iter().any(|k| k.text() == a.text()) {
                            known.approvers.push(a.clone());
                        }
                    }
                }
                None => out.review_commands.push(rule.clone()),
            }
        }
        out
    }

    /// The first `action: review` rule matching `line`, unless a blocking rule matches it too.
    pub fn review_for(&self, line: &str) -> Option<&ReviewRule> {
        if self.deny_commands.iter().any(|r| r.is_match(line)) {
            return None;
        }
        self.review_commands
            .iter()
            .find(|r| r.pattern.is_match(line))
    }

    /// The roles that set the deny rule with pattern `rule`, comma-separated (for audit records
    /// and messages); all granting roles when no rule has that text.
    pub fn rule_roles(&self, rule: &str) -> String {
        match self.deny_commands.iter().position(|r| r.as_str() == rule) {
            Some(i) => self.deny_roles[i].join(", "),
            None => self.roles.join(", "),
        }
    }

    /// When access hours end a session running at `now`: the moment no window of
    /// [`SessionLimits::hours`] covers any more (windows of different roles that overlap or
    /// touch count as one stretch). `None` when hours never end it, or `now` is outside them all.
    pub fn hours_end<Tz: TimeZone>(&self, now: DateTime<Tz>) -> Option<DateTime<Tz>> {
        if self.hours.is_empty() {
            return None;
        }
        crate::hours::cover_end(now, |t| self.hours.iter().any(|h| h.contains_naive(t)))
    }

    /// The hours windows as one phrase (`Mon-Fri 08:00-20:00 or Sat 10:00-14:00`).
    pub fn hours_text(&self) -> String {
        self.hours
            .iter()
            .map(|h| h.to_string())
            .collect::<Vec<_>>()
            .join(" or ")
    }
}
