//! Ansible's `now()` global: the controller's current time, as `datetime.now()` (or
//! `utcnow()` with `utc=True`), formatted with Python's `strftime` when `fmt` is given.

use chrono::{DateTime, Local, TimeZone, Utc};
use minijinja::value::{Kwargs, Value};
use minijinja::{Environment, Error};

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_function("now", now);
    env.add_filter("strftime", strftime);
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

fn now(kwargs: Kwargs) -> Result<String, Error> {
    let utc: Option<bool> = kwargs.get("utc")?;
    let fmt: Option<String> = kwargs.get("fmt")?;
    kwargs.assert_all_used()?;
    Ok(if utc.unwrap_or(false) {
        format_time(&Utc::now(), fmt.as_deref())
    } else {
        format_time(&Local::now(), fmt.as_deref())
    })
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
