//! Tag patterns: `regexp:RE` (fancy-regex, so the original README's `(?=.{1,25}$)` look-ahead
//! works), `glob:PATTERN` or a bare glob (`*` any run, `?` one character), and the tag-name
//! checks every candidate passes first.

use std::fmt;

use fancy_regex::{Expander, Regex};

/// Why a pattern or extract template was refused.
#[derive(Debug, thiserror::Error)]
pub enum PatternError {
    #[error("pattern {pattern:?} is not a valid regular expression")]
    CompileRegexp {
        pattern: String,
        #[source]
        source: Box<fancy_regex::Error>,
    },
    #[error("pattern {pattern:?} is empty")]
    ParseEmpty { pattern: String },
    #[error("extract template {template:?} needs a regexp: pattern, but {pattern:?} is a glob")]
    ExtractFromGlob { template: String, pattern: String },
    #[error("extract template {template:?} does not fit pattern {pattern:?}")]
    CheckTemplate {
        template: String,
        pattern: String,
        #[source]
        source: Box<fancy_regex::Error>,
    },
}

/// A compiled tag pattern.
#[derive(Clone, Debug)]
pub enum TagPattern {
    /// Unanchored search, as in Flux, Keel and Diun; anchor with `^…$` to match whole tags.
    Regexp {
        source: String,
        regex: Regex,
        /// A leading `^(?=.{m,n}$)` rewritten as a length check: with the look-ahead gone,
        /// fancy-regex hands the rest to the linear-time engine (ten times faster here).
        length: Option<(usize, usize)>,
    },
    /// Matches the whole tag.
    Glob { source: String },
}

impl TagPattern {
    /// `regexp:RE`, `glob:PATTERN`, or a bare glob.
    pub fn parse(pattern: &str) -> Result<Self, PatternError> {
        if let Some(expr) = pattern.strip_prefix("regexp:") {
            let compile = |expr: &str| {
                Regex::new(expr).map_err(|source| PatternError::CompileRegexp {
                    pattern: pattern.to_owned(),
                    source: Box::new(source),
                })
            };
            // Compile the pattern as written first, so errors name what the user wrote.
            let mut regex = compile(expr)?;
            let length = leading_length_check(expr);
            if let Some((_, rest)) = length {
                regex = compile(&format!("^{rest}"))?;
            }
            return Ok(TagPattern::Regexp {
                source: pattern.to_owned(),
                regex,
                length: length.map(|(bounds, _)| bounds),
            });
        }
        let glob = pattern.strip_prefix("glob:").unwrap_or(pattern);
        if glob.is_empty() {
            return Err(PatternError::ParseEmpty {
                pattern: pattern.to_owned(),
            });
        }
        Ok(TagPattern::Glob {
            source: glob.to_owned(),
        })
    }

    /// Whether the tag matches. A regex that gives up (fancy-regex's backtracking limit) does
    /// not match: a tag that cannot be checked is not let through.
    pub fn matches(&self, tag: &str) -> bool {
        match self {
            TagPattern::Regexp { regex, length, .. } => {
                let length_ok = length.is_none_or(|(min, max)| {
                    !tag.contains('\n') && (min..=max).contains(&tag.chars().count())
                });
                length_ok && regex.is_match(tag).unwrap_or(false)
            }
            TagPattern::Glob { source } => glob_matches(source, tag),
        }
    }

    pub fn source(&self) -> &str {
        match self {
            TagPattern::Regexp { source, .. } | TagPattern::Glob { source } => source,
        }
    }
}

impl fmt::Display for TagPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.source())
    }
}

/// An extract template (`$1`, `$name`, `${name}`) over a regexp pattern: the strategy then
/// orders tags by the extracted text, and the original tag is what gets picked.
#[derive(Clone, Debug)]
pub struct Extract {
    template: String,
    regex: Regex,
}

impl Extract {
    pub fn new(template: &str, pattern: &TagPattern) -> Result<Self, PatternError> {
        let TagPattern::Regexp { regex, source, .. } = pattern else {
            return Err(PatternError::ExtractFromGlob {
                template: template.to_owned(),
                pattern: pattern.source().to_owned(),
            });
        };
        Expander::default()
            .check(template, regex)
            .map_err(|e| PatternError::CheckTemplate {
                template: template.to_owned(),
                pattern: source.clone(),
                source: Box::new(e),
            })?;
        Ok(Extract {
            template: template.to_owned(),
            regex: regex.clone(),
        })
    }

    /// The extracted text, or `None` when the pattern does not match the tag.
    pub fn apply(&self, tag: &str) -> Option<String> {
        let captures = self.regex.captures(tag).ok()??;
        Some(Expander::default().expansion(&self.template, &captures))
    }
}

