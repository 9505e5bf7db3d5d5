//! The 14-tier tag classifier (tiers 15 down to 2, numbered as in the original tool).
//!
//! Every tag gets a tier, a lane and a key. The lane groups the tags that may replace each
//! other under the default strategy (same prefix, same variant suffix, same precision); the
//! key orders tags within a lane. The classifier is hand-written rather than a list of
//! regexes because it runs on every tag of every repository on every check.

use std::cmp::Ordering;
use std::fmt;

use chrono::NaiveDate;
use serde::Serialize;

use super::version::{
    Version, is_pre_release_word, parse_number, parse_numbers, parse_pre_release, strip_v,
};

/// A tag's tier: higher is a more specific, more trustworthy format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    Generic = 2,
    BuildId = 3,
    CommitSha = 4,
    Label = 5,
    BranchBuild = 6,
    EpochTime = 7,
    CalendarDate = 8,
    VariantVersion = 9,
    FourPartVersion = 10,
    ReleasePrefixed = 11,
    MajorVersion = 12,
    MinorVersion = 13,
    IsoTimestamp = 14,
    FullSemver = 15,
}

impl Tier {
    pub const ALL: [Tier; 14] = [
        Tier::FullSemver,
        Tier::IsoTimestamp,
        Tier::MinorVersion,
        Tier::MajorVersion,
        Tier::ReleasePrefixed,
        Tier::FourPartVersion,
        Tier::VariantVersion,
        Tier::CalendarDate,
        Tier::EpochTime,
        Tier::BranchBuild,
        Tier::Label,
        Tier::CommitSha,
        Tier::BuildId,
        Tier::Generic,
    ];

    pub fn number(self) -> u8 {
        self as u8
    }

    /// The names of the six documented tiers are the original README's, word for word.
    pub fn name(self) -> &'static str {
        match self {
            Tier::FullSemver => "Full Semantic Version",
            Tier::IsoTimestamp => "ISO Timestamp",
            Tier::MinorVersion => "Minor Version",
            Tier::MajorVersion => "Major Version Only",
            Tier::ReleasePrefixed => "Release-prefixed Version",
            Tier::FourPartVersion => "Four-part Version",
            Tier::VariantVersion => "Version with Variant",
            Tier::CalendarDate => "Calendar Date",
            Tier::EpochTime => "Unix Epoch Time",
            Tier::BranchBuild => "Branch Build",
            Tier::Label => "Test or Feature Label",
            Tier::CommitSha => "Commit SHA",
            Tier::BuildId => "Build ID",
            Tier::Generic => "Generic identifier",
        }
    }

    /// Floating tags (`latest`, `test-login-fix`) are followed by digest, never replaced by
    /// another tag under the default strategy: they name a channel, not a release.
    pub fn is_floating(self) -> bool {
        matches!(self, Tier::Generic | Tier::Label)
    }
}

impl Serialize for Tier {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(self.number())
    }
}

/// What orders tags within a lane.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    /// Version precedence, then the numbers inside a variant (`alpine3.19` < `alpine3.20`).
    Version {
        version: Version,
        variant_numbers: Vec<u64>,
    },
    /// Seconds since the Unix epoch (timestamps, dates, epoch tags).
    Time(i64),
    /// A build number.
    Build(u64),
    /// No order of its own (commit SHAs, labels, generic names): only push time orders these.
    Unordered,
}

impl Key {
    fn kind_rank(&self) -> u8 {
        match self {
            Key::Unordered => 0,
            Key::Build(_) => 1,
            Key::Time(_) => 2,
            Key::Version { .. } => 3,
        }
    }

