//! The one parse: yaml-rust2's marked events into a small positioned tree,
//! so every later problem knows its line and column from the parser itself.
//!
//! Aliases are expanded here, within a budget of nodes, so a "billion
//! laughs" file stops early with bounded memory; nesting is bounded too.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// More nodes than aliases in any stack file expand to (a whole 500-alarm
/// fleet is ~6,000 nodes). Nodes written out are bounded by the file size.
const MAX_EXPANDED: usize = 100_000;

/// Deeper than any stack file needs (alarms[0].field is depth 3).
const MAX_DEPTH: usize = 32;

/// A position in the file, both 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mark {
    pub line: usize,
    pub col: usize,
}

impl Mark {
    fn of(m: &Marker) -> Mark {
        // yaml-rust2's line is 1-based already, its column 0-based.
        Mark {
            line: m.line(),
            col: m.col() + 1,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Value {
    /// The text as written; `plain` when unquoted (only a plain scalar can be
    /// a number, a boolean or null).
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    /// Entries in file order, repeated keys included (the walk decides).
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub value: Value,
    pub mark: Mark,
}

impl Node {
    fn size(&self) -> usize {
        match &self.value {
            Value::Scalar { .. } => 1,
            Value::Seq(items) => 1 + items.iter().map(Node::size).sum::<usize>(),
            Value::Map(entries) => {
                1 + entries
                    .iter()
                    .map(|(k, v)| k.size() + v.size())
                    .sum::<usize>()
            }
        }
    }
}

/// Why the text gives no tree.
#[derive(Debug)]
pub(crate) enum TreeError {
    /// The parser's own message (a fixed English phrase, no file content).
    Syntax {
        mark: Mark,
        info: String,
    },
    TooManyAliases {
        mark: Mark,
    },
    TooDeep {
        mark: Mark,
    },
    MultipleDocuments {
        mark: Mark,
    },
    UnknownAnchor {
        mark: Mark,
    },
}

/// The document's root, or `None` for a file with no document (empty, or
/// only comments).
pub(crate) fn parse(text: &str) -> Result<Option<Node>, TreeError> {
    let mut builder = Builder::default();
    let parsed = Parser::new_from_str(text).load(&mut builder, true);
    // A problem the builder found comes first: it stopped building there.
    if let Some(e) = builder.error {
        return Err(e);
    }
    parsed.map_err(|e| TreeError::Syntax {
        mark: Mark::of(e.marker()),
        info: e.info().to_string(),
    })?;
    Ok(builder.root)
}

enum Open {
    Seq(Vec<Node>, Mark, usize),
    Map {
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
        mark: Mark,
        anchor: usize,
    },
}

#[derive(Default)]
struct Builder {
    open: Vec<Open>,
    anchors: HashMap<usize, Node>,
    /// Nodes added by alias expansion so far.
    expanded: usize,
    documents: usize,
    root: Option<Node>,
    error: Option<TreeError>,
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, marker: Marker) {
        if self.error.is_some() {
            return;
        }
        let mark = Mark::of(&marker);
        match ev {
            Event::DocumentStart => {
                self.documents += 1;
                if self.documents > 1 {
                    self.error = Some(TreeError::MultipleDocuments { mark });
                }
            }
            Event::Scalar(text, style, anchor, _) => {
                let plain = style == TScalarStyle::Plain;
                self.add(
                    anchor,
                    Node {
                        value: Value::Scalar { text, plain },
                        mark,
                    },
                );
            }
            Event::SequenceStart(anchor, _) => self.open(Open::Seq(Vec::new(), mark, anchor), mark),
            Event::MappingStart(anchor, _) => self.open(
                Open::Map {
                    entries: Vec::new(),
                    key: None,
                    mark,
                    anchor,
                },
                mark,
            ),
            Event::SequenceEnd | Event::MappingEnd => self.close(),
            Event::Alias(id) => self.alias(id, mark),
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
        }
    }
}

impl Builder {
    fn open(&mut self, container: Open, mark: Mark) {
        if self.open.len() >= MAX_DEPTH {
            self.error = Some(TreeError::TooDeep { mark });
            return;
        }
        self.open.push(container);
    }

    fn close(&mut self) {
        let (node, anchor) = match self.open.pop() {
            Some(Open::Seq(items, mark, anchor)) => (
                Node {
                    value: Value::Seq(items),
                    mark,
                },
                anchor,
            ),
            Some(Open::Map {
                entries,
                mark,
                anchor,
                ..
            }) => (
                Node {
                    value: Value::Map(entries),
                    mark,
                },
                anchor,
            ),
            None => return,
        };
        self.add(anchor, node);
    }

    fn alias(&mut self, id: usize, mark: Mark) {
        let Some(target) = self.anchors.get(&id) else {
            self.error = Some(TreeError::UnknownAnchor { mark });
            return;
        };
        // The budget is checked before the copy is made: memory stays bounded.
        self.expanded += target.size();
        if self.expanded > MAX_EXPANDED {
            self.error = Some(TreeError::TooManyAliases { mark });
            return;
        }
        let mut copy = target.clone();
        // Positions point at the alias, where the reader looks.
        copy.mark = mark;
        self.add(0, copy);
    }

    /// Attaches a finished node to the open container, or makes it the root.
    fn add(&mut self, anchor: usize, node: Node) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.open.last_mut() {
            None => self.root = Some(node),
            Some(Open::Seq(items, ..)) => items.push(node),
            Some(Open::Map { entries, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push((k, node)),
            },
        }
    }
}
