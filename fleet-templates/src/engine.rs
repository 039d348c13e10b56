//! The evaluation engine behind [`crate::Templar`]: the minijinja environments (one per
//! `trim_blocks`/`lstrip_blocks` combination, built on first use with Ansible's filters, tests,
//! lookups and Python's rendering), and the retry loop that turns minijinja's undefined-value
//! failures into Ansible's behaviour (chains under `default`/`is defined` rewritten and
//! retried, see [`crate::undefined`]) or Ansible's message. The public API stays in lib.rs.

use std::sync::{Arc, OnceLock};

use minijinja::value::{Value as JValue, ValueKind};
use minijinja::{Environment, ErrorKind, UndefinedBehavior};
use serde_json::Value;

use super::lazy::Scope;
use super::markup::{keep_trailing_newlines, refuse_early_close, single_expression};
use super::undefined::{self, Remedy};
use super::{
    ansible_plugins, escape, files, filters, lookup, methods, predicates, repr, TemplateOptions,
    FUEL,
};

/// Marks an expression whose whole result was undefined.
const WHOLE: &str = "the expression's value is undefined";

pub(crate) fn to_json(value: &JValue) -> Result<Value, EvalError> {
    if let Some(message) = crate::lazy::failed_member(value) {
        return Err(EvalError::other(message));
    }
    if crate::lazy::holds_non_finite(value) {
        return Err(EvalError::other(DIVISION_BY_ZERO.to_string()));
    }
    serde_json::to_value(value).map_err(|e| EvalError::other(e.to_string()))
}

/// Python's words for `x / 0`. minijinja divides as IEEE floats do (infinity, NaN) where Python
/// raises, and it has no hook for the operator, so a non-finite number in a result (JSON would
/// write it as `null`) or in rendered text is taken for that division and fails as Python does.
/// The one Python way to a non-finite float on purpose, `'inf' | float`, fails too: far rarer
/// than a division by a zero that would otherwise pass silently.
pub(crate) const DIVISION_BY_ZERO: &str = "Error rendering template: division by zero";

/// Whether `value` is a non-finite float.
pub(crate) fn is_non_finite(value: &JValue) -> bool {
    value.kind() == minijinja::value::ValueKind::Number
        && value.as_i64().is_none()
        && f64::try_from(value.clone()).is_ok_and(|f| !f.is_finite())
}

/// Why an evaluation failed; `undefined` marks the failures `default`/`is defined` absorb
/// when they happen inside a variable's own template.
#[derive(Debug)]
pub(crate) struct EvalError {
    pub(crate) undefined: bool,
    pub(crate) message: String,
}

impl EvalError {
    pub(crate) fn other(message: String) -> Self {
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
    pub(crate) omit: String,
    /// Whether lookups may read files, the environment and run commands on the controller.
    system_lookups: bool,
    /// Directories `{% import %}` and `{% include %}` names are found in (none: refused).
    pub(crate) search: Vec<std::path::PathBuf>,
    /// Custom delimiters (the template module's `*_start_string`/`*_end_string`).
    pub(crate) syntax: Option<minijinja::syntax::SyntaxConfig>,
    envs: [OnceLock<Environment<'static>>; 4],
}

impl Engine {
    pub(crate) fn new(omit: String, system_lookups: bool) -> Self {
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
            if is_non_finite(value) {
                return Err(minijinja::Error::new(
                    ErrorKind::InvalidOperation,
                    DIVISION_BY_ZERO,
                ));
            }
            if crate::lazy::holds_undefined(value) {
                return Err(minijinja::Error::from(ErrorKind::UndefinedError));
            }
            out.write_str(&repr::py_str(value))
                .map_err(|_| minijinja::Error::from(ErrorKind::WriteFailure))
        });
        env.set_unknown_method_callback(methods::call_method);
        env.add_global("omit", self.omit.clone());
        env.add_function(undefined::CHAIN_FN, undefined::chain_fn);
        // a `!vault` value no secret of the run opens fails where it is used (the vault crate)
        env.add_function(
            vault::UNDECRYPTABLE_FN,
            |why: String| -> Result<JValue, _> { Err(filters::fail(why)) },
        );
        // Ansible's `undef(hint)`: an undefined value; using it fails with the hint
        env.add_function("undef", |hint: Option<String>| {
            if let Some(hint) = hint {
                undefined::note_loose_reason(hint);
            }
            JValue::UNDEFINED
        });
        // Jinja2's globals that minijinja leaves to its contrib crate
        env.add_function("joiner", minijinja_contrib::globals::joiner);
        env.add_function("cycler", |items: minijinja::value::Rest<JValue>| {
            minijinja_contrib::globals::cycler(items.0)
        });
        filters::register(&mut env);
        predicates::register(&mut env);
        lookup::register(&mut env, self.system_lookups);
        ansible_plugins::register(&mut env, self.system_lookups);
        files::configure(&mut env, &self.search, self.syntax.as_ref());
        env
    }

