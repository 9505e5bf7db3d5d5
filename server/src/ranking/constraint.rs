//! Semver constraints for the `semver` strategy, in the syntax Flux and npm users know:
//! `^1.2`, `~1.0`, `1.2.x`, `>=1.0 <2.0`, `>0,<2.0`, `1.2 - 1.4`, and `||` between sets.
//! Missing parts are wildcards: `>1.2` is `>=1.3.0`, `<=1.2` is `<1.3.0`.

use std::cmp::Ordering;

use super::version::{Ident, Version, parse_number, parse_pre_release, strip_v};

#[derive(Debug, thiserror::Error)]
pub enum ConstraintError {
    #[error("constraint {constraint:?} is empty")]
    ParseEmpty { constraint: String },
    #[error("constraint {constraint:?}: {part:?} {why}")]
    ParsePart {
        constraint: String,
        part: String,
        why: &'static str,
    },
}

/// One primitive bound on a version.
#[derive(Clone, Debug)]
enum Bound {
    Ge(Version),
    Gt(Version),
    Lt(Version),
    Le(Version),
    Eq(Version),
    /// Below `low` or at/above `high` (`!=1.2.x`).
    Outside(Version, Version),
}

impl Bound {
    fn holds(&self, v: &Version) -> bool {
        match self {
            Bound::Ge(b) => v.precedence(b) != Ordering::Less,
            Bound::Gt(b) => v.precedence(b) == Ordering::Greater,
            Bound::Lt(b) => v.precedence(b) == Ordering::Less,
            Bound::Le(b) => v.precedence(b) != Ordering::Greater,
            Bound::Eq(b) => v.precedence(b) == Ordering::Equal,
            Bound::Outside(low, high) => {
                v.precedence(low) == Ordering::Less || v.precedence(high) != Ordering::Less
            }
        }
    }

    fn version(&self) -> &Version {
        match self {
            Bound::Ge(b)
            | Bound::Gt(b)
            | Bound::Lt(b)
            | Bound::Le(b)
            | Bound::Eq(b)
            | Bound::Outside(b, _) => b,
        }
    }
}

/// A parsed constraint: satisfied when every bound of any one alternative holds.
#[derive(Clone, Debug)]
pub struct Constraint {
    source: String,
    alternatives: Vec<Vec<Bound>>,
}

/// A version written with wildcards or missing parts: `1.2` and `1.2.x` both have two parts.
struct Partial {
    parts: Vec<u64>,
    pre: Vec<Ident>,
}

impl Partial {
    fn low(&self) -> Version {
        let mut parts = self.parts.clone();
        parts.resize(3, 0);
        Version {
            parts,
            pre: self.pre.clone(),
            build: None,
        }
    }

    /// The first version past everything this partial covers (`1.2` → `1.3.0`).
    fn high(&self) -> Version {
        let parts = match self.parts.as_slice() {
            [major] => vec![major.saturating_add(1), 0, 0],
            [major, minor] => vec![*major, minor.saturating_add(1), 0],
            other => other.to_vec(),
        };
        Version {
            parts,
            pre: Vec::new(),
            build: None,
        }
    }

    fn exact(&self) -> bool {
        self.parts.len() == 3
    }
}

const OPERATORS: [&str; 12] = [
    ">=", "=>", "<=", "=<", "!=", "~>", ">", "<", "=", "~", "^", "",
];

