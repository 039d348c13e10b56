//! String filters: case, trimming, replacing, regular expressions, Python's `str()`.

use crate::pyre::{self, Flags, PyRegex};
use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::{Environment, Error, State};

use super::fail;
use crate::repr::{py_repr, text_input};

pub(super) fn register(env: &mut Environment<'static>) {
    // Jinja2's `format`: `value % (kwargs or args)` in Python
    env.add_filter(
        "format",
        |fmt: &Value, args: Rest<Value>, kwargs: Kwargs| -> Result<String, Error> {
            let keywords: Vec<&str> = kwargs.args().collect();
            if !args.is_empty() && !keywords.is_empty() {
                return Err(fail(
                    "can't handle positional and keyword arguments at the same time",
                ));
            }
            let mapping = Value::from_iter(
                keywords
                    .iter()
                    .map(|k| (*k, kwargs.peek::<Value>(k).unwrap_or_default())),
            );
            let args = if keywords.is_empty() {
                crate::pyformat::PercentArgs::Positional(&args)
            } else {
                crate::pyformat::PercentArgs::Mapping(&mapping)
            };
            crate::pyformat::percent_format(&text_input(fmt)?, args).map_err(fail)
        },
    );
    env.add_filter("string", |v: &Value| text_input(v));
    env.add_filter("lower", |v: &Value| text_input(v).map(|s| s.to_lowercase()));
    env.add_filter("upper", |v: &Value| text_input(v).map(|s| s.to_uppercase()));
    env.add_filter("capitalize", |v: &Value| {
        text_input(v).map(|s| capitalize(&s))
    });
    env.add_filter("title", |v: &Value| text_input(v).map(|s| title(&s)));
    env.add_filter("trim", trim);
    env.add_filter("replace", replace);
    env.add_filter("join", join);
    env.add_filter("bool", to_bool);
    env.add_filter("int", to_int);
    env.add_filter("float", to_float);
    env.add_filter("regex_replace", regex_replace);
    env.add_filter("regex_search", regex_search);
    env.add_filter("regex_findall", regex_findall);
    env.add_filter("regex_escape", |s: String| python_re_escape(&s));
    env.add_filter("quote", |v: &Value| text_input(v).map(|s| shell_quote(&s)));
    env.add_filter("type_debug", |v: &Value| {
        crate::repr::py_type_name(v).to_string()
    });
    env.add_filter("repr", |v: &Value| py_repr(v));
    env.add_filter("round", round);
    // Ansible's math filters: a value that is not a number is an error naming the filter
    env.add_filter("pow", |x: &Value, y: &Value| -> Result<f64, Error> {
        Ok(number("pow", x)?.powf(number("pow", y)?))
    });
    env.add_filter(
        "root",
        |x: &Value, base: Option<Value>| -> Result<f64, Error> {
            let x = number("root", x)?;
            match base.map(|b| number("root", &b)).transpose()? {
                None | Some(2.0) => Ok(x.sqrt()),
                Some(b) => Ok(x.powf(1.0 / b)),
            }
        },
    );
    env.add_filter(
        "log",
        |x: &Value, base: Option<Value>| -> Result<f64, Error> {
            let x = number("log", x)?;
            match base.map(|b| number("log", &b)).transpose()? {
                Some(10.0) => Ok(x.log10()),
                Some(b) => Ok(x.ln() / b.ln()),
                None => Ok(x.ln()),
            }
        },
    );
}

/// A math filter's operand, or Ansible's error naming the filter.
fn number(filter: &str, value: &Value) -> Result<f64, Error> {
    match value.kind() {
        ValueKind::Number | ValueKind::Bool => f64::try_from(value.clone())
            .map_err(|_| fail(format!("{filter}() can only be used on numbers"))),
        _ => Err(fail(format!("{filter}() can only be used on numbers"))),
    }
}

/// Jinja2's `round(precision=0, method='common')`: `common` is Python's `round` (halves to
/// even), `ceil` and `floor` as named; always a float.
fn round(value: f64, precision: Option<i32>, method: Option<String>) -> Result<f64, Error> {
    let factor = 10f64.powi(precision.unwrap_or(0));
    let scaled = value * factor;
    let rounded = match method.as_deref().unwrap_or("common") {
        "common" => scaled.round_ties_even(),
        "ceil" => scaled.ceil(),
        "floor" => scaled.floor(),
        _ => return Err(fail("method must be common, ceil or floor")),
    };
    Ok(rounded / factor)
}

/// Python's `str.capitalize`.
pub(crate) fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first
            .to_uppercase()
            .chain(chars.flat_map(char::to_lowercase))
            .collect(),
        None => String::new(),
    }
}

