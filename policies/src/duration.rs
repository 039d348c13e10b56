//! Human durations as written in policies and settings: `90s`, `30m`, `8h`, `1h30m`, `2d`.

use std::time::Duration;

/// Parses `1d2h30m15s`-style text (any subset, in that order or not); a bare number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("empty duration; write e.g. 30m, 8h or 1h30m".into());
    }
    if let Ok(secs) = s.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let mut total: u64 = 0;
    let mut number = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => {
                return Err(format!(
                    "bad duration {text:?}: unexpected {c:?}; write e.g. 30m, 8h or 1h30m"
                ))
            }
        };
        let n: u64 = number
            .parse()
            .map_err(|_| format!("bad duration {text:?}: a number must come before {c:?}"))?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("duration {text:?} is too large"))?;
        number.clear();
    }
    if !number.is_empty() {
        return Err(format!(
            "bad duration {text:?}: {number} has no unit (d, h, m or s)"
        ));
    }
    Ok(Duration::from_secs(total))
}

/// The inverse of [`parse_duration`], for messages: `8h`, `1h30m`, `45s`.
pub fn format_duration(d: Duration) -> String {
    let mut secs = d.as_secs();
    if secs == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, name) in [(86_400, 'd'), (3_600, 'h'), (60, 'm'), (1, 's')] {
        if secs >= unit {
            out.push_str(&format!("{}{name}", secs / unit));
            secs %= unit;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_combinations() {
        assert_eq!(parse_duration("8h").unwrap(), Duration::from_secs(8 * 3600));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("2d").unwrap(), Duration::from_secs(172_800));
        assert_eq!(parse_duration("45").unwrap(), Duration::from_secs(45));
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "8x", "h", "10m5", "1.5h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn formats_round_trip() {
        for s in ["8h", "1h30m", "45s", "2d3h", "1m1s"] {
            assert_eq!(format_duration(parse_duration(s).unwrap()), s);
        }
    }
}
