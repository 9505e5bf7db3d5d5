//! Compose's variable interpolation in an `image:` value: `${VAR}`, `${VAR:-default}`,
//! `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}`, `$VAR`, and
//! `$$` for a literal dollar. Enough of it to resolve the image and to tell which values Berth
//! can change by editing one variable.

/// How an `image:` value uses variables, which decides where an edit goes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Interpolation {
    /// No variables: the compose file itself is edited.
    Literal,
    /// The whole value is one variable (`${IMAGE}`, `${IMAGE:-nginx:1}`, `$IMAGE`): `.env` is
    /// edited to hold the new image.
    Variable { name: String },
    /// `repository:${TAG}`: the variable holds exactly the tag, so `.env` gets the new tag and
    /// the repository stays as the compose file writes it.
    TagVariable { name: String, repository: String },
    /// Variables mixed into other text (`reg/${APP}:1.0`): no single place to edit.
    Mixed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    /// `$$`, written as `$`.
    Dollar,
    Reference {
        name: &'a str,
        operator: Operator,
        word: &'a str,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    None,
    /// `:-` (`unset_or_empty` true) or `-`.
    Default {
        unset_or_empty: bool,
    },
    /// `:?` or `?`.
    Required {
        unset_or_empty: bool,
    },
    /// `:+` or `+`.
    Alternative {
        unset_or_empty: bool,
    },
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Split a value into text and references; `Err` names what is malformed.
fn pieces(raw: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut pieces = Vec::new();
    let mut rest = raw;
    while let Some(dollar) = rest.find('$') {
        if dollar > 0 {
            pieces.push(Piece::Text(&rest[..dollar]));
        }
        let after = &rest[dollar + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            pieces.push(Piece::Dollar);
            rest = tail;
        } else if let Some(inner_and_tail) = after.strip_prefix('{') {
            let close = matching_brace(inner_and_tail)
                .ok_or_else(|| format!("`{raw}` has a `${{` without its `}}`"))?;
            pieces.push(braced(&inner_and_tail[..close], raw)?);
            rest = &inner_and_tail[close + 1..];
        } else if after.starts_with(is_name_start) {
            let end = after.find(|c| !is_name_char(c)).unwrap_or(after.len());
            pieces.push(Piece::Reference {
                name: &after[..end],
                operator: Operator::None,
                word: "",
            });
            rest = &after[end..];
        } else {
            return Err(format!("`{raw}` has a `$` that starts no variable"));
        }
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest));
    }
    Ok(pieces)
}

/// The index of the `}` that closes a `${`, allowing nested `${…}` in defaults.
fn matching_brace(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (index, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(index),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

fn braced<'a>(inner: &'a str, raw: &str) -> Result<Piece<'a>, String> {
    let end = inner.find(|c| !is_name_char(c)).unwrap_or(inner.len());
    let (name, tail) = inner.split_at(end);
    if !name.starts_with(is_name_start) {
        return Err(format!(
            "`{raw}` has `${{{inner}}}`, which names no variable"
        ));
    }
    let (unset_or_empty, tail) = match tail.strip_prefix(':') {
        Some(tail) => (true, tail),
        None => (false, tail),
    };
    let mut chars = tail.chars();
    let operator = match chars.next() {
        None if !unset_or_empty => Operator::None,
        Some('-') => Operator::Default { unset_or_empty },
        Some('?') => Operator::Required { unset_or_empty },
        Some('+') => Operator::Alternative { unset_or_empty },
        _ => {
            return Err(format!(
                "`{raw}` has `${{{inner}}}`, which compose does not accept"
            ));
        }
    };
    Ok(Piece::Reference {
        name,
        operator,
        word: chars.as_str(),
    })
}

/// The value with every variable substituted from `lookup`, the way compose does it (an unset
/// variable without a default becomes empty). `Err` names the variable a `:?` requires, or
/// what is malformed.
pub(super) fn resolve(
    raw: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let mut resolved = String::new();
    for piece in pieces(raw)? {
        match piece {
            Piece::Text(text) => resolved.push_str(text),
            Piece::Dollar => resolved.push('$'),
            Piece::Reference {
                name,
                operator,
                word,
            } => {
                let value = lookup(name);
                let missing = |unset_or_empty: bool| match &value {
                    None => true,
                    Some(value) => unset_or_empty && value.is_empty(),
                };
                match operator {
                    Operator::None => resolved.push_str(value.as_deref().unwrap_or_default()),
                    Operator::Default { unset_or_empty } if missing(unset_or_empty) => {
                        resolved.push_str(&resolve(word, lookup)?);
                    }
                    Operator::Required { unset_or_empty } if missing(unset_or_empty) => {
                        return Err(format!("`{name}` is required: {word}"));
                    }
                    Operator::Alternative { unset_or_empty } => {
                        if !missing(unset_or_empty) {
                            resolved.push_str(&resolve(word, lookup)?);
                        }
                    }
                    Operator::Default { .. } | Operator::Required { .. } => {
                        resolved.push_str(value.as_deref().unwrap_or_default());
                    }
                }
            }
        }
    }
    Ok(resolved)
}

