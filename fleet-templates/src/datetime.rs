//! Python's `datetime.datetime` and `datetime.timedelta` in templates.
//!
//! Ansible's `now()` and `to_datetime` give Python datetime objects, and playbooks lean on
//! that: `(cert.not_after | to_datetime('%Y%m%d%H%M%SZ') - now()).days < 30` is how an expiry
//! check reads. minijinja has no such type, so these are minijinja objects with Python's
//! attributes (`year` ... `microsecond`; `days`, `seconds`, `microseconds`), methods
//! (`strftime`, `isoformat`, `timestamp`, `weekday`, `isoweekday`, `replace`;
//! `total_seconds`), ordering, and arithmetic (`datetime - datetime`, `datetime ± timedelta`,
//! `timedelta ± timedelta`) through [`binop`], which `py_ops` calls where minijinja's own
//! operators refuse objects. Like Python's naive datetimes they carry no zone, and microseconds
//! are their finest unit.
//!
//! Text: `str()`, Python's `2024-03-01 10:00:00`, is what `{{ when }}` and `~` write into
//! text and what a datetime becomes when it leaves the template (a fact, a registered
//! result): fleet's variables are JSON, and a fact set from `now()` is then used in text (a
//! file name, a log line) far more often than printed whole, where Ansible would show
//! `isoformat()`'s `2024-03-01T10:00:00`.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike};
use minijinja::value::{from_args, DynObject, Kwargs, Object, ObjectRepr, Value};
use minijinja::{Error, ErrorKind, State};

/// A naive `datetime.datetime`, to the microsecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct PyDateTime(NaiveDateTime);

/// A `datetime.timedelta`, to the microsecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct PyTimeDelta(TimeDelta);

fn type_error(message: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, message)
}

/// Drops what is finer than a microsecond.
fn to_micros(at: NaiveDateTime) -> NaiveDateTime {
    let micros = at.nanosecond() / 1000 * 1000;
    at.with_nanosecond(micros).unwrap_or(at)
}

impl PyDateTime {
    pub(crate) fn value(at: NaiveDateTime) -> Value {
        Value::from_object(PyDateTime(to_micros(at)))
    }

    fn micros(&self) -> u32 {
        self.0.nanosecond() / 1000 % 1_000_000
    }

    /// `isoformat(sep)`: seconds always, microseconds when not zero.
    fn iso(&self, sep: &str) -> String {
        let mut s = self.0.format(&format!("%Y-%m-%d{sep}%H:%M:%S")).to_string();
        if self.micros() != 0 {
            s.push_str(&format!(".{:06}", self.micros()));
        }
        s
    }

    /// `repr()`: `datetime.datetime(2024, 3, 1, 10, 0)`, trailing zero seconds and
    /// microseconds left out.
    fn repr(&self) -> String {
        let t = &self.0;
        let mut parts = vec![
            t.year().to_string(),
            t.month().to_string(),
            t.day().to_string(),
            t.hour().to_string(),
            t.minute().to_string(),
        ];
        if t.second() != 0 || self.micros() != 0 {
            parts.push(t.second().to_string());
        }
        if self.micros() != 0 {
            parts.push(self.micros().to_string());
        }
        format!("datetime.datetime({})", parts.join(", "))
    }

    /// `replace(year=..., ..., microsecond=...)`.
    fn replace(&self, kwargs: &Kwargs) -> Result<Value, Error> {
        let t = &self.0;
        let field = |name: &str, current: u32| -> Result<u32, Error> {
            Ok(kwargs.get::<Option<u32>>(name)?.unwrap_or(current))
        };
        let year = kwargs.get::<Option<i32>>("year")?.unwrap_or(t.year());
        let (month, day) = (field("month", t.month())?, field("day", t.day())?);
        let (hour, minute) = (field("hour", t.hour())?, field("minute", t.minute())?);
        let (second, micro) = (
            field("second", t.second())?,
            field("microsecond", self.micros())?,
        );
        kwargs.assert_all_used()?;
        let date = NaiveDate::from_ymd_opt(year, month, day)
            .ok_or_else(|| type_error("day is out of range for month".into()))?;
        let time = NaiveTime::from_hms_micro_opt(hour, minute, second, micro)
            .ok_or_else(|| type_error("hour must be in 0..23".into()))?;
        Ok(PyDateTime::value(date.and_time(time)))
    }
}

