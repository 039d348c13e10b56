//! Helpers the system modules share: reading typed arguments the way Ansible coerces them, and
//! the time and text formats Ansible's Python results use (`start`, `delta`, `stdout_lines`).

use chrono::Timelike;
use serde_json::Value;

use crate::{Args, ModuleResult};

pub use crate::BadArg;

/// A string argument (numbers and booleans are turned into their text, as Ansible does).
pub fn opt_str(args: &Args, key: &str) -> Option<String> {
    match args.get(key)? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(if *b { "True" } else { "False" }.to_string()),
        other => Some(other.to_string()),
    }
}

/// The first present string among a key and its aliases.
pub fn opt_str_any(args: &Args, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| opt_str(args, k))
}

/// A boolean argument with Ansible's accepted spellings (`yes`, `on`, `1`, `true`...).
pub fn opt_bool(args: &Args, key: &str) -> Result<Option<bool>, BadArg> {
    let Some(value) = args.get(key) else {
        return Ok(None);
    };
    if value.is_null() {
        return Ok(None);
    }
    match fleet_templates::boolean::from_json(value) {
        Some(b) => Ok(Some(b)),
        None => Err(BadArg(format!(
            "argument '{key}' is of type {} and we were unable to convert to bool: \
             The value '{}' is not a valid boolean.",
            fleet_templates::py_type_name(value),
            display(value)
        ))),
    }
}

/// A boolean argument with a default.
pub fn bool_or(args: &Args, key: &str, default: bool) -> Result<bool, BadArg> {
    Ok(opt_bool(args, key)?.unwrap_or(default))
}

/// A list argument: a YAML list, or a comma-separated string, as Ansible's `type='list'`.
pub fn opt_list(args: &Args, key: &str) -> Option<Vec<String>> {
    match args.get(key)? {
        Value::Null => None,
        Value::Array(items) => Some(items.iter().map(display).collect()),
        Value::String(s) => Some(
            s.split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect(),
        ),
        other => Some(vec![display(other)]),
    }
}

/// A numeric argument (ints or numeric strings).
pub fn opt_f64(args: &Args, key: &str) -> Result<Option<f64>, BadArg> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| {
            BadArg(format!(
                "argument '{key}' is of type str and we were unable to convert to int: \
                 invalid literal for int() with base 10: '{s}'"
            ))
        }),
        Some(other) => Err(BadArg(format!(
            "argument '{key}' is of type {} and we were unable to convert to int",
            fleet_templates::py_type_name(other)
        ))),
    }
}

/// One of a fixed set of choices, with Ansible's error text.
pub fn choice(
    args: &Args,
    key: &str,
    choices: &[&str],
    default: Option<&str>,
) -> Result<Option<String>, BadArg> {
    match opt_str(args, key) {
        None => Ok(default.map(str::to_string)),
        Some(v) if choices.contains(&v.as_str()) => Ok(Some(v)),
        Some(v) => Err(BadArg(format!(
            "value of {key} must be one of: {}, got: {v}",
            choices.join(", ")
        ))),
    }
}

/// A scalar as plain text (strings without JSON quotes).
pub fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Python's `str.splitlines()` of a text, as Ansible fills `stdout_lines`.
pub fn lines(text: &str) -> Value {
    Value::Array(
        text.lines()
            .map(|l| Value::String(l.strip_suffix('\r').unwrap_or(l).to_string()))
            .collect(),
    )
}

/// Adds `rc`, `stdout`, `stderr` and their `_lines` to a result, like Ansible's low-level
/// command results (`raw`, `script`).
pub fn with_output(result: ModuleResult, rc: i32, stdout: &str, stderr: &str) -> ModuleResult {
    result
        .with("rc", rc)
        .with("stdout", stdout)
        .with("stdout_lines", lines(stdout))
        .with("stderr", stderr)
        .with("stderr_lines", lines(stderr))
}

/// A point in time as `date '+%Y-%m-%d %H:%M:%S.%N'` prints it on the host, kept as text plus
/// the host's local date and time (to the microsecond, as Python keeps it) for the delta.
#[derive(Debug, Clone, PartialEq)]
pub struct HostTime {
    /// Python's `str(datetime)`: `2024-05-01 10:20:30.123456`.
    pub text: String,
    /// The host's local clock, without a zone (as the host printed it).
    at: chrono::NaiveDateTime,
}

