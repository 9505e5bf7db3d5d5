//! Integration tests: ranking. Runs the peers' own tag-selection tables (Flux, Keel, Diun, the
//! original tool; `server/tests/fixtures/conformance`) against Berth's ranking, for
//! every case whose strategy Berth offers. Berth must agree on at least 95% of them, and
//! every case it does not agree with is listed below with the reason Berth differs.

mod diun;
mod flux;
mod keel;
mod original;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use berth::ranking::{Candidate, Policy, PolicyOptions};
use serde_json::Value;

/// Cases where Berth deliberately answers differently from the peer: (file, case, why).
const DELIBERATE_DIFFERENCES: &[(&str, &str, &str)] = &[
    (
        "diun.json",
        "sort semver",
        "Diun strips any leading non-digits (alpine-5.0 sorts as version 5.0, above 4.21.0) and reads `4` as \
         4.0.0; Berth's semver strategy reads only MAJOR.MINOR[.PATCH] tags and drops the rest instead of \
         sorting them last: alpine-5.0 is a variant, not version 5.0.",
    ),
    (
        "diun.json",
        "invalid regexp",
        "Diun treats an invalid regexp as never matching; Berth refuses the pattern with an error naming it \
         (exit 2), so a typo cannot silently block every tag.",
    ),
    (
        "diun.json",
        "invalid pattern does not include",
        "Diun ignores an invalid include regexp; Berth refuses it with an error naming the pattern.",
    ),
    (
        "diun.json",
        "invalid pattern does not exclude",
        "Diun ignores an invalid exclude regexp; Berth refuses it with an error naming the pattern, so a \
         typo cannot silently stop excluding.",
    ),
    (
        "flux_image_reflector.json",
        "With unordered list of integers descending",
        "The smallest of these is -78, but a Docker tag cannot start with '-' (tag grammar \
         [A-Za-z0-9_][A-Za-z0-9_.-]*): Berth drops such names before any strategy sees them. Negative \
         numbers still work once extracted from a valid tag.",
    ),
    (
        "flux_image_reflector.json",
        "With unordered list of floats descending",
        "As above: -90.29… is not a valid Docker tag name, so Berth never ranks it.",
    ),
    (
        "flux_image_reflector.json",
        r#"fluxcd/pkg version.ParseVersion (tag parser used by the semver policy) {"tag":"v1.0"}"#,
        "Berth's semver strategy reads two-part tags (postgres:16.4) as MAJOR.MINOR.0, as Keel and Diun \
         do; Flux requires all three parts.",
    ),
];

/// What one case came to.
pub enum Outcome {
    Pass,
    Fail(String),
    /// Berth offers no such strategy (or the case tests I/O, not ranking).
    NotOffered(&'static str),
}

/// The cases, copied into the repository with their sources named (see its README).
fn conformance_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/conformance")
}

fn load(dir: &Path, file: &str) -> Value {
    let path = dir.join(file);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

/// A readable, unique name for each case: its own name (or function and inputs), with
/// `#n` added when a file repeats it.
fn labels(cases: &[Value]) -> Vec<String> {
    let base: Vec<String> = cases
        .iter()
        .map(|case| match case["name"].as_str() {
            Some(name) => name.to_owned(),
            None => format!("{} {}", text(case, "function"), case["inputs"]),
        })
        .collect();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    base.iter()
        .map(|label| {
            let repeated = base.iter().filter(|other| *other == label).count() > 1;
            let n = seen.entry(label).or_default();
            *n += 1;
            if repeated {
                format!("{label} #{n}")
            } else {
                label.clone()
            }
        })
        .collect()
}

pub fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or_default()
}

pub fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

pub fn candidates(tags: &[String]) -> Vec<Candidate> {
    tags.iter()
        .map(|tag| Candidate::new(tag.as_str()))
        .collect()
}

pub fn policy(options: PolicyOptions) -> Result<Policy, String> {
    Policy::from_options(&options).map_err(|e| {
        let source = std::error::Error::source(&e)
            .map(|s| format!(": {s}"))
            .unwrap_or_default();
        format!("{e}{source}")
    })
}

/// Compares what Berth gave with what the peer expects.
pub fn expect<T: PartialEq + std::fmt::Debug>(berth: T, peer: T) -> Outcome {
    if berth == peer {
        Outcome::Pass
    } else {
        Outcome::Fail(format!("Berth gave {berth:?}, the peer expects {peer:?}"))
    }
}

