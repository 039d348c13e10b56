//! Text filters minijinja does not have: Jinja2's `center`, `wordcount` and `truncate`, and
//! Ansible's `comment`, each with the output and the messages of the Python original.

use minijinja::value::{Kwargs, Rest, Value};
use minijinja::{Environment, Error};

use super::fail;
use crate::repr::text_input;

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("center", |v: &Value, width: Option<usize>| {
        text_input(v).map(|s| center(&s, width.unwrap_or(80)))
    });
    env.add_filter("wordcount", |v: &Value| {
        text_input(v).map(|s| wordcount(&s))
    });
    env.add_filter("truncate", truncate);
    env.add_filter("comment", comment);
}

/// Python's `str.center`: the odd space goes left when the width is odd and the padding is
/// odd, right otherwise (CPython's `pad`).
fn center(s: &str, width: usize) -> String {
    let len = s.chars().count();
    if len >= width {
        return s.to_string();
    }
    let margin = width - len;
    let left = margin / 2 + (margin & width & 1);
    format!("{}{s}{}", " ".repeat(left), " ".repeat(margin - left))
}

/// Jinja2's `wordcount`: how many runs of `\w` (letters, digits, `_`) the text holds.
fn wordcount(s: &str) -> usize {
    let mut count = 0;
    let mut in_word = false;
    for c in s.chars() {
        let word = c.is_alphanumeric() || c == '_';
        if word && !in_word {
            count += 1;
        }
        in_word = word;
    }
    count
}

/// Jinja2's `truncate(length=255, killwords=False, end='...', leeway=5)`: text longer than
/// `length + leeway` is cut to `length` including `end`, at the last space unless `killwords`.
fn truncate(v: &Value, args: Rest<Value>) -> Result<String, Error> {
    type Args = (
        Option<usize>,
        Option<bool>,
        Option<String>,
        Option<usize>,
        Kwargs,
    );
    let (length, killwords, end, leeway, kwargs): Args = minijinja::value::from_args(&args)?;
    let length = super::named(length, &kwargs, "length")?;
    let killwords = super::named(killwords, &kwargs, "killwords")?;
    let end = super::named(end, &kwargs, "end")?;
    let leeway = super::named(leeway, &kwargs, "leeway")?;
    kwargs.assert_all_used()?;
    let s = text_input(v)?;
    let length = length.unwrap_or(255);
    let end = end.unwrap_or_else(|| "...".to_string());
    let end_len = end.chars().count();
    if length < end_len {
        return Err(fail(format!("expected length >= {end_len}, got {length}")));
    }
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= length + leeway.unwrap_or(5) {
        return Ok(s);
    }
    let kept: String = chars[..length - end_len].iter().collect();
    if killwords.unwrap_or(false) {
        return Ok(kept + &end);
    }
    let cut = kept
        .rsplit_once(' ')
        .map_or(kept.as_str(), |(left, _)| left);
    Ok(format!("{cut}{end}"))
}

/// Ansible's `comment(style='plain', **kw)`: the text with a comment decoration on each line,
/// a prefix line before and a postfix line after (`beginning`, `end`, `newline`,
/// `prefix_count`, `postfix_count` and `decoration` override the style's).
fn comment(v: &Value, style: Option<String>, kwargs: Kwargs) -> Result<String, Error> {
    let text = text_input(v)?;
    let style = style.unwrap_or_else(|| "plain".to_string());
    let (beginning, decoration, end) = match style.as_str() {
        "plain" => ("", "# ", ""),
        "erlang" => ("", "% ", ""),
        "c" => ("", "// ", ""),
        "cblock" => ("/*", " * ", " */"),
        "xml" => ("<!--", " - ", "-->"),
        other => return Err(fail(format!("comment: unknown style '{other}'"))),
    };
    let text_arg = |name: &str, default: &str| -> Result<String, Error> {
        Ok(kwargs
            .get::<Option<Value>>(name)?
            .map_or_else(|| default.to_string(), |v| crate::repr::py_string(&v)))
    };
    let count_arg = |name: &str| -> Result<usize, Error> {
        Ok(kwargs.get::<Option<usize>>(name)?.unwrap_or(1))
    };
    // the prefix and postfix default to the style's decoration without its trailing space
    let outer = text_arg("decoration", decoration)?;
    let outer = outer.trim_end();
    let newline = text_arg("newline", "\n")?;
    let beginning = text_arg("beginning", beginning)?;
    let prefix = text_arg("prefix", outer)?;
    let decoration = text_arg("decoration", decoration)?;
    let postfix = text_arg("postfix", outer)?;
    let end = text_arg("end", end)?;
    let (prefix_count, postfix_count) = (count_arg("prefix_count")?, count_arg("postfix_count")?);
    kwargs.assert_all_used()?;

    let mut out = String::new();
    if !beginning.is_empty() {
        out.push_str(&beginning);
        out.push_str(&newline);
    }
    if !prefix.is_empty() {
        let line = if prefix == newline {
            newline.clone()
        } else {
            format!("{prefix}{newline}")
        };
        out.push_str(&line.repeat(prefix_count));
    }
    let body = format!(
        "{decoration}{}",
        text.replace(newline.as_str(), &format!("{newline}{decoration}"))
    );
    out.push_str(&body.replace(
        &format!("{decoration}{newline}"),
        &format!("{}{newline}", decoration.trim_end()),
    ));
    for _ in 0..postfix_count {
        out.push_str(&newline);
        out.push_str(&postfix);
    }
    if !end.is_empty() {
        out.push_str(&newline);
        out.push_str(&end);
    }
    Ok(out)
}
