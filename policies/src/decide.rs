//! The policy set and its decisions.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Local, TimeZone};
use regex::Regex;

use crate::parse::parse_roles;
use crate::{ChannelKind, Hours, PolicyError, Role};

/// Every role of one policy file.
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    roles: Vec<Role>,
}

/// A question to the policy: may `user` open `channel` on `host` as `login`, at `at`?
#[derive(Debug, Clone)]
pub struct AccessRequest<'a> {
    pub user: &'a str,
    pub host: &'a str,
    /// The host's inventory groups (all ancestors), for `group:` selectors.
    pub groups: &'a [String],
    /// `None` asks for the default login.
    pub login: Option<&'a str>,
    pub channel: ChannelKind,
    pub at: DateTime<Local>,
}

/// Limits a granting role puts on the session.
#[derive(Debug, Clone, Default)]
pub struct SessionLimits {
    pub max_session: Option<Duration>,
    pub idle_timeout: Option<Duration>,
    pub hours: Option<Hours>,
    pub record_input: bool,
    pub deny_commands: Vec<Regex>,
    /// The role these limits come from.
    pub role: String,
}

/// The answer to an [`AccessRequest`], with the reason an auditor reads.
#[derive(Debug, Clone)]
pub struct Decision {
    pub allowed: bool,
    /// The login to use (when allowed).
    pub login: Option<String>,
    /// The deciding role (when allowed).
    pub role: Option<String>,
    /// One line: which rule allowed, or why nothing did.
    pub reason: String,
    pub limits: SessionLimits,
}

/// What a user may do on one host, for menus and `bastion hosts --user`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reach {
    /// Logins granted by any role, default first, without duplicates.
    pub logins: Vec<String>,
    /// False when every granting role is outside its hours right now.
    pub within_hours: bool,
}

impl PolicySet {
    /// Parses policy text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<PolicySet, PolicyError> {
        Ok(PolicySet {
            roles: parse_roles(text, origin)?,
        })
    }

    /// Reads and parses a policy file.
    pub fn load(path: &Path) -> Result<PolicySet, PolicyError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| PolicyError {
            file: origin.clone(),
            line: 0,
            col: 0,
            field: String::new(),
            message: format!("cannot read: {e}"),
        })?;
        PolicySet::parse(&text, &origin)
    }

    /// All roles in file order.
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    /// The roles `user` belongs to.
    pub fn roles_of(&self, user: &str) -> Vec<&Role> {
        self.roles.iter().filter(|r| r.has_member(user)).collect()
    }

    /// Whether login needs a TOTP code: yes unless the user holds roles and every one of them
    /// sets `require_totp: false`. A user without roles is asked too (deny by default).
    pub fn requires_totp(&self, user: &str) -> bool {
        let roles = self.roles_of(user);
        roles.is_empty() || roles.iter().any(|r| r.require_totp)
    }

    /// Decides a request. The first role (file order) that grants it decides.
    pub fn decide(&self, req: &AccessRequest) -> Decision {
        let mine = self.roles_of(req.user);
        if mine.is_empty() {
            return deny(format!("user {} holds no role", req.user));
        }
        let covering: Vec<&Role> = mine
            .into_iter()
            .filter(|r| r.covers_host(req.host, req.groups))
            .collect();
        if covering.is_empty() {
            return deny(format!("no role of {} covers host {}", req.user, req.host));
        }
        let with_login: Vec<&Role> = match req.login {
            Some(l) => covering
                .iter()
                .copied()
                .filter(|r| r.logins.iter().any(|x| x == l))
                .collect(),
            None => covering.clone(),
        };
        if with_login.is_empty() {
            let allowed = union_logins(&covering);
            return deny(format!(
                "login {} is not allowed on {} (allowed: {})",
                req.login.unwrap_or_default(),
                req.host,
                allowed.join(", ")
            ));
        }
        let with_channel: Vec<&Role> = with_login
            .iter()
            .copied()
            .filter(|r| r.channels.contains(&req.channel))
            .collect();
        if with_channel.is_empty() {
            return deny(format!(
                "channel {} is not allowed on {} by {}",
                req.channel,
                req.host,
                role_names(&with_login)
            ));
        }
        let Some(role) = with_channel
            .iter()
            .copied()
            .find(|r| r.within_hours(&req.at))
        else {
            let windows: Vec<String> = with_channel
                .iter()
                .filter_map(|r| r.hours.as_ref().map(|h| format!("{}: {h}", r.name)))
                .collect();
            return deny(format!("outside access hours ({})", windows.join("; ")));
        };
        let login = req
            .login
            .map(str::to_string)
            .unwrap_or_else(|| role.logins[0].clone());
        Decision {
            allowed: true,
            reason: format!(
                "role {} (line {}) allows {} as {login} on {} via {}",
                role.name, role.line, req.user, req.host, req.channel
            ),
            login: Some(login),
            role: Some(role.name.clone()),
            limits: SessionLimits {
                max_session: role.max_session,
                idle_timeout: role.idle_timeout,
                hours: role.hours.clone(),
                record_input: role.record_input,
                deny_commands: role.deny_commands.clone(),
                role: role.name.clone(),
            },
        }
    }

    /// The logins `user` may use on a host over any channel, and whether that is possible now.
    pub fn reachable<Tz: TimeZone>(
        &self,
        user: &str,
        host: &str,
        groups: &[String],
        now: DateTime<Tz>,
    ) -> Reach {
        let covering: Vec<&Role> = self
            .roles_of(user)
            .into_iter()
            .filter(|r| r.covers_host(host, groups))
            .collect();
        Reach {
            logins: union_logins(&covering),
            within_hours: covering.iter().any(|r| r.within_hours(&now)),
        }
    }
}

fn deny(reason: String) -> Decision {
    Decision {
        allowed: false,
        login: None,
        role: None,
        reason,
        limits: SessionLimits::default(),
    }
}

fn union_logins(roles: &[&Role]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in roles {
        for l in &r.logins {
            if !out.contains(l) {
                out.push(l.clone());
            }
        }
    }
    out
}

fn role_names(roles: &[&Role]) -> String {
    roles
        .iter()
        .map(|r| format!("role {}", r.name))
        .collect::<Vec<_>>()
        .join(", ")
}
