//! How each strategy reads a tag into something to order by, which candidates it admits
//! relative to the current tag, and the order itself.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};

use super::policy::{LaneMode, Order, Policy, Scope, Strategy};
use super::tier::{Classified, Key, classify};
use super::version::{Version, parse_semver_tag};

/// What a strategy orders a tag by.
#[derive(Clone, Debug)]
pub(super) enum SortKey {
    /// The classifier's tier and key, read from `Standing::classified`.
    Tiered,
    Version(Version),
    Text(String),
    Number(f64),
    PushTime,
}

/// A tag as the strategy sees it.
#[derive(Clone, Debug)]
pub(super) struct Standing {
    pub tag: String,
    pub pushed_at: Option<DateTime<Utc>>,
    /// The classification of the text the key was read from (the extracted text, if any).
    pub classified: Classified,
    pub key: SortKey,
}

impl Standing {
    /// What the strategy orders this tag by, in words.
    pub fn describe_key(&self) -> String {
        match &self.key {
            SortKey::Tiered => self.classified.key.to_string(),
            SortKey::Version(version) => format!("version {version}"),
            SortKey::Text(text) => format!("text {text:?}"),
            SortKey::Number(n) => format!("number {n}"),
            SortKey::PushTime => "push time".to_owned(),
        }
    }
}

/// Why a tag has no key under this strategy.
pub(super) enum Unreadable {
    /// The tag is simply not of the strategy's kind (dropped, explained).
    Skip(String),
    /// Under `numerical`, a tag that passed the filters but is not a number: Flux refuses to
    /// pick then, and so does Berth, because it means the filter lets the wrong tags through.
    NotANumber(String),
}

impl Unreadable {
    pub fn reason(&self) -> &str {
        match self {
            Unreadable::Skip(reason) | Unreadable::NotANumber(reason) => reason,
        }
    }
}

pub(super) fn standing(
    policy: &Policy,
    tag: &str,
    pushed_at: Option<DateTime<Utc>>,
) -> Result<Standing, Unreadable> {
    let text = policy
        .key_text(tag)
        .ok_or_else(|| Unreadable::Skip("the extract pattern does not match".to_owned()))?;
    let classified = classify(&text);
    let key = match policy.strategy {
        Strategy::Tier => SortKey::Tiered,
        Strategy::Semver => SortKey::Version(
            parse_semver_tag(&text)
                .ok_or_else(|| Unreadable::Skip(format!("{text:?} is not a semantic version")))?,
        ),
        Strategy::Alphabetical => SortKey::Text(text.into_owned()),
        Strategy::Numerical => match text.parse::<f64>() {
            Ok(n) if n.is_finite() => SortKey::Number(n),
            _ => return Err(Unreadable::NotANumber(format!("{text:?} is not a number"))),
        },
        Strategy::NewestBuild if pushed_at.is_some() => SortKey::PushTime,
        Strategy::NewestBuild => {
            return Err(Unreadable::Skip("its push time is unknown".to_owned()));
        }
        Strategy::Digest => {
            return Err(Unreadable::Skip(
                "the digest strategy stays on the current tag".to_owned(),
            ));
        }
    };
    Ok(Standing {
        tag: tag.to_owned(),
        pushed_at,
        classified,
        key,
    })
}

fn same_release(a: &Version, b: &Version) -> bool {
    (a.major(), a.minor(), a.patch()) == (b.major(), b.minor(), b.patch())
}

fn version_of(standing: &Standing) -> Option<&Version> {
    match &standing.key {
        SortKey::Tiered => standing.classified.key.version(),
        SortKey::Version(version) => Some(version),
        _ => None,
    }
}

/// Whether the current tag is one the default strategy never replaces by another tag.
pub(super) fn follows_digest(policy: &Policy, current: Option<&Standing>) -> bool {
    match policy.strategy {
        Strategy::Digest => true,
        Strategy::Tier => {
            policy.lane == LaneMode::Same
                && current.is_some_and(|c| c.classified.tier.is_floating())
        }
        _ => false,
    }
}

/// Why the strategy will not consider this candidate next to the current tag, if it won't.
pub(super) fn admission_problem(
    policy: &Policy,
    candidate: &Standing,
    current: Option<&Standing>,
) -> Option<String> {
    if policy.strategy == Strategy::Tier
        && policy.lane == LaneMode::Same
        && let Some(current) = current
    {
        if current.classified.tier.is_floating() {
            return Some(format!(
                "the current tag is floating (tier {}); Berth follows its digest instead of switching tags",
                current.classified.tier.number()
            ));
        }
        if candidate.classified.lane != current.classified.lane
            || candidate.classified.tier != current.classified.tier
        {
            return Some(format!(
                "lane {:?} (tier {}) is not the current tag's lane {:?} (tier {})",
                candidate.classified.lane,
                candidate.classified.tier.number(),
                current.classified.lane,
                current.classified.tier.number()
            ));
        }
    }
    if !matches!(policy.strategy, Strategy::Tier | Strategy::Semver) {
        return None;
    }
    let current_version = current.and_then(version_of);
    let Some(version) = version_of(candidate) else {
        return (current_version.is_some() && !matches!(policy.scope, Scope::Any)).then(|| {
            format!(
                "scope {} compares versions, and this tag has none",
                policy.scope
            )
        });
    };
    if let Some(constraint) = &policy.constraint
        && !constraint.matches(version)
    {
        return Some(format!("outside constraint {:?}", constraint.source()));
    }
    if version.is_pre_release() && !pre_release_admitted(policy, version, current_version) {
        return Some(
            "a pre-release, and the current tag is not on its track (--pre-release admits it)"
                .to_owned(),
        );
    }
    if let Some(current) = current_version.filter(|c| c.is_pre_release() && !policy.pre_release)
        && !version.is_pre_release()
        && !same_release(version, current)
    {
        return Some(format!(
            "a release of another version; a pre-release current tag keeps to its track until \
             {}.{}.{} itself is released (--pre-release lifts this)",
            current.major(),
            current.minor(),
            current.patch()
        ));
    }
    let current_version = current_version?;
    let in_scope = match policy.scope {
        Scope::Any | Scope::Major => true,
        Scope::Minor => version.major() == current_version.major(),
        Scope::Patch => {
            (version.major(), version.minor()) == (current_version.major(), current_version.minor())
        }
    };
    (!in_scope).then(|| {
        format!(
            "outside scope {} of the current version {current_version}",
            policy.scope
        )
    })
}

