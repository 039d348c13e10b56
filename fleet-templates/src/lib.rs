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

pub mod boolean;
mod escape;
mod files;
mod filters;
mod layers;
mod lazy;
mod lookup;
mod methods;
mod plugin_lookup;
mod predicates;
pub mod pyre;
mod repr;
pub mod sequences;
mod shared_vars;
mod trust;

pub use files::Delimiters;
pub use layers::{AsVars, SharedVars, Vars};
mod undefined;

use std::sync::{Arc, OnceLock};

use minijinja::value::Value as JValue;
use minijinja::{Environment, ErrorKind, UndefinedBehavior};
use serde_json::Value;

use lazy::Scope;
pub use trust::UNTRUSTED;
use trust::{holds_string, is_all_template};
use undefined::Remedy;

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

/// Whether a string holds Jinja2 markup and so must be templated.
pub(crate) fn has_template_markers(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#")
}

/// The expression of a template that is exactly one `{{ expr }}`, which Ansible evaluates to
/// a native value.
fn single_expression(text: &str) -> Option<&str> {
    let body = text.strip_prefix("{{")?;
    let close = expression_end(body)?;
    if close + 2 != body.len() {
        return None;
    }
    let inner = &body[..close];
    let inner = inner.strip_prefix(['-', '+']).unwrap_or(inner);
    Some(inner.strip_suffix('-').unwrap_or(inner))
}

