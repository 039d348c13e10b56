//! fleet-templates: Jinja2 templates and expressions as Ansible (ansible-core 2.19) evaluates
//! them, on minijinja.
//!
//! - Variables are resolved lazily and recursively ([`lazy`]): a variable holding a template is
//!   templated against the same variables when used.
//! - Undefined values fail like Ansible's, with its messages, and may be chained under
//!   `default`/`is defined` ([`undefined`]).
//! - A string that is exactly one `{{ expr }}` yields the expression's native value
//!   ([`Templar::template_value`]); text around it yields a string, with Python's rendering of
//!   values ([`repr`]).
//! - Ansible's filters, tests and lookups ([`filters`], [`predicates`], [`lookup`]) and
//!   Python's string/dict/list methods ([`methods`]).
//!
//! See [`Templar`].
//!
//! Owns: the templar, Ansible's filters, tests and lookups, Python's rendering of values, and
//! Ansible's one reading of booleans ([`boolean`]), which every other fleet crate uses.
//!
//! Must not know: playbooks, modules, hosts or connections; it sees variables as JSON only.

mod ansible_plugins;
pub mod boolean;
pub mod controller_python;
mod datetime;
mod engine;
mod escape;
mod files;
mod filters;
pub mod first_found;
mod layers;
mod lazy;
mod lookup;
mod lookup_lists;
mod lookup_template;
mod markup;
mod methods;
mod percent_op;
mod predicates;
mod py_ops;
mod pyformat;
pub mod pyre;
mod qualified;
mod repr;
pub mod sequences;
mod shared_vars;
mod trust;

pub use files::Delimiters;
pub use layers::{AsVars, SharedVars, Vars};
mod undefined;

use std::sync::Arc;

use serde_json::Value;

use engine::{to_json, Engine, EvalError};
use lazy::Scope;
use markup::{has_template_markers, keep_trailing_newlines};
pub use trust::UNTRUSTED;
use trust::{holds_string, is_all_template};

/// A template or expression that could not be evaluated; the message names the problem
/// (`'foo' is undefined`, a syntax error with its position in the template).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct TemplateError(pub String);

/// How the template module renders a file (its `trim_blocks`/`lstrip_blocks` options).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateOptions {
    /// Remove the first newline after a block tag (Ansible's default: true).
    pub trim_blocks: bool,
    /// Strip tabs and spaces before a block tag on its line (Ansible's default: false).
    pub lstrip_blocks: bool,
}

impl Default for TemplateOptions {
    fn default() -> Self {
        TemplateOptions {
            trim_blocks: true,
            lstrip_blocks: false,
        }
    }
}

/// Evaluates templates (`"{{ x }}/y"`) and bare expressions (`when:`, `that:`) against a host's
/// variables, with Ansible's filters and tests. One per run, shared by all hosts.
pub struct Templar {
    engine: Arc<Engine>,
}

impl Default for Templar {
    fn default() -> Self {
        Self::new()
    }
}

/// Most minijinja instructions one render or expression may execute. A user-written template
/// must not hang the controller (`{% for i in range(10**9) %}`, or nested loops over ranges):
/// past this budget the template fails with "engine ran out of fuel". Real templates use a tiny
/// fraction of it (a loop over 10 000 hosts with a few fields each: about 100 000).
pub const FUEL: u64 = 20_000_000;

impl Templar {
    /// Builds the environment with Ansible's filters and tests.
    pub fn new() -> Self {
        Self::build(true)
    }

    /// A templar whose lookups cannot reach the controller's system: `pipe` (runs commands),
    /// `file`, `first_found` and `env` fail as unknown plugins. For evaluating templates nobody
    /// vouches for, such as the fuzz targets' inputs.
    pub fn sandboxed() -> Self {
        Self::build(false)
    }

    fn build(system_lookups: bool) -> Self {
        let omit = format!(
            "__omit_place_holder__{}",
            hex::encode(rand::random::<[u8; 20]>())
        );
        Templar {
            engine: Arc::new(Engine::new(omit, system_lookups)),
        }
    }

    /// The placeholder `omit` evaluates to: a module argument equal to it is to be dropped.
    pub fn omit(&self) -> &str {
        &self.engine.omit
    }

    /// Whether `value` is the `omit` placeholder.
    pub fn is_omit(&self, value: &Value) -> bool {
        value.as_str() == Some(self.omit())
    }

    /// Renders a template string from a playbook (trailing newlines kept, as Ansible does).
    pub fn render_str(
        &self,
        text: &str,
        vars: &(impl AsVars + ?Sized),
    ) -> Result<String, TemplateError> {
        self.with_scope(vars, |scope| {
            let escaped = escape::escape_backslashes(text);
            let mut out = self
                .engine
                .render(scope, &escaped, TemplateOptions::default())?;
            keep_trailing_newlines(text, &mut out);
            Ok(out)
        })
    }

    /// Renders the text of a template file for the template module, with its options.
    pub fn render_file_str(
        &self,
        text: &str,
        vars: &(impl AsVars + ?Sized),
        options: TemplateOptions,
    ) -> Result<String, TemplateError> {
        self.with_scope(vars, |scope| {
            let mut out = self.engine.render(scope, text, options)?;
            keep_trailing_newlines(text, &mut out);
            Ok(out)
        })
    }

