//! Ansible's `now()` global: the controller's current time, as `datetime.now()` (or
//! `utcnow()` with `utc=True`), a datetime object (`crate::datetime`), or text formatted with
//! Python's `strftime` when `fmt` is given; its `to_datetime` filter (Python's `strptime`) and
//! `strftime` filter (an epoch, formatted).

use chrono::{DateTime, Local, TimeZone, Utc};
use minijinja::value::{Kwargs, Value};
use minijinja::{Environment, Error};

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_function("now", now);
    env.add_filter("strftime", strftime);
    env.add_filter("to_datetime", to_datetime);
}

/// Ansible's `strftime(format, second=None, utc=False)`: the controller's local time (UTC
/// with `utc=True`) now, or at `second` seconds after the epoch, in Python's `strftime`.
fn strftime(
    format: String,
    second: Option<Value>,
    utc: Option<bool>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    let second = super::named(second, &kwargs, "second")?;
    let utc = super::named(utc, &kwargs, "utc")?;
    kwargs.assert_all_used()?;
    let at = match second.filter(|s| !s.is_none()) {
        None => Utc::now(),
        Some(s) => {
            let seconds = f64::try_from(s.clone())
                .ok()
                .or_else(|| s.as_str().and_then(|t| t.trim().parse().ok()))
                .ok_or_else(|| super::fail(format!("Invalid value for epoch value ({s})")))?;
            DateTime::from_timestamp(seconds.trunc() as i64, 0)
                .ok_or_else(|| super::fail(format!("Invalid value for epoch value ({s})")))?
        }
    };
    Ok(if utc.unwrap_or(false) {
        format_time(&at, Some(&format))
    } else {
        format_time(&at.with_timezone(&Local), Some(&format))
    })
}

fn now(utc: Option<bool>, fmt: Option<String>, kwargs: Kwargs) -> Result<Value, Error> {
    let utc = super::named(utc, &kwargs, "utc")?.unwrap_or(false);
    let fmt: Option<String> = super::named(fmt, &kwargs, "fmt")?;
    kwargs.assert_all_used()?;
    let at = if utc {
        Utc::now().naive_utc()
    } else {
        Local::now().naive_local()
    };
    Ok(match fmt {
        Some(f) => Value::from(crate::datetime::strftime(&at, &f)),
        None => crate::datetime::PyDateTime::value(at),
    })
}

/// `to_datetime(string, format='%Y-%m-%d %H:%M:%S')`.
fn to_datetime(value: &Value, format: Option<String>, kwargs: Kwargs) -> Result<Value, Error> {
    let format = super::named(format, &kwargs, "format")?;
    kwargs.assert_all_used()?;
    let text = crate::repr::text_input(value)?;
    crate::datetime::strptime(&text, format.as_deref().unwrap_or("%Y-%m-%d %H:%M:%S"))
}

/// `str(datetime)` (`2024-05-01 12:00:00.123456`) or `strftime(fmt)`. Python's `%f` is
/// microseconds (chrono's `%f` nanoseconds), so it becomes `%6f`.
fn format_time<Tz: TimeZone>(t: &DateTime<Tz>, fmt: Option<&str>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    match fmt {
        Some(f) => t.format(&f.replace("%f", "%6f")).to_string(),
        None => t.format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_python() {
        let t = Utc.with_ymd_and_hms(2024, 5, 1, 12, 3, 4).unwrap()
            + chrono::Duration::microseconds(120_034);
        assert_eq!(format_time(&t, None), "2024-05-01 12:03:04.120034");
        assert_eq!(format_time(&t, Some("%s.%f")), "1714564984.120034");
        assert_eq!(format_time(&t, Some("%Y%m%d")), "20240501");
    }
}
