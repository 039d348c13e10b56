//! What the template module's templar adds to the playbook one: a search path for
//! `{% import %}`/`{% include %}` names (the template's directory, the role's and playbook's
//! `templates/`), its own delimiters (`comment_start_string`, a `#jinja2:` line), and naming
//! the variable an undefined error without a position is about.

use std::sync::Arc;

use minijinja::{Environment, ErrorKind};

use super::engine::ScopeNames;
use super::{Templar, TemplateError};

/// The template module's delimiters: (start, end) of blocks, variables and comments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delimiters {
    pub block: (String, String),
    pub variable: (String, String),
    pub comment: (String, String),
    /// `line_statement_prefix`: a line starting with it is a block tag.
    pub line_statement: Option<String>,
    /// `line_comment_prefix`: a line starting with it is a comment.
    pub line_comment: Option<String>,
}

impl Default for Delimiters {
    fn default() -> Self {
        let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
        Delimiters {
            block: pair("{%", "%}"),
            variable: pair("{{", "}}"),
            comment: pair("{#", "#}"),
            line_statement: None,
            line_comment: None,
        }
    }
}

impl Delimiters {
    /// minijinja's syntax for these delimiters.
    pub(crate) fn syntax(&self) -> Result<minijinja::syntax::SyntaxConfig, minijinja::Error> {
        let mut builder = minijinja::syntax::SyntaxConfig::builder();
        builder
            .block_delimiters(self.block.0.clone(), self.block.1.clone())
            .variable_delimiters(self.variable.0.clone(), self.variable.1.clone())
            .comment_delimiters(self.comment.0.clone(), self.comment.1.clone());
        if let Some(prefix) = &self.line_statement {
            builder.line_statement_prefix(prefix.clone());
        }
        if let Some(prefix) = &self.line_comment {
            builder.line_comment_prefix(prefix.clone());
        }
        builder.build()
    }
}

impl Templar {
    /// A templar for the template module: `{% import %}`/`{% include %}`/`{% extends %}`
    /// names are looked up in `search` (the template's own directory, then the role's and the
    /// playbook's `templates/`), as Ansible's loader searches them.
    pub fn for_files(search: Vec<std::path::PathBuf>) -> Self {
        let mut templar = Self::build(true);
        if let Some(engine) = Arc::get_mut(&mut templar.engine) {
            engine.search = search;
        }
        templar
    }

    /// The template module's `block_start_string` ... `comment_end_string`: this templar's
    /// delimiters instead of Jinja2's (`{% %}`, `{{ }}`, `{# #}`).
    pub fn with_delimiters(mut self, d: &Delimiters) -> Result<Self, TemplateError> {
        let syntax = d.syntax().map_err(|e| TemplateError(e.to_string()))?;
        match Arc::get_mut(&mut self.engine) {
            Some(engine) => engine.syntax = Some(syntax),
            None => return Err(TemplateError("templar already shared".into())),
        }
        Ok(self)
    }
}

/// The first (by name) variable `src` uses that is neither defined nor a global.
pub(crate) fn first_missing(
    names: &ScopeNames<'_>,
    src: &str,
    is_expression: bool,
) -> Option<String> {
    use crate::undefined::Names;
    let text = if is_expression {
        format!("{{{{ {src} }}}}")
    } else {
        src.to_string()
    };
    let env = names.env;
    let template = env.template_from_str(&text).ok()?;
    let mut used: Vec<String> = template.undeclared_variables(false).into_iter().collect();
    used.sort();
    used.into_iter().find(|n| names.is_missing(n))
}

/// Sets a templar's own delimiters and its loader for `{% import %}`/`{% include %}` names
/// (none: such names are refused, as for playbook strings).
pub(crate) fn configure<'a>(
    env: &mut Environment<'a>,
    search: &[std::path::PathBuf],
    syntax: Option<&minijinja::syntax::SyntaxConfig>,
) {
    if let Some(syntax) = syntax {
        env.set_syntax(syntax.clone());
    }
    if search.is_empty() {
        return;
    }
    let search = search.to_vec();
    env.set_loader(move |name| {
        for dir in &search {
            let path = dir.join(name);
            if path.is_file() {
                return std::fs::read_to_string(&path).map(Some).map_err(|e| {
                    minijinja::Error::new(ErrorKind::InvalidOperation, e.to_string())
                });
            }
        }
        Ok(None)
    });
}
