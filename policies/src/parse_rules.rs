//! The parts of a role that involve approvers: `request:` and `deny_commands` entries, which
//! may be a plain regex (block) or `{pattern, action: block|review, approvers, timeout}`.
//!
//! Every mistake is reported at its node (file:line:column), including an approver
//! `role:NAME` that names no role of the file, checked once every role is known.

use inventory::{Marked, MarkedValue};
use regex::Regex;

use crate::parse::{string, string_list, Ctx};
use crate::request::{DEFAULT_MAX_DURATION, DEFAULT_REVIEW_TIMEOUT};
use crate::{parse_duration, Approver, PolicyError, RequestRule, ReviewRule, Role};

const REQUEST_KEYS: [&str; 3] = ["approvers", "max_duration", "reason_required"];
const ENTRY_KEYS: [&str; 4] = ["pattern", "action", "approvers", "timeout"];

fn keys_known(ctx: &Ctx, node: &Marked, field: &str, known: &[&str]) -> Result<(), PolicyError> {
    let MarkedValue::Map(pairs) = &node.value else {
        return Err(ctx.err(
            node,
            field,
            format!("expected a mapping, found {}", node.kind()),
        ));
    };
    for (k, v) in pairs {
        if !known.contains(&k.as_str()) {
            return Err(ctx.err(
                v,
                &format!("{field}.{k}"),
                format!("unknown key; expected one of {}", known.join(", ")),
            ));
        }
    }
    Ok(())
}

fn approvers(ctx: &Ctx, node: &Marked, field: &str) -> Result<Vec<Approver>, PolicyError> {
    let mut out: Vec<Approver> = Vec::new();
    for (text, n) in string_list(ctx, node, field)? {
        let a = Approver::parse(&text).map_err(|m| ctx.err(n, field, m))?;
        if !out.iter().any(|x| x.text() == a.text()) {
            out.push(a);
        }
    }
    if out.is_empty() {
        return Err(ctx.err(node, field, "must list at least one approver"));
    }
    Ok(out)
}

fn duration(ctx: &Ctx, node: &Marked, field: &str) -> Result<std::time::Duration, PolicyError> {
    let text = match &node.value {
        MarkedValue::Int(i) if *i >= 0 => i.to_string(),
        _ => string(ctx, node, field)?,
    };
    let d = parse_duration(&text).map_err(|m| ctx.err(node, field, m))?;
    if d.is_zero() {
        return Err(ctx.err(node, field, "must be longer than zero"));
    }
    Ok(d)
}

/// Parses a role's `request:` block.
pub fn request(ctx: &Ctx, node: &Marked, field: &str) -> Result<RequestRule, PolicyError> {
    keys_known(ctx, node, field, &REQUEST_KEYS)?;
    let approvers = match node.get("approvers") {
        Some(n) => approvers(ctx, n, &format!("{field}.approvers"))?,
        None => {
            return Err(ctx.err(
                node,
                &format!("{field}.approvers"),
                "missing; a request needs someone to approve it",
            ))
        }
    };
    let max_duration = match node.get("max_duration") {
        Some(n) => duration(ctx, n, &format!("{field}.max_duration"))?,
        None => DEFAULT_MAX_DURATION,
    };
    let reason_required = match node.get("reason_required") {
        None => false,
        Some(Marked {
            value: MarkedValue::Bool(b),
            ..
        }) => *b,
        Some(n) => {
            return Err(ctx.err(
                n,
                &format!("{field}.reason_required"),
                format!("expected true or false, found {}", n.kind()),
            ))
        }
    };
    Ok(RequestRule {
        approvers,
        max_duration,
        reason_required,
    })
}

/// Parses `deny_commands`: blocking regexes, and the entries that ask for review.
pub fn deny_commands(
    ctx: &Ctx,
    node: &Marked,
    field: &str,
    request: Option<&RequestRule>,
) -> Result<(Vec<Regex>, Vec<ReviewRule>), PolicyError> {
    let items: Vec<&Marked> = match &node.value {
        MarkedValue::Seq(items) => items.iter().collect(),
        MarkedValue::Str(_) | MarkedValue::Map(_) => vec![node],
        _ => {
            return Err(ctx.err(
                node,
                field,
                format!("expected a list, found {}", node.kind()),
            ))
        }
    };
    let regex = |n: &Marked, text: &str| {
        Regex::new(text).map_err(|e| ctx.err(n, field, format!("bad regex {text:?}: {e}")))
    };
    let (mut block, mut review) = (Vec::new(), Vec::new());
    for item in items {
        if !matches!(item.value, MarkedValue::Map(_)) {
            block.push(regex(item, &string(ctx, item, field)?)?);
            continue;
        }
        keys_known(ctx, item, field, &ENTRY_KEYS)?;
        let Some(p) = item.get("pattern") else {
            return Err(ctx.err(item, &format!("{field}.pattern"), "missing"));
        };
        let pattern = regex(p, &string(ctx, p, field)?)?;
        let action = match item.get("action") {
            None => "block".to_string(),
            Some(a) => string(ctx, a, &format!("{field}.action"))?,
        };
        match action.as_str() {
            "block" => {
                if let Some(extra) = item.get("approvers").or(item.get("timeout")) {
                    return Err(ctx.err(
                        extra,
                        field,
                        "approvers and timeout only apply to action: review",
                    ));
                }
                block.push(pattern);
            }
            "review" => review.push(review_rule(ctx, item, field, pattern, request)?),
            other => {
                return Err(ctx.err(
                    item.get("action").unwrap_or(item),
                    &format!("{field}.action"),
                    format!("unknown action {other:?}; expected block or review"),
                ))
            }
        }
    }
    Ok((block, review))
}

