//! What a user sees from `pick`: which tag wins, and why the others did not.

use chrono::{DateTime, Utc};

use super::pick::{Candidate, Pick, Verdict, follows_digest_only, pick, tags_ranked_above};
use super::policy::{LaneMode, Policy, PolicyOptions, Scope, Strategy};

fn at(seconds: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(1_760_000_000 + seconds, 0)
}

fn tags(list: &[&str]) -> Vec<Candidate> {
    list.iter().map(|t| Candidate::new(*t)).collect()
}

fn policy(options: PolicyOptions) -> Policy {
    Policy::from_options(&options).unwrap_or_else(|e| panic!("policy: {e}"))
}

fn verdict_of<'a>(result: &'a Pick, tag: &str) -> &'a Verdict {
    &result
        .explanation
        .iter()
        .find(|e| e.tag == tag)
        .unwrap_or_else(|| panic!("{tag} not explained"))
        .verdict
}

fn dropped_because(result: &Pick, tag: &str, words: &str) -> bool {
    matches!(verdict_of(result, tag), Verdict::Dropped { reason } if reason.contains(words))
}

#[test]
fn default_strategy_stays_in_lane_and_leaves_pre_releases_out() {
    let candidates = tags(&[
        "1.2.4",
        "1.3.0",
        "2.0.0-rc1",
        "1.25.3-alpine",
        "latest",
        "1.4",
        "1.2.3",
    ]);
    let result = pick("1.2.3", &candidates, &Policy::default());
    assert_eq!(result.chosen.as_deref(), Some("1.3.0"));
    assert_eq!(
        verdict_of(&result, "1.2.4"),
        &Verdict::Beaten { by: "1.3.0".into() }
    );
    assert_eq!(verdict_of(&result, "1.2.3"), &Verdict::Current);
    assert!(dropped_because(&result, "2.0.0-rc1", "pre-release"));
    assert!(dropped_because(&result, "1.25.3-alpine", "lane"));
    assert!(
        dropped_because(&result, "1.4", "lane"),
        "precision is part of the lane"
    );
    assert_eq!(result.explanation.len(), candidates.len());
}

#[test]
fn alpine_never_upgrades_to_bookworm() {
    let candidates = tags(&["1.25.4-bookworm", "1.25.4-alpine", "1.26.0-bookworm"]);
    assert_eq!(
        pick("1.25.3-alpine", &candidates, &Policy::default())
            .chosen
            .as_deref(),
        Some("1.25.4-alpine")
    );
}

#[test]
fn a_floating_tag_is_followed_by_digest_not_switched() {
    let mut candidates = tags(&["latest", "1.2.3"]);
    candidates[0].digest = Some("sha256:bbbb".into());
    let result = pick("latest", &candidates, &Policy::default());
    assert_eq!(result.chosen, None);
    let follow = result
        .follow_digest
        .unwrap_or_else(|| panic!("latest should be followed by digest"));
    assert_eq!(
        (follow.tag.as_str(), follow.digest.as_deref()),
        ("latest", Some("sha256:bbbb"))
    );
}

#[test]
fn lane_any_is_the_original_tool_highest_tier_then_newest_push() {
    let candidates = vec![
        Candidate {
            tag: "v1.2.3".into(),
            pushed_at: at(20),
            digest: None,
        },
        Candidate {
            tag: "v1.2.4".into(),
            pushed_at: at(10),
            digest: None,
        },
        Candidate {
            tag: "2026-01-21-12-30-00".into(),
            pushed_at: at(30),
            digest: None,
        },
        Candidate {
            tag: "latest".into(),
            pushed_at: at(40),
            digest: None,
        },
    ];
    let result = pick(
        "latest",
        &candidates,
        &policy(PolicyOptions {
            lane: LaneMode::Any,
            ..Default::default()
        }),
    );
    assert_eq!(
        result.chosen.as_deref(),
        Some("v1.2.3"),
        "tier 15 first, the later push wins within it"
    );
}

#[test]
fn pinned_ignored_and_artifact_tags_are_never_picked() {
    let digest = "a".repeat(64);
    let signature = format!("sha256-{digest}.sig");
    let candidates = tags(&["1.3.0", "1.2.9", &signature]);
    let ignoring = policy(PolicyOptions {
        ignored_tags: vec!["1.3.0".into()],
        ..Default::default()
    });
    let result = pick("1.2.3", &candidates, &ignoring);
    assert_eq!(result.chosen.as_deref(), Some("1.2.9"));
    assert!(dropped_because(&result, "1.3.0", "ignored"));
    assert!(dropped_because(&result, &signature, "signature"));

    let pinned = policy(PolicyOptions {
        pinned: Some("1.2.3".into()),
        ..Default::default()
    });
    let result = pick("1.2.3", &candidates, &pinned);
    assert_eq!(result.chosen, None);
    assert!(dropped_because(&result, "1.2.9", "pinned to 1.2.3"));
}

