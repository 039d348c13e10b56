//! Reads `policies.yaml` into [`Role`]s, with file:line:column errors for every mistake.

use inventory::{Marked, MarkedValue};

use crate::parse_rules;
use crate::role::NamePattern;
use crate::{parse_duration, ChannelKind, HostSelector, Hours, PolicyError, Role};

const ROLE_KEYS: [&str; 14] = [
    "name",
    "members",
    "hosts",
    "logins",
    "channels",
    "require_totp",
    "max_session",
    "idle_timeout",
    "hours",
    "deny_commands",
    "record_input",
    "forward_ports",
    "console",
    "request",
];

/// Channels a role allows when it does not say.
const DEFAULT_CHANNELS: [ChannelKind; 3] =
    [ChannelKind::Shell, ChannelKind::Exec, ChannelKind::Sftp];

pub(crate) struct Ctx<'a> {
    pub(crate) origin: &'a str,
}

impl Ctx<'_> {
    pub(crate) fn err(
        &self,
        node: &Marked,
        field: &str,
        message: impl Into<String>,
    ) -> PolicyError {
        PolicyError {
            file: self.origin.to_string(),
            line: node.line,
            col: node.col,
            field: field.to_string(),
            message: message.into(),
        }
    }
}

/// Parses the whole document.
pub fn parse_roles(text: &str, origin: &str) -> Result<Vec<Role>, PolicyError> {
    let doc =
        inventory::load_yaml11_marked(text, origin).map_err(|e| from_yaml_error(&e, origin))?;
    let ctx = Ctx { origin };
    let roles_node = match &doc.value {
        MarkedValue::Null => return Ok(Vec::new()),
        MarkedValue::Map(pairs) => {
            for (k, v) in pairs {
                if k != "roles" {
                    return Err(ctx.err(
                        v,
                        k,
                        "unknown top-level key; the file holds `roles:` only",
                    ));
                }
            }
            match doc.get("roles") {
                Some(r) => r,
                None => return Ok(Vec::new()),
            }
        }
        _ => {
            return Err(ctx.err(
                &doc,
                "",
                format!("expected a mapping with `roles:`, found {}", doc.kind()),
            ))
        }
    };
    let items = match &roles_node.value {
        MarkedValue::Null => return Ok(Vec::new()),
        MarkedValue::Seq(items) => items,
        _ => {
            return Err(ctx.err(
                roles_node,
                "roles",
                format!("expected a list of roles, found {}", roles_node.kind()),
            ))
        }
    };
    let mut roles: Vec<Role> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let role = parse_role(&ctx, item, &format!("roles[{i}]"))?;
        if let Some(prev) = roles.iter().find(|r| r.name == role.name) {
            let name_node = item.get("name").unwrap_or(item);
            return Err(ctx.err(
                name_node,
                &format!("roles[{i}].name"),
                format!(
                    "duplicate role name {:?} (first defined on line {})",
                    role.name, prev.line
                ),
            ));
        }
        roles.push(role);
    }
    parse_rules::check_approver_roles(&ctx, items, &roles)?;
    Ok(roles)
}

fn from_yaml_error(e: &inventory::InventoryError, origin: &str) -> PolicyError {
    match e {
        inventory::InventoryError::Parse {
            line, col, message, ..
        } => PolicyError {
            file: origin.to_string(),
            line: *line,
            col: *col,
            field: String::new(),
            message: message.clone(),
        },
        other => PolicyError {
            file: origin.to_string(),
            line: 0,
            col: 0,
            field: String::new(),
            message: other.to_string(),
        },
    }
}

