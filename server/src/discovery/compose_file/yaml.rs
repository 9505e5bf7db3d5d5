//! The YAML side of an edit: parse a compose file into a small tree that remembers where every
//! scalar starts in the text, find the exact byte span of one scalar, splice a new value into
//! it in the same quoting style, and prove the splice changed nothing else by parsing again.

use std::ops::Range;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, ScanError, TScalarStyle};

use super::Refusal;

/// The first document of a YAML stream, with every event kept for the after-splice check.
pub(super) struct Document {
    pub(super) root: Node,
    events: Vec<Event>,
}

pub(super) enum Node {
    Scalar(Scalar),
    /// `anchor` is the parser's anchor id (0: none).
    Mapping {
        anchor: usize,
        entries: Vec<(Node, Node)>,
    },
    Sequence {
        items: Vec<Node>,
    },
    /// `*name`: `anchor` is the id of the node it refers to; `at` is where the `*` is (chars).
    Alias {
        anchor: usize,
        at: usize,
    },
}

pub(super) struct Scalar {
    pub(super) value: String,
    pub(super) style: TScalarStyle,
    pub(super) anchor: usize,
    /// Where the scalar's text starts, in chars (at the opening quote when quoted).
    at: usize,
    /// Its position in the document's event list.
    event: usize,
}

impl Node {
    /// The value of `key` in a mapping; `Err(())` when the key appears more than once, where
    /// loaders disagree about which one counts.
    pub(super) fn get(&self, key: &str) -> Result<Option<&Node>, ()> {
        let Node::Mapping { entries, .. } = self else {
            return Ok(None);
        };
        let mut found = entries
            .iter()
            .filter(|(k, _)| matches!(k, Node::Scalar(s) if s.value == key));
        let first = found.next().map(|(_, value)| value);
        match found.next() {
            Some(_) => Err(()),
            None => Ok(first),
        }
    }

    /// Every alias anywhere under this node: its anchor id and where its `*` is.
    pub(super) fn aliases(&self, into: &mut Vec<(usize, usize)>) {
        match self {
            Node::Alias { anchor, at } => into.push((*anchor, *at)),
            Node::Mapping { entries, .. } => entries.iter().for_each(|(k, v)| {
                k.aliases(into);
                v.aliases(into);
            }),
            Node::Sequence { items } => items.iter().for_each(|item| item.aliases(into)),
            Node::Scalar(_) => {}
        }
    }

    /// The mapping or scalar that carries anchor `id`, if it is under this node.
    pub(super) fn anchored(&self, id: usize) -> Option<&Node> {
        match self {
            Node::Mapping { anchor, .. } if *anchor == id => Some(self),
            Node::Scalar(scalar) if scalar.anchor == id => Some(self),
            Node::Mapping { entries, .. } => entries
                .iter()
                .find_map(|(k, v)| k.anchored(id).or_else(|| v.anchored(id))),
            Node::Sequence { items } => items.iter().find_map(|item| item.anchored(id)),
            Node::Scalar(_) | Node::Alias { .. } => None,
        }
    }
}

#[derive(Default)]
struct Sink {
    events: Vec<(Event, Marker)>,
}

impl MarkedEventReceiver for Sink {
    fn on_event(&mut self, event: Event, mark: Marker) {
        self.events.push((event, mark));
    }
}

pub(super) fn parse(text: &str) -> Result<Document, ScanError> {
    let mut sink = Sink::default();
    // The parser would read a byte order mark as part of the first key; parse after it and
    // count it back into every position.
    let (body, shift) = match text.strip_prefix('\u{feff}') {
        Some(body) => (body, 1),
        None => (text, 0),
    };
    Parser::new_from_str(body).load(&mut sink, true)?;
    let mut builder = Builder {
        shift,
        events: &sink.events,
        next: 0,
    };
    // StreamStart, then DocumentStart unless the stream is empty.
    builder.next = sink
        .events
        .iter()
        .position(|(event, _)| matches!(event, Event::DocumentStart))
        .map_or(sink.events.len(), |start| start + 1);
    let root = builder.node().unwrap_or_else(|| {
        Node::Scalar(Scalar {
            value: String::new(),
            style: TScalarStyle::Plain,
            anchor: 0,
            at: 0,
            event: 0,
        })
    });
    Ok(Document {
        root,
        events: sink.events.into_iter().map(|(event, _)| event).collect(),
    })
}

