//! The original Docker Image Updater: its documented tier table.

use berth::ranking::classify;
use serde_json::Value;

use super::{Outcome, expect, text};

pub fn run(case: &Value) -> Outcome {
    let classified = classify(text(&case["inputs"], "tag"));
    let expected_tier = case["expected"]["tier"].as_u64().unwrap_or_default();
    expect(
        (u64::from(classified.tier.number()), classified.tier_name),
        (expected_tier, text(&case["expected"], "format")),
    )
}
