//! The bastion's one access decision: may this user reach this host, as which login, over which
//! channel, right now, and under which limits (PRODUCT.md 1.4).
//!
//! Before this crate the session, the host menu, `bastion hosts --user` and
//! `bastion policy explain` each joined the inventory and the policies themselves, and could
//! drift apart. Now they all ask [`Access`]:
//! - [`Access::grant`] answers one request: the host resolved in the inventory (address, port,
//!   pinned host key), the login, every contributing role, the merged limits and the reason.
//! - [`Access::reachable`] lists every (host, login) a user may reach, in inventory order.
//! - [`Access::console`] and [`Access::console_sees`]: the web console's rights and the hosts
//!   whose sessions they cover.
//!
//! Several roles combine as a union ([`policies::PolicySet::decide`]): any granting role lets
//! the request in, and the limits of every granting role apply, most restrictive first.
//!
//! What this crate owns: the snapshot of inventory + policies (loaded together, so a decision
//! never mixes old and new files) and the decision. What it must not know: storage (no SQL),
//! the SSH protocol, auditing (callers audit every allow and deny they act on), and how a
//! connection authenticated, beyond the one flag [`Grant::for_connection`] takes.

use std::path::Path;

use chrono::{DateTime, Local};
use inventory::{Inventory, InventoryError};
use policies::{
    AccessRequest, ChannelKind, ConsoleGrant, ConsoleRight, HeldGrant, NeedsRequest, PolicyError,
    PolicySet, SessionLimits,
};

/// A policy or inventory file that cannot be used; the message names file:line:column.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The inventory is unreadable or invalid.
    #[error("loading inventory: {0}")]
    Inventory(#[from] InventoryError),
    /// The policy file is unreadable or invalid.
    #[error("loading policies: {0}")]
    Policies(#[from] PolicyError),
}

/// Inventory and policies as one snapshot.
pub struct Access {
    pub inventory: Inventory,
    pub policies: PolicySet,
}

/// Where a known host is and how to check it is the right one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub address: String,
    pub port: u16,
    /// The host key preset in the inventory (`ssh_host_key`), if any.
    pub pinned_key: Option<String>,
    /// The host's inventory groups (all ancestors).
    pub groups: Vec<String>,
}

/// The answer to one request, allowed or not, with what an auditor needs either way.
#[derive(Debug, Clone)]
pub struct Grant {
    pub allowed: bool,
    /// The host as the inventory names it (as requested when unknown).
    pub host: String,
    /// `None` when the host is not in the inventory.
    pub endpoint: Option<Endpoint>,
    /// The login to use (when allowed).
    pub login: Option<String>,
    /// Every role that grants the request, sorted by name (empty when denied).
    pub roles: Vec<String>,
    /// One line: the granting roles with their lines, or why nothing granted.
    pub reason: String,
    /// The merged limits of every granting role.
    pub limits: SessionLimits,
    /// Denied only for want of an approved request: what one would need.
    pub needs_request: Option<NeedsRequest>,
    /// Allowed through an approved request: which one (sessions end when it does).
    pub grant: Option<HeldGrant>,
}

/// One (host, login) a user may reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reachable {
    pub host: String,
    pub login: String,
    pub address: String,
    pub port: u16,
    pub groups: Vec<String>,
    /// False when every role granting this login on this host is outside its hours now.
    pub within_hours: bool,
    /// Only a `request:` role grants it, and no approved request is held: picking it asks.
    pub needs_request: bool,
}

impl Access {
    /// A snapshot of already loaded files.
    pub fn new(inventory: Inventory, policies: PolicySet) -> Access {
        Access {
            inventory,
            policies,
        }
    }

    /// Loads both files; either error names file:line:column.
    pub fn load(inventory_path: &Path, policies_path: &Path) -> Result<Access, LoadError> {
        let inventory = Inventory::load(inventory_path)?;
        let policies = PolicySet::load(policies_path)?;
        Ok(Access::new(inventory, policies))
    }

    /// Whether logging in needs a TOTP code (see [`PolicySet::requires_totp`]).
    pub fn requires_totp(&self, user: &str) -> bool {
        self.policies.requires_totp(user)
    }

    /// Decides one request. `login: None` asks for the default login. An unknown host is
    /// denied with the reason `unknown host NAME`. `grants` are the user's approved requests
    /// (the store's; a `request:` role grants nothing without one).
    pub fn grant(
        &self,
        user: &str,
        host: &str,
        login: Option<&str>,
        channel: ChannelKind,
        now: DateTime<Local>,
        grants: &[HeldGrant],
    ) -> Grant {
        let Some(h) = self.inventory.host(host) else {
            return Grant {
                allowed: false,
                host: host.to_string(),
                endpoint: None,
                login: None,
                roles: Vec::new(),
                reason: format!("unknown host {host}"),
                limits: SessionLimits::default(),
                needs_request: None,
                grant: None,
            };
        };
        let groups = h.groups().to_vec();
        let d = self.policies.decide(&AccessRequest {
            user,
            host: &h.name,
            groups: &groups,
            login,
            channel,
            at: now,
            grants,
            host_user: h.user(),
        });
        Grant {
            allowed: d.allowed,
            host: h.name.clone(),
            endpoint: Some(Endpoint {
                address: h.address().to_string(),
                port: h.port(),
                pinned_key: h.ssh_host_key().map(str::to_string),
                groups,
            }),
            login: d.login.filter(|_| d.allowed),
            roles: d.roles,
            reason: d.reason,
            limits: d.limits,
            needs_request: d.needs_request,
            grant: d.grant,
        }
    }

