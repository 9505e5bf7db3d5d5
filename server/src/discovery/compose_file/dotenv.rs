//! The project's `.env` file, as compose reads it: `KEY=value` lines (optionally `export KEY=`),
//! `#` comments, values unquoted (a ` #` starts a comment), `'single'` (literal) or `"double"`
//! quoted, quoted values possibly spanning lines; a later line for the same key wins.
//! Editing replaces the bytes of one value and leaves every other byte as it was.

use std::ops::Range;

use super::Refusal;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quote {
    None,
    Single,
    Double,
}

#[derive(Debug)]
struct Entry {
    name: String,
    /// The value's bytes in the file, inside the quotes if any.
    span: Range<usize>,
    quote: Quote,
    multi_line: bool,
}

/// The entries of a `.env` text. Lines that are not assignments are skipped, as comments are.
fn entries(text: &str) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut offset = 0;
    while offset < text.len() {
        let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
        offset = match entry_at(text, offset, line_end) {
            Some(entry) => {
                // A quoted value may run past this line: go on after the line it ends on.
                let after = entry.span.end;
                entries.push(entry);
                text[after..]
                    .find('\n')
                    .map_or(text.len(), |i| after + i + 1)
            }
            None => line_end + 1,
        };
    }
    entries
}

fn entry_at(text: &str, line_start: usize, line_end: usize) -> Option<Entry> {
    let line = &text[line_start..line_end];
    let body = line.trim_start();
    let body = body.strip_prefix("export ").map_or(body, str::trim_start);
    let (key, _) = body.split_once('=')?;
    let name = key.trim();
    let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.'));
    if !valid {
        return None;
    }
    let equals = line_start + (line.len() - body.len()) + key.len();
    let after_equals = &text[equals + 1..line_end];
    let value_start =
        equals + 1 + (after_equals.len() - after_equals.trim_start_matches([' ', '\t']).len());
    let quote = match text[value_start..].chars().next() {
        Some('\'') => Quote::Single,
        Some('"') => Quote::Double,
        _ => Quote::None,
    };
    let span = match quote {
        Quote::None => {
            let value = &text[value_start..line_end];
            let value = value.find(" #").map_or(value, |comment| &value[..comment]);
            let value = value.trim_end();
            value_start..value_start + value.len()
        }
        Quote::Single | Quote::Double => {
            let inner = value_start + 1;
            let close = closing_quote(&text[inner..], quote)?;
            inner..inner + close
        }
    };
    let multi_line = text[span.clone()].contains('\n');
    Some(Entry {
        name: name.to_owned(),
        span,
        quote,
        multi_line,
    })
}

/// Where the quote that ends a quoted value is, counted from just after the opening one.
fn closing_quote(text: &str, quote: Quote) -> Option<usize> {
    let mut chars = text.char_indices();
    while let Some((index, c)) = chars.next() {
        match (c, quote) {
            ('\\', Quote::Double) => {
                chars.next();
            }
            ('\'', Quote::Single) | ('"', Quote::Double) => return Some(index),
            _ => {}
        }
    }
    None
}

fn last<'e>(entries: &'e [Entry], name: &str) -> Option<&'e Entry> {
    entries.iter().rev().find(|entry| entry.name == name)
}

/// The raw value of `name` (double-quoted escapes undone), as compose sees it before
/// interpolation; `interpolated` is false for single-quoted values, which compose takes
/// literally.
pub(super) fn value(text: &str, name: &str) -> Option<(String, bool)> {
    let entries = entries(text);
    let entry = last(&entries, name)?;
    let raw = &text[entry.span.clone()];
    Some(match entry.quote {
        Quote::Single => (raw.to_owned(), false),
        Quote::Double => (unescape(raw), true),
        Quote::None => (raw.to_owned(), true),
    })
}

fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(escaped @ ('\\' | '"' | '$')) => out.push(escaped),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// The `.env` text with `name` set to `new_value` (a validated image or tag: no quotes,
/// spaces, `#` or `$`). An existing assignment keeps its quoting; a missing one is appended.
pub(super) fn set(text: &str, name: &str, new_value: &str) -> Result<String, Refusal> {
    let entries = entries(text);
    let edited = match last(&entries, name) {
        Some(entry) if entry.multi_line => {
            return Err(Refusal::EnvValueMultiLine {
                variable: name.to_owned(),
            });
        }
        Some(entry) if entry.quote != Quote::Single && text[entry.span.clone()].contains('$') => {
            return Err(Refusal::EnvValueInterpolated {
                variable: name.to_owned(),
            });
        }
        Some(entry) => {
            let mut edited = String::with_capacity(text.len() + new_value.len());
            edited.push_str(&text[..entry.span.start]);
            edited.push_str(new_value);
            edited.push_str(&text[entry.span.end..]);
            edited
        }
        None => {
            let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
            let mut edited = text.to_owned();
            if !edited.is_empty() && !edited.ends_with('\n') {
                edited.push_str(newline);
            }
            edited.push_str(&format!("{name}={new_value}{newline}"));
            edited
        }
    };
    // The same reading compose will do must now give the new value.
    match value(&edited, name) {
        Some((value, _)) if value == new_value => Ok(edited),
        _ => Err(Refusal::SpliceUnverified),
    }
}

/// The `.env` text without the assignment of `name` that compose reads (the last one), for
/// undoing an edit that added it.
pub(super) fn remove(text: &str, name: &str) -> Result<String, Refusal> {
    let entries = entries(text);
    let Some(entry) = last(&entries, name) else {
        return Ok(text.to_owned());
    };
    if entry.multi_line {
        return Err(Refusal::EnvValueMultiLine {
            variable: name.to_owned(),
        });
    }
    let start = text[..entry.span.start].rfind('\n').map_or(0, |i| i + 1);
    let end = text[entry.span.end..]
        .find('\n')
        .map_or(text.len(), |i| entry.span.end + i + 1);
    let edited = format!("{}{}", &text[..start], &text[end..]);
    match value(&edited, name) {
        None => Ok(edited),
        Some(_) => Err(Refusal::SpliceUnverified),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENV: &str = "# tags\nexport APP_TAG=1.0 # pinned by ops\nDB='postgres:16'\n\nWEB_IMAGE = \"nginx:1.25\"\nNOTE=\"two\nOTHER=lines\"\nAPP_TAG=1.1\n";

    #[test]
    fn reads_the_last_assignment_in_each_quoting() {
        assert_eq!(value(ENV, "APP_TAG"), Some(("1.1".into(), true)));
        assert_eq!(value(ENV, "DB"), Some(("postgres:16".into(), false)));
        assert_eq!(value(ENV, "WEB_IMAGE"), Some(("nginx:1.25".into(), true)));
        assert_eq!(value(ENV, "NOTE"), Some(("two\nOTHER=lines".into(), true)));
        // A line inside a quoted value is not an assignment of its own.
        assert_eq!(value(ENV, "OTHER"), None);
        assert_eq!(value(ENV, "MISSING"), None);
    }

    #[test]
    fn edits_keep_every_other_byte() {
        let edited = set(ENV, "WEB_IMAGE", "nginx:1.27").unwrap();
        assert_eq!(edited, ENV.replace("\"nginx:1.25\"", "\"nginx:1.27\""));
        let edited = set(ENV, "DB", "postgres:17").unwrap();
        assert_eq!(edited, ENV.replace("'postgres:16'", "'postgres:17'"));
        // The later assignment is the one compose uses, so it is the one edited.
        let edited = set(ENV, "APP_TAG", "2.0").unwrap();
        assert_eq!(edited, ENV.replace("APP_TAG=1.1", "APP_TAG=2.0"));
    }

    #[test]
    fn a_missing_variable_is_appended_on_its_own_line() {
        assert_eq!(set("A=1", "B", "x:2").unwrap(), "A=1\nB=x:2\n");
        assert_eq!(set("A=1\r\n", "B", "x:2").unwrap(), "A=1\r\nB=x:2\r\n");
        assert_eq!(set("", "B", "x:2").unwrap(), "B=x:2\n");
    }

    #[test]
    fn removing_an_added_variable_gives_the_text_back() {
        let added = set(ENV, "NEW_IMAGE", "app:2").unwrap();
        assert_eq!(remove(&added, "NEW_IMAGE").unwrap(), ENV);
        assert_eq!(remove(ENV, "MISSING").unwrap(), ENV);
        assert_eq!(remove("B=x:2\n", "B").unwrap(), "");
    }

    #[test]
    fn values_that_cannot_be_edited_safely_are_refused() {
        assert!(matches!(
            set(ENV, "NOTE", "x"),
            Err(Refusal::EnvValueMultiLine { .. })
        ));
        assert!(matches!(
            set("IMG=${REG}/app:1\n", "IMG", "x"),
            Err(Refusal::EnvValueInterpolated { .. })
        ));
    }
}