fn parse_role(ctx: &Ctx, node: &Marked, path: &str) -> Result<Role, PolicyError> {
    let MarkedValue::Map(pairs) = &node.value else {
        return Err(ctx.err(
            node,
            path,
            format!("expected a role mapping, found {}", node.kind()),
        ));
    };
    for (k, v) in pairs {
        if !ROLE_KEYS.contains(&k.as_str()) {
            return Err(ctx.err(
                v,
                &format!("{path}.{k}"),
                format!("unknown key; expected one of {}", ROLE_KEYS.join(", ")),
            ));
        }
    }
    let field = |k: &str| format!("{path}.{k}");
    let name = match node.get("name") {
        Some(n) => {
            let s = string(ctx, n, &field("name"))?;
            if s.trim().is_empty() {
                return Err(ctx.err(n, &field("name"), "must not be empty"));
            }
            s
        }
        None => return Err(ctx.err(node, &field("name"), "missing; every role needs a name")),
    };
    let required_list = |k: &str| -> Result<Vec<(String, &Marked)>, PolicyError> {
        match node.get(k) {
            Some(n) => {
                let list = string_list(ctx, n, &field(k))?;
                if list.is_empty() {
                    return Err(ctx.err(n, &field(k), "must list at least one entry"));
                }
                Ok(list)
            }
            None => Err(ctx.err(
                node,
                &field(k),
                format!("missing; role {name:?} needs `{k}:`"),
            )),
        }
    };
    let members = required_list("members")?
        .into_iter()
        .map(|(s, n)| NamePattern::new(&s).map_err(|m| ctx.err(n, &field("members"), m)))
        .collect::<Result<Vec<_>, _>>()?;
    let hosts = required_list("hosts")?
        .into_iter()
        .map(|(s, n)| HostSelector::parse(&s).map_err(|m| ctx.err(n, &field("hosts"), m)))
        .collect::<Result<Vec<_>, _>>()?;
    if hosts.iter().all(|h| h.exclude) {
        return Err(ctx.err(
            node.get("hosts").unwrap_or(node),
            &field("hosts"),
            "only exclusions (!...) select no host",
        ));
    }
    let console = match node.get("console") {
        None => Vec::new(),
        Some(n) => {
            let mut rights = Vec::new();
            for (s, item) in string_list(ctx, n, &field("console"))? {
                let r = s
                    .parse()
                    .map_err(|m: String| ctx.err(item, &field("console"), m))?;
                if !rights.contains(&r) {
                    rights.push(r);
                }
            }
            if rights.is_empty() {
                return Err(ctx.err(n, &field("console"), "must list at least one right"));
            }
            rights
        }
    };
    // A console-only role needs no logins: it grants no SSH access at all. Any other role
    // without `logins:` logs in as each host's own `ansible_user` (PRODUCT.md 1.1).
    let logins_from_host = node.get("logins").is_none() && console.is_empty();
    let login_list = match node.get("logins") {
        None => Vec::new(),
        _ => required_list("logins")?,
    };
    let mut logins = Vec::new();
    for (s, n) in login_list {
        if s.is_empty()
            || s.chars()
                .any(|c| c.is_whitespace() || c == '@' || c == '+' || c.is_control())
        {
            return Err(ctx.err(
                n,
                &field("logins"),
                format!("{s:?} is not a valid account name"),
            ));
        }
        if !logins.contains(&s) {
            logins.push(s);
        }
    }
    let channels = match node.get("channels") {
        None => DEFAULT_CHANNELS.to_vec(),
        Some(n) => string_list(ctx, n, &field("channels"))?
            .into_iter()
            .map(|(s, n)| {
                s.parse()
                    .map_err(|m: String| ctx.err(n, &field("channels"), m))
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    let duration = |k: &str| -> Result<Option<std::time::Duration>, PolicyError> {
        let Some(n) = node.get(k) else {
            return Ok(None);
        };
        let text = match &n.value {
            MarkedValue::Null => return Ok(None),
            MarkedValue::Int(i) if *i >= 0 => format!("{i}"),
            _ => string(ctx, n, &field(k))?,
        };
        let d = parse_duration(&text).map_err(|m| ctx.err(n, &field(k), m))?;
        if d.is_zero() {
            return Err(ctx.err(
                n,
                &field(k),
                "must be longer than zero; omit it for no limit",
            ));
        }
        Ok(Some(d))
    };
    let max_session = duration("max_session")?;
    let idle_timeout = duration("idle_timeout")?;
    let hours = match node.get("hours") {
        None => None,
        Some(n) if n.value == MarkedValue::Null => None,
        Some(n) => {
            let s = string(ctx, n, &field("hours"))?;
            Some(Hours::parse(&s).map_err(|m| ctx.err(n, &field("hours"), m))?)
        }
    };
    let request = match node.get("request") {
        None => None,
        Some(n) => Some(parse_rules::request(ctx, n, &field("request"))?),
    };
    let (deny_commands, review_commands) = match node.get("deny_commands") {
        None => (Vec::new(), Vec::new()),
        Some(n) => parse_rules::deny_commands(ctx, n, &field("deny_commands"), request.as_ref())?,
    };
    let mut forward_ports = Vec::new();
    if let Some(n) = node.get("forward_ports") {
        for (s, n) in string_list(ctx, n, &field("forward_ports"))? {
            match s.parse::<u16>() {
                Ok(p) if p > 0 => {
                    if !forward_ports.contains(&p) {
                        forward_ports.push(p);
                    }
                }
                _ => {
                    return Err(ctx.err(
                        n,
                        &field("forward_ports"),
                        format!("{s:?} is not a TCP port (1-65535)"),
                    ))
                }
            }
        }
    }
    let flag = |k: &str, default: bool| -> Result<bool, PolicyError> {
        match node.get(k) {
            None => Ok(default),
            Some(Marked {
                value: MarkedValue::Bool(b),
                ..
            }) => Ok(*b),
            Some(n) => Err(ctx.err(
                n,
                &field(k),
                format!("expected true or false, found {}", n.kind()),
            )),
        }
    };
    Ok(Role {
        name,
        line: node.line,
        members,
        hosts,
        logins,
        logins_from_host,
        channels,
        require_totp: flag("require_totp", true)?,
        max_session,
        idle_timeout,
        hours,
        deny_commands,
        review_commands,
        record_input: flag("record_input", false)?,
        forward_ports,
        console,
        request,
    })
}

pub(crate) fn string(ctx: &Ctx, node: &Marked, field: &str) -> Result<String, PolicyError> {
    match &node.value {
        MarkedValue::Str(s) => Ok(s.clone()),
        MarkedValue::Int(i) => Ok(i.to_string()),
        _ => Err(ctx.err(node, field, format!("expected text, found {}", node.kind()))),
    }
}

/// A list of strings; a single string is accepted as a one-element list.
pub(crate) fn string_list<'a>(
    ctx: &Ctx,
    node: &'a Marked,
    field: &str,
) -> Result<Vec<(String, &'a Marked)>, PolicyError> {
    match &node.value {
        MarkedValue::Seq(items) => items
            .iter()
            .map(|n| Ok((string(ctx, n, field)?, n)))
            .collect(),
        MarkedValue::Str(_) => Ok(vec![(string(ctx, node, field)?, node)]),
        _ => Err(ctx.err(
            node,
            field,
            format!("expected a list, found {}", node.kind()),
        )),
    }
}
