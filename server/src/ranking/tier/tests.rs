//! The classifier against the issue's tier table and odd input.

use super::*;

fn tier_of(tag: &str) -> u8 {
    classify(tag).tier.number()
}

#[test]
fn every_example_in_the_issue_lands_in_its_tier() {
    let table: [(u8, &[&str]); 14] = [
        (15, &["v1.2.3", "1.2.3", "v2.0.0-rc1"]),
        (14, &["2026-01-21-12-30-00", "20260121T123000"]),
        (13, &["v1.2", "1.2"]),
        (12, &["v1", "3"]),
        (11, &["release-v1.4.2"]),
        (10, &["1.2.3.4"]),
        (9, &["1.25.3-alpine", "16.4-bookworm"]),
        (8, &["2026.01.21", "20260121", "2026-01-21"]),
        (7, &["1769000000"]),
        (6, &["main-123", "main-1a2b3c4"]),
        (5, &["test-login-fix", "pr-482"]),
        (4, &["1a2b3c4", "0123456789abcdef0123456789abcdef01234567"]),
        (3, &["B123", "build-456"]),
        (2, &["latest", "stable", "prod"]),
    ];
    for (tier, tags) in table {
        for tag in tags {
            assert_eq!(tier_of(tag), tier, "{tag} should be tier {tier}");
        }
    }
}

#[test]
fn variant_suffixes_get_their_own_lane_and_pre_releases_do_not() {
    let alpine = classify("1.25.3-alpine");
    let alpine_next = classify("1.25.4-alpine");
    let bookworm = classify("1.25.4-bookworm");
    assert_eq!(alpine.lane, alpine_next.lane);
    assert_ne!(alpine.lane, bookworm.lane);
    assert_eq!(classify("2.0.0-rc1").lane, classify("2.0.0").lane);
    assert_eq!(
        classify("v1.2.3").lane,
        classify("1.2.3").lane,
        "a leading v does not change the lane"
    );
    assert_ne!(
        classify("1.2").lane,
        classify("1.2.3").lane,
        "precision is part of the lane"
    );
}

#[test]
fn keys_order_tags_within_a_lane() {
    let key = |tag: &str| classify(tag).key;
    assert_eq!(key("1.10.0").compare(&key("1.9.0")), Ordering::Greater);
    assert_eq!(key("2.0.0-rc1").compare(&key("2.0.0")), Ordering::Less);
    assert_eq!(
        key("1.25.3-alpine3.19").compare(&key("1.25.3-alpine3.20")),
        Ordering::Less
    );
    assert_eq!(
        key("2026-01-21-12-30-00").compare(&key("2026-01-21-12-30-01")),
        Ordering::Less
    );
    assert_eq!(key("B99").compare(&key("B100")), Ordering::Less);
    assert_eq!(key("main-9").compare(&key("main-10")), Ordering::Less);
}

#[test]
fn impossible_dates_are_not_dates() {
    assert_ne!(tier_of("2026-13-45"), 8);
    assert_ne!(tier_of("20261345"), 8);
    assert_eq!(tier_of("2021-01-08T21-18-21Z"), 14);
}

#[test]
fn classify_survives_odd_input() {
    for tag in [
        "", "-", "v", "V.", "1.", ".1", "é1.2", "build-", "B", "main-", "-1", "1-", "\u{0}",
    ] {
        let _ = classify(tag);
    }
    assert_eq!(tier_of(""), 2);
}
