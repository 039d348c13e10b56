//! Access-hour windows such as `Mon-Fri 08:00-20:00`, in the bastion's local time zone.

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDateTime, TimeZone, Timelike};

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// When a role may be used. Several windows are separated by commas:
/// `Mon-Fri 08:00-20:00, Sat 10:00-14:00`. Without days a window applies every day; a window
/// whose end is not after its start runs past midnight (`22:00-06:00`), belonging to the day it
/// starts on; `24:00` is accepted as an end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hours {
    text: String,
    windows: Vec<Window>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Window {
    /// Indexed Monday = 0.
    days: [bool; 7],
    /// Minutes after midnight.
    start: u32,
    end: u32,
}

impl Hours {
    /// Parses the policy text; the error says what part is wrong.
    pub fn parse(text: &str) -> Result<Hours, String> {
        let mut windows = Vec::new();
        for part in text.split(',') {
            let part = part.trim();
            if part.is_empty() {
                return Err(format!("empty window in {text:?}"));
            }
            windows.push(parse_window(part)?);
        }
        Ok(Hours {
            text: text.trim().to_string(),
            windows,
        })
    }

    /// True when `at` (a local time) falls in a window.
    pub fn contains_naive(&self, at: NaiveDateTime) -> bool {
        let day = at.weekday().num_days_from_monday() as usize;
        let prev = (day + 6) % 7;
        let minute = at.hour() * 60 + at.minute();
        self.windows.iter().any(|w| {
            if w.start < w.end {
                w.days[day] && minute >= w.start && minute < w.end
            } else {
                (w.days[day] && minute >= w.start) || (w.days[prev] && minute < w.end)
            }
        })
    }

    /// True when `at` falls in a window, read in its own time zone.
    pub fn contains<Tz: TimeZone>(&self, at: &DateTime<Tz>) -> bool {
        self.contains_naive(at.naive_local())
    }

    /// When the window containing `now` closes (joining back-to-back windows); `None` when
    /// `now` is outside every window or the windows never close.
    pub fn window_end<Tz: TimeZone>(&self, now: DateTime<Tz>) -> Option<DateTime<Tz>> {
        cover_end(now, |t| self.contains_naive(t))
    }
}

/// The first whole minute after `now` that `covered` says is outside, within a week and a day
/// (windows repeat weekly); `None` when `now` itself is outside or nothing ends the cover.
pub(crate) fn cover_end<Tz: TimeZone>(
    now: DateTime<Tz>,
    covered: impl Fn(NaiveDateTime) -> bool,
) -> Option<DateTime<Tz>> {
    let start = now.naive_local();
    if !covered(start) {
        return None;
    }
    let mut t = start.with_second(0)?.with_nanosecond(0)?;
    for _ in 0..(8 * 24 * 60) {
        t += chrono::Duration::minutes(1);
        if !covered(t) {
            return now.timezone().from_local_datetime(&t).earliest();
        }
    }
    None
}

impl fmt::Display for Hours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn parse_window(part: &str) -> Result<Window, String> {
    let (days_text, times_text) = match part.rsplit_once(char::is_whitespace) {
        Some((d, t)) => (Some(d.trim()), t),
        None => (None, part),
    };
    let days = match days_text {
        None => [true; 7],
        Some(d) if d.eq_ignore_ascii_case("daily") || d == "*" => [true; 7],
        Some(d) => parse_days(d)?,
    };
    let (a, b) = times_text
        .split_once('-')
        .ok_or_else(|| format!("{part:?}: expected a time range like 08:00-20:00"))?;
    let start = parse_time(a, false)?;
    let end = parse_time(b, true)?;
    if start == end {
        return Err(format!("{part:?}: the window is empty (start equals end)"));
    }
    Ok(Window { days, start, end })
}

fn parse_days(text: &str) -> Result<[bool; 7], String> {
    let index = |name: &str| {
        let lower = name.trim().to_ascii_lowercase();
        DAY_NAMES
            .iter()
            .position(|d| lower.len() >= 3 && d.starts_with(&lower[..3]) && is_day_word(&lower))
            .ok_or_else(|| format!("unknown day {name:?}; use Mon, Tue, Wed, Thu, Fri, Sat, Sun"))
    };
    let mut days = [false; 7];
    match text.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (index(a)?, index(b)?);
            let mut i = a;
            loop {
                days[i] = true;
                if i == b {
                    break;
                }
                i = (i + 1) % 7;
            }
        }
        None => days[index(text)?] = true,
    }
    Ok(days)
}

fn is_day_word(lower: &str) -> bool {
    const FULL: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    FULL.iter().any(|f| f.starts_with(lower))
}

fn parse_time(text: &str, is_end: bool) -> Result<u32, String> {
    let text = text.trim();
    let (h, m) = text
        .split_once(':')
        .ok_or_else(|| format!("bad time {text:?}; expected HH:MM"))?;
    let h: u32 = h.parse().map_err(|_| format!("bad hour in {text:?}"))?;
    let m: u32 = m.parse().map_err(|_| format!("bad minute in {text:?}"))?;
    if m > 59 || h > 24 || (h == 24 && (m != 0 || !is_end)) {
        return Err(format!("time {text:?} is out of range"));
    }
    Ok(h * 60 + m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, Utc};

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_opt(h, mi, 0)
            .unwrap()
    }

    // 2026-11-23 is a Monday.
    #[test]
    fn weekday_office_hours() {
        let h = Hours::parse("Mon-Fri 08:00-20:00").unwrap();
        assert!(h.contains_naive(at(2026, 11, 23, 8, 0)));
        assert!(h.contains_naive(at(2026, 11, 27, 19, 59)));
        assert!(!h.contains_naive(at(2026, 11, 27, 20, 0)));
        assert!(!h.contains_naive(at(2026, 11, 28, 12, 0)));
    }

    #[test]
    fn overnight_and_wrapping_days() {
        let h = Hours::parse("Fri-Mon 22:00-06:00").unwrap();
        assert!(h.contains_naive(at(2026, 11, 27, 23, 0))); // Fri night
        assert!(h.contains_naive(at(2026, 11, 28, 5, 0))); // Sat early, from Fri
        assert!(!h.contains_naive(at(2026, 11, 26, 23, 0))); // Thu night
        assert!(h.contains_naive(at(2026, 11, 24, 5, 59))); // Tue early, from Mon night
        assert!(!h.contains_naive(at(2026, 11, 25, 5, 59))); // Wed early: Tue is not listed
    }

    #[test]
    fn window_end_joins_adjacent_windows() {
        let h = Hours::parse("08:00-12:00, 12:00-14:30").unwrap();
        let now = Utc.from_utc_datetime(&at(2026, 11, 23, 9, 15));
        let end = h.window_end(now).unwrap();
        assert_eq!(end.naive_utc(), at(2026, 11, 23, 14, 30));
        assert!(Hours::parse("00:00-24:00")
            .unwrap()
            .window_end(now)
            .is_none());
        assert!(Hours::parse("10:00-11:00")
            .unwrap()
            .window_end(now)
            .is_none());
    }

    #[test]
    fn rejects_bad_text() {
        for bad in [
            "Mon-Fri",
            "Mon-Fry 08:00-20:00",
            "25:00-26:00",
            "08:00-08:00",
            "08:60-09:00",
            "",
        ] {
            assert!(Hours::parse(bad).is_err(), "{bad}");
        }
    }
}