/// Python's `str.title`: a letter after a non-letter is upper case, others lower case.
pub(crate) fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut after_letter = false;
    for c in s.chars() {
        if after_letter {
            out.extend(c.to_lowercase());
        } else {
            out.extend(c.to_uppercase());
        }
        after_letter = c.is_alphabetic();
    }
    out
}

fn trim(value: &Value, chars: Option<String>) -> Result<String, Error> {
    let s = text_input(value)?;
    Ok(match chars {
        Some(chars) => s.trim_matches(|c| chars.contains(c)).to_string(),
        None => s.trim().to_string(),
    })
}

fn replace(value: &Value, old: String, new: String, count: Option<usize>) -> Result<String, Error> {
    let s = text_input(value)?;
    Ok(match count {
        Some(n) => s.replacen(&old, &new, n),
        None => s.replace(&old, &new),
    })
}

fn join(
    state: &State,
    value: &Value,
    sep: Option<String>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    let attribute: Option<String> = kwargs.get("attribute")?;
    kwargs.assert_all_used()?;
    let sep = sep.unwrap_or_default();
    if let Some(s) = value.as_str() {
        return Ok(s.chars().map(String::from).collect::<Vec<_>>().join(&sep));
    }
    let mut parts = Vec::new();
    for item in state_iter(state, value)? {
        let item = match &attribute {
            Some(attr) => {
                let mut member = item;
                for part in attr.split('.') {
                    member = match part.parse::<i64>() {
                        Ok(i) => member.get_item(&Value::from(i))?,
                        Err(_) => member.get_attr(part)?,
                    };
                }
                member
            }
            None => item,
        };
        parts.push(crate::repr::text_input(&item)?);
    }
    Ok(parts.join(&sep))
}

fn state_iter(_state: &State, value: &Value) -> Result<impl Iterator<Item = Value>, Error> {
    if value.is_undefined() {
        return Err(Error::from(minijinja::ErrorKind::UndefinedError));
    }
    value.try_iter()
}

/// Ansible's `bool`: `yes`/`on`/`1`/`true`/`y`/`t` (any case) are true, as is a non-zero number.
pub(crate) fn to_bool(value: &Value) -> Result<bool, Error> {
    Ok(match value.kind() {
        ValueKind::Bool => value.is_true(),
        ValueKind::None => false,
        ValueKind::Number => f64::try_from(value.clone())
            .ok()
            .and_then(crate::boolean::from_f64)
            .unwrap_or(false),
        ValueKind::String => {
            crate::boolean::parse_str(value.as_str().unwrap_or_default()).unwrap_or(false)
        }
        ValueKind::Undefined => return Err(Error::from(minijinja::ErrorKind::UndefinedError)),
        _ => false,
    })
}

/// Jinja2's `int(default=0, base=10)`: strings are parsed as integers, then as floats
/// (truncated); anything unparsable gives the default.
fn to_int(
    value: &Value,
    default: Option<Value>,
    base: Option<u32>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let base = super::named(base, &kwargs, "base")?;
    let default: Option<Value> = match kwargs.get::<Option<Value>>("default")? {
        Some(d) => Some(d),
        None => default,
    };
    kwargs.assert_all_used()?;
    let fallback = default.unwrap_or_else(|| Value::from(0));
    Ok(match value.kind() {
        ValueKind::Bool => Value::from(i64::from(value.is_true())),
        ValueKind::Number if value.is_integer() => value.clone(),
        ValueKind::Number => match f64::try_from(value.clone()) {
            Ok(f) => Value::from(f.trunc() as i64),
            Err(_) => fallback,
        },
        ValueKind::String => {
            let s = value.as_str().unwrap_or_default().trim().replace('_', "");
            let base = base.unwrap_or(10);
            let digits = match base {
                16 => s.trim_start_matches("0x").trim_start_matches("0X"),
                8 => s.trim_start_matches("0o").trim_start_matches("0O"),
                2 => s.trim_start_matches("0b").trim_start_matches("0B"),
                _ => s.as_str(),
            };
            match i64::from_str_radix(digits, base) {
                Ok(n) => Value::from(n),
                Err(_) => match s.parse::<f64>() {
                    Ok(f) if base == 10 && f.is_finite() => Value::from(f.trunc() as i64),
                    _ => fallback,
                },
            }
        }
        _ => fallback,
    })
}

