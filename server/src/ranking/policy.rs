//! A service's selection policy: filters (allow patterns, ignore patterns, ignored tags, pin)
//! and the strategy that orders what passes them. Built once from configuration text, so a
//! bad pattern or constraint is reported when the configuration is read, not mid-check.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::constraint::{Constraint, ConstraintError};
use super::pattern::{Extract, PatternError, TagPattern, is_artifact_tag, is_valid_tag_name};

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("allow pattern refused")]
    ParseAllow(#[source] PatternError),
    #[error("ignore pattern refused")]
    ParseIgnore(#[source] PatternError),
    #[error("extract template refused")]
    ParseExtract(#[source] PatternError),
    #[error("--extract {template:?} needs an allow pattern of the form regexp:RE to extract from")]
    ParseExtractWithoutPattern { template: String },
    #[error("semver constraint refused")]
    ParseConstraint(#[source] ConstraintError),
    #[error("a constraint ({constraint:?}) only applies to the semver strategy, not {strategy}")]
    CheckConstraintStrategy {
        constraint: String,
        strategy: Strategy,
    },
    #[error("{what} {value:?} is not one of: {expected}")]
    ParseOption {
        what: &'static str,
        value: String,
        expected: &'static str,
    },
}

/// How candidates are ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Berth's default: the 14-tier classifier, staying in the current tag's lane.
    #[default]
    Tier,
    /// Semantic versions, optionally within a constraint.
    Semver,
    /// Byte-wise order of the tag (or the extracted text).
    Alphabetical,
    /// Numeric order of the tag (or the extracted text).
    Numerical,
    /// Most recently pushed.
    NewestBuild,
    /// Stay on the current tag; redeploy when its digest changes.
    Digest,
}

/// How far a version may move from the current one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// Any version change, including candidates whose version cannot be compared.
    #[default]
    Any,
    /// Any version change (a new major version included).
    Major,
    /// Same major version.
    Minor,
    /// Same major and minor version.
    Patch,
}

/// Under the tier strategy: stay in the current tag's lane, or rank every tier (the original
/// tool's behaviour: highest tier first, push time as the tiebreaker).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LaneMode {
    #[default]
    Same,
    Any,
}

/// `asc`: the greatest key is best. `desc`: the smallest is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Order {
    #[default]
    Asc,
    Desc,
}

macro_rules! option_text {
    ($type:ty, $what:literal, $expected:literal, { $($text:literal => $value:expr),+ $(,)? }) => {
        impl FromStr for $type {
            type Err = PolicyError;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                match text.to_ascii_lowercase().as_str() {
                    $($text => Ok($value),)+
                    _ => Err(PolicyError::ParseOption { what: $what, value: text.to_owned(), expected: $expected }),
                }
            }
        }
        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let text = [$(($value, $text)),+].into_iter().find(|(v, _)| v == self).map_or("?", |(_, t)| t);
                f.write_str(text)
            }
        }
    };
}

option_text!(Strategy, "strategy", "tier, semver, alphabetical, numerical, newest-build, digest", {
    "tier" => Strategy::Tier,
    "semver" => Strategy::Semver,
    "alphabetical" => Strategy::Alphabetical,
    "numerical" => Strategy::Numerical,
    "newest-build" => Strategy::NewestBuild,
    "digest" => Strategy::Digest,
});
option_text!(Scope, "scope", "major, minor, patch, any", {
    "any" => Scope::Any, "major" => Scope::Major, "minor" => Scope::Minor, "patch" => Scope::Patch,
});
option_text!(LaneMode, "lane", "same, any", { "same" => LaneMode::Same, "any" => LaneMode::Any });
option_text!(Order, "order", "asc, desc", { "asc" => Order::Asc, "desc" => Order::Desc });

/// The text a policy is built from: `ALLOW_TAGS`, a repository map's `:filter`, per-service
/// options, and the service's stored ignore list and pin.
#[derive(Clone, Debug, Default)]
pub struct PolicyOptions {
    /// Any-of: a candidate must match one (empty: all pass). `regexp:RE` or a glob.
    pub allow: Vec<String>,
    /// Any-of: a candidate matching one is dropped. `regexp:RE` or a glob.
    pub ignore: Vec<String>,
    /// Exact tags to drop (the service's `ignored_tags`, e.g. after a rollback).
    pub ignored_tags: Vec<String>,
    /// A pinned service has no candidate.
    pub pinned: Option<String>,
    pub strategy: Strategy,
    /// Semver constraint (`^1.2`, `>=1.0 <2.0 || 3.x`), semver strategy only.
    pub constraint: Option<String>,
    pub scope: Scope,
    pub lane: LaneMode,
    /// Admit every pre-release. Without it, a pre-release is admitted only on the current
    /// tag's own pre-release track (or when the constraint names one).
    pub pre_release: bool,
    /// Template (`$1`, `$name`) applied to the first `regexp:` allow pattern; the alphabetical
    /// and numerical strategies order by the extracted text.
    pub extract: Option<String>,
    pub order: Order,
}