#[test]
fn a_release_candidate_graduates_and_keeps_to_its_track() {
    let policy = Policy::default();
    assert_eq!(
        pick("2.0.0-rc1", &tags(&["2.0.0-rc2", "2.0.0"]), &policy)
            .chosen
            .as_deref(),
        Some("2.0.0")
    );
    let result = pick("2.0.0-rc1", &tags(&["2.0.0-rc2", "2.0.1-beta1"]), &policy);
    assert_eq!(result.chosen.as_deref(), Some("2.0.0-rc2"));
    assert!(dropped_because(&result, "2.0.1-beta1", "pre-release"));
    let dev = pick("1.2.0-dev", &tags(&["1.3.0-dev", "1.5.0"]), &policy);
    assert_eq!(
        dev.chosen.as_deref(),
        Some("1.3.0-dev"),
        "a dev build service stays on dev builds"
    );
    assert!(dropped_because(&dev, "1.5.0", "keeps to its track"));
    let anything = Policy::from_options(&PolicyOptions {
        pre_release: true,
        ..Default::default()
    })
    .unwrap_or_default();
    assert_eq!(
        pick("1.2.0-dev", &tags(&["1.3.0-dev", "1.5.0"]), &anything)
            .chosen
            .as_deref(),
        Some("1.5.0")
    );
}

#[test]
fn commit_tags_move_only_on_a_known_later_push() {
    let unknown = pick("1a2b3c4", &tags(&["9f8e7d6"]), &Policy::default());
    assert_eq!(
        unknown.chosen, None,
        "no push times: nothing says the other commit is newer"
    );
    let known = vec![
        Candidate {
            tag: "1a2b3c4".into(),
            pushed_at: at(0),
            digest: None,
        },
        Candidate {
            tag: "9f8e7d6".into(),
            pushed_at: at(60),
            digest: None,
        },
    ];
    assert_eq!(
        pick("1a2b3c4", &known, &Policy::default())
            .chosen
            .as_deref(),
        Some("9f8e7d6")
    );
}

#[test]
fn scope_limits_how_far_a_version_moves() {
    let candidates = tags(&["1.2.4", "1.3.0", "2.0.0"]);
    let with_scope = |scope| {
        policy(PolicyOptions {
            scope,
            ..Default::default()
        })
    };
    assert_eq!(
        pick("1.2.3", &candidates, &with_scope(Scope::Patch))
            .chosen
            .as_deref(),
        Some("1.2.4")
    );
    assert_eq!(
        pick("1.2.3", &candidates, &with_scope(Scope::Minor))
            .chosen
            .as_deref(),
        Some("1.3.0")
    );
    assert_eq!(
        pick("1.2.3", &candidates, &with_scope(Scope::Major))
            .chosen
            .as_deref(),
        Some("2.0.0")
    );
}

#[test]
fn rollback_ignores_exactly_the_tags_above_its_target() {
    let candidates = tags(&["1.2.2", "1.2.3", "1.2.4", "1.3.0", "1.3.0-alpine"]);
    let mut above = tags_ranked_above("1.2.3", &candidates, &Policy::default());
    above.sort();
    assert_eq!(above, vec!["1.2.4".to_owned(), "1.3.0".to_owned()]);
}

#[test]
fn numerical_refuses_to_pick_when_a_non_number_gets_through() {
    let numerical = policy(PolicyOptions {
        strategy: Strategy::Numerical,
        ..Default::default()
    });
    let result = pick("1", &tags(&["2", "latest"]), &numerical);
    assert_eq!(result.chosen, None);
    assert!(
        result
            .refusal
            .as_deref()
            .is_some_and(|r| r.contains("latest")),
        "{:?}",
        result.refusal
    );
    assert_eq!(verdict_of(&result, "2"), &Verdict::Withheld);
}

#[test]
fn semver_constraint_and_a_current_without_a_version() {
    let ranged = policy(PolicyOptions {
        strategy: Strategy::Semver,
        constraint: Some("~1.2".into()),
        ..Default::default()
    });
    let result = pick("latest", &tags(&["1.2.9", "1.3.0", "1.2.10-rc.1"]), &ranged);
    assert_eq!(
        result.chosen.as_deref(),
        Some("1.2.9"),
        "a current tag without a version moves to the best candidate"
    );
    assert!(dropped_because(&result, "1.3.0", "outside constraint"));
}

#[test]
fn explanation_serialises_for_json_output() {
    let result = pick("1.2.3", &tags(&["1.2.4", "latest"]), &Policy::default());
    let json = serde_json::to_value(&result).unwrap_or_default();
    assert_eq!(json["chosen"], "1.2.4");
    assert_eq!(json["explanation"][0]["verdict"], "chosen");
    assert_eq!(json["explanation"][0]["tier"], 15);
    assert_eq!(json["explanation"][1]["verdict"], "dropped");
}

#[test]
fn follows_digest_only_agrees_with_the_pick() {
    let candidates = tags(&["latest", "stable", "1.2.3", "1.2.4"]);
    for current in ["latest", "stable", "1.2.3"] {
        let policy = Policy::default();
        assert_eq!(
            follows_digest_only(current, &policy),
            pick(current, &candidates, &policy).follow_digest.is_some(),
            "{current}"
        );
    }
    assert!(follows_digest_only("latest", &Policy::default()));
    assert!(!follows_digest_only("1.2.3", &Policy::default()));
}
