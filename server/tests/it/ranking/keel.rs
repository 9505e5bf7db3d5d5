//! keel-hq/keel: semver policies all/major/minor/patch with and without matchPreRelease,
//! glob and regexp policies, and "given these tags and this current tag, which is picked".

use berth::ranking::{PolicyOptions, Scope, Strategy, pick};
use serde_json::Value;

use super::{Outcome, candidates, expect, policy, strings, text};

pub fn run(case: &Value) -> Outcome {
    let inputs = &case["inputs"];
    let function = text(case, "function");
    if function.starts_with("ForcePolicy") || text(case, "policy") == "force" {
        return Outcome::NotOffered(
            "Keel's force policy: Berth's digest strategy follows one tag, it never force-switches",
        );
    }
    if function == "computeEvents with platform check" {
        return Outcome::NotOffered(
            "platform matching happens where Berth reads manifests, not in ranking",
        );
    }
    let options = match options(case) {
        Ok(options) => options,
        Err(why) => return Outcome::NotOffered(why),
    };
    let current = text(inputs, "current");
    let (tags, expected_tag) = match function {
        "WatchRepositoryTagsJob (pick tag)" => {
            (strings(&inputs["tags"]), case["expected"]["tag"].as_str())
        }
        _ => (vec![text(inputs, "new").to_owned()], None),
    };
    let chosen = match policy(options) {
        Ok(p) => pick(current, &candidates(&tags), &p).chosen,
        Err(e) => return Outcome::Fail(format!("Berth refused the policy: {e}")),
    };
    let expected = &case["expected"];
    match expected["update_event"]
        .as_bool()
        .or(expected["update"].as_bool())
    {
        Some(true) => expect(
            chosen.as_deref(),
            expected_tag.or(Some(text(inputs, "new"))),
        ),
        Some(false) | None => expect(chosen.as_deref(), None),
    }
}

/// Keel's policy as Berth options. `matchPreRelease` keeps Keel on the current pre-release
/// string: Berth's default (pre-releases only on the current track); without it Keel takes
/// any pre-release, which is Berth's `--pre-release`.
fn options(case: &Value) -> Result<PolicyOptions, &'static str> {
    let inputs = &case["inputs"];
    let semver = |scope| PolicyOptions {
        strategy: Strategy::Semver,
        scope,
        pre_release: !inputs["matchPreRelease"].as_bool().unwrap_or(false),
        ..Default::default()
    };
    Ok(match text(case, "policy") {
        "all" => semver(Scope::Any),
        "major" => semver(Scope::Major),
        "minor" => semver(Scope::Minor),
        "patch" => semver(Scope::Patch),
        "glob" => PolicyOptions {
            strategy: Strategy::Alphabetical,
            allow: vec![
                text(inputs, "pattern")
                    .trim_start_matches("glob:")
                    .to_owned(),
            ],
            ..Default::default()
        },
        "regexp" => {
            let pattern = text(inputs, "pattern");
            PolicyOptions {
                strategy: Strategy::Alphabetical,
                allow: vec![pattern.to_owned()],
                extract: pattern
                    .contains("(?P<compare>")
                    .then(|| "$compare".to_owned()),
                ..Default::default()
            }
        }
        _ => return Err("a Keel policy Berth has no counterpart for"),
    })
}
