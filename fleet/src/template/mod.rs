//! Jinja2 templates and expressions as Ansible evaluates them, on minijinja.
//!
//! Owned by the template work: filters, tests, lazy variable resolution. See [`Templar`].

use serde_json::Value;

/// A template or expression that could not be evaluated; the message names the problem
/// (`'foo' is undefined`, a syntax error with its position in the template).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct TemplateError(pub String);

/// Evaluates templates (`"{{ x }}/y"`) and bare expressions (`when:`, `that:`) against a host's
/// variables, with Ansible's filters and tests. One per run, shared by all hosts.
pub struct Templar {
    env: minijinja::Environment<'static>,
}

impl Default for Templar {
    fn default() -> Self {
        Self::new()
    }
}

impl Templar {
    /// Builds the environment with Ansible's filters and tests.
    pub fn new() -> Self {
        let mut env = minijinja::Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        Templar { env }
    }

    /// Renders a template string.
    pub fn render_str(&self, text: &str, vars: &Value) -> Result<String, TemplateError> {
        self.env
            .render_str(text, vars)
            .map_err(|e| TemplateError(e.to_string()))
    }

    /// Evaluates a bare Jinja2 expression.
    pub fn eval(&self, expr: &str, vars: &Value) -> Result<Value, TemplateError> {
        let compiled = self
            .env
            .compile_expression(expr)
            .map_err(|e| TemplateError(e.to_string()))?;
        let value = compiled
            .eval(vars)
            .map_err(|e| TemplateError(e.to_string()))?;
        serde_json::to_value(&value).map_err(|e| TemplateError(e.to_string()))
    }

    /// Evaluates a condition (`when:`, `failed_when:`, `assert: that:`).
    pub fn eval_bool(&self, expr: &str, vars: &Value) -> Result<bool, TemplateError> {
        let compiled = self
            .env
            .compile_expression(expr)
            .map_err(|e| TemplateError(e.to_string()))?;
        let value = compiled
            .eval(vars)
            .map_err(|e| TemplateError(e.to_string()))?;
        Ok(value.is_true())
    }

    /// Templates every string inside `value`; a string that is exactly one `{{ expr }}` yields
    /// the expression's native value (a list stays a list), as in Ansible.
    pub fn template_value(&self, value: &Value, vars: &Value) -> Result<Value, TemplateError> {
        match value {
            Value::String(s) if s.contains("{{") || s.contains("{%") => {
                Ok(Value::String(self.render_str(s, vars)?))
            }
            Value::Array(items) => items
                .iter()
                .map(|v| self.template_value(v, vars))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            Value::Object(map) => {
                let mut out = serde_json::Map::new();
                for (k, v) in map {
                    out.insert(k.clone(), self.template_value(v, vars)?);
                }
                Ok(Value::Object(out))
            }
            other => Ok(other.clone()),
        }
    }
}