impl Constraint {
    pub fn parse(constraint: &str) -> Result<Self, ConstraintError> {
        if constraint.trim().is_empty() {
            return Err(ConstraintError::ParseEmpty {
                constraint: constraint.to_owned(),
            });
        }
        let alternatives = constraint
            .split("||")
            .map(|set| parse_set(constraint, set))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Constraint {
            source: constraint.to_owned(),
            alternatives,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn matches(&self, version: &Version) -> bool {
        self.alternatives
            .iter()
            .any(|set| set.iter().all(|bound| bound.holds(version)))
    }

    /// Whether the constraint names a pre-release of this version's `major.minor.patch`
    /// (`>=1.0.0-rc.1`): such a constraint asks for that version's pre-releases.
    pub fn names_pre_release_of(&self, version: &Version) -> bool {
        self.alternatives.iter().flatten().any(|bound| {
            let named = bound.version();
            named.is_pre_release()
                && (named.major(), named.minor(), named.patch())
                    == (version.major(), version.minor(), version.patch())
        })
    }
}

fn parse_set(constraint: &str, set: &str) -> Result<Vec<Bound>, ConstraintError> {
    let fail = |part: &str, why| ConstraintError::ParsePart {
        constraint: constraint.to_owned(),
        part: part.to_owned(),
        why,
    };
    let spaced = set.replace(',', " ");
    let mut tokens: Vec<String> = Vec::new();
    let mut pending_operator: Option<String> = None;
    for token in spaced.split_whitespace() {
        if let Some(op) = pending_operator.take() {
            tokens.push(format!("{op}{token}"));
        } else if token != "-" && OPERATORS[..11].contains(&token) {
            pending_operator = Some(token.to_owned());
        } else {
            tokens.push(token.to_owned());
        }
    }
    if let Some(op) = pending_operator {
        return Err(fail(&op, "is an operator without a version"));
    }
    if tokens.is_empty() {
        return Err(fail(set, "has no version in it"));
    }
    let mut bounds = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if tokens.get(i + 1).is_some_and(|t| t == "-") {
            let (from, to) = (
                &tokens[i],
                tokens
                    .get(i + 2)
                    .ok_or_else(|| fail(set, "is a range without an end"))?,
            );
            let low = parse_partial(from).map_err(|why| fail(from, why))?;
            let high = parse_partial(to).map_err(|why| fail(to, why))?;
            bounds.push(Bound::Ge(low.low()));
            match high.parts.len() {
                0 => {}
                3 => bounds.push(Bound::Le(high.low())),
                _ => bounds.push(Bound::Lt(high.high())),
            }
            i += 3;
        } else {
            bounds.extend(parse_comparator(&tokens[i]).map_err(|why| fail(&tokens[i], why))?);
            i += 1;
        }
    }
    Ok(bounds)
}

fn parse_comparator(token: &str) -> Result<Vec<Bound>, &'static str> {
    let op = OPERATORS
        .iter()
        .find(|op| token.starts_with(**op))
        .copied()
        .unwrap_or("");
    let partial = parse_partial(&token[op.len()..])?;
    let (low, high, any) = (partial.low(), partial.high(), partial.parts.is_empty());
    let bounds = match op {
        "" | "=" if partial.exact() => vec![Bound::Eq(low)],
        "" | "=" if any => vec![],
        "" | "=" => vec![Bound::Ge(low), Bound::Lt(high)],
        "!=" if any => return Err("excludes every version"),
        "!=" if partial.exact() => vec![Bound::Outside(low.clone(), low)],
        "!=" => vec![Bound::Outside(low, high)],
        ">" if any => return Err("excludes every version"),
        ">" if partial.exact() => vec![Bound::Gt(low)],
        ">" => vec![Bound::Ge(high)],
        ">=" | "=>" => vec![Bound::Ge(low)],
        "<" if any => return Err("excludes every version"),
        "<" => vec![Bound::Lt(low)],
        "<=" | "=<" if any => vec![],
        "<=" | "=<" if partial.exact() => vec![Bound::Le(low)],
        "<=" | "=<" => vec![Bound::Lt(high)],
        "~" | "~>" if any => vec![],
        "~" | "~>" => {
            let minor_high = Partial {
                parts: partial.parts.iter().copied().take(2).collect(),
                pre: Vec::new(),
            }
            .high();
            vec![Bound::Ge(low), Bound::Lt(minor_high)]
        }
        "^" if any => vec![],
        "^" => vec![Bound::Ge(low), Bound::Lt(caret_high(&partial))],
        _ => return Err("has an unknown operator"),
    };
    Ok(bounds)
}

