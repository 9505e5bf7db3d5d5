//! fluxcd/image-reflector-controller: semver ranges, alphabetical and numerical order, and
//! filterTags (pattern + extract, the original tag returned).

use berth::ranking::{Constraint, Order, PolicyOptions, Strategy, parse_semver_tag, rank};
use serde_json::Value;

use super::{Outcome, candidates, expect, policy, strings, text};

pub fn run(case: &Value) -> Outcome {
    let inputs = &case["inputs"];
    let expected = &case["expected"];
    let wants_error = expected["error"].as_bool().unwrap_or(false);
    match text(case, "function") {
        "Alphabetical.Latest" | "Numerical.Latest" => {
            let strategy = if text(case, "function").starts_with("Alpha") {
                Strategy::Alphabetical
            } else {
                Strategy::Numerical
            };
            let Some(order) = order(text(inputs, "order")) else {
                return Outcome::Fail(format!("order {:?} refused", text(inputs, "order")));
            };
            let tags = strings(&inputs["tags"]);
            let options = || PolicyOptions {
                strategy,
                order,
                ..Default::default()
            };
            let forward = latest(options(), &tags);
            // Flux shuffles these inputs: the answer must not depend on the order given.
            let backward = latest(options(), &tags.iter().rev().cloned().collect::<Vec<_>>());
            if forward != backward {
                return Outcome::Fail(format!(
                    "answer depends on input order: {forward:?} vs {backward:?}"
                ));
            }
            judge(forward, expected)
        }
        "NewAlphabetical" => expect(order(text(inputs, "order")).is_none(), wants_error),
        "NewSemVer" => expect(
            Constraint::parse(text(inputs, "range")).is_err(),
            wants_error,
        ),
        "SemVer.Latest" => {
            let options = semver(text(inputs, "range"));
            judge(latest(options, &strings(&inputs["tags"])), expected)
        }
        "RegexFilter.Apply+Items (sorted)" => filter_items(case),
        "ImagePolicyReconciler.applyPolicy" | "ImagePolicy reconcile (envtest)" => {
            apply_policy(case)
        }
        "fluxcd/pkg version.ParseVersion (tag parser used by the semver policy)" => {
            expect(parse_semver_tag(text(inputs, "tag")).is_none(), wants_error)
        }
        _ => Outcome::NotOffered("a Flux function Berth has no counterpart for"),
    }
}

/// Flux writes `ASC (default)`, `ASC`, `DESC`, or nothing.
fn order(text: &str) -> Option<Order> {
    let word = text.trim_end_matches(" (default)");
    if word.is_empty() {
        Some(Order::default())
    } else {
        word.parse().ok()
    }
}

fn semver(range: &str) -> PolicyOptions {
    PolicyOptions {
        strategy: Strategy::Semver,
        constraint: Some(range.to_owned()),
        ..Default::default()
    }
}

fn latest(options: PolicyOptions, tags: &[String]) -> Result<Option<String>, String> {
    policy(options).map(|p| rank(&candidates(tags), &p).chosen)
}

/// Flux's error (bad policy, or nothing to pick) is Berth's refusal or its empty pick.
fn judge(berth: Result<Option<String>, String>, expected: &Value) -> Outcome {
    let wants_error = expected["error"].as_bool().unwrap_or(false);
    match (berth, wants_error) {
        (Err(_) | Ok(None), true) => Outcome::Pass,
        (Ok(Some(tag)), true) => {
            Outcome::Fail(format!("Berth picked {tag}, Flux reports an error"))
        }
        (Err(e), false) => Outcome::Fail(format!("Berth refused: {e}")),
        (Ok(chosen), false) => expect(chosen, expected["latest"].as_str().map(str::to_owned)),
    }
}

fn filter_options(filter: &Value) -> (Vec<String>, Option<String>) {
    let pattern = text(filter, "pattern");
    let extract = text(filter, "extract");
    let allow = if pattern.is_empty() {
        Vec::new()
    } else {
        vec![format!("regexp:{pattern}")]
    };
    (allow, (!extract.is_empty()).then(|| extract.to_owned()))
}

fn filter_items(case: &Value) -> Outcome {
    let (allow, extract) = filter_options(&case["inputs"]);
    let p = match policy(PolicyOptions {
        allow,
        extract,
        ..Default::default()
    }) {
        Ok(p) => p,
        Err(e) => return Outcome::Fail(e),
    };
    let mut items: Vec<String> = strings(&case["inputs"]["tags"])
        .iter()
        .filter(|tag| p.filter_reason(tag).is_none())
        .filter_map(|tag| p.key_text(tag).map(|text| text.into_owned()))
        .collect();
    // Flux's Items() are the keys of an extracted → original map: each value once.
    items.sort();
    items.dedup();
    expect(items, strings(&case["expected"]))
}

fn apply_policy(case: &Value) -> Outcome {
    let inputs = &case["inputs"];
    if inputs["db_read_error"].as_bool() == Some(true) {
        return Outcome::NotOffered("a failing tag database is I/O; ranking is pure");
    }
    let Some(tags_value) = inputs.get("tags") else {
        return Outcome::NotOffered("the tag list lives in a registry fixture outside the case");
    };
    let kind = text(&inputs["policy"], "type");
    let mut options = match kind {
        "semver" => semver(text(&inputs["policy"], "range")),
        "alphabetical" | "numerical" => PolicyOptions {
            strategy: if kind == "numerical" {
                Strategy::Numerical
            } else {
                Strategy::Alphabetical
            },
            order: match order(text(&inputs["policy"], "order")) {
                Some(order) => order,
                None => return Outcome::Fail("order refused".to_owned()),
            },
            ..Default::default()
        },
        _ => {
            return Outcome::NotOffered(
                "a Flux ImagePolicy without a policy; Berth defaults to its tier strategy",
            );
        }
    };
    if inputs["filterTags"].is_object() {
        (options.allow, options.extract) = filter_options(&inputs["filterTags"]);
    }
    judge(latest(options, &strings(tags_value)), &case["expected"])
}