struct Builder<'e> {
    events: &'e [(Event, Marker)],
    next: usize,
    /// Added to every position (1 when a byte order mark was cut off).
    shift: usize,
}

impl Builder<'_> {
    /// The node starting at the next event; `None` at the end of a collection or document.
    fn node(&mut self) -> Option<Node> {
        let index = self.next;
        let (event, mark) = self.events.get(index)?;
        self.next += 1;
        Some(match event {
            Event::Scalar(value, style, anchor, _) => Node::Scalar(Scalar {
                value: value.clone(),
                style: *style,
                anchor: *anchor,
                at: mark.index() + self.shift,
                event: index,
            }),
            Event::Alias(anchor) => Node::Alias {
                anchor: *anchor,
                at: mark.index() + self.shift,
            },
            Event::MappingStart(anchor, _) => {
                let mut entries = Vec::new();
                while let Some(key) = self.node() {
                    let Some(value) = self.node() else { break };
                    entries.push((key, value));
                }
                Node::Mapping {
                    anchor: *anchor,
                    entries,
                }
            }
            Event::SequenceStart(..) => {
                let mut items = Vec::new();
                while let Some(item) = self.node() {
                    items.push(item);
                }
                Node::Sequence { items }
            }
            // MappingEnd, SequenceEnd, DocumentEnd, StreamEnd: the caller's collection ends.
            _ => return None,
        })
    }
}

/// The name of the anchor an alias refers to, read from the text after its `*`.
pub(super) fn alias_name(text: &str, at: usize) -> String {
    let start = byte_offset(text, at) + 1;
    text.get(start..)
        .unwrap_or_default()
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | '[' | ']' | '{' | '}'))
        .collect()
}

/// The parser counts positions in chars; splicing needs bytes.
fn byte_offset(text: &str, char_index: usize) -> usize {
    text.char_indices()
        .nth(char_index)
        .map_or(text.len(), |(byte, _)| byte)
}

/// The byte span of the scalar's text, quotes included, when it sits on one line.
pub(super) fn scalar_span(text: &str, scalar: &Scalar) -> Result<Range<usize>, Refusal> {
    let start = byte_offset(text, scalar.at);
    let rest = text.get(start..).unwrap_or_default();
    let line = rest.split(['\n', '\r']).next().unwrap_or_default();
    let length = match scalar.style {
        TScalarStyle::Plain if line.starts_with(scalar.value.as_str()) => Some(scalar.value.len()),
        TScalarStyle::Plain => None,
        TScalarStyle::SingleQuoted => closing_quote(line, '\'', None),
        TScalarStyle::DoubleQuoted => closing_quote(line, '"', Some('\\')),
        TScalarStyle::Literal | TScalarStyle::Folded => return Err(Refusal::BlockScalar),
    };
    length
        .map(|length| start..start + length)
        .ok_or(Refusal::MultiLineScalar)
}

/// The length up to and including the quote that closes the one `line` opens with.
fn closing_quote(line: &str, quote: char, escape: Option<char>) -> Option<usize> {
    let mut chars = line.char_indices().skip(1);
    while let Some((index, c)) = chars.next() {
        if Some(c) == escape {
            chars.next();
        } else if c == quote {
            // In single quotes a doubled quote is an escaped one.
            if escape.is_none() && line[index + 1..].starts_with(quote) {
                chars.next();
                continue;
            }
            return Some(index + 1);
        }
    }
    None
}

/// The new value written in the scalar's own quoting style.
fn encode(value: &str, style: TScalarStyle) -> String {
    match style {
        TScalarStyle::SingleQuoted => format!("'{}'", value.replace('\'', "''")),
        TScalarStyle::DoubleQuoted => {
            format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
        }
        _ => value.to_owned(),
    }
}