/// Where the `}}` closing an expression starts (brackets and string literals skipped).
fn expression_end(body: &str) -> Option<usize> {
    let bytes = body.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            q @ (b'\'' | b'"') => {
                i += 1;
                while i < bytes.len() && bytes[i] != q {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' => depth = depth.saturating_sub(1),
            b'}' if depth == 0 && bytes.get(i + 1) == Some(&b'}') => return Some(i),
            b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Refuses an expression that closes a `{{ }}` it never opened and goes on (`a }} b`):
/// minijinja 2.24's lexer panics on any text after such a `}}` ("empty lexer stack"), and a
/// `when:` a user wrote must not bring the controller down.
pub(crate) fn refuse_early_close(expr: &str) -> Result<(), minijinja::Error> {
    match expression_end(expr) {
        Some(at) if at + 2 < expr.len() => Err(minijinja::Error::new(
            ErrorKind::SyntaxError,
            "unexpected '}}' in an expression",
        )),
        _ => Ok(()),
    }
}

/// Ansible keeps the template's trailing newlines (Jinja2 drops one).
fn keep_trailing_newlines(source: &str, out: &mut String) {
    let wanted = source.len() - source.trim_end_matches('\n').len();
    let have = out.len() - out.trim_end_matches('\n').len();
    for _ in have..wanted {
        out.push('\n');
    }
}

/// Marks an expression whose whole result was undefined.
const WHOLE: &str = "the expression's value is undefined";

fn to_json(value: &JValue) -> Result<Value, EvalError> {
    serde_json::to_value(value).map_err(|e| EvalError::other(e.to_string()))
}

/// Why an evaluation failed; `undefined` marks the failures `default`/`is defined` absorb
/// when they happen inside a variable's own template.
#[derive(Debug)]
pub(crate) struct EvalError {
    undefined: bool,
    message: String,
}

impl EvalError {
    fn other(message: String) -> Self {
        EvalError {
            undefined: false,
            message,
        }
    }

    pub(crate) fn is_undefined(&self) -> bool {
        self.undefined
    }

    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    /// The error to hand back to minijinja when it happened inside a variable's template.
    pub(crate) fn into_minijinja(self) -> minijinja::Error {
        minijinja::Error::new(ErrorKind::InvalidOperation, self.message)
    }
}

/// The minijinja environments (one per template-module option set) and the omit placeholder.
#[derive(Debug)]
pub(crate) struct Engine {
    omit: String,
    /// Whether lookups may read files, the environment and run commands on the controller.
    system_lookups: bool,
    /// Directories `{% import %}` and `{% include %}` names are found in (none: refused).
    search: Vec<std::path::PathBuf>,
    /// Custom delimiters (the template module's `*_start_string`/`*_end_string`).
    syntax: Option<minijinja::syntax::SyntaxConfig>,
    envs: [OnceLock<Environment<'static>>; 4],
}

impl Engine {
    fn new(omit: String, system_lookups: bool) -> Self {
        Engine {
            omit,
            system_lookups,
            search: Vec::new(),
            syntax: None,
            envs: Default::default(),
        }
    }

    fn env(&self, options: TemplateOptions) -> &Environment<'static> {
        let slot = usize::from(options.trim_blocks) * 2 + usize::from(options.lstrip_blocks);
        self.envs[slot].get_or_init(|| self.build_env(options))
    }

    fn build_env(&self, options: TemplateOptions) -> Environment<'static> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_fuel(Some(FUEL));
        env.set_trim_blocks(options.trim_blocks);
        env.set_lstrip_blocks(options.lstrip_blocks);
        env.set_keep_trailing_newline(false);
        env.set_formatter(|out, _state, value| {
            out.write_str(&repr::py_str(value))
                .map_err(|_| minijinja::Error::from(ErrorKind::WriteFailure))
        });
        env.set_unknown_method_callback(methods::call_method);
        env.add_global("omit", self.omit.clone());
        env.add_function(undefined::CHAIN_FN, undefined::chain_fn);
        // Jinja2's globals that minijinja leaves to its contrib crate
        env.add_function("joiner", minijinja_contrib::globals::joiner);
        env.add_function("cycler", |items: minijinja::value::Rest<JValue>| {
            minijinja_contrib::globals::cycler(items.0)
        });
        filters::register(&mut env);
        predicates::register(&mut env);
        lookup::register(&mut env, self.system_lookups);
        files::configure(&mut env, &self.search, self.syntax.as_ref());
        env
    }

    /// Templates `text` the way Ansible templates a variable or argument: one `{{ expr }}`
    /// gives its native value, anything else a string.
    pub(crate) fn native(&self, scope: &Arc<Scope>, text: &str) -> Result<JValue, EvalError> {
        let escaped = escape::escape_backslashes(text);
        match single_expression(&escaped) {
            Some(expr) => self.eval_expr(scope, expr),
            None => {
                let mut out = self.render(scope, &escaped, TemplateOptions::default())?;
                keep_trailing_newlines(text, &mut out);
                Ok(JValue::from(out))
            }
        }
    }

    fn eval_expr(&self, scope: &Arc<Scope>, expr: &str) -> Result<JValue, EvalError> {
        let env = self.env(TemplateOptions::default());
        self.with_retries(scope, expr, true, |src| {
            refuse_early_close(src)?;
            let compiled = env.compile_expression_owned(src.to_string())?;
            let value = compiled.eval(scope.root())?;
            if value.is_undefined() {
                // an undefined result is a failure of the whole expression
                return Err(minijinja::Error::new(ErrorKind::UndefinedError, WHOLE));
            }
            Ok(value)
        })
    }

    fn render(
        &self,
        scope: &Arc<Scope>,
        text: &str,
        options: TemplateOptions,
    ) -> Result<String, EvalError> {
        let env = self.env(options);
        let mut out =
            self.with_retries(scope, text, false, |src| env.render_str(src, scope.root()))?;
        // Ansible keeps the template's trailing newlines (Jinja2 drops one).
        let wanted = text.len() - text.trim_end_matches('\n').len();
        let have = out.len() - out.trim_end_matches('\n').len();
        for _ in have..wanted {
            out.push('\n');
        }
        Ok(out)
    }

    /// Runs `attempt` on `source`, rewriting chains on undefined values and retrying (see
    /// [`undefined`]), and turns the final failure into Ansible's message.
    fn with_retries<R>(
        &self,
        scope: &Arc<Scope>,
        source: &str,
        is_expression: bool,
        attempt: impl Fn(&str) -> Result<R, minijinja::Error>,
    ) -> Result<R, EvalError> {
        let mut src = source.to_string();
        for _ in 0..32 {
            let err = match attempt(&src) {
                Ok(value) => return Ok(value),
                Err(err) => err,
            };
            // minijinja reports arithmetic on an undefined value as an invalid operation
            let on_undefined = err.kind() == ErrorKind::InvalidOperation
                && err.detail().is_some_and(|d| {
                    d.contains("types undefined and") || d.ends_with("and undefined")
                });
            if err.kind() != ErrorKind::UndefinedError && !on_undefined {
                return Err(EvalError::other(describe_error(&err, source)));
            }
            let range = if err.detail() == Some(WHOLE) {
                Some(0..src.len())
            } else {
                err.range()
            };
            let names = ScopeNames {
                scope,
                env: self.env(TemplateOptions::default()),
            };
            let Some(range) = range.filter(|r| r.end <= src.len()) else {
                // no position (`'x' in y`, `a.b == 1`): the access that came out undefined,
                // else the first variable the source uses that is not defined, as Ansible says
                if let Some(message) = undefined::recorded_reason(&src) {
                    return Err(EvalError {
                        undefined: true,
                        message,
                    });
                }
                let missing = files::first_missing(&names, &src, is_expression);
                if missing.is_none() && !src.contains(undefined::CHAIN_FN) {
                    if let Some(rewritten) = undefined::rewrite_all_chains(&src) {
                        src = rewritten;
                        continue;
                    }
                }
                return Err(EvalError {
                    undefined: true,
                    message: missing.map_or_else(
                        || format!("undefined variable in '{source}'"),
                        |name| format!("'{name}' is undefined"),
                    ),
                });
            };
            match undefined::remedy(&src, is_expression, range, &names) {
                Remedy::Retry(rewritten) => src = rewritten,
                Remedy::Fail(message) => {
                    return Err(EvalError {
                        undefined: true,
                        message,
                    })
                }
            }
        }
        Err(EvalError {
            undefined: true,
            message: format!("undefined variable in '{source}'"),
        })
    }
}

/// The variables and globals of one evaluation, for naming what is undefined.
struct ScopeNames<'a> {
    scope: &'a Arc<Scope>,
    env: &'a Environment<'static>,
}

impl undefined::Names for ScopeNames<'_> {
    fn reason_for(&self, name: &str) -> Option<String> {
        self.scope.undefined_reason(name)
    }

    fn is_missing(&self, name: &str) -> bool {
        let defined = self
            .scope
            .root()
            .get_attr(name)
            .is_ok_and(|v| !v.is_undefined());
        !defined && self.env.globals().all(|(global, _)| global != name)
    }
}

/// Ansible-like text for a failure other than an undefined value.
fn describe_error(err: &minijinja::Error, source: &str) -> String {
    let detail = err.detail().unwrap_or_default();
    match err.kind() {
        ErrorKind::SyntaxError => {
            let position = match (err.range(), err.line()) {
                (Some(range), _) if range.start <= source.len() => {
                    let before = &source[..range.start];
                    let line = before.matches('\n').count() + 1;
                    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                    format!(" (line {line}, column {column})")
                }
                (_, Some(line)) => format!(" (line {line})"),
                _ => String::new(),
            };
            format!("template error while templating '{source}': syntax error: {detail}{position}")
        }
        ErrorKind::InvalidOperation if !detail.is_empty() => detail.to_string(),
        kind if detail.is_empty() => format!("{kind} while templating '{source}'"),
        kind => format!("{kind}: {detail} (while templating '{source}')"),
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
