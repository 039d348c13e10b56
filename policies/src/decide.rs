//! The policy set and its decisions: one place that answers "may this user do this now", as
//! the union of their roles, so every caller (session, menu, CLI) gets the same answer.

use std::path::Path;

use chrono::{DateTime, Local, TimeZone};

use crate::parse::parse_roles;
use crate::{
    approvers_text, ChannelKind, HeldGrant, NeedsRequest, PolicyError, Role, SessionLimits,
};

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
    /// The user's approved requests: a role with `request:` grants only through one of them.
    pub grants: &'a [HeldGrant],
    /// The host's `ansible_user` in the inventory: the login of roles that name none.
    pub host_user: Option<&'a str>,
}

/// The answer to an [`AccessRequest`], with the reason an auditor reads.
#[derive(Debug, Clone)]
pub struct Decision {
    pub allowed: bool,
    /// The login to use (when allowed).
    pub login: Option<String>,
    /// Every role that grants the request (when allowed), sorted by name.
    pub roles: Vec<String>,
    /// One line: which roles allowed (each with its line), or why nothing did.
    pub reason: String,
    /// The merge of the limits of every role in `roles`.
    pub limits: SessionLimits,
    /// Denied only for want of an approved request: what one would need.
    pub needs_request: Option<NeedsRequest>,
    /// Allowed through an approved request: the grant (the session ends when it does).
    pub grant: Option<HeldGrant>,
}

/// What a user may do on one host, for menus and `bastion hosts --user`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reach {
    /// Logins granted by any role covering the host, without duplicates: the roles' default
    /// logins first (sorted), then the others in role-name order.
    pub logins: Vec<String>,
    /// False when every granting role is outside its hours right now.
    pub within_hours: bool,
    /// The logins of `logins` reachable only through a request not yet approved.
    pub needs_request: Vec<String>,
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

    /// Decides a request as the union of the user's roles.
    ///
    /// A role *grants* when the user is a member, it covers the host, it has the login (any of
    /// its logins when none is asked for), it allows the channel, and it is within its hours at
    /// `req.at`. The request is allowed when at least one role grants. With no login asked for,
    /// the login is the default (first login) of the granting roles; when their defaults differ,
    /// the lexicographically smallest. The limits are then merged over *every* role that grants
    /// the request with that login ([`SessionLimits::merge`]).
    ///
    /// Role order in the file never changes a decision: roles are considered sorted by name,
    /// so the login, the limits, the role list and the reason (allow or deny) are the same for
    /// any order.
    pub fn decide(&self, req: &AccessRequest) -> Decision {
        self.try_decide(req).unwrap_or_else(|denied| *denied)
    }

    /// [`Policy::decide`] as a chain of narrowing steps, each of which may end in a denial
    /// (the `Err`) naming what was missing: a role, one covering the host, the login, the
    /// channel, the hours. What is left after them grants.
    fn try_decide(&self, req: &AccessRequest) -> Result<Decision, Denied> {
        let mine = self.roles_of(req.user);
        if mine.is_empty() {
            return Err(denied(format!("user {} holds no role", req.user)));
        }
        let covering = covering_among(mine, req.host, req.groups);
        if covering.is_empty() {
            return Err(denied(format!(
                "no role of {} covers host {}",
                req.user, req.host
            )));
        }
        let now_ts = req.at.timestamp();
        let with_login = roles_with_login(&covering, req, now_ts)?;
        let with_channel = roles_with_channel(&with_login, req)?;
        let in_hours = roles_within_hours(&with_channel, req)?;
        Ok(grant(&in_hours, req, now_ts))
    }

    /// The logins `user` may use on a host over any channel, and whether that is possible now.
    /// Logins that only a `request:` role grants, with no approved request among `grants`, are
    /// listed too, and named in [`Reach::needs_request`].
    pub fn reachable<Tz: TimeZone>(
        &self,
        user: &str,
        host: (&str, &[String], Option<&str>),
        now: DateTime<Tz>,
        grants: &[HeldGrant],
    ) -> Reach {
        let (host, groups, host_user) = host;
        let covering = self.covering(user, host, groups);
        let logins = union_logins(&covering, host_user);
        let now_ts = now.timestamp();
        let needs_request = logins
            .iter()
            .filter(|l| {
                !covering
                    .iter()
                    .any(|r| held_logins(r, host, host_user, grants, now_ts).contains(l))
            })
            .cloned()
            .collect();
        Reach {
            logins,
            within_hours: covering.iter().any(|r| r.within_hours(&now)),
            needs_request,
        }
    }

    /// True when some role of `user` covering the host with `login` is within its hours now.
    pub fn login_within_hours<Tz: TimeZone>(
        &self,
        user: &str,
        host: (&str, &[String], Option<&str>),
        login: &str,
        now: &DateTime<Tz>,
    ) -> bool {
        let (host, groups, host_user) = host;
        self.covering(user, host, groups)
            .iter()
            .any(|r| r.logins_on(host_user).iter().any(|l| l == login) && r.within_hours(now))
    }

    /// The roles of `user` covering a host, sorted by name.
    fn covering(&self, user: &str, host: &str, groups: &[String]) -> Vec<&Role> {
        covering_among(self.roles_of(user), host, groups)
    }
}

