//! Property tests: the order within a lane is total, a pick never goes backwards, and the
//! classifier takes any input.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use proptest::prelude::*;

use super::pick::{Candidate, pick};
use super::policy::{LaneMode, Policy, PolicyOptions, Scope, Strategy as RankStrategy};
use super::strategy::{Standing, compare, standing};
use super::tier::classify;

/// Tags of the shapes registries actually hold, several per lane so lanes collide.
fn tag() -> impl Strategy<Value = String> {
    prop_oneof![
        "v?[0-3]\\.[0-9]{1,2}\\.[0-9]{1,2}(-rc[1-3]|-beta\\.[0-2])?",
        "[0-3]\\.[0-9]{1,2}",
        "[0-3]\\.[0-9]\\.[0-9]-alpine(3\\.1[89])?",
        "release-v[0-2]\\.[0-9]\\.[0-9]",
        "main-[0-9]{1,3}",
        "B[0-9]{1,3}",
        "202[4-6]-0[1-9]-1[0-9]",
        "202[4-6]-0[1-9]-1[0-9]-1[0-9]-[0-5][0-9]-[0-5][0-9]",
        "[0-9a-f]{7}",
        "latest|stable|edge",
    ]
}

fn pushed_at() -> impl Strategy<Value = Option<DateTime<Utc>>> {
    proptest::option::of(
        (1_600_000_000i64..1_800_000_000)
            .prop_map(|s| DateTime::from_timestamp(s, 0).unwrap_or_default()),
    )
}

fn candidate() -> impl Strategy<Value = Candidate> {
    (tag(), pushed_at()).prop_map(|(tag, pushed_at)| Candidate {
        tag,
        pushed_at,
        digest: None,
    })
}

fn policy(
    lane: LaneMode,
    scope: Scope,
    pre_release: bool,
    ignored: Vec<String>,
    pinned: Option<String>,
) -> Policy {
    let options = PolicyOptions {
        lane,
        scope,
        pre_release,
        ignored_tags: ignored,
        pinned,
        ..Default::default()
    };
    Policy::from_options(&options).unwrap_or_default()
}

fn standing_of(policy: &Policy, c: &Candidate) -> Option<Standing> {
    standing(policy, &c.tag, c.pushed_at).ok()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn classify_never_panics_on_any_input(bytes in proptest::collection::vec(any::<u8>(), 0..=256)) {
        let text = String::from_utf8_lossy(&bytes);
        let classified = classify(&text);
        prop_assert!((2..=15).contains(&classified.tier.number()));
    }

    #[test]
    fn classify_never_panics_on_any_short_string(text in "\\PC{0,64}") {
        let _ = classify(&text);
    }

    #[test]
    fn order_within_a_lane_is_total(a in candidate(), b in candidate(), c in candidate(), any_lane: bool) {
        let lane = if any_lane { LaneMode::Any } else { LaneMode::Same };
        let policy = policy(lane, Scope::Any, true, Vec::new(), None);
        let (Some(a), Some(b), Some(c)) = (standing_of(&policy, &a), standing_of(&policy, &b), standing_of(&policy, &c)) else {
            return Ok(());
        };
        let cmp = |x: &Standing, y: &Standing| compare(&policy, x, y).0;
        prop_assert_eq!(cmp(&a, &b), cmp(&b, &a).reverse(), "antisymmetric");
        prop_assert_eq!(cmp(&a, &a), Ordering::Equal);
        if a.tag != b.tag {
            prop_assert_ne!(cmp(&a, &b), Ordering::Equal, "distinct tags never tie");
        }
        if cmp(&a, &b) != Ordering::Greater && cmp(&b, &c) != Ordering::Greater {
            prop_assert_ne!(cmp(&a, &c), Ordering::Greater, "transitive");
        }
    }

    #[test]
    fn pick_never_goes_below_the_current_tag_nor_to_an_ignored_one(
        current in candidate(),
        others in proptest::collection::vec(candidate(), 0..24),
        ignored_picks in proptest::collection::vec(any::<proptest::sample::Index>(), 0..4),
        any_lane: bool,
        pre_release: bool,
    ) {
        let ignored: Vec<String> = if others.is_empty() {
            Vec::new()
        } else {
            ignored_picks.iter().map(|i| others[i.index(others.len())].tag.clone()).collect()
        };
        let lane = if any_lane { LaneMode::Any } else { LaneMode::Same };
        let policy = policy(lane, Scope::Any, pre_release, ignored.clone(), None);
        let mut candidates = others.clone();
        candidates.push(current.clone());
        let result = pick(&current.tag, &candidates, &policy);
        if let Some(chosen) = &result.chosen {
            prop_assert!(!ignored.contains(chosen), "picked ignored tag {}", chosen);
            prop_assert_ne!(chosen, &current.tag);
            let chosen_candidate = candidates.iter().find(|c| &c.tag == chosen).cloned();
            prop_assert!(chosen_candidate.is_some());
            if let (Some(now), Some(next)) = (standing_of(&policy, &current), chosen_candidate.and_then(|c| standing_of(&policy, &c))) {
                prop_assert_eq!(compare(&policy, &next, &now).0, Ordering::Greater, "picked {} below {}", chosen, current.tag);
            }
        }
        prop_assert_eq!(result.explanation.len(), candidates.len(), "every candidate is explained");
    }

    #[test]
    fn a_pinned_service_gets_no_pick(current in candidate(), others in proptest::collection::vec(candidate(), 0..24)) {
        let policy = policy(LaneMode::Any, Scope::Any, true, Vec::new(), Some(current.tag.clone()));
        let mut candidates = others;
        candidates.push(current.clone());
        prop_assert_eq!(pick(&current.tag, &candidates, &policy).chosen, None);
    }

    #[test]
    fn semver_pick_respects_scope(current in "[0-3]\\.[0-9]\\.[0-9]", others in proptest::collection::vec("[0-3]\\.[0-9]\\.[0-9]", 0..16)) {
        let options = PolicyOptions { strategy: RankStrategy::Semver, scope: Scope::Patch, ..Default::default() };
        let policy = Policy::from_options(&options).unwrap_or_default();
        let candidates: Vec<Candidate> = others.into_iter().map(Candidate::new).collect();
        if let Some(chosen) = pick(&current, &candidates, &policy).chosen {
            prop_assert_eq!(chosen.get(..3), current.get(..3), "patch scope keeps major.minor");
        }
    }
}
