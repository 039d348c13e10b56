//! One loaded YAML file: its marked tree, and positions of nodes and of mapping keys.
//!
//! The YAML tree keeps positions of values only; errors about a key (an unknown keyword, a
//! misspelt module) should point at the key, so [`Source::key_position`] finds it in the text.

use std::path::Path;
use std::sync::Arc;

use inventory::{Marked, MarkedValue};

use super::error::PlaybookError;
use super::model::Position;

/// A parsed YAML file with its text, for positions.
pub struct Source {
    /// The file as the user will see it in messages.
    pub path: Arc<Path>,
    lines: Vec<String>,
}

impl Source {
    /// Reads and parses `path`. YAML syntax errors keep the parser's line and column.
    /// `referrer` is where the file was named (an import, a role), for the "could not read"
    /// error; without one the error is a plain I/O error on the path.
    pub fn load(
        path: &Path,
        referrer: Option<&Position>,
    ) -> Result<(Source, Marked), PlaybookError> {
        let text = inventory::read_data_file(path).map_err(|e| match referrer {
            Some(position) => PlaybookError::invalid(
                position.clone(),
                format!("could not read {}: {e}", path.display()),
            ),
            None => PlaybookError::Io {
                path: path.to_path_buf(),
                message: e.to_string(),
            },
        })?;
        Self::parse(path, &text)
    }

    /// Parses YAML `text` that came from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<(Source, Marked), PlaybookError> {
        let source = Source {
            path: Arc::from(path),
            lines: text.lines().map(str::to_string).collect(),
        };
        let origin = path.display().to_string();
        match inventory::load_yaml11_marked(text, &origin) {
            Ok(tree) => Ok((source, tree)),
            Err(inventory::InventoryError::Parse {
                line, col, message, ..
            }) => Err(PlaybookError::invalid(source.at(line, col), message)),
            Err(other) => Err(PlaybookError::invalid(source.at(1, 1), other.to_string())),
        }
    }

    /// A position in this file.
    pub fn at(&self, line: usize, col: usize) -> Position {
        Position {
            file: self.path.clone(),
            line,
            col,
        }
    }

    /// Where `node` starts.
    pub fn pos(&self, node: &Marked) -> Position {
        self.at(node.line, node.col)
    }

    /// An error at `node`.
    pub fn err(&self, node: &Marked, message: impl Into<String>) -> PlaybookError {
        PlaybookError::invalid(self.pos(node), message)
    }

    /// An error at the key `key` of the mapping `map` (whose value is `value`).
    pub fn key_err(
        &self,
        map: &Marked,
        key: &str,
        value: &Marked,
        message: impl Into<String>,
    ) -> PlaybookError {
        PlaybookError::invalid(self.key_position(map, key, value), message)
    }

    /// Where the key `key` of mapping `map` is written. Block mappings have every key at the
    /// mapping's column, on a line at or before the value's; flow mappings (`{a: 1}`) have it
    /// before the value on the value's line. Falls back to the value's position.
    pub fn key_position(&self, map: &Marked, key: &str, value: &Marked) -> Position {
        let last = value.line.max(map.line);
        for line in (map.line..=last).rev() {
            let Some(text) = self.lines.get(line - 1) else {
                continue;
            };
            let rest: String = text.chars().skip(map.col - 1).collect();
            if starts_with_key(&rest, key) {
                return self.at(line, map.col);
            }
        }
        if let Some(text) = self.lines.get(value.line - 1) {
            let before: String = text.chars().take(value.col.saturating_sub(1)).collect();
            if let Some(byte) = before.rfind(&format!("{key}:")) {
                let col = before[..byte].chars().count() + 1;
                return self.at(value.line, col);
            }
        }
        self.pos(value)
    }
}

/// Whether `text` opens with `key` (bare or quoted) followed by `:`.
fn starts_with_key(text: &str, key: &str) -> bool {
    let after = if let Some(rest) = text.strip_prefix(key) {
        rest
    } else if let Some(rest) = text
        .strip_prefix('"')
        .and_then(|t| t.strip_prefix(key))
        .and_then(|t| t.strip_prefix('"'))
    {
        rest
    } else if let Some(rest) = text
        .strip_prefix('\'')
        .and_then(|t| t.strip_prefix(key))
        .and_then(|t| t.strip_prefix('\''))
    {
        rest
    } else {
        return false;
    };
    after.trim_start_matches([' ', '\t']).starts_with(':')
}

/// The pairs of a mapping node, or `None` for other nodes.
pub fn pairs(node: &Marked) -> Option<&[(String, Marked)]> {
    match &node.value {
        MarkedValue::Map(pairs) => Some(pairs),
        _ => None,
    }
}