fn review_rule(
    ctx: &Ctx,
    item: &Marked,
    field: &str,
    pattern: Regex,
    request: Option<&RequestRule>,
) -> Result<ReviewRule, PolicyError> {
    let approvers = match (item.get("approvers"), request) {
        (Some(n), _) => approvers(ctx, n, &format!("{field}.approvers"))?,
        (None, Some(r)) => r.approvers.clone(),
        (None, None) => {
            return Err(ctx.err(
                item,
                &format!("{field}.approvers"),
                "action: review needs approvers: give this entry `approvers:` or the role a `request:` block",
            ))
        }
    };
    let timeout = match item.get("timeout") {
        Some(n) => duration(ctx, n, &format!("{field}.timeout"))?,
        None => DEFAULT_REVIEW_TIMEOUT,
    };
    Ok(ReviewRule {
        pattern,
        approvers,
        timeout,
    })
}

/// Every `role:NAME` approver must name a role of the file.
pub fn check_approver_roles(
    ctx: &Ctx,
    items: &[Marked],
    roles: &[Role],
) -> Result<(), PolicyError> {
    each_approver(ctx, items, |text, n, field| match Approver::parse(text) {
        Ok(Approver::Role(r)) if !roles.iter().any(|role| role.name == r) => Err(ctx.err(
            n,
            field,
            format!("approver {text:?} names no role of this file"),
        )),
        _ => Ok(()),
    })
}

/// Every approver written as a plain user name (not a glob, not `role:`) must be a user
/// `is_user` knows: an approver who does not exist would leave requests no one can decide.
pub fn check_approver_users(
    text: &str,
    origin: &str,
    is_user: &dyn Fn(&str) -> bool,
) -> Result<(), PolicyError> {
    let ctx = Ctx { origin };
    let doc = inventory::load_yaml11_marked(text, origin).map_err(|e| ctx_error(&ctx, &e))?;
    let Some(MarkedValue::Seq(items)) = doc.get("roles").map(|r| &r.value) else {
        return Ok(());
    };
    each_approver(&ctx, items, |name, n, field| {
        let plain = !name.starts_with("role:") && !name.contains(['*', '?', '[']);
        if plain && !is_user(name) {
            return Err(ctx.err(
                n,
                field,
                format!("unknown approver {name:?}: no bastion user has that name"),
            ));
        }
        Ok(())
    })
}

fn ctx_error(ctx: &Ctx, e: &inventory::InventoryError) -> PolicyError {
    PolicyError {
        file: ctx.origin.to_string(),
        line: 0,
        col: 0,
        field: String::new(),
        message: e.to_string(),
    }
}

/// Calls `check` with every approver of every role: `request.approvers` and the
/// `approvers` of `deny_commands` entries, with its node and field path.
fn each_approver(
    ctx: &Ctx,
    items: &[Marked],
    mut check: impl FnMut(&str, &Marked, &str) -> Result<(), PolicyError>,
) -> Result<(), PolicyError> {
    for (i, item) in items.iter().enumerate() {
        let mut lists: Vec<(&Marked, String)> = Vec::new();
        if let Some(n) = item.get("request").and_then(|r| r.get("approvers")) {
            lists.push((n, format!("roles[{i}].request.approvers")));
        }
        if let Some(MarkedValue::Seq(entries)) = item.get("deny_commands").map(|d| &d.value) {
            for e in entries {
                if let Some(n) = e.get("approvers") {
                    lists.push((n, format!("roles[{i}].deny_commands.approvers")));
                }
            }
        }
        for (list, field) in lists {
            for (text, n) in string_list(ctx, list, &field)? {
                check(&text, n, &field)?;
            }
        }
    }
    Ok(())
}
