//! Numeric versions as image tags spell them: `1.2.3`, `v1.2`, `2.0.0-rc.1+build.5`.
//!
//! One type serves both the tier classifier (which also sees four-part and variant versions)
//! and the `semver` strategy (which reads two- and three-part versions, as Keel and Diun do).

use std::cmp::Ordering;
use std::fmt;

use serde::Serialize;

/// The words that make a suffix a pre-release rather than a variant such as `-alpine`.
const PRE_RELEASE_WORDS: [&str; 7] = ["alpha", "beta", "rc", "pre", "preview", "dev", "snapshot"];

/// One dot-separated pre-release identifier; numbers sort before words (semver §11).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ident {
    Number(u64),
    Word(String),
}

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ident::Number(n) => write!(f, "{n}"),
            Ident::Word(w) => f.write_str(w),
        }
    }
}

/// A parsed version. `parts` keeps the precision the tag was written with.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Version {
    pub parts: Vec<u64>,
    pub pre: Vec<Ident>,
    /// Build metadata (`+…`): kept for display, ignored by precedence.
    pub build: Option<String>,
}

impl Version {
    pub fn major(&self) -> u64 {
        self.parts.first().copied().unwrap_or(0)
    }

    pub fn minor(&self) -> u64 {
        self.parts.get(1).copied().unwrap_or(0)
    }

    pub fn patch(&self) -> u64 {
        self.parts.get(2).copied().unwrap_or(0)
    }

    pub fn is_pre_release(&self) -> bool {
        !self.pre.is_empty()
    }

    /// The name of the pre-release channel: the letters that open the first identifier
    /// (`rc` for `rc.1` and `rc1`, `ls` for `ls12`), empty for a release. Candidates on the
    /// current tag's channel are admitted even when pre-releases are otherwise left out.
    pub fn pre_release_track(&self) -> String {
        match self.pre.first() {
            Some(Ident::Word(w)) => w.chars().take_while(|c| c.is_ascii_alphabetic()).collect(),
            _ => String::new(),
        }
    }

    /// Semver precedence: numeric parts (missing parts count as 0), then a release above any
    /// of its pre-releases, then the pre-release identifiers in order. Build metadata is ignored.
    pub fn precedence(&self, other: &Self) -> Ordering {
        let width = self.parts.len().max(other.parts.len());
        for i in 0..width {
            let ours = self.parts.get(i).copied().unwrap_or(0);
            let theirs = other.parts.get(i).copied().unwrap_or(0);
            match ours.cmp(&theirs) {
                Ordering::Equal => {}
                unequal => return unequal,
            }
        }
        match (self.pre.is_empty(), other.pre.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => self.pre.cmp(&other.pre),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, part) in self.parts.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{part}")?;
        }
        for (i, ident) in self.pre.iter().enumerate() {
            f.write_str(if i == 0 { "-" } else { "." })?;
            write!(f, "{ident}")?;
        }
        if let Some(build) = &self.build {
            write!(f, "+{build}")?;
        }
        Ok(())
    }
}

impl Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Strips one leading `v` or `V`, as every peer does.
pub fn strip_v(tag: &str) -> &str {
    tag.strip_prefix(['v', 'V']).unwrap_or(tag)
}

/// Splits `1.2.3` into numbers. Every part must be 1 to 19 digits (so it fits a u64).
pub fn parse_numbers(text: &str) -> Option<Vec<u64>> {
    text.split('.').map(parse_number).collect()
}

pub fn parse_number(part: &str) -> Option<u64> {
    if part.is_empty() || part.len() > 19 || !part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    part.parse().ok()
}

/// Reads dot-separated pre-release identifiers; each must be non-empty `[0-9A-Za-z-]`.
pub fn parse_pre_release(text: &str) -> Option<Vec<Ident>> {
    text.split('.')
        .map(|ident| {
            if ident.is_empty()
                || !ident
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                return None;
            }
            Some(match parse_number(ident) {
                Some(n) => Ident::Number(n),
                None => Ident::Word(ident.to_owned()),
            })
        })
        .collect()
}

