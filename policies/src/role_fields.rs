//! One role's fields, each read with its own check: [`RoleNode`] holds the role's YAML node,
//! and every error names the role's field (`roles[2].logins`) with its file, line and column.

use inventory::{Marked, MarkedValue};
use regex::Regex;

use crate::parse::{string, string_list, Ctx};
use crate::role::NamePattern;
use crate::{parse_duration, parse_rules, ChannelKind, HostSelector, Hours, PolicyError};
use crate::{ConsoleRight, RequestRule, ReviewRule};

/// Channels a role allows when it does not say.
const DEFAULT_CHANNELS: [ChannelKind; 3] =
    [ChannelKind::Shell, ChannelKind::Exec, ChannelKind::Sftp];

type Parsed<T> = Result<T, PolicyError>;

/// A role's mapping in `policies.yaml`, at `path` (`roles[N]`), named `name`.
pub(crate) struct RoleNode<'a> {
    pub ctx: &'a Ctx<'a>,
    pub node: &'a Marked,
    pub path: &'a str,
    pub name: &'a str,
}

impl<'a> RoleNode<'a> {
    /// The role's `name:`, which every role needs and which may not be blank.
    pub fn name(ctx: &Ctx, node: &Marked, path: &str) -> Parsed<String> {
        let field = format!("{path}.name");
        let Some(n) = node.get("name") else {
            return Err(ctx.err(node, &field, "missing; every role needs a name"));
        };
        let s = string(ctx, n, &field)?;
        if s.trim().is_empty() {
            return Err(ctx.err(n, &field, "must not be empty"));
        }
        Ok(s)
    }

    fn field(&self, k: &str) -> String {
        format!("{}.{k}", self.path)
    }

    fn err(&self, node: &Marked, k: &str, message: impl Into<String>) -> PolicyError {
        self.ctx.err(node, &self.field(k), message)
    }

    /// A list the role must have, with at least one entry.
    fn required_list(&self, k: &str) -> Parsed<Vec<(String, &'a Marked)>> {
        let Some(n) = self.node.get(k) else {
            let name = self.name;
            return Err(self.err(self.node, k, format!("missing; role {name:?} needs `{k}:`")));
        };
        let list = string_list(self.ctx, n, &self.field(k))?;
        if list.is_empty() {
            return Err(self.err(n, k, "must list at least one entry"));
        }
        Ok(list)
    }

    pub fn members(&self) -> Parsed<Vec<NamePattern>> {
        self.required_list("members")?
            .into_iter()
            .map(|(s, n)| NamePattern::new(&s).map_err(|m| self.err(n, "members", m)))
            .collect()
    }

    pub fn hosts(&self) -> Parsed<Vec<HostSelector>> {
        let hosts = self
            .required_list("hosts")?
            .into_iter()
            .map(|(s, n)| HostSelector::parse(&s).map_err(|m| self.err(n, "hosts", m)))
            .collect::<Parsed<Vec<_>>>()?;
        if hosts.iter().all(|h| h.exclude) {
            let n = self.node.get("hosts").unwrap_or(self.node);
            return Err(self.err(n, "hosts", "only exclusions (!...) select no host"));
        }
        Ok(hosts)
    }

    /// The console rights, each once; none when the role has no `console:`.
    pub fn console(&self) -> Parsed<Vec<ConsoleRight>> {
        let Some(n) = self.node.get("console") else {
            return Ok(Vec::new());
        };
        let mut rights = Vec::new();
        for (s, item) in string_list(self.ctx, n, &self.field("console"))? {
            let r = s
                .parse()
                .map_err(|m: String| self.err(item, "console", m))?;
            if !rights.contains(&r) {
                rights.push(r);
            }
        }
        if rights.is_empty() {
            return Err(self.err(n, "console", "must list at least one right"));
        }
        Ok(rights)
    }