/// A pre-release is admitted when asked for, when the current tag is a pre-release on the
/// same track (`rc` → `rc`), or when the constraint names it. A pre-release current tag
/// otherwise keeps to its track (a `-dev` service stays on dev builds, as Keel's
/// matchPreRelease does) and graduates to its own version's release (`2.0.0-rc1` → `2.0.0`).
fn pre_release_admitted(policy: &Policy, version: &Version, current: Option<&Version>) -> bool {
    policy.pre_release
        || current.is_some_and(|c| {
            c.is_pre_release() && c.pre_release_track() == version.pre_release_track()
        })
        || policy
            .constraint
            .as_ref()
            .is_some_and(|c| c.names_pre_release_of(version))
}

/// Which component decided an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Decider {
    /// The strategy's own key (or the tier, under `lane=any`).
    Key,
    Pushed {
        both_known: bool,
    },
    /// Only the tag text; keeps the order total but says nothing about newness.
    Name,
}

/// The strategy's total order (ascending: the best candidate sorts last).
pub(super) fn compare(policy: &Policy, a: &Standing, b: &Standing) -> (Ordering, Decider) {
    let key = || directed(policy, primary(a, b));
    let pushed = || (a.pushed_at.cmp(&b.pushed_at), pushed_decider(a, b));
    let tier_first = policy.strategy == Strategy::Tier && policy.lane == LaneMode::Any;
    if tier_first {
        let tier = a.classified.tier.cmp(&b.classified.tier);
        if tier.is_ne() {
            return (tier, Decider::Key);
        }
        let (by_push, decider) = pushed();
        if by_push.is_ne() {
            return (by_push, decider);
        }
        let by_key = key();
        if by_key.is_ne() {
            return (by_key, Decider::Key);
        }
    } else {
        let by_key = key();
        if by_key.is_ne() {
            return (by_key, Decider::Key);
        }
        let (by_push, decider) = pushed();
        if by_push.is_ne() {
            return (by_push, decider);
        }
    }
    (a.tag.cmp(&b.tag), Decider::Name)
}

fn directed(policy: &Policy, ordering: Ordering) -> Ordering {
    match policy.order {
        Order::Asc => ordering,
        Order::Desc => ordering.reverse(),
    }
}

fn pushed_decider(a: &Standing, b: &Standing) -> Decider {
    Decider::Pushed {
        both_known: a.pushed_at.is_some() && b.pushed_at.is_some(),
    }
}

fn primary(a: &Standing, b: &Standing) -> Ordering {
    match (&a.key, &b.key) {
        (SortKey::Tiered, SortKey::Tiered) => {
            let (ca, cb) = (&a.classified, &b.classified);
            ca.tier.cmp(&cb.tier).then_with(|| ca.key.compare(&cb.key))
        }
        (SortKey::Version(a), SortKey::Version(b)) => a.precedence(b),
        (SortKey::Text(a), SortKey::Text(b)) => a.as_bytes().cmp(b.as_bytes()),
        (SortKey::Number(a), SortKey::Number(b)) => a.total_cmp(b),
        _ => Ordering::Equal,
    }
}

/// Whether `candidate` is newer than `current`: above it, and for a reason that means
/// something (its key, or a later push time when both are known), never the name alone.
pub(super) fn beats(policy: &Policy, candidate: &Standing, current: &Standing) -> bool {
    matches!(
        compare(policy, candidate, current),
        (
            Ordering::Greater,
            Decider::Key | Decider::Pushed { both_known: true }
        )
    )
}

/// The strategy's own comparison of two tags, push time and name left out: `None` when the
/// strategy cannot order them (no key, or different lanes under the default strategy).
pub(super) fn key_order(policy: &Policy, a: &Standing, b: &Standing) -> Option<Ordering> {
    if policy.strategy == Strategy::Tier && policy.lane == LaneMode::Same {
        let (ca, cb) = (&a.classified, &b.classified);
        if ca.lane != cb.lane || ca.tier != cb.tier || matches!(ca.key, Key::Unordered) {
            return None;
        }
    }
    if matches!(a.key, SortKey::PushTime) {
        return a.pushed_at.zip(b.pushed_at).map(|(x, y)| x.cmp(&y));
    }
    Some(directed(policy, primary(a, b)))
}
