//! Ansible's Jinja2 tests (`x is succeeded`, `v is version('1.2', '>=')`, `s is match('^a')`) and
//! Jinja2's where minijinja lacks them. Named predicates so they are not mistaken for unit tests.

use std::cmp::Ordering;

use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::{Environment, Error};

use super::filters::fail;
use super::repr::py_string;

/// Registers the tests.
pub(crate) fn register(env: &mut Environment<'static>) {
    env.add_test("undefined", |v: &Value| v.is_undefined());
    env.add_test("failed", |v: &Value| result_flag(v, "failed"));
    env.add_test("failure", |v: &Value| result_flag(v, "failed"));
    env.add_test("succeeded", |v: &Value| {
        result_flag(v, "failed").map(|f| !f)
    });
    env.add_test("success", |v: &Value| result_flag(v, "failed").map(|f| !f));
    env.add_test("successful", |v: &Value| {
        result_flag(v, "failed").map(|f| !f)
    });
    env.add_test("changed", changed);
    env.add_test("change", changed);
    env.add_test("skipped", |v: &Value| result_flag(v, "skipped"));
    env.add_test("skip", |v: &Value| result_flag(v, "skipped"));
    env.add_test("unreachable", |v: &Value| result_flag(v, "unreachable"));
    env.add_test("reachable", |v: &Value| {
        result_flag(v, "unreachable").map(|f| !f)
    });
    // an async result's status; any other result counts as started and finished
    env.add_test("started", |v: &Value| async_flag(v, "started"));
    env.add_test("finished", |v: &Value| async_flag(v, "finished"));
    env.add_test("timedout", |v: &Value| {
        let timedout = result_map(v, "timedout")?.get_attr("timedout")?;
        Ok(timedout.is_true() && timedout.get_attr("period")?.is_true())
    });
    env.add_test("match", |v: &Value, p: String, k: Kwargs| {
        regex_test(v, &p, k, "match")
    });
    env.add_test("search", |v: &Value, p: String, k: Kwargs| {
        regex_test(v, &p, k, "search")
    });
    env.add_test("regex", |v: &Value, p: String, k: Kwargs| {
        let mode: Option<String> = k.get("match_type")?;
        regex_test(v, &p, k, mode.as_deref().unwrap_or("search"))
    });
    env.add_test("version", version_test);
    env.add_test("version_compare", version_test);
    let subset = |a: Value, b: Value| -> Result<bool, Error> {
        let big = super::filters::items_of(&b)?;
        Ok(super::filters::items_of(&a)?
            .iter()
            .all(|x| big.contains(x)))
    };
    // `issubset`, `issuperset` and `isnan` are Ansible's older names of the same tests
    env.add_test("subset", subset);
    env.add_test("issubset", subset);
    let superset = move |a: Value, b: Value| subset(b, a);
    env.add_test("superset", superset);
    env.add_test("issuperset", superset);
    // Python's `isinstance(x, float) and math.isnan(x)`: only a float is NaN
    let nan = |v: &Value| f64::try_from(v.clone()).is_ok_and(f64::is_nan) && v.is_number();
    env.add_test("nan", nan);
    env.add_test("isnan", nan);
    // Python's `value in seq`: a substring for strings
    env.add_test("contains", |a: Value, b: Value| -> Result<bool, Error> {
        if let (Some(text), Some(part)) = (a.as_str(), b.as_str()) {
            return Ok(text.contains(part));
        }
        Ok(super::filters::items_of(&a)?.contains(&b))
    });
    env.add_test("truthy", |v: &Value, k: Kwargs| truthy(v, k));
    env.add_test("falsy", |v: &Value, k: Kwargs| truthy(v, k).map(|t| !t));
    env.add_test("number", |v: &Value| {
        matches!(v.kind(), ValueKind::Number | ValueKind::Bool)
    });
    env.add_test("sequence", |v: &Value| {
        matches!(
            v.kind(),
            ValueKind::Seq | ValueKind::Map | ValueKind::String | ValueKind::Bytes
        )
    });
    env.add_test("iterable", |v: &Value| {
        matches!(
            v.kind(),
            ValueKind::Seq
                | ValueKind::Map
                | ValueKind::String
                | ValueKind::Bytes
                | ValueKind::Iterable
        )
    });
    env.add_test("exists", |p: String| std::path::Path::new(&p).exists());
    env.add_test("file", |p: String| std::path::Path::new(&p).is_file());
    env.add_test("directory", |p: String| std::path::Path::new(&p).is_dir());
    env.add_test("link", |p: String| std::path::Path::new(&p).is_symlink());
    env.add_test("abs", |p: String| p.starts_with('/'));
}

/// `result.get(flag, False)` of a registered task result, which must be a dict.
fn result_flag(value: &Value, flag: &str) -> Result<bool, Error> {
    Ok(result_map(value, flag)?.get_attr(flag)?.is_true())
}

