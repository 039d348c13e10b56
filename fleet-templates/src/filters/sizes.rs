//! Ansible's `human_readable` and `human_to_bytes`: sizes between numbers and text like
//! `1.18 MB`, in powers of 1024, as `ansible.module_utils.common.text.formatters` does.

use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::{Environment, Error};

use super::fail;

/// Ansible's size letters, largest first, with their multipliers and the words it accepts for
/// them before `byte` or `bit` (`kilo` + `byte`).
const UNITS: [(char, f64, &str); 9] = [
    ('Y', 1208925819614629174706176.0, "yotta"),
    ('Z', 1180591620717411303424.0, "zeta"),
    ('E', 1152921504606846976.0, "exa"),
    ('P', 1125899906842624.0, "peta"),
    ('T', 1099511627776.0, "tera"),
    ('G', 1073741824.0, "giga"),
    ('M', 1048576.0, "mega"),
    ('K', 1024.0, "kilo"),
    ('B', 1.0, ""),
];

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("human_readable", human_readable);
    env.add_filter("human_to_bytes", human_to_bytes);
}

/// `human_readable(isbits=False, unit=None)`: `1234567` is `1.18 MB`; with `unit`, that unit.
fn human_readable(
    size: &Value,
    isbits: Option<bool>,
    unit: Option<String>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    let isbits = super::named(isbits, &kwargs, "isbits")?;
    let unit: Option<String> = super::named(unit, &kwargs, "unit")?;
    kwargs.assert_all_used()?;
    if size.kind() != ValueKind::Number {
        return Err(fail(format!(
            "human_readable() failed on bad input: '>=' not supported between instances of '{}' and 'int'",
            crate::repr::py_type_name(size)
        )));
    }
    let size = f64::try_from(size.clone()).unwrap_or(0.0);
    let base = if isbits.unwrap_or(false) {
        "bits"
    } else {
        "Bytes"
    };
    let wanted = unit
        .as_deref()
        .and_then(|u| u.chars().next())
        .map(|c| c.to_ascii_uppercase());
    let (letter, limit) = UNITS
        .iter()
        .find(|(letter, limit, _)| match wanted {
            Some(w) => w == *letter,
            None => size >= *limit,
        })
        .map_or(('B', 1.0), |(letter, limit, _)| (*letter, *limit));
    let suffix = if limit == 1.0 {
        base.to_string()
    } else {
        format!("{letter}{}", &base[..1])
    };
    Ok(format!("{:.2} {suffix}", size / limit))
}

/// `human_to_bytes(default_unit=None, isbits=False)`: `'1.5 GB'` is `1610612736`.
fn human_to_bytes(
    value: &Value,
    default_unit: Option<String>,
    isbits: Option<bool>,
    kwargs: Kwargs,
) -> Result<i64, Error> {
    let default_unit: Option<String> = super::named(default_unit, &kwargs, "default_unit")?;
    let isbits = super::named(isbits, &kwargs, "isbits")?.unwrap_or(false);
    kwargs.assert_all_used()?;
    let text = crate::repr::py_string(value);
    let cant = || {
        fail(format!(
            "human_to_bytes() can't interpret the input: human_to_bytes() can't interpret following string: {text}"
        ))
    };
    let trimmed = text.trim_end();
    let number_end = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, rest) = trimmed.split_at(number_end);
    let valid_number = !number.is_empty()
        && number.matches('.').count() <= 1
        && !number.ends_with('.')
        && number.chars().any(|c| c.is_ascii_digit());
    let unit_text = rest.trim_start();
    if !valid_number || !unit_text.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(cant());
    }
    let num: f64 = number.parse().map_err(|_| cant())?;
    let unit = if unit_text.is_empty() {
        default_unit
    } else {
        Some(unit_text.to_string())
    };
    let Some(unit) = unit else {
        return Ok(num.round_ties_even() as i64);
    };
    let range_key = unit.chars().next().unwrap_or('B').to_ascii_uppercase();
    let Some((_, limit, word)) = UNITS.iter().find(|(letter, ..)| *letter == range_key) else {
        return Err(fail(format!(
            "human_to_bytes() can't interpret the input: human_to_bytes() failed to convert {text} (unit = {unit}). The suffix must be one of Y, Z, E, P, T, G, M, K, B"
        )));
    };
    let (unit_class, unit_class_name) = if isbits { ('b', "bit") } else { ('B', "byte") };
    if unit.chars().count() > 1 {
        // the whole word (`kilobyte`, any case) or exactly `KB` (`Kb` for bits)
        let word = format!("{word}{unit_class_name}");
        let short = format!("{range_key}{unit_class}");
        let short = if range_key == 'B' {
            unit_class.to_string()
        } else {
            short
        };
        if unit.to_lowercase() != word && unit != short {
            let expect = if range_key == 'B' {
                format!("expect {unit_class} or {unit_class_name}")
            } else {
                format!("expect {range_key}{unit_class} or {range_key}")
            };
            return Err(fail(format!(
                "human_to_bytes() can't interpret the input: human_to_bytes() failed to convert {text}. Value is not a valid string ({expect})"
            )));
        }
    }
    Ok((num * limit).round_ties_even() as i64)
}
