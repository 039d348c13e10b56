//! One role of a policy file, compiled for matching.

use std::time::Duration;

use globset::{Glob, GlobMatcher};
use regex::Regex;

use crate::{ChannelKind, ConsoleRight, Hours, RequestRule, ReviewRule};

/// A role: who (members) may reach what (hosts) as whom (logins), how (channels), when (hours),
/// and under which limits.
#[derive(Debug, Clone)]
pub struct Role {
    pub name: String,
    /// 1-based line where the role starts, so explanations can point at it.
    pub line: usize,
    /// Bastion user names or globs (`*` for everyone).
    pub members: Vec<NamePattern>,
    pub hosts: Vec<HostSelector>,
    /// Target accounts; the first is the default. Empty in a console-only role, and in a role
    /// that takes each host's own `ansible_user` ([`Role::logins_from_host`]).
    pub logins: Vec<String>,
    /// No `logins:` and not console-only: the login is the host's `ansible_user` from the
    /// inventory (a host without one is not granted by this role).
    pub logins_from_host: bool,
    pub channels: Vec<ChannelKind>,
    pub require_totp: bool,
    pub max_session: Option<Duration>,
    pub idle_timeout: Option<Duration>,
    pub hours: Option<Hours>,
    pub deny_commands: Vec<Regex>,
    /// `deny_commands` entries with `action: review`: held until an approver says yes.
    pub review_commands: Vec<ReviewRule>,
    pub record_input: bool,
    /// Ports of its hosts that `port_forward` may reach (`ssh -L`); none when empty.
    pub forward_ports: Vec<u16>,
    /// What members may do in the web console, over the sessions of the role's hosts.
    pub console: Vec<ConsoleRight>,
    /// `request:`: the role grants only through an approved, time-boxed request.
    pub request: Option<RequestRule>,
}

/// A glob over names, keeping the text it came from for messages.
#[derive(Debug, Clone)]
pub struct NamePattern {
    pub text: String,
    matcher: GlobMatcher,
}

impl NamePattern {
    /// Compiles a glob (`web*`, `db[12]`, `*`); plain names match themselves.
    pub fn new(text: &str) -> Result<NamePattern, String> {
        let glob = Glob::new(text).map_err(|e| format!("bad pattern {text:?}: {e}"))?;
        Ok(NamePattern {
            text: text.to_string(),
            matcher: glob.compile_matcher(),
        })
    }

    /// True when `name` matches.
    pub fn matches(&self, name: &str) -> bool {
        self.matcher.is_match(name)
    }
}

/// One entry of `hosts:`: a host glob, `group:NAME` (a glob over group names too), either
/// optionally prefixed with `!` to exclude what it matches.
#[derive(Debug, Clone)]
pub struct HostSelector {
    pub exclude: bool,
    pub target: SelectorTarget,
}

/// What a [`HostSelector`] looks at.
#[derive(Debug, Clone)]
pub enum SelectorTarget {
    Host(NamePattern),
    Group(NamePattern),
}

impl HostSelector {
    /// Parses `web*`, `group:db`, `!web3`, `!group:staging`.
    pub fn parse(text: &str) -> Result<HostSelector, String> {
        let (exclude, rest) = match text.strip_prefix('!') {
            Some(r) => (true, r.trim()),
            None => (false, text.trim()),
        };
        if rest.is_empty() {
            return Err(format!("empty host selector {text:?}"));
        }
        let target = match rest.strip_prefix("group:") {
            Some("") => return Err(format!("{text:?}: group name missing after group:")),
            Some(g) => SelectorTarget::Group(NamePattern::new(g)?),
            None => SelectorTarget::Host(NamePattern::new(rest)?),
        };
        Ok(HostSelector { exclude, target })
    }

    fn hits(&self, host: &str, groups: &[String]) -> bool {
        match &self.target {
            SelectorTarget::Host(p) => p.matches(host),
            SelectorTarget::Group(p) => groups.iter().any(|g| p.matches(g)),
        }
    }
}

impl Role {
    /// The logins this role grants on a host whose inventory `ansible_user` is `host_user`.
    pub fn logins_on(&self, host_user: Option<&str>) -> Vec<String> {
        if self.logins_from_host {
            host_user.map(|u| vec![u.to_string()]).unwrap_or_default()
        } else {
            self.logins.clone()
        }
    }

    /// True when `user` is a member.
    pub fn has_member(&self, user: &str) -> bool {
        self.members.iter().any(|m| m.matches(user))
    }

    /// True when some selector includes the host and none excludes it.
    pub fn covers_host(&self, host: &str, groups: &[String]) -> bool {
        let included = self
            .hosts
            .iter()
            .any(|s| !s.exclude && s.hits(host, groups));
        included && !self.hosts.iter().any(|s| s.exclude && s.hits(host, groups))
    }

    /// True when the role selects every host: a `*` host selector and no exclusion.
    pub fn covers_everything(&self) -> bool {
        self.hosts.iter().all(|s| !s.exclude)
            && self
                .hosts
                .iter()
                .any(|s| matches!(&s.target, SelectorTarget::Host(p) if p.text == "*"))
    }

    /// True when the role's hours (if any) include `at`.
    pub fn within_hours<Tz: chrono::TimeZone>(&self, at: &chrono::DateTime<Tz>) -> bool {
        self.hours.as_ref().is_none_or(|h| h.contains(at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_match_hosts_groups_and_exclusions() {
        let sel = |t: &str| HostSelector::parse(t).unwrap();
        let groups = vec!["db".to_string(), "prod".to_string()];
        assert!(sel("web*").hits("web1", &[]));
        assert!(!sel("web*").hits("db1", &groups));
        assert!(sel("group:db").hits("db1", &groups));
        assert!(sel("group:pr*").hits("db1", &groups));
        assert!(sel("!web3").exclude);
        assert!(HostSelector::parse("group:").is_err());
        assert!(HostSelector::parse("!").is_err());
    }
}
