//! Explained picks: which candidate replaces the current tag, and for every candidate why it
//! won, lost, or was never in the running.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::policy::{Policy, Strategy};
use super::strategy::{
    Standing, Unreadable, admission_problem, beats, compare, follows_digest, key_order, standing,
};
use super::tier::{Tier, classify};

/// One tag a registry offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub tag: String,
    pub pushed_at: Option<DateTime<Utc>>,
    pub digest: Option<String>,
}

impl Candidate {
    pub fn new(tag: impl Into<String>) -> Self {
        Candidate {
            tag: tag.into(),
            pushed_at: None,
            digest: None,
        }
    }
}

/// What happened to one candidate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    Chosen,
    /// The current tag itself.
    Current,
    /// Newer than the current tag, but the chosen one ranks higher.
    Beaten {
        by: String,
    },
    /// In the running, but not newer than the current tag.
    NotNewer,
    /// Eligible, but no pick was made (see `Pick::refusal`).
    Withheld,
    Dropped {
        reason: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CandidateExplanation {
    pub tag: String,
    pub tier: Tier,
    pub tier_name: &'static str,
    pub lane: String,
    /// What the strategy orders this tag by; absent when it has no key.
    pub key: Option<String>,
    pub pushed_at: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// The current tag as the strategy sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CurrentExplanation {
    pub tag: String,
    pub tier: Tier,
    pub tier_name: &'static str,
    pub lane: String,
    /// Absent when the strategy cannot read the current tag: every admitted candidate then
    /// counts as newer (a service on `latest` moves to the best versioned tag).
    pub key: Option<String>,
}

/// A floating tag (or the digest strategy) is updated by digest, not by switching tags.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FollowDigest {
    pub tag: String,
    /// The registry's digest for that tag, when the candidates carried it; deploy when it
    /// differs from the running one.
    pub digest: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Pick {
    pub current: Option<CurrentExplanation>,
    pub strategy: Strategy,
    /// The tag to deploy; `None` when nothing is better than the current tag.
    pub chosen: Option<String>,
    pub follow_digest: Option<FollowDigest>,
    /// Why no pick could be made at all, when that is so.
    pub refusal: Option<String>,
    /// Every candidate: those in the running best first (the chosen one is usually first; a
    /// tag that only sorts above it by name is not newer than the current tag), then the
    /// rest in the order they were given.
    pub explanation: Vec<CandidateExplanation>,
}

impl Pick {
    /// The tags in the running, best last (the order `berth tags sort` prints).
    pub fn ranked_ascending(&self) -> Vec<String> {
        let mut ranked: Vec<String> = self
            .explanation
            .iter()
            .filter(|e| {
                matches!(
                    e.verdict,
                    Verdict::Chosen
                        | Verdict::Beaten { .. }
                        | Verdict::NotNewer
                        | Verdict::Withheld
                )
            })
            .map(|e| e.tag.clone())
            .collect();
        ranked.reverse();
        ranked
    }
}

/// Picks the candidate that should replace `current`, explaining every candidate.
pub fn pick(current: &str, candidates: &[Candidate], policy: &Policy) -> Pick {
    evaluate(Some(current), candidates, policy, true)
}

/// Ranks candidates without a current tag: the best is `chosen` (Flux's "latest" question).
pub fn rank(candidates: &[Candidate], policy: &Policy) -> Pick {
    evaluate(None, candidates, policy, false)
}

/// Whether a service on `current` is followed by digest under `policy` (a floating tag, or
/// the digest strategy) rather than moved to another tag: such a service needs one digest
/// check per cycle and never its repository's tag list.
pub fn follows_digest_only(current: &str, policy: &Policy) -> bool {
    follows_digest(policy, standing(policy, current, None).ok().as_ref())
}

/// Every tag that ranks above `target` right now, pin aside: what a rollback to `target`
/// adds to the service's ignored tags so it stays there.
pub fn tags_ranked_above(target: &str, candidates: &[Candidate], policy: &Policy) -> Vec<String> {
    evaluate(Some(target), candidates, policy, false)
        .explanation
        .into_iter()
        .filter(|e| matches!(e.verdict, Verdict::Chosen | Verdict::Beaten { .. }))
        .map(|e| e.tag)
        .collect()
}

/// The strategy's own order of two tags (push time and name left out); `None` when it
/// cannot order them.
pub fn compare_tags(a: &str, b: &str, policy: &Policy) -> Option<Ordering> {
    let a = standing(policy, a, None).ok()?;
    let b = standing(policy, b, None).ok()?;
    key_order(policy, &a, &b)
}

/// The explanation of a candidate the strategy read.
fn explain_read(standing: &Standing, verdict: Verdict) -> CandidateExplanation {
    CandidateExplanation {
        tag: standing.tag.clone(),
        tier: standing.classified.tier,
        tier_name: standing.classified.tier_name,
        lane: standing.classified.lane.clone(),
        key: Some(standing.describe_key()),
        pushed_at: standing.pushed_at,
        verdict,
    }
}

/// The explanation of a candidate dropped before the strategy read it.
fn explain_unread(candidate: &Candidate, verdict: Verdict) -> CandidateExplanation {
    let classified = classify(&candidate.tag);
    CandidateExplanation {
        tag: candidate.tag.clone(),
        tier: classified.tier,
        tier_name: classified.tier_name,
        lane: classified.lane,
        key: None,
        pushed_at: candidate.pushed_at,
        verdict,
    }
}

fn evaluate(
    current: Option<&str>,
    candidates: &[Candidate],
    policy: &Policy,
    honour_pin: bool,
) -> Pick {
    let current_pushed =
        current.and_then(|tag| candidates.iter().find(|c| c.tag == tag)?.pushed_at);
    let current_standing = current.and_then(|tag| standing(policy, tag, current_pushed).ok());
    let pin = policy.pinned().filter(|_| honour_pin);

    let mut refusal = None;
    let mut admitted: Vec<Standing> = Vec::new();
    let mut others: Vec<CandidateExplanation> = Vec::new();
    for candidate in candidates {
        let drop = |reason: String| explain_unread(candidate, Verdict::Dropped { reason });
        if let Some(pin) = pin {
            others.push(drop(format!("the service is pinned to {pin}")));
            continue;
        }
        if let Some(reason) = policy.filter_reason(&candidate.tag) {
            others.push(drop(reason));
            continue;
        }
        if Some(candidate.tag.as_str()) == current {
            others.push(match &current_standing {
                Some(s) => explain_read(s, Verdict::Current),
                None => explain_unread(candidate, Verdict::Current),
            });
            continue;
        }
        match standing(policy, &candidate.tag, candidate.pushed_at) {
            Err(unreadable) => {
                if let Unreadable::NotANumber(reason) = &unreadable {
                    refusal.get_or_insert_with(|| {
                        format!("numerical strategy: tag {:?}: {reason}; narrow the allow pattern or extract so only numbers reach it", candidate.tag)
                    });
                }
                others.push(drop(unreadable.reason().to_owned()));
            }
            Ok(s) => match admission_problem(policy, &s, current_standing.as_ref()) {
                Some(reason) => others.push(explain_read(&s, Verdict::Dropped { reason })),
                None => admitted.push(s),
            },
        }
    }

    // Sort references: a standing is large, and moving them dominated the sort.
    let mut ranked: Vec<&Standing> = admitted.iter().collect();
    ranked.sort_by(|a, b| compare(policy, a, b).0);
    let newer = |s: &Standing| {
        current_standing
            .as_ref()
            .is_none_or(|c| beats(policy, s, c))
    };
    let chosen = match refusal {
        Some(_) => None,
        None => ranked
            .iter()
            .rev()
            .find(|s| newer(s))
            .map(|s| s.tag.clone()),
    };
    let mut explanation: Vec<CandidateExplanation> = Vec::with_capacity(candidates.len());
    explanation.extend(ranked.iter().rev().map(|s| {
        let verdict = match &chosen {
            _ if refusal.is_some() => Verdict::Withheld,
            Some(tag) if *tag == s.tag => Verdict::Chosen,
            Some(tag) if newer(s) => Verdict::Beaten { by: tag.clone() },
            _ => Verdict::NotNewer,
        };
        explain_read(s, verdict)
    }));
    explanation.extend(others);

    let follow_digest = follows_digest(policy, current_standing.as_ref())
        .then_some(current)
        .flatten()
        .map(|tag| FollowDigest {
            tag: tag.to_owned(),
            digest: candidates
                .iter()
                .find(|c| c.tag == tag)
                .and_then(|c| c.digest.clone()),
        });
    Pick {
        current: current.map(|tag| describe_current(tag, current_standing.as_ref())),
        strategy: policy.strategy(),
        chosen,
        follow_digest,
        refusal,
        explanation,
    }
}

fn describe_current(tag: &str, standing: Option<&Standing>) -> CurrentExplanation {
    let classified = standing.map_or_else(|| classify(tag), |s| s.classified.clone());
    CurrentExplanation {
        tag: tag.to_owned(),
        tier: classified.tier,
        tier_name: classified.tier_name,
        lane: classified.lane,
        key: standing.map(|s| s.describe_key()),
    }
}