    /// Templates `text` the way Ansible templates a variable or argument: one `{{ expr }}`
    /// gives its native value, anything else a string.
    pub(crate) fn native(&self, scope: &Arc<Scope>, text: &str) -> Result<JValue, EvalError> {
        let escaped = escape::escape_backslashes(text);
        // Jinja2 drops one newline at the end of a template, so `{{ expr }}` and a newline
        // (YAML's `>` and `|` scalars end so) is one expression too; a text result keeps the
        // newline, as Ansible preserves trailing newlines
        let without_newline = escaped
            .strip_suffix('\n')
            .map(|t| t.strip_suffix('\r').unwrap_or(t));
        if let Some(expr) = without_newline.and_then(single_expression) {
            let value = self.eval_expr(scope, expr)?;
            return Ok(match value.as_str() {
                Some(text) if value.kind() == ValueKind::String => {
                    JValue::from(text.to_owned() + "\n")
                }
                _ => value,
            });
        }
        match single_expression(&escaped) {
            Some(expr) => self.eval_expr(scope, expr),
            None => {
                let mut out = self.render(scope, &escaped, TemplateOptions::default())?;
                keep_trailing_newlines(text, &mut out);
                Ok(JValue::from(out))
            }
        }
    }

    pub(crate) fn eval_expr(&self, scope: &Arc<Scope>, expr: &str) -> Result<JValue, EvalError> {
        let env = self.env(TemplateOptions::default());
        self.with_retries(scope, expr, true, |src| {
            refuse_early_close(src)?;
            let compiled = env.compile_expression_owned(src.to_string())?;
            let value = compiled.eval(scope.root())?;
            if value.is_undefined() {
                // an undefined result is a failure of the whole expression
                return Err(minijinja::Error::new(ErrorKind::UndefinedError, WHOLE));
            }
            if crate::lazy::holds_undefined(&value) {
                return Err(minijinja::Error::from(ErrorKind::UndefinedError));
            }
            Ok(value)
        })
    }

    pub(crate) fn render(
        &self,
        scope: &Arc<Scope>,
        text: &str,
        options: TemplateOptions,
    ) -> Result<String, EvalError> {
        let env = self.env(options);
        let mut out =
            self.with_retries(scope, text, false, |src| env.render_str(src, scope.root()))?;
        keep_trailing_newlines(text, &mut out);
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
            if let Some(rewritten) = crate::percent_op::rewrite(&src, &err)
                .or_else(|| crate::py_ops::rewrite(&src, &err))
            {
                src = rewritten;
                continue;
            }
            if matches!(
                err.kind(),
                ErrorKind::UnknownFilter | ErrorKind::UnknownTest
            ) {
                if let Some(rewritten) = crate::qualified::strip_builtin_prefixes(&src)
                    .or_else(|| crate::qualified::route_unknown(&src, &err))
                {
                    src = rewritten;
                    continue;
                }
            }
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
                // no position (`'x' in y`, `a.b == 1`): the access that came out undefined (or
                // the item a filter made undefined), else the first variable the source uses
                // that is not defined, as Ansible says
                if let Some(message) =
                    undefined::recorded_reason(&src).or_else(undefined::loose_reason)
                {
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
                        message: undefined::loose_reason().unwrap_or(message),
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
pub(crate) struct ScopeNames<'a> {
    pub(crate) scope: &'a Arc<Scope>,
    pub(crate) env: &'a Environment<'static>,
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
            // the range is minijinja's, into the text it compiled: a rewritten source may put
            // it past the end or inside a character of this one
            let position = match (err.range(), err.line()) {
                (Some(range), _) if source.is_char_boundary(range.start) => {
                    let before = &source[..range.start];
                    let line = before.matches('\n').count() + 1;
                    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
                    let column = before[line_start..].chars().count() + 1;
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