/// Whether a suffix such as `rc1`, `beta.2` or `SNAPSHOT` names a pre-release.
pub fn is_pre_release_word(suffix: &str) -> bool {
    let lower = suffix.to_ascii_lowercase();
    PRE_RELEASE_WORDS.iter().any(|word| {
        lower.strip_prefix(word).is_some_and(|rest| {
            rest.is_empty()
                || rest.starts_with(|c: char| c.is_ascii_digit() || c == '.' || c == '-')
        })
    })
}

/// The `semver` strategy's reading of a tag: optional `v`, then `MAJOR.MINOR` or
/// `MAJOR.MINOR.PATCH`, with pre-release and build metadata allowed on the three-part form.
/// Two-part tags (`postgres:16.4`) are versions here, as in Keel and Diun; Flux differs.
pub fn parse_semver_tag(tag: &str) -> Option<Version> {
    let body = strip_v(tag);
    let (body, build) = match body.split_once('+') {
        Some((body, build)) if is_build_metadata(build) => (body, Some(build.to_owned())),
        Some(_) => return None,
        None => (body, None),
    };
    let (core, pre) = match body.split_once('-') {
        Some((core, pre)) => (core, parse_pre_release(pre)?),
        None => (body, Vec::new()),
    };
    let parts = parse_numbers(core)?;
    let full = parts.len() == 3;
    if !(full || (parts.len() == 2 && pre.is_empty() && build.is_none())) {
        return None;
    }
    Some(Version { parts, pre, build })
}

fn is_build_metadata(text: &str) -> bool {
    text.split('.').all(|ident| {
        !ident.is_empty()
            && ident
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(tag: &str) -> Version {
        parse_semver_tag(tag).unwrap_or_else(|| panic!("{tag} should parse"))
    }

    #[test]
    fn release_outranks_its_pre_releases_and_numbers_outrank_words() {
        assert_eq!(v("1.0.0").precedence(&v("1.0.0-rc.1")), Ordering::Greater);
        assert_eq!(
            v("1.0.0-rc.2").precedence(&v("1.0.0-rc.10")),
            Ordering::Less
        );
        assert_eq!(v("1.0.0-1").precedence(&v("1.0.0-alpha")), Ordering::Less);
        assert_eq!(
            v("1.0.0-alpha").precedence(&v("1.0.0-alpha.1")),
            Ordering::Less
        );
    }

    #[test]
    fn two_part_tags_read_as_patch_zero_and_build_metadata_is_ignored() {
        assert_eq!(v("1.4").precedence(&v("1.4.0")), Ordering::Equal);
        assert_eq!(v("v1.2.3+abc").precedence(&v("1.2.3")), Ordering::Equal);
    }

    #[test]
    fn semver_tags_reject_what_is_not_a_version() {
        for tag in [
            "latest",
            "3050",
            "1.2.3.4",
            "1.0.0p",
            "v1.2-beta.5",
            "\nv1.2",
            "1..2",
            "1.2.3-",
            "1.2.3+",
        ] {
            assert!(parse_semver_tag(tag).is_none(), "{tag:?} should not parse");
        }
    }

    #[test]
    fn pre_release_words_are_recognised_but_variants_are_not() {
        for suffix in ["rc1", "rc.1", "beta", "alpha-2", "SNAPSHOT", "preview3"] {
            assert!(is_pre_release_word(suffix), "{suffix}");
        }
        for suffix in ["alpine", "bookworm", "release", "devel", "rcx"] {
            assert!(!is_pre_release_word(suffix), "{suffix}");
        }
    }

    #[test]
    fn track_is_the_leading_word_of_the_pre_release() {
        assert_eq!(v("1.0.0-rc.1").pre_release_track(), "rc");
        assert_eq!(v("0.1.0-ls12").pre_release_track(), "ls");
        assert_eq!(v("1.0.0").pre_release_track(), "");
    }
}