impl Object for PyDateTime {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let t = &self.0;
        Some(Value::from(match key.as_str()? {
            "year" => t.year() as i64,
            "month" => t.month() as i64,
            "day" => t.day() as i64,
            "hour" => t.hour() as i64,
            "minute" => t.minute() as i64,
            "second" => t.second() as i64,
            "microsecond" => self.micros() as i64,
            "tzinfo" => return Some(Value::from(())),
            _ => return None,
        }))
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "strftime" => {
                let (format,): (String,) = from_args(args)?;
                Ok(Value::from(strftime(&self.0, &format)))
            }
            "isoformat" => {
                let (sep, kwargs): (Option<String>, Kwargs) = from_args(args)?;
                let sep = crate::filters::named(sep, &kwargs, "sep")?;
                kwargs.assert_all_used()?;
                Ok(Value::from(self.iso(sep.as_deref().unwrap_or("T"))))
            }
            "timestamp" => {
                let local = self
                    .0
                    .and_local_timezone(chrono::Local)
                    .earliest()
                    .ok_or_else(|| type_error("time does not exist in the local zone".into()))?;
                Ok(Value::from(local.timestamp_micros() as f64 / 1e6))
            }
            "weekday" => Ok(Value::from(self.0.weekday().num_days_from_monday())),
            "isoweekday" => Ok(Value::from(self.0.weekday().number_from_monday())),
            "replace" => {
                let (kwargs,): (Kwargs,) = from_args(args)?;
                self.replace(&kwargs)
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    fn custom_cmp(self: &Arc<Self>, other: &DynObject) -> Option<Ordering> {
        Some(self.0.cmp(&other.downcast_ref::<Self>()?.0))
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.iso(" "))
    }
}

impl PyTimeDelta {
    fn value(delta: TimeDelta) -> Value {
        Value::from_object(PyTimeDelta(delta))
    }

    fn total_micros(&self) -> i64 {
        self.0.num_microseconds().unwrap_or(i64::MAX)
    }

    /// Python's normal form: `(days, seconds, microseconds)` with `0 <= seconds < 86400` and
    /// `0 <= microseconds < 1000000`; only `days` is negative.
    fn parts(&self) -> (i64, i64, i64) {
        let micros = self.total_micros();
        let days = micros.div_euclid(86_400_000_000);
        let rest = micros.rem_euclid(86_400_000_000);
        (days, rest / 1_000_000, rest % 1_000_000)
    }

    /// `str()`: `2 days, 0:30:00`, `-1 day, 23:59:59.500000`, `0:00:01`.
    fn py_str(&self) -> String {
        let (days, seconds, micros) = self.parts();
        let mut s = format!(
            "{}:{:02}:{:02}",
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60
        );
        if days != 0 {
            let plural = if days.abs() != 1 { "s" } else { "" };
            s = format!("{days} day{plural}, {s}");
        }
        if micros != 0 {
            s.push_str(&format!(".{micros:06}"));
        }
        s
    }

    /// `repr()`: `datetime.timedelta(days=2, seconds=1800)`, `datetime.timedelta(0)`.
    fn repr(&self) -> String {
        let (days, seconds, micros) = self.parts();
        let parts: Vec<String> = [
            ("days", days),
            ("seconds", seconds),
            ("microseconds", micros),
        ]
        .iter()
        .filter(|(_, n)| *n != 0)
        .map(|(name, n)| format!("{name}={n}"))
        .collect();
        if parts.is_empty() {
            "datetime.timedelta(0)".into()
        } else {
            format!("datetime.timedelta({})", parts.join(", "))
        }
    }
}

