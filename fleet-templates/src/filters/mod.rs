//! Ansible's filters (and Jinja2's, where minijinja's differ from Python's output).
//!
//! minijinja's builtins are kept where they already behave as Jinja2 does (`length`, `first`,
//! `select`, `map`, `sort`, ...); the filters here are Ansible's own or replace a builtin whose
//! output differs from Python's (`string`, `join`, `bool`, `lower` of a list, ...).

mod collections;
mod encoding;
mod paths;
mod text;
mod time;
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
}

/// A filter failure with Ansible's wording.
pub(crate) fn fail(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message.into())
}
