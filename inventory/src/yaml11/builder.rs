//! Turns saphyr-parser events into a [`Marked`] tree (anchors, aliases, merge keys, tags).

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};

use super::marked::{Marked, MarkedValue};
use super::resolve;
use crate::error::InventoryError;

/// Deepest nesting accepted; deeper input is refused rather than risking the stack.
const MAX_DEPTH: usize = 512;
/// Most nodes that aliases may copy in one document ("billion laughs" guard).
const MAX_ALIAS_NODES: usize = 1_000_000;

/// A mapping under construction: ordered pairs plus an index for O(1) replacement.
#[derive(Default)]
struct PairMap {
    pairs: Vec<(String, Marked)>,
    index: HashMap<String, usize>,
}

impl PairMap {
    /// Python-dict insertion: an existing key keeps its position and takes the new value.
    fn insert(&mut self, key: String, value: Marked) {
        match self.index.get(&key) {
            Some(&i) => self.pairs[i].1 = value,
            None => {
                self.index.insert(key.clone(), self.pairs.len());
                self.pairs.push((key, value));
            }
        }
    }
}

/// What a mapping frame expects next.
enum Pending {
    /// A key.
    Key,
    /// The value for this key.
    Value(String),
    /// The value of a `<<` merge key.
    Merge,
}

/// An open collection.
enum Frame {
    Seq {
        items: Vec<Marked>,
        at: (usize, usize),
        anchor: usize,
    },
    Map {
        explicit: PairMap,
        merges: Vec<Marked>,
        pending: Pending,
        at: (usize, usize),
        anchor: usize,
    },
}

/// Builder state for one stream.
struct Builder<'o> {
    origin: &'o str,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Marked>,
    alias_nodes: usize,
    root: Option<Marked>,
    documents: usize,
}

/// 1-based (line, col) of a span's start.
fn pos(span: &Span) -> (usize, usize) {
    (span.start.line().max(1), span.start.col() + 1)
}

/// Parses `text` into a single-document [`Marked`] tree.
pub(super) fn build(text: &str, origin: &str) -> Result<Marked, InventoryError> {
    let mut b = Builder {
        origin,
        stack: Vec::new(),
        anchors: HashMap::new(),
        alias_nodes: 0,
        root: None,
        documents: 0,
    };
    for item in Parser::new_from_str(text) {
        let (event, span) = item.map_err(|e| {
            let m = e.marker();
            InventoryError::parse(origin, m.line().max(1), m.col() + 1, e.info())
        })?;
        b.event(event, pos(&span))?;
    }
    Ok(b.root
        .unwrap_or_else(|| Marked::new(MarkedValue::Null, 1, 1)))
}

