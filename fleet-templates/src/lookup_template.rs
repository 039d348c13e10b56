//! The `template` lookup: each file (found in the role's, then the playbook's `templates/`)
//! rendered with the current variables, as ansible-core 2.19's plugin renders it.
//!
//! - `{% include %}`/`{% import %}` names are searched beside the template, then in each
//!   `ansible_search_path` directory's `templates/` and the directory itself.
//! - Options: `variable_start_string`/`variable_end_string`, `comment_start_string`/
//!   `comment_end_string`, `trim_blocks` (default true) and `template_vars` (variables for
//!   this template only, over every other).
//! - Added variables, as Ansible's template vars: `template_path`, `template_fullpath` and
//!   `ansible_managed` ("Ansible managed"), unless the play sets its own.
//! - The value: a template that prints one `{{ expression }}` and no text (block tags such as
//!   a macro's definition aside) gives the expression's value (a Python literal read back,
//!   `[1, 2]` a list); one that renders nothing and prints no
//!   expression (only comments) gives `None`; any other gives its text, even text that looks
//!   like a literal (`{"foo": "{{ x }}"}` stays a string).

use std::path::{Path, PathBuf};

use minijinja::value::{merge_maps, Kwargs, Value};
use minijinja::{Error, State};

use super::files::Delimiters;
use super::filters::fail;

/// The lookup's options.
struct Options {
    delimiters: Delimiters,
    trim_blocks: bool,
    template_vars: Value,
}

impl Options {
    fn from_kwargs(kwargs: &Kwargs) -> Result<Options, Error> {
        let mut delimiters = Delimiters::default();
        let pairs: [(&str, &mut String); 4] = [
            ("variable_start_string", &mut delimiters.variable.0),
            ("variable_end_string", &mut delimiters.variable.1),
            ("comment_start_string", &mut delimiters.comment.0),
            ("comment_end_string", &mut delimiters.comment.1),
        ];
        for (name, slot) in pairs {
            if let Some(text) = kwargs.get::<Option<String>>(name)? {
                *slot = text;
            }
        }
        // ansible-core 2.19 no longer reads convert_data; older playbooks still pass it
        let _: Option<bool> = kwargs.get("convert_data")?;
        let _: Option<bool> = kwargs.get("jinja2_native")?;
        Ok(Options {
            delimiters,
            trim_blocks: kwargs.get::<Option<bool>>("trim_blocks")?.unwrap_or(true),
            template_vars: kwargs
                .get::<Option<Value>>("template_vars")?
                .unwrap_or_default(),
        })
    }
}

pub(crate) fn template(
    state: &State,
    terms: &[Value],
    kwargs: &Kwargs,
) -> Result<Vec<Value>, Error> {
    let options = Options::from_kwargs(kwargs)?;
    let syntax = options.delimiters.syntax()?;
    let vars = state.lookup("vars").unwrap_or_default();
    let mut out = Vec::new();
    for term in terms {
        let name = super::repr::py_string(term);
        let path = super::lookup::find_in(state, "templates", &name);
        let text = std::fs::read_to_string(&path).map_err(|_| {
            fail(format!(
                "the template file {name} could not be found for the lookup"
            ))
        })?;
        let mut env = state.env().clone();
        env.set_trim_blocks(options.trim_blocks);
        super::files::configure(&mut env, &search_path(state, &path), Some(&syntax));
        let mut added = serde_json::Map::new();
        added.insert("template_path".into(), name.clone().into());
        added.insert(
            "template_fullpath".into(),
            path.display().to_string().into(),
        );
        if state
            .lookup("ansible_managed")
            .is_none_or(|v| v.is_undefined())
        {
            added.insert("ansible_managed".into(), "Ansible managed".into());
        }
        let context = merge_maps([
            options.template_vars.clone(),
            Value::from_serialize(&added),
            vars.clone(),
        ]);
        let mut rendered = env.render_str(&text, context)?;
        if rendered.is_empty() && !text.contains(options.delimiters.variable.0.as_str()) {
            // nothing printed but the final newline Jinja2 drops: `None`
            out.push(Value::from(()));
            continue;
        }
        super::keep_trailing_newlines(&text, &mut rendered);
        out.push(result_value(&text, rendered, &options.delimiters));
    }
    Ok(out)
}