impl HostTime {
    /// Parses `YYYY-MM-DD HH:MM:SS.NNNNNNNNN`; `None` when the host's `date` lacks `%N`.
    pub fn parse(line: &str) -> Option<HostTime> {
        let line = line.trim();
        let (seconds, frac) = line.split_once('.')?;
        if frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let micros: u32 = format!("{frac:0<6}")[..6].parse().ok()?;
        let at = chrono::NaiveDateTime::parse_from_str(seconds, "%Y-%m-%d %H:%M:%S").ok()?;
        Some(HostTime::at(at.with_nanosecond(micros * 1000)?))
    }

    fn at(at: chrono::NaiveDateTime) -> HostTime {
        // Python prints the fraction only when there is one.
        let format = if at.nanosecond() == 0 {
            "%Y-%m-%d %H:%M:%S"
        } else {
            "%Y-%m-%d %H:%M:%S%.6f"
        };
        HostTime {
            text: at.format(format).to_string(),
            at,
        }
    }

    /// The host's local time `micros` microseconds after 1970-01-01 00:00 (of that local
    /// clock), as Python's `str(datetime)` prints it.
    pub fn from_local_micros(micros: i64) -> HostTime {
        let at = chrono::DateTime::from_timestamp_micros(micros).unwrap_or_default();
        HostTime::at(at.naive_utc())
    }

    /// Microseconds since 1970-01-01 00:00 of the host's local clock.
    pub fn local_micros(&self) -> i64 {
        self.at.and_utc().timestamp_micros()
    }

    /// Python's `str(end - start)` for a `timedelta`: `0:00:00.003456`.
    pub fn delta(&self, end: &HostTime) -> String {
        python_timedelta(i128::from(end.local_micros()) - i128::from(self.local_micros()))
    }
}

/// Formats microseconds as Python's `str(timedelta)`.
pub fn python_timedelta(micros: i128) -> String {
    let days = micros.div_euclid(86_400_000_000);
    let rest = micros.rem_euclid(86_400_000_000);
    let secs = rest / 1_000_000;
    let frac = rest % 1_000_000;
    let mut out = String::new();
    if days != 0 {
        let plural = if days.abs() == 1 { "" } else { "s" };
        out.push_str(&format!("{days} day{plural}, "));
    }
    out.push_str(&format!(
        "{}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    ));
    if frac != 0 {
        out.push_str(&format!(".{frac:06}"));
    }
    out
}

/// The controller's clock: microseconds since the Unix epoch.
pub fn controller_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// Shell snippet printing the host's time as [`HostTime::parse`] reads it.
pub const DATE_NOW: &str = "date '+%Y-%m-%d %H:%M:%S.%N'";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn host_time_and_delta_match_python_formats() {
        let a = HostTime::parse("2024-02-28 23:59:59.999999500").unwrap();
        let b = HostTime::parse("2024-02-29 00:00:01.000100").unwrap();
        assert_eq!(a.text, "2024-02-28 23:59:59.999999");
        assert_eq!(a.delta(&b), "0:00:01.000101");
        let c = HostTime::parse("2024-03-02 01:00:01.000100000").unwrap();
        assert_eq!(b.delta(&c), "2 days, 1:00:00");
        assert!(HostTime::parse("2024-03-02 01:00:01.%N").is_none());
        for text in [
            "2024-02-29 00:00:01.000100",
            "1969-12-31 23:59:59.5",
            "2100-03-01 12:00:00",
        ] {
            let t = HostTime::parse(&format!("{text}.0")).or_else(|| HostTime::parse(text));
            let t = t.unwrap();
            assert_eq!(HostTime::from_local_micros(t.local_micros()), t, "{text}");
        }
    }

    #[test]
    fn bools_lists_and_choices_coerce_like_ansible() {
        let args = json!({"a": "yes", "b": "Off", "c": 1, "d": "maybe", "l": "x, y", "s": "z"});
        let args = args.as_object().unwrap();
        assert_eq!(opt_bool(args, "a").unwrap(), Some(true));
        assert_eq!(opt_bool(args, "b").unwrap(), Some(false));
        assert_eq!(opt_bool(args, "c").unwrap(), Some(true));
        assert!(opt_bool(args, "d").is_err());
        assert_eq!(opt_list(args, "l").unwrap(), vec!["x", "y"]);
        let err = choice(args, "s", &["a", "b"], None).unwrap_err();
        assert_eq!(err.0, "value of s must be one of: a, b, got: z");
    }
}