impl Object for PyTimeDelta {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let (days, seconds, micros) = self.parts();
        Some(Value::from(match key.as_str()? {
            "days" => days,
            "seconds" => seconds,
            "microseconds" => micros,
            _ => return None,
        }))
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "total_seconds" => {
                let () = from_args(args)?;
                Ok(Value::from(self.total_micros() as f64 / 1e6))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    fn custom_cmp(self: &Arc<Self>, other: &DynObject) -> Option<Ordering> {
        Some(self.0.cmp(&other.downcast_ref::<Self>()?.0))
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.py_str())
    }
}

/// Python's `str()` of a datetime or timedelta, or `None` for any other value.
pub(crate) fn py_str(value: &Value) -> Option<String> {
    if let Some(t) = value.downcast_object_ref::<PyDateTime>() {
        return Some(t.iso(" "));
    }
    value
        .downcast_object_ref::<PyTimeDelta>()
        .map(PyTimeDelta::py_str)
}

/// Python's `repr()` of a datetime or timedelta, or `None` for any other value.
pub(crate) fn py_repr(value: &Value) -> Option<String> {
    if let Some(t) = value.downcast_object_ref::<PyDateTime>() {
        return Some(t.repr());
    }
    value
        .downcast_object_ref::<PyTimeDelta>()
        .map(PyTimeDelta::repr)
}

/// Python's type name of a datetime or timedelta (for error messages).
pub(crate) fn type_name(value: &Value) -> Option<&'static str> {
    if value.downcast_object_ref::<PyDateTime>().is_some() {
        Some("datetime.datetime")
    } else if value.downcast_object_ref::<PyTimeDelta>().is_some() {
        Some("datetime.timedelta")
    } else {
        None
    }
}

/// `left OP right` for `+` and `-` when a side is a datetime or timedelta, as Python computes
/// it; `None` when neither is.
pub(crate) fn binop(op: &str, left: &Value, right: &Value) -> Option<Result<Value, Error>> {
    let dt = |v: &Value| v.downcast_object_ref::<PyDateTime>().map(|d| d.0);
    let td = |v: &Value| v.downcast_object_ref::<PyTimeDelta>().map(|d| d.0);
    let overflow = || type_error("date value out of range".into());
    let result = match (op, dt(left), td(left), dt(right), td(right)) {
        ("-", Some(a), _, Some(b), _) => Ok(PyTimeDelta::value(a - b)),
        ("-", Some(a), _, _, Some(d)) => a
            .checked_sub_signed(d)
            .map(PyDateTime::value)
            .ok_or_else(overflow),
        ("+", Some(a), _, _, Some(d)) | ("+", _, Some(d), Some(a), _) => a
            .checked_add_signed(d)
            .map(PyDateTime::value)
            .ok_or_else(overflow),
        ("+", _, Some(a), _, Some(b)) => a
            .checked_add(&b)
            .map(PyTimeDelta::value)
            .ok_or_else(overflow),
        ("-", _, Some(a), _, Some(b)) => a
            .checked_sub(&b)
            .map(PyTimeDelta::value)
            .ok_or_else(overflow),
        (_, None, None, None, None) => return None,
        _ => Err(type_error(format!(
            "unsupported operand type(s) for {op}: '{}' and '{}'",
            crate::repr::py_type_name(left),
            crate::repr::py_type_name(right)
        ))),
    };
    Some(result)
}

/// Python's `strftime` on chrono: Python's `%f` is microseconds (chrono's `%f` nanoseconds).
pub(crate) fn strftime(at: &NaiveDateTime, format: &str) -> String {
    at.format(&format.replace("%f", "%6f")).to_string()
}