/// `^` allows changes that do not modify the left-most non-zero part.
fn caret_high(partial: &Partial) -> Version {
    let keep = match partial.parts.as_slice() {
        [0, 0, _] => 3,
        [0, _, ..] => 2,
        _ => 1,
    };
    let mut high = Partial {
        parts: partial.parts.iter().copied().take(keep).collect(),
        pre: Vec::new(),
    }
    .high();
    if keep == 3 {
        high.parts[2] = partial.parts[2].saturating_add(1);
    }
    high
}

fn parse_partial(text: &str) -> Result<Partial, &'static str> {
    let text = strip_v(text.trim());
    let text = text.split_once('+').map_or(text, |(before, _build)| before);
    let (core, pre) = match text.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (text, None),
    };
    if core.is_empty() {
        return Err("has no version number");
    }
    let mut parts = Vec::new();
    let mut wildcard_seen = false;
    for (index, part) in core.split('.').enumerate() {
        if index >= 3 {
            return Err("has more than three parts");
        }
        if matches!(part, "x" | "X" | "*") {
            wildcard_seen = true;
        } else if wildcard_seen {
            return Err("has a number after a wildcard");
        } else {
            parts.push(
                parse_number(part).ok_or("is not a version (each part must be a number or x)")?,
            );
        }
    }
    let pre = match pre {
        None => Vec::new(),
        Some(_) if parts.len() != 3 => return Err("has a pre-release on a partial version"),
        Some(pre) => parse_pre_release(pre).ok_or("has an invalid pre-release")?,
    };
    Ok(Partial { parts, pre })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ranking::version::parse_semver_tag;

    fn allows(constraint: &str, tag: &str) -> bool {
        let version = parse_semver_tag(tag).unwrap_or_else(|| panic!("{tag} is a version"));
        Constraint::parse(constraint)
            .unwrap_or_else(|e| panic!("{e}"))
            .matches(&version)
    }

    #[test]
    fn ranges_include_and_exclude_as_npm_does() {
        let table = [
            ("1.2.x", "1.2.9", true),
            ("1.2.x", "1.3.0", false),
            ("^1.2", "1.9.0", true),
            ("^1.2", "2.0.0", false),
            ("^0.2.3", "0.2.9", true),
            ("^0.2.3", "0.3.0", false),
            ("^0.0.3", "0.0.4", false),
            ("~1.0", "1.0.7", true),
            ("~1.0", "1.1.0", false),
            (">=1.0 <2.0", "1.5.0", true),
            (">=1.0 <2.0", "2.0.0", false),
            (">0,<2.0", "1.0.0", true),
            (">1.2", "1.2.9", false),
            (">1.2", "1.3.0", true),
            ("<=1.2", "1.2.9", true),
            ("1.2 - 1.4", "1.4.9", true),
            ("1.2 - 1.4.0", "1.4.1", false),
            ("<1.0 || >=3", "3.1.0", true),
            ("<1.0 || >=3", "2.0.0", false),
            ("!=1.2.x", "1.2.5", false),
            ("!=1.2.x", "1.3.0", true),
            ("v1.0.x", "1.0.3", true),
            ("*", "9.9.9", true),
            (">= 1.0", "1.0.0", true),
        ];
        for (constraint, tag, expected) in table {
            assert_eq!(allows(constraint, tag), expected, "{constraint} vs {tag}");
        }
    }

    #[test]
    fn bad_constraints_are_refused_naming_the_bad_part() {
        for bad in [
            "", "1.0.0p", "1x", "x1", "-1", "a", "*-*", ">=", "1.2 -", "1.2.3.4", ">*",
        ] {
            let err = Constraint::parse(bad)
                .err()
                .unwrap_or_else(|| panic!("{bad:?} should be refused"));
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn a_constraint_naming_a_pre_release_asks_for_that_versions_pre_releases() {
        let constraint = Constraint::parse(">=1.0.0-rc.1").unwrap();
        assert!(constraint.names_pre_release_of(&parse_semver_tag("1.0.0-rc.2").unwrap()));
        assert!(!constraint.names_pre_release_of(&parse_semver_tag("1.1.0-rc.1").unwrap()));
    }
}
