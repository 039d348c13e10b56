//! Ansible's filters (and Jinja2's, where minijinja's differ from Python's output).
//!
//! minijinja's builtins are kept where they already behave as Jinja2 does (`length`, `first`,
//! `select`, `sort`, ...); the filters here are Ansible's own or replace a builtin whose
//! output differs from Python's (`string`, `join`, `bool`, `lower` of a list, ...).

mod aggregate;
mod collections;
mod encoding;
mod jinja_text;
mod map;
pub(crate) mod paths;
mod sizes;
mod text;
mod time;
mod url;
mod yaml;

pub(crate) use collections::items as items_of;

use minijinja::{Environment, Error, ErrorKind};

/// Registers every filter and the global functions that go with them (`dict`).
pub(crate) fn register(env: &mut Environment<'static>) {
    text::register(env);
    collections::register(env);
    encoding::register(env);
    paths::register(env);
    time::register(env);
    jinja_text::register(env);
    map::register(env);
    sizes::register(env);
    url::register(env);
    aggregate::register(env);
    crate::percent_op::register(env);
    crate::py_ops::register(env);
}

/// An argument that may come by position or by name (`truncate(9, leeway=0)`): minijinja hands
/// keyword arguments over only in `kwargs`.
pub(crate) fn named<T>(
    positional: Option<T>,
    kwargs: &minijinja::value::Kwargs,
    name: &str,
) -> Result<Option<T>, Error>
where
    T: for<'a> minijinja::value::ArgType<'a, Output = T>,
{
    let by_name: Option<T> = kwargs.get(name)?;
    Ok(by_name.or(positional))
}

/// A filter failure with Ansible's wording.
pub(crate) fn fail(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message.into())
}