/// Replace the scalar's value in `text`, then parse the result and check that the document is
/// event for event the same except that one scalar, which now holds `new_value`.
pub(super) fn splice(
    text: &str,
    document: &Document,
    scalar: &Scalar,
    new_value: &str,
) -> Result<String, Refusal> {
    let span = scalar_span(text, scalar)?;
    let mut edited = String::with_capacity(text.len() + new_value.len());
    edited.push_str(&text[..span.start]);
    edited.push_str(&encode(new_value, scalar.style));
    edited.push_str(&text[span.end..]);

    let reparsed = parse(&edited).map_err(|_| Refusal::SpliceUnverified)?;
    let mut expected = document.events.clone();
    if let Some(Event::Scalar(value, ..)) = expected.get_mut(scalar.event) {
        *value = new_value.to_owned();
    }
    if reparsed.events != expected {
        return Err(Refusal::SpliceUnverified);
    }
    Ok(edited)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image_of<'d>(document: &'d Document, service: &str) -> &'d Scalar {
        let services = document.root.get("services").unwrap().unwrap();
        let image = services.get(service).unwrap().unwrap().get("image");
        match image.unwrap().unwrap() {
            Node::Scalar(scalar) => scalar,
            _ => panic!("image of {service} is not a scalar"),
        }
    }

    fn edit(text: &str, service: &str, new: &str) -> Result<String, Refusal> {
        let document = parse(text).unwrap();
        splice(text, &document, image_of(&document, service), new)
    }

    #[test]
    fn each_quoting_style_is_kept() {
        let text = "services:\n  a:\n    image: a:1 # why\n  b:\n    image: 'b:1'\n  c:\n    image: \"c:1\"\n";
        let text = edit(text, "a", "a:2").unwrap();
        let text = edit(&text, "b", "b:2").unwrap();
        let text = edit(&text, "c", "c:2").unwrap();
        assert_eq!(
            text,
            "services:\n  a:\n    image: a:2 # why\n  b:\n    image: 'b:2'\n  c:\n    image: \"c:2\"\n"
        );
    }

    #[test]
    fn escaped_quotes_and_non_ascii_text_before_the_value_are_handled() {
        let text = "# café ☕\nservices:\n  a: {image: 'it''s:1', x: \"\\\"\"}\n";
        assert_eq!(
            edit(text, "a", "b:2").unwrap(),
            "# café ☕\nservices:\n  a: {image: 'b:2', x: \"\\\"\"}\n"
        );
    }

    #[test]
    fn crlf_line_endings_survive() {
        let text = "services:\r\n  a:\r\n    image: a:1\r\n    ports: [80]\r\n";
        assert_eq!(
            edit(text, "a", "a:2").unwrap(),
            "services:\r\n  a:\r\n    image: a:2\r\n    ports: [80]\r\n"
        );
    }

    #[test]
    fn a_byte_order_mark_does_not_shift_the_splice() {
        let text = "\u{feff}services:\n  a:\n    image: a:1\n";
        assert_eq!(
            edit(text, "a", "a:2").unwrap(),
            "\u{feff}services:\n  a:\n    image: a:2\n"
        );
    }

    #[test]
    fn block_and_multi_line_scalars_are_refused() {
        let folded = "services:\n  a:\n    image: >-\n      a:1\n";
        assert_eq!(edit(folded, "a", "a:2"), Err(Refusal::BlockScalar));
        let multi_line = "services:\n  a:\n    image: \"a:\n      1\"\n";
        assert_eq!(edit(multi_line, "a", "a:2"), Err(Refusal::MultiLineScalar));
    }

    #[test]
    fn a_value_that_would_change_the_document_is_refused() {
        // A plain scalar cannot hold ": " without changing the structure.
        let text = "services:\n  a:\n    image: a:1\n";
        assert_eq!(edit(text, "a", "a: 2"), Err(Refusal::SpliceUnverified));
    }

    #[test]
    fn alias_names_are_read_from_the_text() {
        let text = "x: &base {image: a}\ny: *base\n";
        let document = parse(text).unwrap();
        let Some(Node::Alias { at, .. }) = document.root.get("y").unwrap() else {
            panic!("y is not an alias");
        };
        assert_eq!(alias_name(text, *at), "base");
    }
}
