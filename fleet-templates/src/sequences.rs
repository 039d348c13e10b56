//! The list-making lookups behind `with_sequence`, `with_together`, `with_dict`,
//! `with_indexed_items` and `with_fileglob` (and `lookup('sequence', ...)` etc.), as
//! ansible-core's `sequence`, `together`, `dict`, `indexed_items` and `fileglob` lookup plugins
//! compute them. One implementation serves both the loop keywords (the
//! executor calls these functions) and `lookup()`/`query()` in templates.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// `with_sequence` / `lookup('sequence')`: each term is the shortcut
/// `[start-]end[/stride][:format]` (Ansible's `SHORTCUT` pattern: numbers of hex-looking
/// characters, which its integer check then refuses unless decimal) or `start=1 end=5
/// stride=1 format=%d` (or `count=N` instead of `end`). Numbers are read as ansible-core
/// 2.19's `integer` option type reads them. Yields the formatted numbers as strings.
pub fn sequence(term: &str) -> Result<Vec<String>, String> {
    sequence_with(term, &[])
}

/// [`sequence`] with options given as keyword arguments (`query('sequence', count=5,
/// start=10)`): they apply to every term, and what a term says wins.
pub fn sequence_with(term: &str, options: &[(String, String)]) -> Result<Vec<String>, String> {
    let mut start: i64 = 1;
    let (mut end, mut count): (Option<i64>, Option<i64>) = (None, None);
    let mut stride: i64 = 1;
    let mut format = String::from("%d");
    for (k, v) in options {
        match k.as_str() {
            "start" => start = integer(k, v)?,
            "end" => end = Some(integer(k, v)?),
            "count" => count = Some(integer(k, v)?),
            "stride" => stride = integer(k, v)?,
            "format" => format = v.clone(),
            _ => return Err(format!("unrecognized arguments to with_sequence: ['{k}']")),
        }
    }
    let term = term.trim();
    if term.is_empty() {
        // the options alone
    } else if let Some(parts) = shortcut(term) {
        if let Some(s) = parts.start {
            start = integer("start", s)?;
        }
        end = Some(integer("end", parts.end)?);
        if let Some(s) = parts.stride {
            stride = integer("stride", s)?;
        }
        if let Some(f) = parts.format {
            format = f.to_string();
        }
    } else {
        let mut unknown = Vec::new();
        for word in term.split_whitespace() {
            let Some((k, v)) = word.split_once('=') else {
                unknown.push(format!("'{word}'"));
                continue;
            };
            match k {
                "start" => start = integer(k, v)?,
                "end" => end = Some(integer(k, v)?),
                "count" => count = Some(integer(k, v)?),
                "stride" => stride = integer(k, v)?,
                "format" => format = v.to_string(),
                _ => unknown.push(format!("'{k}'")),
            }
        }
        if !unknown.is_empty() {
            return Err(format!(
                "unrecognized arguments to with_sequence: [{}]",
                unknown.join(", ")
            ));
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
    if stride == 0 {
        return Ok(Vec::new());
    }
    if format.matches('%').count() != 1 {
        return Err(format!("bad formatting string: {format}"));
    }
    let mut out = Vec::new();
    let mut i = start;
    while (stride > 0 && i <= end) || (stride < 0 && i >= end) {
        let n = minijinja::Value::from(i);
        let text =
            crate::pyformat::percent_format(&format, crate::pyformat::PercentArgs::Single(&n))
                .map_err(|_| format!("problem formatting {i} with '{format}'"))?;
        out.push(text);
        i += stride;
    }
    Ok(out)
}

/// The parts of a shortcut term.
struct Shortcut<'t> {
    start: Option<&'t str>,
    end: &'t str,
    stride: Option<&'t str>,
    format: Option<&'t str>,
}

/// `term` as Ansible's `^((NUM)-)?(NUM)(/(NUM))?(:(.+))?$`, NUM being `0?x?[0-9a-f]+`
/// (any case), or `None`.
fn shortcut(term: &str) -> Option<Shortcut<'_>> {
    let (range, format) = match term.split_once(':') {
        Some((r, f)) if !f.is_empty() => (r, Some(f)),
        Some(_) => return None,
        None => (term, None),
    };
    let (range, stride) = match range.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (range, None),
    };
    let (start, end) = match range.split_once('-') {
        Some((s, e)) => (Some(s), e),
        None => (None, range),
    };
    let num = |n: &str| {
        let digits = n.strip_prefix('0').unwrap_or(n);
        let digits = digits.strip_prefix(['x', 'X']).unwrap_or(digits);
        let digits = if digits.is_empty() && !n.is_empty() {
            n
        } else {
            digits
        };
        !digits.is_empty() && digits.chars().all(|c| c.is_ascii_hexdigit())
    };
    let valid = num(end) && start.is_none_or(num) && stride.is_none_or(num);
    valid.then_some(Shortcut {
        start,
        end,
        stride,
        format,
    })
}