/// Splits `^(?=.{m,n}$)REST` into `((m, n), REST)`; any other pattern is left alone.
fn leading_length_check(expr: &str) -> Option<((usize, usize), &str)> {
    let inner = expr.strip_prefix("^(?=.{")?;
    let (bounds, rest) = inner.split_once("}$)")?;
    let (min, max) = bounds.split_once(',')?;
    let (min, max) = (min.parse().ok()?, max.parse().ok()?);
    (min <= max).then_some(((min, max), rest))
}

/// `*` matches any run of characters, `?` exactly one; everything else is literal.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    // Iterative matching with one backtrack point: linear in practice, no recursion.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// Docker's tag grammar: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub fn is_valid_tag_name(tag: &str) -> bool {
    let bytes = tag.as_bytes();
    match bytes.first() {
        Some(first) if first.is_ascii_alphanumeric() || *first == b'_' => {}
        _ => return false,
    }
    bytes.len() <= 128
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(b))
}

/// Cosign signatures, attestations and SBOMs (`sha256-<64 hex>.sig|.att|.sbom`) and OCI
/// referrer-fallback tags (`sha256-<64 hex>`): never images to deploy.
pub fn is_artifact_tag(tag: &str) -> bool {
    let Some(rest) = tag.strip_prefix("sha256-") else {
        return false;
    };
    let (hex, suffix) = rest.split_at_checked(64).unwrap_or((rest, "?"));
    hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && matches!(suffix, "" | ".sig" | ".att" | ".sbom")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_whole_tags() {
        assert!(glob_matches("v*", "v1.2.3"));
        assert!(glob_matches("build-*", "build-1696801785"));
        assert!(glob_matches("*-alpine", "1.25-alpine"));
        assert!(glob_matches("1.?.0", "1.2.0"));
        assert!(!glob_matches("v*", "1.2.3"));
        assert!(!glob_matches("latest", "latest-2"));
        assert!(glob_matches("a*b*c", "axxbyyc"));
        assert!(!glob_matches("a*b*c", "axxbyy"));
    }

    #[test]
    fn the_original_readme_look_ahead_caps_tag_length() {
        let allow =
            TagPattern::parse(r"regexp:^(?=.{1,25}$)(v[0-9]+(\.[0-9]+){0,2}(-[a-z0-9]+)?|latest)$")
                .unwrap();
        assert!(allow.matches("v1.2.3-rc1"));
        assert!(allow.matches("latest"));
        assert!(!allow.matches("v1.2.3-abcdefghijklmnopqrstuvwxyz"));
    }

    #[test]
    fn the_look_ahead_shortcut_matches_exactly_what_the_look_ahead_does() {
        let expr = r"^(?=.{1,12}$)(v[0-9]+(\.[0-9]+){0,2}|latest|[a-z]+-[0-9]+)$";
        let fast = TagPattern::parse(&format!("regexp:{expr}")).unwrap();
        assert!(matches!(
            fast,
            TagPattern::Regexp {
                length: Some((1, 12)),
                ..
            }
        ));
        let reference = Regex::new(expr).unwrap();
        let tags = [
            "v1",
            "v1.2.3",
            "v10.20.300",
            "v100.200.300",
            "latest",
            "",
            "main-1",
            "feature-1234",
            "feature-12345",
            "v1\n",
        ];
        for tag in tags {
            assert_eq!(
                fast.matches(tag),
                reference.is_match(tag).unwrap(),
                "{tag:?}"
            );
        }
    }

    #[test]
    fn a_broken_regexp_is_refused_with_its_text() {
        let err = TagPattern::parse("regexp:^(v").unwrap_err();
        assert!(err.to_string().contains("^(v"), "{err}");
    }

    #[test]
    fn extract_reads_named_and_numbered_groups() {
        let pattern = TagPattern::parse(r"regexp:^build-.*-(?P<compare>\d+)$").unwrap();
        let by_name = Extract::new("$compare", &pattern).unwrap();
        assert_eq!(
            by_name.apply("build-1a3560ef-1696801785").as_deref(),
            Some("1696801785")
        );
        assert_eq!(by_name.apply("1.0.0"), None);
        assert!(Extract::new("$missing", &pattern).is_err());
        assert!(Extract::new("$1", &TagPattern::parse("v*").unwrap()).is_err());
    }

    #[test]
    fn cosign_tags_are_artifacts_but_lookalikes_are_not() {
        let digest = "64677ff7a877079df86d4a12e80e67a9548ea0facb2acb8c6719e79088e64526";
        for suffix in ["", ".sig", ".att", ".sbom"] {
            assert!(is_artifact_tag(&format!("sha256-{digest}{suffix}")));
        }
        assert!(!is_artifact_tag("sha256-not-a-digest"));
        assert!(!is_artifact_tag(&format!("sha256-{digest}.txt")));
    }

    #[test]
    fn tag_names_follow_docker_grammar() {
        assert!(is_valid_tag_name("v1.2.3_rc-1"));
        for bad in ["", "-x", ".x", "a/b", "a:b", "é", &"a".repeat(129)] {
            assert!(!is_valid_tag_name(bad), "{bad:?}");
        }
    }
}