/// The result a test named `test` looks at: a mapping, as in Ansible.
fn result_map<'a>(value: &'a Value, test: &str) -> Result<&'a Value, Error> {
    if value.kind() != ValueKind::Map {
        return Err(fail(format!("The '{test}' test expects a dictionary")));
    }
    Ok(value)
}

/// `started`/`finished`: the async result's flag (0 or 1 from async_status, a boolean from a
/// task with `poll: 0`); a result without it is not an async one and counts as true.
fn async_flag(value: &Value, flag: &str) -> Result<bool, Error> {
    let status = result_map(value, flag)?.get_attr(flag)?;
    Ok(status.is_undefined() || status.is_true())
}

/// Ansible's `changed`: the result's flag, or any looped item's.
fn changed(value: &Value) -> Result<bool, Error> {
    if result_flag(value, "changed")? {
        return Ok(true);
    }
    let results = value.get_attr("results")?;
    if results.kind() == ValueKind::Seq {
        for item in results.try_iter()? {
            if item.kind() == ValueKind::Map && item.get_attr("changed")?.is_true() {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

fn regex_test(value: &Value, pattern: &str, kwargs: Kwargs, mode: &str) -> Result<bool, Error> {
    let ignorecase: Option<bool> = kwargs.get("ignorecase")?;
    let multiline: Option<bool> = kwargs.get("multiline")?;
    let _: Option<String> = kwargs.get("match_type")?;
    kwargs.assert_all_used()?;
    let anchored = match mode {
        "match" => format!("^(?:{pattern})"),
        "fullmatch" => format!("^(?:{pattern})$"),
        _ => pattern.to_string(),
    };
    let flags = crate::pyre::Flags {
        ignorecase: ignorecase.unwrap_or(false),
        multiline: multiline.unwrap_or(false),
        dotall: false,
    };
    let re = crate::pyre::compile(&anchored, flags).map_err(|e| match e {
        crate::pyre::PyReError::Compile { source, .. } => {
            fail(format!("invalid regular expression '{pattern}': {source}"))
        }
        other => fail(other.to_string()),
    })?;
    let text = py_string(value);
    let run = |e: crate::pyre::PyReError| fail(e.to_string());
    // `^` of a multi-line `match` must still be the start of the text
    if mode == "match" && multiline.unwrap_or(false) {
        return Ok(re
            .find(text.as_bytes())
            .map_err(run)?
            .is_some_and(|(start, _)| start == 0));
    }
    re.is_match(text.as_bytes()).map_err(run)
}

fn truthy(value: &Value, kwargs: Kwargs) -> Result<bool, Error> {
    let convert_bool: Option<bool> = kwargs.get("convert_bool")?;
    kwargs.assert_all_used()?;
    if convert_bool.unwrap_or(false) {
        if let Some(b) = value.as_str().and_then(crate::boolean::parse_str) {
            return Ok(b);
        }
    }
    Ok(value.is_true())
}

/// One component of a LooseVersion: numbers compare as numbers, words as words (and
/// numbers before words).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Num(u64),
    Word(String),
}

/// distutils' LooseVersion split: runs of digits, runs of letters, dots dropped.
fn loose_version(v: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut chars = v.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_digit() {
            let mut digits = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                digits.push(d);
                chars.next();
            }
            parts.push(Part::Num(digits.parse().unwrap_or(u64::MAX)));
        } else if c == '.' {
            chars.next();
        } else {
            let mut word = String::new();
            while let Some(&d) = chars.peek().filter(|d| !d.is_ascii_digit() && **d != '.') {
                word.push(d);
                chars.next();
            }
            parts.push(Part::Word(word));
        }
    }
    parts
}

/// Ansible's `version(other, operator='eq', strict=False)` with LooseVersion ordering.
fn version_test(
    value: &Value,
    other: &Value,
    op: Option<String>,
    kwargs: Kwargs,
) -> Result<bool, Error> {
    let op = match kwargs.get::<Option<String>>("operator")? {
        Some(op) => Some(op),
        None => op,
    };
    let _: Option<bool> = kwargs.get("strict")?;
    let _: Option<String> = kwargs.get("version_type")?;
    kwargs.assert_all_used()?;
    let (a, b) = (py_string(value), py_string(other));
    if a.is_empty() || b.is_empty() {
        return Err(fail(
            "Version comparison failed: version value cannot be empty",
        ));
    }
    let order = loose_version(&a).cmp(&loose_version(&b));
    Ok(match op.as_deref().unwrap_or("eq") {
        "==" | "=" | "eq" => order == Ordering::Equal,
        "!=" | "<>" | "ne" => order != Ordering::Equal,
        "<" | "lt" => order == Ordering::Less,
        "<=" | "le" => order != Ordering::Greater,
        ">" | "gt" => order == Ordering::Greater,
        ">=" | "ge" => order != Ordering::Less,
        other => return Err(fail(format!("Invalid operator type ({other})"))),
    })
}