fn to_float(value: &Value, default: Option<Value>) -> Value {
    let fallback = default.unwrap_or_else(|| Value::from(0.0));
    match value.kind() {
        ValueKind::Bool => Value::from(if value.is_true() { 1.0 } else { 0.0 }),
        ValueKind::Number => f64::try_from(value.clone())
            .map(Value::from)
            .unwrap_or(fallback),
        ValueKind::String => {
            let s = value.as_str().unwrap_or_default().trim().to_lowercase();
            match s.as_str() {
                "inf" | "infinity" => Value::from(f64::INFINITY),
                "-inf" | "-infinity" => Value::from(f64::NEG_INFINITY),
                "nan" => Value::from(f64::NAN),
                _ => s.parse::<f64>().map(Value::from).unwrap_or(fallback),
            }
        }
        _ => fallback,
    }
}

/// Builds a regex with Python's `ignorecase`/`multiline` flags from the filter's kwargs.
fn build_regex(pattern: &str, kwargs: &Kwargs) -> Result<PyRegex, Error> {
    let ignorecase: Option<bool> = kwargs.get("ignorecase")?;
    let multiline: Option<bool> = kwargs.get("multiline")?;
    let flags = Flags {
        ignorecase: ignorecase.unwrap_or(false),
        multiline: multiline.unwrap_or(false),
        dotall: false,
    };
    pyre::compile(pattern, flags).map_err(re_fail)
}

/// A regex error as a template error.
fn re_fail(e: pyre::PyReError) -> Error {
    fail(e.to_string())
}

/// Text out of matched bytes (the input was UTF-8, so are the matches).
fn text_of(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn regex_replace(
    value: &Value,
    pattern: Option<String>,
    replacement: Option<String>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    let count: Option<usize> = kwargs.get("count")?;
    let re = build_regex(&pattern.unwrap_or_default(), &kwargs)?;
    kwargs.assert_all_used()?;
    let text = text_input(value)?;
    let (out, _) = re
        .subn(
            text.as_bytes(),
            &replacement.unwrap_or_default(),
            count.unwrap_or(0),
        )
        .map_err(re_fail)?;
    Ok(text_of(&out))
}

/// Ansible's `regex_search`: the first match (or None); with `'\\1'`/`'\\g<name>'` arguments,
/// the list of those groups of the first match.
fn regex_search(
    value: &Value,
    pattern: String,
    groups: Rest<String>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let re = build_regex(&pattern, &kwargs)?;
    kwargs.assert_all_used()?;
    let text = text_input(value)?;
    let bytes = text.as_bytes();
    let Some(caps) = re.captures(bytes).map_err(re_fail)? else {
        return Ok(Value::from(()));
    };
    if groups.is_empty() {
        return Ok(Value::from(text_of(caps.get(bytes, 0).unwrap_or_default())));
    }
    let mut out = Vec::new();
    for group in groups.iter() {
        let m = if let Some(n) = group.strip_prefix('\\') {
            match n.strip_prefix("g<").and_then(|g| g.strip_suffix('>')) {
                Some(name) => match name.parse::<usize>() {
                    Ok(i) => caps.get(bytes, i),
                    Err(_) => caps.name(bytes, name),
                },
                None => n.parse::<usize>().ok().and_then(|i| caps.get(bytes, i)),
            }
        } else {
            return Err(fail(format!("Unknown argument: {group}")));
        };
        out.push(m.map_or(Value::from(()), |m| Value::from(text_of(m))));
    }
    Ok(Value::from(out))
}

/// Python's `re.findall`: whole matches, the only group, or lists of all groups.
fn regex_findall(value: &Value, pattern: String, kwargs: Kwargs) -> Result<Value, Error> {
    let re = build_regex(&pattern, &kwargs)?;
    kwargs.assert_all_used()?;
    let text = text_input(value)?;
    let bytes = text.as_bytes();
    let found: Vec<Value> = re
        .captures_all(bytes)
        .map_err(re_fail)?
        .iter()
        .map(|caps| {
            let group = |i: usize| Value::from(text_of(caps.get(bytes, i).unwrap_or_default()));
            match caps.spans.len() - 1 {
                0 => group(0),
                1 => group(1),
                n => Value::from((1..=n).map(group).collect::<Vec<_>>()),
            }
        })
        .collect();
    Ok(Value::from(found))
}

/// Python's `re.escape` (3.7+): escapes the characters special in a pattern.
pub(crate) fn python_re_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "()[]{}?*+-|^$\\.&~# \t\n\r\x0b\x0c".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Python's `shlex.quote`.
pub(crate) fn shell_quote(s: &str) -> String {
    if s.is_empty() {
        return "''".to_string();
    }
    let safe = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./-_".contains(c));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\"'\"'"))
    }
}