/// The roles among `roles` that cover the host, sorted by name (so file order never matters).
fn covering_among<'p>(roles: Vec<&'p Role>, host: &str, groups: &[String]) -> Vec<&'p Role> {
    let mut covering: Vec<&Role> = roles
        .into_iter()
        .filter(|r| r.covers_host(host, groups))
        .collect();
    covering.sort_by(|a, b| a.name.cmp(&b.name));
    covering
}

/// The covering roles that give the asked login (any login when none is asked) on the host
/// now; none: a denial naming the logins there are, or the request that would give one.
fn roles_with_login<'p>(
    covering: &[&'p Role],
    req: &AccessRequest,
    now_ts: i64,
) -> Result<Vec<&'p Role>, Denied> {
    let with_login: Vec<&Role> = covering
        .iter()
        .copied()
        .filter(|r| {
            let logins = usable_logins(r, req, now_ts);
            match req.login {
                Some(l) => logins.iter().any(|x| x == l),
                None => !logins.is_empty(),
            }
        })
        .collect();
    if !with_login.is_empty() {
        return Ok(with_login);
    }
    if let Some(d) = needs_request(covering, req) {
        return Err(Box::new(d));
    }
    let allowed = union_logins(covering, req.host_user);
    if allowed.is_empty() {
        return Err(denied(format!(
            "{} log in as the host's ansible_user, and {} has none in the inventory",
            role_names(covering),
            req.host
        )));
    }
    Err(denied(format!(
        "login {} is not allowed on {} (allowed: {})",
        req.login.unwrap_or_default(),
        req.host,
        allowed.join(", ")
    )))
}

/// The roles that allow the request's channel; none: a denial naming the roles that gave the
/// login.
fn roles_with_channel<'p>(
    with_login: &[&'p Role],
    req: &AccessRequest,
) -> Result<Vec<&'p Role>, Denied> {
    let with_channel: Vec<&Role> = with_login
        .iter()
        .copied()
        .filter(|r| r.channels.contains(&req.channel))
        .collect();
    if with_channel.is_empty() {
        return Err(denied(format!(
            "channel {} is not allowed on {} by {}",
            req.channel,
            req.host,
            role_names(with_login)
        )));
    }
    Ok(with_channel)
}

/// The roles within their access hours at `req.at`; none: a denial listing their windows.
fn roles_within_hours<'p>(
    with_channel: &[&'p Role],
    req: &AccessRequest,
) -> Result<Vec<&'p Role>, Denied> {
    let now: Vec<&Role> = with_channel
        .iter()
        .copied()
        .filter(|r| r.within_hours(&req.at))
        .collect();
    if now.is_empty() {
        let windows: Vec<String> = with_channel
            .iter()
            .filter_map(|r| r.hours.as_ref().map(|h| format!("{}: {h}", r.name)))
            .collect();
        return Err(denied(format!(
            "outside access hours ({})",
            windows.join("; ")
        )));
    }
    Ok(now)
}

/// The allowing decision over the roles left after every check: the login (asked, or the
/// smallest default among them), the roles that grant that login, their merged limits and the
/// approved request it goes through, if a `request:` role is among them.
fn grant(in_hours: &[&Role], req: &AccessRequest, now_ts: i64) -> Decision {
    let login = match req.login {
        Some(l) => l.to_string(),
        None => in_hours
            .iter()
            .filter_map(|r| usable_logins(r, req, now_ts).first().cloned())
            .min()
            .unwrap_or_default(),
    };
    let granting: Vec<&Role> = in_hours
        .iter()
        .copied()
        .filter(|r| usable_logins(r, req, now_ts).contains(&login))
        .collect();
    let grant = granting
        .iter()
        .any(|r| r.request.is_some())
        .then(|| held(req.grants, req.host, &login, now_ts))
        .flatten()
        .cloned();
    let limits = SessionLimits::merge(&granting);
    let verb = if granting.len() == 1 {
        "allows"
    } else {
        "allow"
    };
    let through = match &grant {
        Some(g) => format!(" through approved request {}", g.id),
        None => String::new(),
    };
    Decision {
        allowed: true,
        reason: format!(
            "{} {verb} {} as {login} on {} via {}{through}",
            role_lines(&granting),
            req.user,
            req.host,
            req.channel
        ),
        login: Some(login),
        roles: limits.roles.clone(),
        limits,
        needs_request: None,
        grant,
    }
}