/// ansible-core 2.19's `integer` option type: a decimal number with no fraction (`010` is
/// 10, `1.0` is 1, `0x0a` and `1.5` are refused), naming the option when refused.
fn integer(option: &str, text: &str) -> Result<i64, String> {
    let refused = || {
        format!(
            "Config '{option}' for 'sequence' lookup plugin from 'Direct' has an invalid value: \
             Invalid value provided for 'integer': '{text}'"
        )
    };
    let t = text.trim();
    let (mantissa, exponent) = match t.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().map_err(|_| refused())?),
        None => (t, 0),
    };
    let (negative, digits) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, mantissa.strip_prefix('+').unwrap_or(mantissa)),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return Err(refused());
    }
    let value: f64 = format!("{whole}.{fraction}0e{exponent}")
        .parse()
        .map_err(|_| refused())?;
    if value.fract() != 0.0 || value.abs() > 9.0e15 {
        return Err(refused());
    }
    Ok(if negative {
        -(value as i64)
    } else {
        value as i64
    })
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

/// `with_dict` / `lookup('dict')`: `{key, value}` for each member of each mapping term.
pub fn dict_items(terms: Vec<Value>) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    for term in terms {
        let Value::Object(map) = term else {
            let shown = crate::py_string(&term);
            let kind = crate::repr::py_type_name(&minijinja::Value::from_serialize(&term));
            return Err(format!(
                "the 'dict' lookup plugin expects a dictionary, got '{shown}' of type <class '{kind}'>)"
            ));
        };
        out.extend(
            map.into_iter()
                .map(|(k, v)| serde_json::json!({"key": k, "value": v})),
        );
    }
    Ok(out)
}

/// `with_indexed_items` / `lookup('indexed_items')`: `[index, item]` for each term, the terms
/// first flattened one level as the plugin does (`with_indexed_items: [a, [b, c]]` numbers
/// `a`, `b` and `c`; `lookup('indexed_items', [a, [b, c]])` numbers `a` and `[b, c]`).
pub fn indexed_items(terms: Vec<Value>) -> Vec<Value> {
    terms
        .into_iter()
        .flat_map(|term| match term {
            Value::Array(items) => items,
            other => vec![other],
        })
        .enumerate()
        .map(|(i, v)| serde_json::json!([i, v]))
        .collect()
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
    let Ok(glob) = globset::Glob::new(&base) else {
        return Vec::new();
    };
    let matcher = glob.compile_matcher();
    let matches = |dir: &Path| {
        let mut out: Vec<String> = std::fs::read_dir(dir)
            .map(|rd| {
                rd.flatten()
                    .filter(|e| matcher.is_match(e.file_name()) && e.path().is_file())
                    .map(|e| e.path().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    };
    if dir.is_absolute() {
        return matches(&dir);
    }
    if dir.as_os_str().is_empty() {
        // a bare pattern: the first directory of the search that has a match
        return search
            .iter()
            .map(|d| matches(d))
            .find(|found| !found.is_empty())
            .unwrap_or_default();
    }
    // a pattern with a directory: in the first place that has that directory
    match search.iter().map(|s| s.join(&dir)).find(|d| d.is_dir()) {
        Some(dir) => matches(&dir),
        None => Vec::new(),
    }
}

/// Where `fileglob` looks for a relative path without `ansible_search_path`, given `role_path` and
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
        // ansible-core 2.19 reads numbers as decimals (its `integer` option type)
        assert_eq!(sequence("start=010 end=12").unwrap(), ["10", "11", "12"]);
        assert_eq!(sequence("start=1.0 end=2").unwrap(), ["1", "2"]);
        for (term, option, value) in [
            ("start=0x0a count=3", "start", "0x0a"),
            ("start=1.5 end=3", "start", "1.5"),
            ("A-4/2", "start", "A"),
            ("1-B/2", "end", "B"),
            ("1-4/C", "stride", "C"),
        ] {
            assert_eq!(
                sequence(term).unwrap_err(),
                format!(
                    "Config '{option}' for 'sequence' lookup plugin from 'Direct' has an \
                     invalid value: Invalid value provided for 'integer': '{value}'"
                ),
                "{term}"
            );
        }
        assert_eq!(
            sequence("junk").unwrap_err(),
            "unrecognized arguments to with_sequence: ['junk']"
        );
        assert_eq!(sequence("1-4/0").unwrap(), Vec::<String>::new());
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
    fn dict_items_refuse_what_is_not_a_dict_as_ansible_does() {
        assert_eq!(
            dict_items(vec![json!({"a": 1})]).unwrap(),
            [json!({"key": "a", "value": 1})]
        );
        assert_eq!(
            dict_items(vec![json!([1, 2])]).unwrap_err(),
            "the 'dict' lookup plugin expects a dictionary, got '[1, 2]' of type <class 'list'>)"
        );
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