impl Builder<'_> {
    fn err(&self, at: (usize, usize), message: impl Into<String>) -> InventoryError {
        InventoryError::parse(self.origin, at.0, at.1, message)
    }

    fn event(&mut self, event: Event<'_>, at: (usize, usize)) -> Result<(), InventoryError> {
        match event {
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(self.err(at, "expected a single document in the stream"));
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                if self.expects_key() {
                    let key = text.into_owned();
                    let merge = style == ScalarStyle::Plain && tag.is_none() && key == "<<";
                    if anchor != 0 {
                        let node = Marked::new(MarkedValue::Str(key.clone()), at.0, at.1);
                        self.anchors.insert(anchor, node);
                    }
                    self.set_pending(if merge {
                        Pending::Merge
                    } else {
                        Pending::Value(key)
                    });
                } else {
                    let value = self.scalar(&text, style, tag.as_deref(), at)?;
                    self.push_value(Marked::new(value, at.0, at.1), anchor)?;
                }
            }
            Event::SequenceStart(anchor, _) => {
                self.open(at)?;
                self.stack.push(Frame::Seq {
                    items: Vec::new(),
                    at,
                    anchor,
                });
            }
            Event::MappingStart(anchor, _) => {
                self.open(at)?;
                self.stack.push(Frame::Map {
                    explicit: PairMap::default(),
                    merges: Vec::new(),
                    pending: Pending::Key,
                    at,
                    anchor,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => self.close()?,
            Event::Alias(id) => self.alias(id, at)?,
            _ => {}
        }
        Ok(())
    }

    /// True when the innermost open collection is a mapping waiting for a key.
    fn expects_key(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Frame::Map {
                pending: Pending::Key,
                ..
            })
        )
    }

    fn set_pending(&mut self, next: Pending) {
        if let Some(Frame::Map { pending, .. }) = self.stack.last_mut() {
            *pending = next;
        }
    }

    /// Checks that a collection may start here (not as a mapping key, not too deep).
    fn open(&self, at: (usize, usize)) -> Result<(), InventoryError> {
        if self.expects_key() {
            return Err(self.err(at, "mapping keys must be scalars"));
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.err(at, format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    fn close(&mut self) -> Result<(), InventoryError> {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        match frame {
            Frame::Seq { items, at, anchor } => {
                self.push_value(Marked::new(MarkedValue::Seq(items), at.0, at.1), anchor)
            }
            Frame::Map {
                explicit,
                merges,
                at,
                anchor,
                ..
            } => {
                let pairs = apply_merges(explicit, merges);
                self.push_value(Marked::new(MarkedValue::Map(pairs), at.0, at.1), anchor)
            }
        }
    }

    fn alias(&mut self, id: usize, at: (usize, usize)) -> Result<(), InventoryError> {
        let Some(node) = self.anchors.get(&id) else {
            return Err(self.err(at, "alias refers to an unknown or unfinished anchor"));
        };
        self.alias_nodes = self.alias_nodes.saturating_add(node.size());
        if self.alias_nodes > MAX_ALIAS_NODES {
            return Err(self.err(at, "aliases expand to too many nodes"));
        }
        let mut node = node.clone();
        if self.expects_key() {
            let key = match &node.value {
                MarkedValue::Str(s) => s.clone(),
                MarkedValue::Int(i) => i.to_string(),
                MarkedValue::Float(f) => f.to_string(),
                MarkedValue::Bool(b) => b.to_string(),
                MarkedValue::Null => String::new(),
                _ => return Err(self.err(at, "mapping keys must be scalars")),
            };
            self.set_pending(Pending::Value(key));
            return Ok(());
        }
        (node.line, node.col) = at;
        self.push_value(node, 0)
    }

    /// Attaches a finished node to its parent (or makes it the document root).
    fn push_value(&mut self, node: Marked, anchor: usize) -> Result<(), InventoryError> {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        let at = (node.line, node.col);
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                explicit,
                merges,
                pending,
                ..
            }) => match std::mem::replace(pending, Pending::Key) {
                Pending::Value(key) => explicit.insert(key, node),
                Pending::Merge => {
                    if !is_mergeable(&node) {
                        return Err(
                            self.err(at, "merge key '<<' needs a mapping or a list of mappings")
                        );
                    }
                    merges.push(node);
                }
                Pending::Key => return Err(self.err(at, "mapping keys must be scalars")),
            },
        }
        Ok(())
    }

    /// Types a scalar: quoted and block scalars are strings, plain ones follow YAML 1.1, and an
    /// explicit core tag (`!!int "0644"`) forces the type.
    fn scalar(
        &self,
        text: &str,
        style: ScalarStyle,
        tag: Option<&Tag>,
        at: (usize, usize),
    ) -> Result<MarkedValue, InventoryError> {
        let Some(tag) = tag else {
            return Ok(if style == ScalarStyle::Plain {
                resolve::resolve_plain(text)
            } else {
                MarkedValue::Str(text.to_string())
            });
        };
        if !tag.is_yaml_core_schema() {
            if tag.suffix == "unsafe" {
                return Ok(MarkedValue::Str(unsafe_text(text)));
            }
            if tag.suffix == "vault" {
                // the plaintext is data, never a template (ansible-core 2.19 does not trust it)
                return Ok(MarkedValue::Str(match vault::open_inline(text) {
                    Ok(plain) => unsafe_text(&plain),
                    Err(failing) => failing,
                }));
            }
            // `! x` and unknown local tags: keep the text as a string.
            return Ok(MarkedValue::Str(text.to_string()));
        }
        let bad = |what: &str| self.err(at, format!("{text:?} is not a valid {what}"));
        Ok(match tag.suffix.as_str() {
            "int" => match resolve::parse_int(text) {
                Some(MarkedValue::Int(i)) => MarkedValue::Int(i),
                _ => return Err(bad("!!int")),
            },
            "float" => match resolve::parse_float(text) {
                Some(f) => MarkedValue::Float(f),
                None => match resolve::parse_int(text) {
                    Some(MarkedValue::Int(i)) => MarkedValue::Float(i as f64),
                    _ => return Err(bad("!!float")),
                },
            },
            "bool" => MarkedValue::Bool(resolve::parse_bool(text).ok_or_else(|| bad("!!bool"))?),
            "null" => MarkedValue::Null,
            _ => MarkedValue::Str(text.to_string()),
        })
    }
}

/// An `!unsafe` string: Ansible never templates it, while fleet templates every string it
/// uses, so markup in it is kept inside a Jinja2 `raw` block, which renders to exactly the text.
/// (Text that itself closes a raw block is kept as written.)
pub fn unsafe_text(text: &str) -> String {
    let markup = text.contains("{{") || text.contains("{%") || text.contains("{#");
    if markup && !text.contains("endraw") {
        format!("{{% raw %}}{text}{{% endraw %}}")
    } else {
        text.to_string()
    }
}

/// A `<<` value must be a mapping or a list of mappings.
fn is_mergeable(node: &Marked) -> bool {
    match &node.value {
        MarkedValue::Map(_) => true,
        MarkedValue::Seq(items) => items.iter().all(|i| matches!(i.value, MarkedValue::Map(_))),
        _ => false,
    }
}

/// PyYAML's `flatten_mapping`: merged pairs first (for a list, earlier mappings win), then the
/// explicit pairs, which override merged ones.
fn apply_merges(explicit: PairMap, merges: Vec<Marked>) -> Vec<(String, Marked)> {
    if merges.is_empty() {
        return explicit.pairs;
    }
    let mut out = PairMap::default();
    let add = |node: Marked, out: &mut PairMap| {
        if let MarkedValue::Map(pairs) = node.value {
            for (k, v) in pairs {
                out.insert(k, v);
            }
        }
    };
    for merge in merges {
        match merge.value {
            MarkedValue::Seq(items) => {
                for item in items.into_iter().rev() {
                    add(item, &mut out);
                }
            }
            _ => add(merge, &mut out),
        }
    }
    for (k, v) in explicit.pairs {
        out.insert(k, v);
    }
    out.pairs
}