/// Ansible's `to_datetime(string, format='%Y-%m-%d %H:%M:%S')`: Python's
/// `datetime.strptime`. A format without a time gives midnight; one without a date, Python's
/// 1900-01-01.
pub(crate) fn strptime(text: &str, format: &str) -> Result<Value, Error> {
    use chrono::format::ParseErrorKind;
    let python_format = format;
    let format = &chrono_parse_format(format);
    let parsed = NaiveDateTime::parse_from_str(text, format).or_else(|e| match e.kind() {
        ParseErrorKind::NotEnough => NaiveDate::parse_from_str(text, format)
            .map(|d| d.and_time(NaiveTime::MIN))
            .or_else(|_| {
                NaiveTime::parse_from_str(text, format).map(|t| {
                    NaiveDate::from_ymd_opt(1900, 1, 1)
                        .unwrap_or_default()
                        .and_time(t)
                })
            }),
        _ => Err(e),
    });
    match parsed {
        Ok(at) => Ok(PyDateTime::value(at)),
        Err(e) if e.kind() == ParseErrorKind::TooLong => Err(type_error(format!(
            "unconverted data remains: {}",
            unconverted(text, format)
        ))),
        Err(_) => Err(type_error(format!(
            "time data {} does not match format {}",
            crate::repr::py_repr(&Value::from(text)),
            crate::repr::py_repr(&Value::from(python_format))
        ))),
    }
}

/// A `strptime` format in chrono's words: Python's `%f` reads the digits of a fraction
/// (`.25` is 250,000 microseconds), chrono's an integer of nanoseconds; chrono's `%.f` reads a
/// dot and a fraction, and `%6f` six digits of one.
fn chrono_parse_format(format: &str) -> String {
    format.replace(".%f", "%.f").replace("%f", "%6f")
}

/// What Python names as left over when `text` is longer than `format` reads: the shortest
/// tail whose removal lets the rest parse.
fn unconverted<'t>(text: &'t str, format: &str) -> &'t str {
    (1..text.len())
        .filter(|&i| text.is_char_boundary(i))
        .find(|&i| {
            let head = &text[..i];
            NaiveDateTime::parse_from_str(head, format).is_ok()
                || NaiveDate::parse_from_str(head, format).is_ok()
        })
        .map(|i| &text[i..])
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> PyDateTime {
        let v = strptime(text, "%Y-%m-%d %H:%M:%S.%f")
            .or_else(|_| strptime(text, "%Y-%m-%d %H:%M:%S"))
            .unwrap();
        *v.downcast_object_ref::<PyDateTime>().unwrap()
    }

    #[test]
    fn prints_as_python() {
        assert_eq!(at("2024-03-01 10:00:00").iso(" "), "2024-03-01 10:00:00");
        assert_eq!(
            at("2024-03-01 10:00:00.5").iso("T"),
            "2024-03-01T10:00:00.500000"
        );
        assert_eq!(
            at("2024-03-01 10:00:00").repr(),
            "datetime.datetime(2024, 3, 1, 10, 0)"
        );
        assert_eq!(
            at("2024-03-01 10:00:07.25").repr(),
            "datetime.datetime(2024, 3, 1, 10, 0, 7, 250000)"
        );
        let d = PyTimeDelta(at("2024-03-01 10:00:00").0 - at("2024-02-28 09:30:00").0);
        assert_eq!(d.py_str(), "2 days, 0:30:00");
        assert_eq!(d.repr(), "datetime.timedelta(days=2, seconds=1800)");
        let back = PyTimeDelta(TimeDelta::microseconds(-500_000));
        assert_eq!(back.py_str(), "-1 day, 23:59:59.500000");
        assert_eq!(back.parts(), (-1, 86399, 500_000));
        assert_eq!(
            PyTimeDelta(TimeDelta::zero()).repr(),
            "datetime.timedelta(0)"
        );
    }

    #[test]
    fn parses_as_strptime() {
        let day = strptime("2024-03-01", "%Y-%m-%d").unwrap();
        assert_eq!(py_str(&day).unwrap(), "2024-03-01 00:00:00");
        let e = strptime("2024", "%Y-%m-%d %H:%M:%S").unwrap_err();
        assert_eq!(
            e.detail(),
            Some("time data '2024' does not match format '%Y-%m-%d %H:%M:%S'")
        );
        let e = strptime("2024-03-01 x", "%Y-%m-%d").unwrap_err();
        assert_eq!(e.detail(), Some("unconverted data remains:  x"));
    }
}