/// A denial on its way out of [`Policy::try_decide`]'s steps (boxed: a `Decision` is large
/// and `Err` values travel through every `?`).
type Denied = Box<Decision>;

fn denied(reason: String) -> Denied {
    Box::new(deny(reason))
}

fn deny(reason: String) -> Decision {
    Decision {
        allowed: false,
        login: None,
        roles: Vec::new(),
        reason,
        limits: SessionLimits::default(),
        needs_request: None,
        grant: None,
    }
}

/// The logins a role grants on the request's host now (see [`held_logins`]).
fn usable_logins(r: &Role, req: &AccessRequest, now_ts: i64) -> Vec<String> {
    held_logins(r, req.host, req.host_user, req.grants, now_ts)
}

/// The logins a role grants on `host` now: all of them for a standing role; for a `request:`
/// role, only those of an approved request for this host that has not ended.
fn held_logins(
    r: &Role,
    host: &str,
    host_user: Option<&str>,
    grants: &[HeldGrant],
    now_ts: i64,
) -> Vec<String> {
    let logins = r.logins_on(host_user);
    if r.request.is_none() {
        return logins;
    }
    logins
        .into_iter()
        .filter(|l| held(grants, host, l, now_ts).is_some())
        .collect()
}

/// The longest-running grant of `login` on `host` still valid at `now_ts`.
fn held<'g>(
    grants: &'g [HeldGrant],
    host: &str,
    login: &str,
    now_ts: i64,
) -> Option<&'g HeldGrant> {
    grants
        .iter()
        .filter(|g| g.host == host && g.login == login && g.until > now_ts)
        .max_by_key(|g| g.until)
}

/// A denial for want of an approved request, when some `request:` role covering the host
/// has the login (or any login, when none was asked for).
fn needs_request(covering: &[&Role], req: &AccessRequest) -> Option<Decision> {
    let roles: Vec<&Role> = covering
        .iter()
        .copied()
        .filter(|r| r.request.is_some())
        .filter(|r| {
            let logins = r.logins_on(req.host_user);
            match req.login {
                Some(l) => logins.iter().any(|x| x == l),
                None => !logins.is_empty(),
            }
        })
        .collect();
    let first = roles.first()?;
    let login = match req.login {
        Some(l) => l.to_string(),
        None => roles
            .iter()
            .filter_map(|r| r.logins_on(req.host_user).first().cloned())
            .min()
            .unwrap_or_default(),
    };
    let rules: Vec<_> = roles.iter().filter_map(|r| r.request.as_ref()).collect();
    let mut approvers: Vec<String> = Vec::new();
    for a in rules.iter().flat_map(|r| r.approvers.iter()) {
        if !approvers.contains(&a.text()) {
            approvers.push(a.text());
        }
    }
    let need = NeedsRequest {
        roles: roles.iter().map(|r| r.name.clone()).collect(),
        login: login.clone(),
        max_duration: rules
            .iter()
            .map(|r| r.max_duration)
            .min()
            .unwrap_or(first.request.as_ref()?.max_duration),
        reason_required: rules.iter().any(|r| r.reason_required),
        approvers,
    };
    let verb = if roles.len() == 1 { "grants" } else { "grant" };
    let mut d = deny(format!(
        "needs an approved request: {} {verb} {login} on {} only through a request approved by {}",
        role_lines(&roles),
        req.host,
        approvers_text(&need.approvers)
    ));
    d.needs_request = Some(need);
    Some(d)
}

/// The logins of `roles` (sorted by name): their defaults first, sorted, then the others.
fn union_logins(roles: &[&Role], host_user: Option<&str>) -> Vec<String> {
    let mut defaults: Vec<String> = roles
        .iter()
        .filter_map(|r| r.logins_on(host_user).first().cloned())
        .collect();
    defaults.sort();
    let mut out: Vec<String> = Vec::new();
    for l in defaults
        .into_iter()
        .chain(roles.iter().flat_map(|r| r.logins_on(host_user)))
    {
        if !out.contains(&l) {
            out.push(l);
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

/// `role a (line 3), role b (line 12)`: every role with the line it starts on, by name.
fn role_lines(roles: &[&Role]) -> String {
    let mut sorted = roles.to_vec();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    sorted
        .iter()
        .map(|r| format!("role {} (line {})", r.name, r.line))
        .collect::<Vec<_>>()
        .join(", ")
}