/// Where `{% include %}` names are found: beside the template, then each search path
/// directory's `templates/` and the directory itself.
fn search_path(state: &State, template: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = template.parent().map(Into::into).into_iter().collect();
    if let Some(paths) = state.lookup("ansible_search_path") {
        for dir in paths.try_iter().into_iter().flatten() {
            if let Some(dir) = dir.as_str() {
                out.push(Path::new(dir).join("templates"));
                out.push(PathBuf::from(dir));
            }
        }
    }
    out
}

/// The lookup's value for a template `text` that rendered as `rendered` (see the module doc).
fn result_value(text: &str, rendered: String, delimiters: &Delimiters) -> Value {
    let (start, end) = (&delimiters.variable.0, &delimiters.variable.1);
    let outside_tags = printed_part(
        &without_spans(text, &delimiters.comment.0, &delimiters.comment.1),
        &delimiters.block,
    );
    let trimmed = outside_tags.trim();
    let one_expression = trimmed.starts_with(start.as_str())
        && trimmed.ends_with(end.as_str())
        && trimmed.matches(start.as_str()).count() == 1;
    if one_expression {
        let literal = inventory::pyliteral::eval(rendered.trim());
        if !literal.is_string() {
            return Value::from_serialize(literal);
        }
    }
    Value::from(rendered)
}

/// `text` without every span from `open` to the next `close`.
fn without_spans(text: &str, open: &str, close: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(open) {
        out.push_str(&rest[..at]);
        match rest[at + open.len()..].find(close) {
            Some(end) => rest = &rest[at + open.len() + end + close.len()..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

/// What of `text` prints where it stands: the text outside block tags, less the bodies of
/// `macro`, `call`, `filter` and block `set` tags (they print where they are called or used).
fn printed_part(text: &str, (open, close): &(String, String)) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    let mut rest = text;
    while let Some(at) = rest.find(open.as_str()) {
        if depth == 0 {
            out.push_str(&rest[..at]);
        }
        let after = &rest[at + open.len()..];
        let Some(end) = after.find(close.as_str()) else {
            return out;
        };
        let tag = after[..end].trim_matches(|c: char| c == '-' || c == '+' || c.is_whitespace());
        let word = tag.split_whitespace().next().unwrap_or("");
        match word {
            "macro" | "call" | "filter" => depth += 1,
            "set" if !tag.contains('=') => depth += 1,
            "endmacro" | "endcall" | "endfilter" | "endset" => depth = depth.saturating_sub(1),
            _ => {}
        }
        rest = &after[end + close.len()..];
    }
    if depth == 0 {
        out.push_str(rest);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 18: the value is the expression's only when the template prints one expression
    /// and nothing else (ansible-core 2.19's lookup_template and template targets).
    #[test]
    fn a_lone_expression_gives_its_value_and_anything_else_text() {
        let d = Delimiters::default();
        let value = |text: &str, rendered: &str| result_value(text, rendered.into(), &d);
        let macro_text = "{% macro m() %}{{ {\"foo\":\"bar\"} }}{% endmacro %}\n{{ m() }}\n";
        assert_eq!(
            value(macro_text, "{'foo': 'bar'}\n")
                .get_attr("foo")
                .unwrap(),
            Value::from("bar")
        );
        assert_eq!(
            value("{\"foo\": \"{{ 'bar' }}\"}\n", "{\"foo\": \"bar\"}\n"),
            Value::from("{\"foo\": \"bar\"}\n")
        );
        assert_eq!(value("{{ [1, 2] }}\n", "[1, 2]\n").len(), Some(2));
        assert_eq!(value("Hello {{ x }}", "Hello 1"), Value::from("Hello 1"));
        assert_eq!(
            printed_part("a{% set x %}{{ y }}{% endset %}b{% set z = 1 %}c", &d.block),
            "abc"
        );
    }
}
