//! The list-making lookups behind `with_sequence`, `with_together` and `with_fileglob` (and
//! `lookup('sequence', ...)` etc.), as ansible-core's `sequence`, `together` and `fileglob`
//! lookup plugins compute them. One implementation serves both the loop keywords (the
//! executor calls these functions) and `lookup()`/`query()` in templates.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// `with_sequence` / `lookup('sequence')`: each term is `start=1 end=5 stride=1 format=%d`
/// (or `count=N` instead of `end`), or the shortcut `[start-]end[/stride][:format]`; numbers
/// as Python's `int(x, 0)` reads them. Yields the formatted numbers as strings.
pub fn sequence(term: &str) -> Result<Vec<String>, String> {
    let mut start: i64 = 1;
    let (mut end, mut count): (Option<i64>, Option<i64>) = (None, None);
    let mut stride: i64 = 1;
    let mut format = String::from("%d");
    let term = term.trim();
    if term.contains('=') {
        for word in term.split_whitespace() {
            let (k, v) = word
                .split_once('=')
                .ok_or_else(|| format!("unrecognized arguments to with_sequence: {word}"))?;
            match k {
                "start" => start = int(v)?,
                "end" => end = Some(int(v)?),
                "count" => count = Some(int(v)?),
                "stride" => stride = int(v)?,
                "format" => format = v.to_string(),
                _ => return Err(format!("unrecognized arguments to with_sequence: ['{k}']")),
            }
        }
    } else {
        let (range, fmt) = match term.split_once(':') {
            Some((r, f)) => (r, Some(f)),
            None => (term, None),
        };
        let (range, step) = match range.split_once('/') {
            Some((r, s)) => (r, Some(int(s)?)),
            None => (range, None),
        };
        match range.split_once('-') {
            Some((s, e)) => {
                start = int(s)?;
                end = Some(int(e)?);
            }
            None => end = Some(int(range)?),
        }
        stride = step.unwrap_or(1);
        if let Some(f) = fmt {
            format = f.to_string();
        }
    }
    if let Some(n) = count {
        if end.is_some() {
            return Err("can't specify both count and end in with_sequence".into());
        }
        if n == 0 {
            return Ok(Vec::new());
        }
        end = Some(start + n * stride - 1);
    }
    let end = end.ok_or("must specify count or end in with_sequence")?;
    if stride > 0 && end < start {
        return Err("to count backwards make stride negative".into());
    }
    if stride < 0 && end > start {
        return Err("to count forward don't make stride negative".into());
    }
    if format.matches('%').count() != 1 {
        return Err(format!("bad formatting string: {format}"));
    }
    let mut out = Vec::new();
    let mut i = start;
    while stride != 0 && ((stride > 0 && i <= end) || (stride < 0 && i >= end)) {
        out.push(percent_format(&format, i)?);
        i += stride;
    }
    Ok(out)
}

/// Python's `int(text, 0)`: decimal, `0x..`, `0o..`, `0b..`, with a sign.
fn int(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let lower = digits.to_ascii_lowercase();
    let parsed = if let Some(h) = lower.strip_prefix("0x") {
        i64::from_str_radix(h, 16)
    } else if let Some(o) = lower.strip_prefix("0o") {
        i64::from_str_radix(o, 8)
    } else if let Some(b) = lower.strip_prefix("0b") {
        i64::from_str_radix(b, 2)
    } else {
        lower.parse::<i64>()
    };
    parsed
        .map(|n| if neg { -n } else { n })
        .map_err(|_| format!("can't parse arg {text:?} as integer"))
}

/// Python's `format % n` for one `%[flags][width]conv` (`d i u x X o s`) in `format`.
fn percent_format(format: &str, n: i64) -> Result<String, String> {
    let at = format.find('%').ok_or("no % in format")?;
    let spec = &format[at + 1..];
    let flags: String = spec.chars().take_while(|c| "-0 +#".contains(*c)).collect();
    let rest = &spec[flags.len()..];
    let width: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let rest = &rest[width.len()..];
    let conv = rest.chars().next().ok_or("bad formatting string")?;
    let body = match conv {
        'd' | 'i' | 'u' | 's' => n.abs().to_string(),
        'x' => format!("{:x}", n.abs()),
        'X' => format!("{:X}", n.abs()),
        'o' => format!("{:o}", n.abs()),
        other => return Err(format!("unsupported format character '{other}'")),
    };
    let sign = if n < 0 {
        "-"
    } else if flags.contains('+') {
        "+"
    } else {
        ""
    };
    let width: usize = width.parse().unwrap_or(0);
    let len = sign.len() + body.len();
    let pad = width.saturating_sub(len);
    let text = if flags.contains('-') {
        format!("{sign}{body}{}", " ".repeat(pad))
    } else if flags.contains('0') {
        format!("{sign}{}{body}", "0".repeat(pad))
    } else {
        format!("{}{sign}{body}", " ".repeat(pad))
    };
    Ok(format!(
        "{}{text}{}",
        &format[..at],
        &rest[conv.len_utf8()..]
    ))
}