    /// Decides a TCP forward (`ssh -L LOCAL:HOST:PORT`) to `port` of `host`, named as the
    /// inventory names it or by its address: a `port_forward` grant whose roles list the port
    /// in `forward_ports` (any granting role's list: access is a union).
    pub fn grant_forward(
        &self,
        user: &str,
        host: &str,
        port: u16,
        now: DateTime<Local>,
        grants: &[HeldGrant],
    ) -> Grant {
        let name = match self.resolve(host) {
            Some(h) => h.name.clone(),
            None => host.to_string(),
        };
        let mut grant = self.grant(user, &name, None, ChannelKind::PortForward, now, grants);
        if grant.allowed && !grant.limits.forward_ports.contains(&port) {
            grant.reason = format!(
                "port {port} of {name} is not in forward_ports of {} (allowed: {})",
                grant.roles.join(", "),
                if grant.limits.forward_ports.is_empty() {
                    "none".to_string()
                } else {
                    grant
                        .limits
                        .forward_ports
                        .iter()
                        .map(u16::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            );
            grant.allowed = false;
            grant.login = None;
        }
        grant
    }

    /// The inventory host a client names, by its inventory name or its address.
    pub fn resolve(&self, name_or_address: &str) -> Option<&inventory::Host> {
        self.inventory.host(name_or_address).or_else(|| {
            self.inventory
                .hosts()
                .find(|h| h.address() == name_or_address)
        })
    }

    /// When a `direct-tcpip` request names an inventory host's SSH service, its inventory
    /// name: the host by name or address, on port 22 (what `ssh -J bastion web1` asks for,
    /// the client not knowing where the bastion reaches web1) or on the host's own SSH port.
    /// Such a request is a ProxyJump, which the bastion terminates itself; it is never a raw
    /// TCP forward, whatever `forward_ports` lists.
    /// Several hosts may share an address (containers, NAT): the one whose SSH port was named
    /// wins, else on port 22 the first one.
    pub fn ssh_service(&self, name_or_address: &str, port: u16) -> Option<String> {
        if let Some(h) = self.inventory.host(name_or_address) {
            return (port == 22 || port == h.port()).then(|| h.name.clone());
        }
        let at_address = || {
            self.inventory
                .hosts()
                .filter(move |h| h.address() == name_or_address)
        };
        at_address()
            .find(|h| h.port() == port)
            .or_else(|| at_address().next().filter(|_| port == 22))
            .map(|h| h.name.clone())
    }

    /// What `user` may do in the web console (see [`policies::ConsoleGrant`]).
    pub fn console(&self, user: &str) -> ConsoleGrant {
        self.policies.console_rights(user)
    }

    /// Whether `user` may use `right` on what happened on `host`: a role giving the right
    /// covers the host, by name or by its inventory groups (a host since removed from the
    /// inventory is matched by name alone).
    pub fn console_sees(&self, user: &str, right: ConsoleRight, host: &str) -> bool {
        let groups = self
            .inventory
            .host(host)
            .map(|h| h.groups().to_vec())
            .unwrap_or_default();
        self.policies.console_covers(user, right, host, &groups)
    }

    /// Whether `user` holds `right` over every host (see
    /// [`policies::PolicySet::console_everywhere`]).
    pub fn console_everywhere(&self, user: &str, right: ConsoleRight) -> bool {
        self.policies.console_everywhere(user, right)
    }

    /// Whether `user` holds any login on `host` (an inventory name) now or at some hour: what
    /// [`Access::reachable`] lists for that one host, without going over every other host.
    pub fn reaches(&self, user: &str, host: &str, now: DateTime<Local>) -> bool {
        self.inventory.host(host).is_some_and(|h| {
            !self
                .policies
                .reachable(user, (&h.name, h.groups(), h.user()), now, &[])
                .logins
                .is_empty()
        })
    }

    /// Every (host, login) `user` may reach, hosts in inventory order, logins as
    /// [`policies::Reach::logins`] orders them; those only a request would open are marked.
    pub fn reachable(
        &self,
        user: &str,
        now: DateTime<Local>,
        grants: &[HeldGrant],
    ) -> Vec<Reachable> {
        let mut out = Vec::new();
        for h in self.inventory.hosts() {
            let groups = h.groups().to_vec();
            let facts = (h.name.as_str(), groups.as_slice(), h.user());
            let reach = self.policies.reachable(user, facts, now, grants);
            for login in reach.logins {
                let needs_request = reach.needs_request.contains(&login);
                let within_hours = self.policies.login_within_hours(user, facts, &login, &now);
                out.push(Reachable {
                    host: h.name.clone(),
                    login,
                    address: h.address().to_string(),
                    port: h.port(),
                    groups: groups.clone(),
                    within_hours,
                    needs_request,
                });
            }
        }
        out
    }
}

impl Grant {
    /// Applies what the connection proved: when a granting role requires TOTP and the
    /// connection logged in without a code (possible after a policy reload, or for a user
    /// created with `--no-totp`), the grant is turned into a denial (fail closed).
    pub fn for_connection(mut self, totp_verified: bool) -> Grant {
        if self.allowed && self.limits.require_totp && !totp_verified {
            self.reason = format!(
                "TOTP is required (granting roles: {}) but this connection logged in without a verification code",
                self.roles.join(", ")
            );
            self.allowed = false;
            self.login = None;
            self.roles.clear();
            self.grant = None;
            self.limits = SessionLimits::default();
        }
        self
    }
}