    /// A total order. Keys of different kinds only meet under `lane=any`; they are ordered
    /// by kind so that sorting stays consistent.
    pub fn compare(&self, other: &Self) -> Ordering {
        match (self, other) {
            (
                Key::Version {
                    version: a,
                    variant_numbers: an,
                },
                Key::Version {
                    version: b,
                    variant_numbers: bn,
                },
            ) => a.precedence(b).then_with(|| an.cmp(bn)),
            (Key::Time(a), Key::Time(b)) => a.cmp(b),
            (Key::Build(a), Key::Build(b)) => a.cmp(b),
            _ => self.kind_rank().cmp(&other.kind_rank()),
        }
    }

    pub fn version(&self) -> Option<&Version> {
        match self {
            Key::Version { version, .. } => Some(version),
            _ => None,
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Version {
                version,
                variant_numbers,
            } if variant_numbers.is_empty() => write!(f, "version {version}"),
            Key::Version {
                version,
                variant_numbers,
            } => write!(f, "version {version}, variant {variant_numbers:?}"),
            Key::Time(seconds) => match chrono::DateTime::from_timestamp(*seconds, 0) {
                Some(time) => write!(
                    f,
                    "time {}",
                    time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
                None => write!(f, "time {seconds}s"),
            },
            Key::Build(n) => write!(f, "build {n}"),
            Key::Unordered => f.write_str("unordered (push time only)"),
        }
    }
}

impl Serialize for Key {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A classified tag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Classified {
    pub tag: String,
    pub tier: Tier,
    pub tier_name: &'static str,
    /// Tags in the same lane may replace each other under the default strategy.
    pub lane: String,
    pub key: Key,
}

/// Classifies any string; never fails (unknown shapes are tier 2, generic).
pub fn classify(tag: &str) -> Classified {
    let (tier, lane, key) = read(tag);
    Classified {
        tag: tag.to_owned(),
        tier,
        tier_name: tier.name(),
        lane,
        key,
    }
}

type Reading = (Tier, String, Key);

fn read(tag: &str) -> Reading {
    time_shaped(tag)
        .or_else(|| plain_number(tag))
        .or_else(|| version_shaped(tag))
        .or_else(|| release_prefixed(tag))
        .or_else(|| build_id(tag))
        .or_else(|| label(tag))
        .or_else(|| branch_build(tag))
        .or_else(|| commit_sha(tag))
        .unwrap_or_else(|| (Tier::Generic, tag.to_owned(), Key::Unordered))
}

/// The shape of a tag with its digits hidden: `2026-01-21` → `####-##-##`.
fn digit_shape(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .collect()
}

fn seconds(year: &str, month: &str, day: &str, hms: Option<[&str; 3]>) -> Option<i64> {
    let year: i32 = year.parse().ok()?;
    if !(1970..=2199).contains(&year) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year, month.parse().ok()?, day.parse().ok()?)?;
    let [h, m, s] = hms.unwrap_or(["0", "0", "0"]);
    Some(
        date.and_hms_opt(h.parse().ok()?, m.parse().ok()?, s.parse().ok()?)?
            .and_utc()
            .timestamp(),
    )
}

/// Tier 14 (`2026-01-21-12-30-00`, `20260121T123000`, `2021-01-08T21-18-21Z`) and tier 8
/// (`2026.01.21`, `2026-01-21`, `20260121`).
fn time_shaped(tag: &str) -> Option<Reading> {
    // Every accepted shape is 8 to 20 characters and opens with a four-digit year; most
    // tags fail this cheap test and skip the splitting below.
    let opens_with_year = tag
        .as_bytes()
        .get(..4)
        .is_some_and(|y| y.iter().all(u8::is_ascii_digit));
    if !(8..=20).contains(&tag.len()) || !opens_with_year {
        return None;
    }
    let body = tag.strip_suffix(['Z', 'z']).unwrap_or(tag);
    let runs: Vec<&str> = body.split(['-', '.', '_', 'T', 't']).collect();
    if runs
        .iter()
        .any(|run| run.is_empty() || !run.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let lengths: Vec<usize> = runs.iter().map(|run| run.len()).collect();
    let joined: String = runs.concat();
    let (tier, at) = match lengths.as_slice() {
        [4, 2, 2] | [8] if body.len() == tag.len() => (Tier::CalendarDate, None),
        [4, 2, 2, 2, 2, 2] | [8, 6] | [14] => (Tier::IsoTimestamp, Some(())),
        _ => return None,
    };
    let (year, month, day) = (joined.get(0..4)?, joined.get(4..6)?, joined.get(6..8)?);
    let hms = match at {
        Some(()) => Some([joined.get(8..10)?, joined.get(10..12)?, joined.get(12..14)?]),
        None => None,
    };
    let time = seconds(year, month, day, hms)?;
    Some((tier, digit_shape(tag), Key::Time(time)))
}

/// Bare numbers: Unix epoch seconds (10 digits) or milliseconds (13 digits) in 2001–2100
/// are tier 7; any other bare number is a major version (tier 12).
fn plain_number(tag: &str) -> Option<Reading> {
    let n = parse_number(tag)?;
    const EPOCH_2001: u64 = 1_000_000_000;
    const EPOCH_2100: u64 = 4_102_444_800;
    let epoch = match tag.len() {
        10 if (EPOCH_2001..EPOCH_2100).contains(&n) => Some(n),
        13 if (EPOCH_2001 * 1000..EPOCH_2100 * 1000).contains(&n) => Some(n / 1000),
        _ => None,
    };
    match epoch.and_then(|s| i64::try_from(s).ok()) {
        Some(seconds) => Some((
            Tier::EpochTime,
            format!("epoch{}", tag.len()),
            Key::Time(seconds),
        )),
        None => Some(version_reading(
            Tier::MajorVersion,
            "N",
            vec![n],
            Vec::new(),
            Vec::new(),
        )),
    }
}

fn version_reading(
    tier: Tier,
    lane: &str,
    parts: Vec<u64>,
    pre: Vec<super::version::Ident>,
    variant_numbers: Vec<u64>,
) -> Reading {
    let version = Version {
        parts,
        pre,
        build: None,
    };
    (
        tier,
        lane.to_owned(),
        Key::Version {
            version,
            variant_numbers,
        },
    )
}

fn precision_shape(parts: usize) -> String {
    vec!["N"; parts].join(".")
}

/// Tiers 15, 13, 12, 10 and 9: an optional `v`, dotted numbers, and maybe a suffix.
fn version_shaped(tag: &str) -> Option<Reading> {
    let body = strip_v(tag);
    let (core, suffix) = match body.split_once('-') {
        Some((core, suffix)) => (core, Some(suffix)),
        None => (body, None),
    };
    let parts = parse_numbers(core)?;
    let shape = precision_shape(parts.len());
    let Some(suffix) = suffix else {
        let tier = match parts.len() {
            1 => Tier::MajorVersion,
            2 => Tier::MinorVersion,
            3 => Tier::FullSemver,
            _ => Tier::FourPartVersion,
        };
        let lane = if tier == Tier::FullSemver {
            "semver"
        } else {
            &shape
        };
        return Some(version_reading(tier, lane, parts, Vec::new(), Vec::new()));
    };
    if parts.len() == 3
        && is_pre_release_word(suffix)
        && let Some(pre) = parse_pre_release(suffix)
    {
        return Some(version_reading(
            Tier::FullSemver,
            "semver",
            parts,
            pre,
            Vec::new(),
        ));
    }
    variant(&shape, parts, suffix)
}

/// Tier 9: the suffix is a variant (`-alpine`, `-bookworm`, `-1-ubi8`); the lane keeps the
/// variant's shape so `-alpine` never "upgrades" to `-bookworm`.
fn variant(shape: &str, parts: Vec<u64>, suffix: &str) -> Option<Reading> {
    let valid = !suffix.is_empty()
        && suffix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if !valid {
        return None;
    }
    let numbers: Vec<u64> = suffix
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(parse_number)
        .collect();
    let lane = format!("{shape}-{}", digit_shape(suffix));
    Some(version_reading(
        Tier::VariantVersion,
        &lane,
        parts,
        Vec::new(),
        numbers,
    ))
}

const RELEASE_PREFIXES: [&str; 7] = ["rel", "release", "prod", "stage", "dev", "qa", "uat"];

/// Tier 11: `release-v1.4.2`, `rel-1606234201`: a release word, a dash, then a version or time.
fn release_prefixed(tag: &str) -> Option<Reading> {
    let (prefix, rest) = tag.split_once('-')?;
    if !RELEASE_PREFIXES
        .iter()
        .any(|p| p.eq_ignore_ascii_case(prefix))
    {
        return None;
    }
    let (_, inner_lane, key) = time_shaped(rest)
        .or_else(|| plain_number(rest))
        .or_else(|| version_shaped(rest))?;
    Some((Tier::ReleasePrefixed, format!("{prefix}-{inner_lane}"), key))
}

/// Tier 3: `B123`, `build-456`, `build_7`, `build8`.
fn build_id(tag: &str) -> Option<Reading> {
    let lower = tag.to_ascii_lowercase();
    let digits_from = if let Some(rest) = lower.strip_prefix("build") {
        tag.len() - rest.trim_start_matches(['-', '_', '.']).len()
    } else if lower.starts_with('b') {
        1
    } else {
        return None;
    };
    let n = parse_number(tag.get(digits_from..)?)?;
    Some((
        Tier::BuildId,
        tag.get(..digits_from)?.to_owned(),
        Key::Build(n),
    ))
}

const LABEL_WORDS: [&str; 10] = [
    "test",
    "feature",
    "feat",
    "pr",
    "fix",
    "bugfix",
    "hotfix",
    "wip",
    "exp",
    "experiment",
];

/// Tier 5: `test-login-fix`, `pr-482`. Each label is its own lane: a label names one piece
/// of work, so moving from `pr-482` to `pr-490` would deploy someone else's change.
fn label(tag: &str) -> Option<Reading> {
    let (word, rest) = tag.split_once(['-', '_', '/', '.'])?;
    let known = LABEL_WORDS.iter().any(|w| w.eq_ignore_ascii_case(word));
    (known && !rest.is_empty()).then(|| (Tier::Label, tag.to_owned(), Key::Unordered))
}

fn is_branch_name(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_alphabetic())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

fn is_commit_hex(text: &str) -> bool {
    (7..=40).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && text.bytes().any(|b| b.is_ascii_alphabetic())
}

/// Tier 6: `main-123`, `main-1a2b3c4`. A word followed by a dotted version (`alpine-5.0`)
/// is a variant instead (tier 9, the variant written first).
fn branch_build(tag: &str) -> Option<Reading> {
    let (branch, rest) = tag.rsplit_once('-')?;
    if !is_branch_name(branch) {
        return None;
    }
    if let Some(n) = parse_number(rest) {
        return Some((Tier::BranchBuild, format!("{branch}-#"), Key::Build(n)));
    }
    if is_commit_hex(rest) {
        return Some((
            Tier::BranchBuild,
            format!("{branch}-commit"),
            Key::Unordered,
        ));
    }
    let parts = parse_numbers(strip_v(rest)).filter(|parts| parts.len() >= 2)?;
    let lane = format!("{branch}-{}", precision_shape(parts.len()));
    Some(version_reading(
        Tier::VariantVersion,
        &lane,
        parts,
        Vec::new(),
        Vec::new(),
    ))
}

/// Tier 4: 7 to 40 lowercase hex digits with at least one letter.
fn commit_sha(tag: &str) -> Option<Reading> {
    is_commit_hex(tag).then(|| (Tier::CommitSha, "commit".to_owned(), Key::Unordered))
}

#[cfg(test)]
mod tests;