    /// The target accounts, each once; none when the role has no `logins:`.
    pub fn logins(&self) -> Parsed<Vec<String>> {
        if self.node.get("logins").is_none() {
            return Ok(Vec::new());
        }
        let mut logins = Vec::new();
        for (s, n) in self.required_list("logins")? {
            let invalid = |c: char| c.is_whitespace() || c == '@' || c == '+' || c.is_control();
            if s.is_empty() || s.chars().any(invalid) {
                return Err(self.err(n, "logins", format!("{s:?} is not a valid account name")));
            }
            if !logins.contains(&s) {
                logins.push(s);
            }
        }
        Ok(logins)
    }

    pub fn channels(&self) -> Parsed<Vec<ChannelKind>> {
        let Some(n) = self.node.get("channels") else {
            return Ok(DEFAULT_CHANNELS.to_vec());
        };
        string_list(self.ctx, n, &self.field("channels"))?
            .into_iter()
            .map(|(s, n)| s.parse().map_err(|m: String| self.err(n, "channels", m)))
            .collect()
    }

    /// A duration (`90m`, `8h`, a number of seconds); none when absent or null, never zero.
    pub fn duration(&self, k: &str) -> Parsed<Option<std::time::Duration>> {
        let Some(n) = self.node.get(k) else {
            return Ok(None);
        };
        let text = match &n.value {
            MarkedValue::Null => return Ok(None),
            MarkedValue::Int(i) if *i >= 0 => format!("{i}"),
            _ => string(self.ctx, n, &self.field(k))?,
        };
        let d = parse_duration(&text).map_err(|m| self.err(n, k, m))?;
        if d.is_zero() {
            return Err(self.err(n, k, "must be longer than zero; omit it for no limit"));
        }
        Ok(Some(d))
    }

    pub fn hours(&self) -> Parsed<Option<Hours>> {
        match self.node.get("hours") {
            None => Ok(None),
            Some(n) if n.value == MarkedValue::Null => Ok(None),
            Some(n) => {
                let s = string(self.ctx, n, &self.field("hours"))?;
                Hours::parse(&s)
                    .map(Some)
                    .map_err(|m| self.err(n, "hours", m))
            }
        }
    }

    pub fn request(&self) -> Parsed<Option<RequestRule>> {
        self.node
            .get("request")
            .map(|n| parse_rules::request(self.ctx, n, &self.field("request")))
            .transpose()
    }

    /// `deny_commands:`, split into the rules that block and those that hold for review.
    pub fn deny_commands(
        &self,
        request: Option<&RequestRule>,
    ) -> Parsed<(Vec<Regex>, Vec<ReviewRule>)> {
        match self.node.get("deny_commands") {
            None => Ok((Vec::new(), Vec::new())),
            Some(n) => {
                parse_rules::deny_commands(self.ctx, n, &self.field("deny_commands"), request)
            }
        }
    }

    /// The TCP ports a role may forward to, each once.
    pub fn forward_ports(&self) -> Parsed<Vec<u16>> {
        let mut ports = Vec::new();
        let Some(n) = self.node.get("forward_ports") else {
            return Ok(ports);
        };
        for (s, n) in string_list(self.ctx, n, &self.field("forward_ports"))? {
            match s.parse::<u16>() {
                Ok(p) if p > 0 => {
                    if !ports.contains(&p) {
                        ports.push(p);
                    }
                }
                _ => {
                    let message = format!("{s:?} is not a TCP port (1-65535)");
                    return Err(self.err(n, "forward_ports", message));
                }
            }
        }
        Ok(ports)
    }

    /// A `true`/`false` field, `default` when absent.
    pub fn flag(&self, k: &str, default: bool) -> Parsed<bool> {
        match self.node.get(k) {
            None => Ok(default),
            Some(Marked {
                value: MarkedValue::Bool(b),
                ..
            }) => Ok(*b),
            Some(n) => Err(self.err(n, k, format!("expected true or false, found {}", n.kind()))),
        }
    }
}