/// Every variable name the value refers to, those in defaults included.
pub(super) fn names(raw: &str) -> Vec<String> {
    let mut names = Vec::new();
    for piece in pieces(raw).unwrap_or_default() {
        if let Piece::Reference { name, word, .. } = piece {
            names.push(name.to_owned());
            names.extend(self::names(word));
        }
    }
    names
}

/// Whether setting the variable makes the reference expand to exactly that value. `${V:+x}`
/// expands to `x`, not to V, so it cannot be edited through V.
fn expands_to_variable(operator: Operator) -> bool {
    !matches!(operator, Operator::Alternative { .. })
}

pub(super) fn classify(raw: &str) -> Interpolation {
    let Ok(pieces) = pieces(raw) else {
        return Interpolation::Mixed;
    };
    match pieces.as_slice() {
        [] | [Piece::Text(_)] => Interpolation::Literal,
        [Piece::Reference { name, operator, .. }] if expands_to_variable(*operator) => {
            Interpolation::Variable {
                name: (*name).to_owned(),
            }
        }
        [Piece::Text(prefix), Piece::Reference { name, operator, .. }]
            if expands_to_variable(*operator) =>
        {
            // `repository:` with the colon after the last `/`: the variable is the tag.
            let last_part = prefix.rsplit('/').next().unwrap_or_default();
            match prefix.strip_suffix(':') {
                Some(repository)
                    if !repository.is_empty()
                        && last_part.find(':') == Some(last_part.len() - 1) =>
                {
                    Interpolation::TagVariable {
                        name: (*name).to_owned(),
                        repository: repository.to_owned(),
                    }
                }
                _ => Interpolation::Mixed,
            }
        }
        _ => Interpolation::Mixed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str) -> Option<String> {
        match name {
            "TAG" => Some("1.2".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn resolves_like_compose() {
        let cases = [
            ("app:${TAG}", "app:1.2"),
            ("app:$TAG", "app:1.2"),
            ("app:${UNSET:-9}", "app:9"),
            ("app:${EMPTY:-9}", "app:9"),
            ("app:${EMPTY-9}", "app:"),
            ("app:${UNSET-9}", "app:9"),
            ("app:${TAG:+alt}", "app:alt"),
            ("app:${UNSET:+alt}", "app:"),
            ("app:${UNSET:-${TAG}}", "app:1.2"),
            ("a$$b", "a$b"),
            ("plain:1", "plain:1"),
        ];
        for (raw, expected) in cases {
            assert_eq!(resolve(raw, &lookup).as_deref(), Ok(expected), "{raw}");
        }
        assert!(
            resolve("${UNSET:?set it}", &lookup)
                .unwrap_err()
                .contains("set it")
        );
        assert!(resolve("app:${TAG", &lookup).is_err());
    }

    #[test]
    fn classifies_where_an_edit_goes() {
        let variable = |name: &str| Interpolation::Variable { name: name.into() };
        assert_eq!(classify("nginx:1.25"), Interpolation::Literal);
        assert_eq!(classify("${IMAGE}"), variable("IMAGE"));
        assert_eq!(classify("${IMAGE:-nginx:1}"), variable("IMAGE"));
        assert_eq!(classify("${IMAGE-nginx:1}"), variable("IMAGE"));
        assert_eq!(classify("$IMAGE"), variable("IMAGE"));
        assert_eq!(
            classify("localhost:5000/app:${TAG:-1.0}"),
            Interpolation::TagVariable {
                name: "TAG".into(),
                repository: "localhost:5000/app".into()
            }
        );
        assert_eq!(classify("reg/${APP}:1.0"), Interpolation::Mixed);
        assert_eq!(classify("localhost:${PORT}/app:1"), Interpolation::Mixed);
        assert_eq!(classify("reg/app${SUFFIX}"), Interpolation::Mixed);
        assert_eq!(classify("${IMAGE:+x}"), Interpolation::Mixed);
        assert_eq!(classify("app:$$1"), Interpolation::Mixed);
    }
}
