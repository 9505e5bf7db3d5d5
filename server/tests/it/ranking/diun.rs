//! crazy-max/diun: tag sorting, include/exclude regexps, and dropping cosign artifacts.

use berth::ranking::{Order, PolicyOptions, Strategy, TagPattern, Verdict, rank};
use serde_json::Value;

use super::{Outcome, candidates, expect, policy, strings, text};

/// Diun's include/exclude lists are unanchored regexps, which Berth writes `regexp:RE`.
fn regexps(value: &Value) -> Vec<String> {
    strings(value)
        .into_iter()
        .map(|re| format!("regexp:{re}"))
        .collect()
}

pub fn run(case: &Value) -> Outcome {
    let inputs = &case["inputs"];
    match text(case, "function") {
        "registry.SortTags" => sort(
            text(inputs, "sort"),
            &strings(&inputs["tags"]),
            &strings(&case["expected"]),
        ),
        "Client.Tags (sort+include/exclude+max)" => tags_with_filters(case),
        "Client.Tags" => artifacts(case),
        "matcher.MatchString" => {
            match TagPattern::parse(&format!("regexp:{}", text(inputs, "exp"))) {
                Ok(pattern) => expect(
                    pattern.matches(text(inputs, "s")),
                    case["expected"].as_bool().unwrap_or_default(),
                ),
                Err(e) => Outcome::Fail(format!("Berth refuses the pattern: {e}")),
            }
        }
        "matcher.IsIncluded" => {
            let options = PolicyOptions {
                allow: regexps(&inputs["includes"]),
                ..Default::default()
            };
            match policy(options) {
                Ok(p) => expect(
                    p.filter_reason(text(inputs, "s")).is_none(),
                    case["expected"].as_bool().unwrap_or_default(),
                ),
                Err(e) => Outcome::Fail(format!("Berth refuses the include list: {e}")),
            }
        }
        "matcher.IsExcluded" => {
            let options = PolicyOptions {
                ignore: regexps(&inputs["excludes"]),
                ..Default::default()
            };
            match policy(options) {
                Ok(p) => expect(
                    p.filter_reason(text(inputs, "s")).is_some(),
                    case["expected"].as_bool().unwrap_or_default(),
                ),
                Err(e) => Outcome::Fail(format!("Berth refuses the exclude list: {e}")),
            }
        }
        _ => Outcome::NotOffered("a Diun function Berth has no counterpart for"),
    }
}

fn sort(kind: &str, tags: &[String], expected: &[String]) -> Outcome {
    let (strategy, descending) = match kind {
        "lexicographical" => (Strategy::Alphabetical, false),
        "semver" => (Strategy::Semver, true),
        _ => return Outcome::NotOffered("registry order: Berth always orders tags by a strategy"),
    };
    let ranked = match policy(PolicyOptions {
        strategy,
        order: Order::Asc,
        ..Default::default()
    }) {
        Ok(p) => rank(&candidates(tags), &p).ranked_ascending(),
        Err(e) => return Outcome::Fail(e),
    };
    let ranked: Vec<String> = if descending {
        ranked.into_iter().rev().collect()
    } else {
        ranked
    };
    expect(ranked, expected.to_vec())
}

fn tags_with_filters(case: &Value) -> Outcome {
    let inputs = &case["inputs"];
    let options = PolicyOptions {
        strategy: Strategy::Semver,
        allow: regexps(&inputs["include"]),
        ignore: regexps(&inputs["exclude"]),
        ..Default::default()
    };
    let tags = strings(&inputs["tags_registry_order"]);
    let result = match policy(options) {
        Ok(p) => rank(&candidates(&tags), &p),
        Err(e) => return Outcome::Fail(e),
    };
    let max = usize::try_from(inputs["max"].as_u64().unwrap_or(u64::MAX)).unwrap_or(usize::MAX);
    let listed: Vec<String> = result
        .ranked_ascending()
        .into_iter()
        .rev()
        .take(max)
        .collect();
    let count = |words: &str| {
        result
            .explanation
            .iter()
            .filter(|e| matches!(&e.verdict, Verdict::Dropped { reason } if reason.contains(words)))
            .count()
    };
    let expected = &case["expected"];
    expect(
        (
            listed,
            count("allow pattern"),
            count("ignore pattern"),
            tags.len(),
        ),
        (
            strings(&expected["List"]),
            usize::try_from(expected["NotIncluded"].as_u64().unwrap_or_default())
                .unwrap_or_default(),
            usize::try_from(expected["Excluded"].as_u64().unwrap_or_default()).unwrap_or_default(),
            usize::try_from(expected["Total"].as_u64().unwrap_or_default()).unwrap_or_default(),
        ),
    )
}

/// Cosign and attestation tags never reach a strategy; the rest keep the registry's order.
fn artifacts(case: &Value) -> Outcome {
    let tags = strings(&case["inputs"]["tags_registry_order"]);
    let p = match policy(PolicyOptions::default()) {
        Ok(p) => p,
        Err(e) => return Outcome::Fail(e),
    };
    let kept: Vec<String> = tags
        .iter()
        .filter(|t| p.filter_reason(t).is_none())
        .cloned()
        .collect();
    let artifacts = tags
        .iter()
        .filter(|t| p.filter_reason(t).is_some_and(|r| r.contains("artifact")))
        .count();
    let expected = &case["expected"];
    expect(
        (kept, artifacts),
        (
            strings(&expected["List"]),
            usize::try_from(expected["Artifacts"].as_u64().unwrap_or_default()).unwrap_or_default(),
        ),
    )
}