/// `with_together` / `lookup('together')`: the lists zipped, shorter ones padded with null
/// (Python's `zip_longest`).
pub fn together(lists: &[Value]) -> Result<Vec<Value>, String> {
    if lists.is_empty() {
        return Err("with_together requires at least one element in each list".into());
    }
    let lists: Vec<Vec<Value>> = lists
        .iter()
        .map(|l| match l {
            Value::Array(a) => a.clone(),
            other => vec![other.clone()],
        })
        .collect();
    let n = lists.iter().map(Vec::len).max().unwrap_or(0);
    Ok((0..n)
        .map(|i| {
            Value::Array(
                lists
                    .iter()
                    .map(|l| l.get(i).cloned().unwrap_or(Value::Null))
                    .collect(),
            )
        })
        .collect())
}

/// `with_fileglob` / `lookup('fileglob')`: the files (not directories) matching `pattern`'s
/// last component, in the first of `search` (`<dir>/files/` and `<dir>/` for the role's then
/// the playbook's directory) holding the pattern's directory; absolute patterns as they are.
/// Sorted by path.
pub fn fileglob(pattern: &str, search: &[PathBuf]) -> Vec<String> {
    let path = Path::new(pattern);
    let (dir, base) = match (path.parent(), path.file_name()) {
        (Some(d), Some(b)) => (d.to_path_buf(), b.to_string_lossy().into_owned()),
        _ => return Vec::new(),
    };
    let found = if dir.is_absolute() {
        Some(dir)
    } else {
        search.iter().map(|s| s.join(&dir)).find(|d| d.is_dir())
    };
    let (Some(dir), Ok(glob)) = (found, globset::Glob::new(&base)) else {
        return Vec::new();
    };
    let matcher = glob.compile_matcher();
    let mut out: Vec<String> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| matcher.is_match(e.file_name()) && e.path().is_file())
                .map(|e| e.path().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Where `fileglob` and `first_found` look for a relative path, given `role_path` and
/// `playbook_dir`: each one's `files/`, then itself.
pub fn search_dirs(role_path: Option<&str>, playbook_dir: Option<&str>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for base in [role_path, playbook_dir].into_iter().flatten() {
        out.push(Path::new(base).join("files"));
        out.push(PathBuf::from(base));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sequence_forms_match_ansible() {
        assert_eq!(sequence("start=0 end=4 stride=2").unwrap(), ["0", "2", "4"]);
        assert_eq!(sequence("4").unwrap(), ["1", "2", "3", "4"]);
        assert_eq!(
            sequence("2-10/4:host%02d").unwrap(),
            ["host02", "host06", "host10"]
        );
        assert_eq!(
            sequence("start=5 end=11 stride=2 format=0x%02x").unwrap(),
            ["0x05", "0x07", "0x09", "0x0b"]
        );
        assert_eq!(sequence("start=0x0a count=3").unwrap(), ["10", "11", "12"]);
        assert_eq!(sequence("count=0").unwrap(), Vec::<String>::new());
        assert_eq!(
            sequence("start=3 end=1 stride=-1").unwrap(),
            ["3", "2", "1"]
        );
        assert_eq!(
            sequence("start=3 end=1").unwrap_err(),
            "to count backwards make stride negative"
        );
        assert!(sequence("end=3 count=2").is_err());
        assert!(sequence("start=1 end=3 format=%d%d").is_err());
    }

    #[test]
    fn together_pads_short_lists_with_null() {
        let got = together(&[json!([1, 2, 3]), json!(["a", "b"])]).unwrap();
        assert_eq!(got, [json!([1, "a"]), json!([2, "b"]), json!([3, null])]);
        assert!(together(&[]).is_err());
    }

    #[test]
    fn fileglob_finds_files_under_files_dir_sorted() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("files/sub")).unwrap();
        for f in ["b.txt", "a.txt", "c.cfg"] {
            std::fs::write(d.path().join("files").join(f), "x").unwrap();
        }
        let search = search_dirs(None, d.path().to_str());
        let got = fileglob("*.txt", &search);
        let names: Vec<&str> = got.iter().map(|p| p.rsplit('/').next().unwrap()).collect();
        assert_eq!(names, ["a.txt", "b.txt"]);
        assert!(fileglob("*", &search).iter().all(|p| !p.ends_with("sub")));
        assert!(fileglob("nomatch/*.txt", &search).is_empty());
    }
}
