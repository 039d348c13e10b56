//! Reads `policies.yaml` into [`Role`]s, with file:line:column errors for every mistake.

use inventory::{Marked, MarkedValue};

use crate::parse_rules;
use crate::role_fields::RoleNode;
use crate::{PolicyError, Role};

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
    let name = RoleNode::name(ctx, node, path)?;
    let role = RoleNode {
        ctx,
        node,
        path,
        name: &name,
    };
    let console = role.console()?;
    let request = role.request()?;
    let (deny_commands, review_commands) = role.deny_commands(request.as_ref())?;
    Ok(Role {
        line: node.line,
        members: role.members()?,
        hosts: role.hosts()?,
        // A console-only role needs no logins: it grants no SSH access at all. Any other role
        // without `logins:` logs in as each host's own `ansible_user` (PRODUCT.md 1.1).
        logins_from_host: node.get("logins").is_none() && console.is_empty(),
        logins: role.logins()?,
        channels: role.channels()?,
        require_totp: role.flag("require_totp", true)?,
        max_session: role.duration("max_session")?,
        idle_timeout: role.duration("idle_timeout")?,
        hours: role.hours()?,
        deny_commands,
        review_commands,
        record_input: role.flag("record_input", false)?,
        forward_ports: role.forward_ports()?,
        console,
        request,
        name,
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