#[test]
fn berth_agrees_with_its_peers_on_the_conformance_cases() {
    let dir = conformance_dir();
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("list {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".json"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no conformance files in {}",
        dir.display()
    );

    let (mut offered, mut passed) = (0usize, 0usize);
    let mut problems: Vec<String> = Vec::new();
    let mut seen: Vec<(String, String)> = Vec::new();
    for file in &files {
        let document = load(&dir, file);
        let run: fn(&Value) -> Outcome = match file.as_str() {
            "diun.json" => diun::run,
            "flux_image_reflector.json" => flux::run,
            "keel.json" => keel::run,
            "di_updater_tiers.json" => original::run,
            other => panic!("conformance file {other} has no runner here; add one"),
        };
        let cases = document["cases"].as_array().cloned().unwrap_or_default();
        let (mut file_offered, mut file_passed, mut not_offered) = (0, 0, 0);
        for (case, label) in cases.iter().zip(labels(&cases)) {
            seen.push((file.clone(), label.clone()));
            let listed = DELIBERATE_DIFFERENCES
                .iter()
                .find(|(f, l, _)| f == file && *l == label);
            match (run(case), listed) {
                (Outcome::NotOffered(why), _) => {
                    not_offered += 1;
                    eprintln!("  not offered  {file} / {label}: {why}");
                }
                (Outcome::Pass, Some(_)) => {
                    file_offered += 1;
                    file_passed += 1;
                    problems.push(format!(
                        "{file} / {label} now passes: remove it from DELIBERATE_DIFFERENCES"
                    ));
                }
                (Outcome::Pass, None) => {
                    file_offered += 1;
                    file_passed += 1;
                }
                (Outcome::Fail(detail), Some((_, _, why))) => {
                    file_offered += 1;
                    eprintln!(
                        "  differs      {file} / {label}: {detail}\n               because {why}"
                    );
                }
                (Outcome::Fail(detail), None) => {
                    file_offered += 1;
                    problems.push(format!("{file} / {label}: {detail}"));
                }
            }
        }
        eprintln!("{file}: {file_passed}/{file_offered} pass ({not_offered} not offered)");
        offered += file_offered;
        passed += file_passed;
    }
    for (file, label, _) in DELIBERATE_DIFFERENCES {
        if !seen.iter().any(|(f, l)| f == file && l == label) {
            problems.push(format!(
                "DELIBERATE_DIFFERENCES lists {file} / {label}, which is no case there"
            ));
        }
    }
    eprintln!("total: {passed}/{offered} pass");
    assert!(
        problems.is_empty(),
        "unexplained results:\n{}",
        problems.join("\n")
    );
    assert!(offered > 0, "no case was run");
    assert!(
        passed * 100 >= offered * 95,
        "only {passed}/{offered} conformance cases pass (95% required)"
    );
}

#[test]
fn the_original_default_allow_tags_compile_and_admit_the_documented_examples() {
    let document = load(&conformance_dir(), "di_updater_tiers.json");
    let examples: Vec<String> = document["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|case| text(&case["inputs"], "tag").to_owned())
        // The original's own default ALLOW_TAGS does not admit two of its documented examples
        // (`stable` is 6 characters, `build-456` matches no branch); Berth reproduces that.
        .filter(|tag| tag != "stable" && tag != "build-456")
        .collect();
    for source in ["generate_env.sh", "README.md"] {
        let allow = text(&document["allow_tags_default"], source);
        let policy = policy(PolicyOptions {
            allow: vec![allow.to_owned()],
            ..Default::default()
        })
        .unwrap_or_else(|e| panic!("ALLOW_TAGS from {source} refused: {e}"));
        for tag in &examples {
            assert_eq!(
                policy.filter_reason(tag),
                None,
                "{source}'s ALLOW_TAGS should admit {tag}"
            );
        }
        assert!(policy.filter_reason("Not_Allowed!").is_some());
    }
    let readme = text(&document["allow_tags_default"], "README.md");
    let policy = policy(PolicyOptions {
        allow: vec![readme.to_owned()],
        ..Default::default()
    })
    .unwrap_or_default();
    let long = "test-this-label-is-longer-than-25";
    assert!(
        policy.filter_reason(long).is_some(),
        "the README's (?=.{{1,25}}$) look-ahead caps tags at 25 characters"
    );
}