    /// Evaluates a bare Jinja2 expression to its native value.
    pub fn eval(&self, expr: &str, vars: &(impl AsVars + ?Sized)) -> Result<Value, TemplateError> {
        self.with_scope(vars, |scope| {
            let value = self.engine.eval_expr(scope, expr)?;
            to_json(&value)
        })
    }

    /// [`Templar::eval`], with `None` when the expression is undefined (`debug: var=` then
    /// shows 2.19's `<< error 1 - ... >>` text) and an error only for every other failure.
    pub fn eval_defined(
        &self,
        expr: &str,
        vars: &(impl AsVars + ?Sized),
    ) -> Result<Option<Value>, TemplateError> {
        self.with_scope(vars, |scope| match self.engine.eval_expr(scope, expr) {
            Ok(value) => to_json(&value).map(Some),
            Err(e) if e.is_undefined() => Ok(None),
            Err(e) => Err(e),
        })
    }

    /// Evaluates a condition (`when:`, `failed_when:`, `assert: that:`) as ansible-core 2.19
    /// does: the result must be a boolean. A non-boolean result (a bare variable holding the
    /// string `"false"`, a list, a number) is an error ("Conditionals must have a boolean
    /// result"), not a guess; a condition written as a template (`"{{ flag }}"`) is rendered
    /// and the text is then evaluated as an expression (`"false"` is false).
    pub fn eval_bool(
        &self,
        expr: &str,
        vars: &(impl AsVars + ?Sized),
    ) -> Result<bool, TemplateError> {
        // Ansible strips a condition's surrounding whitespace (a `|` block's newline) first,
        // which decides whether it is wholly a template
        let expr = if has_template_markers(expr) {
            expr.trim()
        } else {
            expr
        };
        // an expression whose templates sit in a lookup's terms: the lookup renders them
        // itself, when it runs (an undefined term may be what a plugin wants)
        let templated = has_template_markers(expr)
            && (is_all_template(expr)
                || !["lookup(", "query(", "q("].iter().any(|f| expr.contains(f)));
        self.with_scope(vars, |scope| {
            let mut value = if templated {
                self.engine.native(scope, expr)?
            } else {
                self.engine.eval_expr(scope, expr)?
            };
            if templated {
                if let Some(text) = value.as_str() {
                    // a condition wholly a template may only name an expression the playbook
                    // wrote (2.19's trust rule); meta-templating (`{{ a }} == {{ b }}`) is not
                    if is_all_template(expr)
                        && !holds_string(vars.own(), text)
                        && !vars
                            .shared()
                            .is_some_and(|m| m.values().any(|v| holds_string(v, text)))
                    {
                        return Err(EvalError::other(UNTRUSTED.to_string()));
                    }
                    value = self.engine.eval_expr(scope, text)?;
                }
            }
            match value.kind() {
                minijinja::value::ValueKind::Bool => Ok(value.is_true()),
                _ => Err(EvalError::other(format!(
                    "Conditional result ({}) was derived from value of type '{}' at '{}'. \
                     Conditionals must have a boolean result.",
                    if value.is_true() { "True" } else { "False" },
                    repr::py_type_name(&value),
                    expr.trim()
                ))),
            }
        })
    }

    /// Templates every string inside `value`; a string that is exactly one `{{ expr }}` yields
    /// the expression's native value (a list stays a list), as in Ansible. Text around the
    /// expression (even whitespace) makes the result a string, as in ansible-core 2.19.
    pub fn template_value(
        &self,
        value: &Value,
        vars: &(impl AsVars + ?Sized),
    ) -> Result<Value, TemplateError> {
        if !lazy::contains_template(value) {
            return Ok(value.clone());
        }
        self.with_scope(vars, |scope| self.template_in(scope, value))
    }

    fn template_in(&self, scope: &Arc<Scope>, value: &Value) -> Result<Value, EvalError> {
        match value {
            Value::String(s) if has_template_markers(s) => to_json(&self.engine.native(scope, s)?),
            Value::Array(items) => items
                .iter()
                .map(|v| self.template_in(scope, v))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            Value::Object(map) => {
                let mut out = serde_json::Map::new();
                for (k, v) in map {
                    out.insert(k.clone(), self.template_in(scope, v)?);
                }
                Ok(Value::Object(out))
            }
            other => Ok(other.clone()),
        }
    }

    fn with_scope<R>(
        &self,
        vars: &(impl AsVars + ?Sized),
        f: impl FnOnce(&Arc<Scope>) -> Result<R, EvalError>,
    ) -> Result<R, TemplateError> {
        let own = match vars.own() {
            own @ Value::Object(_) => shared_vars::shared_vars(own),
            _ => Arc::new(Value::Object(serde_json::Map::new())),
        };
        let scope = Scope::new(self.engine.clone(), own, vars.shared().cloned());
        let result = f(&scope);
        undefined::clear_reasons();
        result.map_err(|e| TemplateError(e.message))
    }
}

/// The name of the Python type a JSON value is in Ansible (`str`, `int`, `float`, `bool`,
/// `list`, `dict`, `NoneType`), as its messages name types.
pub fn py_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// How Python prints a value (`['a', 'b']`, `{'k': True}`), as Ansible shows loop item labels.
pub fn py_repr(value: &Value) -> String {
    repr::py_repr(&minijinja::Value::from_serialize(value))
}

/// How Python's `str()` prints a value (strings bare, others as [`py_repr`]).
pub fn py_string(value: &Value) -> String {
    repr::py_string(&minijinja::Value::from_serialize(value))
}
