//! A task's loop as written: `loop:` or a `with_<lookup>:` form, and
//! `loop_control:`. Only the shape is checked here; the items are templated per host at run
//! time (fleet-executor's loops.rs).

use inventory::{Marked, MarkedValue};

use super::error::PlaybookError;
use super::fields;
use super::model::{Loop, LoopControl, LoopKind};
use super::source::{pairs, Source};

/// `loop:` or `with_<lookup>:` ([`LoopKind::WITH_LOOKUPS`] by their own kinds, any other
/// lookup as [`LoopKind::Lookup`]).
pub(super) fn loop_spec(
    src: &Source,
    node: &Marked,
    key: &str,
    value: &Marked,
) -> Result<Loop, PlaybookError> {
    let (kind, lookup) = match key.strip_prefix("with_") {
        None => (LoopKind::Loop, None),
        Some(lookup) => match LoopKind::WITH_LOOKUPS
            .iter()
            .find(|(name, _)| *name == lookup)
        {
            Some((_, kind)) => (*kind, None),
            None if is_lookup_name(lookup) => (LoopKind::Lookup, Some(lookup.to_string())),
            None => {
                return Err(src.key_err(
                    node,
                    key,
                    value,
                    format!("'{key}' does not name a lookup plugin"),
                ));
            }
        },
    };
    Ok(Loop {
        kind,
        items: value.to_json(),
        lookup,
    })
}

/// A lookup plugin's name, possibly qualified (`nested`, `community.general.dig`).
fn is_lookup_name(name: &str) -> bool {
    !name.is_empty()
        && name.split('.').all(|part| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

/// `loop_control:`.
pub(super) fn loop_control(src: &Source, node: &Marked) -> Result<LoopControl, PlaybookError> {
    let mut control = LoopControl::default();
    let Some(entries) = pairs(node) else {
        if matches!(node.value, MarkedValue::Null) {
            return Ok(control);
        }
        return Err(src.err(
            node,
            format!("'loop_control' must be a mapping, got {}", node.kind()),
        ));
    };
    for (key, value) in entries {
        match key.as_str() {
            "loop_var" => control.loop_var = fields::string(src, value, key)?,
            "index_var" => control.index_var = fields::string(src, value, key)?,
            "label" => control.label = fields::string(src, value, key)?,
            "pause" => control.pause = fields::number(src, value, key, false)?,
            "extended" => control.extended = fields::flag(src, value, key)?,
            "break_when" => control.break_when = fields::conditions(src, value, key)?,
            "extended_allitems" => control.extended_allitems = fields::flag(src, value, key)?,
            _ => {
                return Err(src.key_err(
                    node,
                    key,
                    value,
                    format!("'{key}' is not a valid attribute for a LoopControl"),
                ))
            }
        }
    }
    for var in [&control.loop_var, &control.index_var]
        .into_iter()
        .flatten()
    {
        // a templated name is only known per host, at run time
        if !fields::is_identifier(var) && !fields::is_template(var) {
            return Err(src.err(node, format!("'{var}' is not a valid variable name")));
        }
    }
    Ok(control)
}
