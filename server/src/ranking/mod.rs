//! Tag ranking: the 14-tier classifier, selection policies and explained picks (pure, no I/O).
//!
//! A candidate first passes the policy's filters (tag grammar, cosign artifacts, ignored
//! tags, ignore and allow patterns, the pin), then the strategy reads a key from it and
//! decides whether it may stand next to the current tag (lane, scope, pre-release track,
//! constraint); the admitted candidates are ordered and the best one newer than the current
//! tag is picked. Every step leaves its reason in the explanation.

mod constraint;
mod pattern;
mod pick;
mod policy;
mod strategy;
mod tier;
mod version;

#[cfg(test)]
mod pick_tests;

#[cfg(test)]
mod properties;

pub use constraint::{Constraint, ConstraintError};
pub use pattern::{PatternError, TagPattern, is_artifact_tag, is_valid_tag_name};
pub use pick::{
    Candidate, CandidateExplanation, CurrentExplanation, FollowDigest, Pick, Verdict, compare_tags,
    follows_digest_only, pick, rank, tags_ranked_above,
};
pub use policy::{LaneMode, Order, Policy, PolicyError, PolicyOptions, Scope, Strategy};
pub use tier::{Classified, Key, Tier, classify};
pub use version::{Version, parse_semver_tag};
