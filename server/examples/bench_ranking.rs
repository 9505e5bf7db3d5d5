//! Times ranking 10,000 realistic tags (target: under 10 ms).
//!
//! `cargo run --release -p server --example bench_ranking`

use std::time::{Duration, Instant};

use berth::ranking::{Candidate, LaneMode, Policy, PolicyOptions, Strategy, pick};
use chrono::DateTime;

const TAGS: usize = 10_000;
const RUNS: usize = 15;

/// A repository's worth of tags in the shapes real registries hold, deterministic so runs
/// compare: releases, release candidates, variants, dated and branch builds, commits.
fn realistic_tags() -> Vec<Candidate> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        // xorshift64: a fixed sequence without a random-number dependency.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..TAGS)
        .map(|i| {
            let r = next();
            let (major, minor, patch) = (r % 4, (r >> 8) % 30, (r >> 16) % 40);
            let tag = match i % 10 {
                0..=3 => format!("{major}.{minor}.{patch}"),
                4 => format!("v{major}.{minor}.{patch}-rc.{}", (r >> 24) % 5),
                5 => format!("{major}.{minor}.{patch}-alpine3.{}", 17 + (r >> 24) % 4),
                6 => format!(
                    "2025-{:02}-{:02}-{:02}-{:02}-00",
                    1 + (r >> 24) % 12,
                    1 + (r >> 32) % 28,
                    (r >> 40) % 24,
                    (r >> 48) % 60
                ),
                7 => format!("main-{}", r % 100_000),
                8 => format!("{:07x}", r & 0xfff_ffff),
                _ => ["latest", "stable", "edge", "nightly"][i % 4].to_owned(),
            };
            let pushed_at = DateTime::from_timestamp(1_700_000_000 + (r % 50_000_000) as i64, 0);
            Candidate {
                tag,
                pushed_at,
                digest: None,
            }
        })
        .collect()
}

fn time(label: &str, current: &str, candidates: &[Candidate], options: PolicyOptions) {
    let policy = match Policy::from_options(&options) {
        Ok(policy) => policy,
        Err(e) => {
            eprintln!("{label}: policy refused: {e}");
            std::process::exit(2);
        }
    };
    let mut samples: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            let result = pick(current, candidates, &policy);
            let elapsed = start.elapsed();
            std::hint::black_box(result);
            elapsed
        })
        .collect();
    samples.sort();
    let chosen = pick(current, candidates, &policy)
        .chosen
        .unwrap_or_else(|| "(none)".into());
    let median = samples[RUNS / 2];
    let verdict = if median < Duration::from_millis(10) {
        "under"
    } else {
        "OVER"
    };
    println!(
        "{label:<28} median {:>7.3} ms, best {:>7.3} ms ({verdict} the 10 ms target), picked {chosen}",
        median.as_secs_f64() * 1e3,
        samples[0].as_secs_f64() * 1e3,
    );
}

fn main() {
    let candidates = realistic_tags();
    println!(
        "ranking {} tags, {RUNS} runs each, with a full explanation per candidate",
        candidates.len()
    );
    time(
        "tier, lane same",
        "1.2.3",
        &candidates,
        PolicyOptions::default(),
    );
    time(
        "tier, lane any",
        "latest",
        &candidates,
        PolicyOptions {
            lane: LaneMode::Any,
            ..Default::default()
        },
    );
    let semver = PolicyOptions {
        strategy: Strategy::Semver,
        constraint: Some("^1.2 || ~2.0".into()),
        ..Default::default()
    };
    time("semver ^1.2 || ~2.0", "1.2.3", &candidates, semver);
    let allow = PolicyOptions {
        allow: vec![r"regexp:^(?=.{1,25}$)(v?[0-9]+(\.[0-9]+){0,2}(-[a-z0-9.]+)?|latest)$".into()],
        ..Default::default()
    };
    time("tier + look-ahead ALLOW_TAGS", "1.2.3", &candidates, allow);
}