/// A validated policy, ready to rank candidates. The default is Berth's default strategy
/// with no filters.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    pub(super) allow: Vec<TagPattern>,
    pub(super) ignore: Vec<TagPattern>,
    pub(super) ignored_tags: HashSet<String>,
    pub(super) pinned: Option<String>,
    pub(super) strategy: Strategy,
    pub(super) constraint: Option<Constraint>,
    pub(super) scope: Scope,
    pub(super) lane: LaneMode,
    pub(super) pre_release: bool,
    pub(super) extract: Option<Extract>,
    pub(super) order: Order,
}

impl Policy {
    pub fn from_options(options: &PolicyOptions) -> Result<Policy, PolicyError> {
        let allow = compile_all(&options.allow).map_err(PolicyError::ParseAllow)?;
        let ignore = compile_all(&options.ignore).map_err(PolicyError::ParseIgnore)?;
        let constraint = match options.constraint.as_deref() {
            None => None,
            Some(text) if options.strategy != Strategy::Semver => {
                return Err(PolicyError::CheckConstraintStrategy {
                    constraint: text.to_owned(),
                    strategy: options.strategy,
                });
            }
            Some(text) => Some(Constraint::parse(text).map_err(PolicyError::ParseConstraint)?),
        };
        let extract = match options.extract.as_deref() {
            None => None,
            Some(template) => {
                let pattern = allow
                    .iter()
                    .find(|p| matches!(p, TagPattern::Regexp { .. }))
                    .ok_or_else(|| PolicyError::ParseExtractWithoutPattern {
                        template: template.to_owned(),
                    })?;
                Some(Extract::new(template, pattern).map_err(PolicyError::ParseExtract)?)
            }
        };
        Ok(Policy {
            allow,
            ignore,
            ignored_tags: options.ignored_tags.iter().cloned().collect(),
            pinned: options.pinned.clone(),
            strategy: options.strategy,
            constraint,
            scope: options.scope,
            lane: options.lane,
            pre_release: options.pre_release,
            extract,
            order: options.order,
        })
    }

    pub fn strategy(&self) -> Strategy {
        self.strategy
    }

    pub fn pinned(&self) -> Option<&str> {
        self.pinned.as_deref()
    }

    /// The text the strategy reads from a tag: what `extract` takes from it, or the tag itself
    /// when there is no extract template. `None` when the extract pattern does not match.
    pub fn key_text<'a>(&self, tag: &'a str) -> Option<Cow<'a, str>> {
        match &self.extract {
            Some(extract) => extract.apply(tag).map(Cow::Owned),
            None => Some(Cow::Borrowed(tag)),
        }
    }

    /// Why the filters drop this tag, or `None` when it passes them. The pin is checked by
    /// the caller: a rollback asks what ranks above the tag it pins.
    pub fn filter_reason(&self, tag: &str) -> Option<String> {
        if !is_valid_tag_name(tag) {
            return Some("not a valid tag name".to_owned());
        }
        if is_artifact_tag(tag) {
            return Some("a signature, attestation or SBOM artifact, never an image".to_owned());
        }
        if self.ignored_tags.contains(tag) {
            return Some("in the service's ignored tags".to_owned());
        }
        if let Some(pattern) = self.ignore.iter().find(|p| p.matches(tag)) {
            return Some(format!("matches ignore pattern {pattern}"));
        }
        if !self.allow.is_empty() && !self.allow.iter().any(|p| p.matches(tag)) {
            let patterns: Vec<&str> = self.allow.iter().map(TagPattern::source).collect();
            return Some(format!(
                "matches no allow pattern ({})",
                patterns.join(", ")
            ));
        }
        None
    }
}

fn compile_all(patterns: &[String]) -> Result<Vec<TagPattern>, PatternError> {
    patterns.iter().map(|p| TagPattern::parse(p)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_words_parse_and_print_back() {
        for word in [
            "tier",
            "semver",
            "alphabetical",
            "numerical",
            "newest-build",
            "digest",
        ] {
            assert_eq!(word.parse::<Strategy>().unwrap().to_string(), word);
        }
        assert_eq!("DESC".parse::<Order>().unwrap(), Order::Desc);
        let err = "sideways".parse::<Order>().unwrap_err().to_string();
        assert!(
            err.contains("sideways") && err.contains("asc, desc"),
            "{err}"
        );
    }

    #[test]
    fn policy_refuses_bad_input_and_names_it() {
        let bad_constraint = PolicyOptions {
            strategy: Strategy::Semver,
            constraint: Some("1.0.0p".into()),
            ..Default::default()
        };
        let err = Policy::from_options(&bad_constraint).unwrap_err();
        let chain = format!(
            "{err}: {}",
            std::error::Error::source(&err)
                .map(ToString::to_string)
                .unwrap_or_default()
        );
        assert!(chain.contains("1.0.0p"), "{chain}");

        let extract_without_regexp = PolicyOptions {
            allow: vec!["v*".into()],
            extract: Some("$1".into()),
            ..Default::default()
        };
        assert!(matches!(
            Policy::from_options(&extract_without_regexp),
            Err(PolicyError::ParseExtractWithoutPattern { .. })
        ));

        let constraint_on_tier = PolicyOptions {
            constraint: Some("^1".into()),
            ..Default::default()
        };
        assert!(matches!(
            Policy::from_options(&constraint_on_tier),
            Err(PolicyError::CheckConstraintStrategy { .. })
        ));
    }
}
