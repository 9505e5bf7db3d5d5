//! The deploy gate, driven by Trivy's golden reports through the `Scanner` trait: a fake
//! scanner answers each image reference with one golden report.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use berth::scan::gate::{self, GateLevel, Verdict};
use berth::scan::queue::ScanQueue;
use berth::scan::{Availability, ScanError, ScanOutcome, ScanTarget, Scanner, Severity};

use super::golden;

/// Answers `image:tag` with the golden report it was given for it.
struct GoldenScanner {
    reports: HashMap<String, &'static str>,
}

impl GoldenScanner {
    fn new(images: &[(&str, &'static str)]) -> GoldenScanner {
        GoldenScanner {
            reports: images
                .iter()
                .map(|(image, report)| (image.to_string(), *report))
                .collect(),
        }
    }
}

#[async_trait]
impl Scanner for GoldenScanner {
    async fn scan(&self, target: &ScanTarget) -> Result<ScanOutcome, ScanError> {
        let name = target.display_name();
        let report = self.reports.get(&name).ok_or_else(|| ScanError::Exit {
            status: "exit status: 1".into(),
            stderr: format!("no such image {name}"),
        })?;
        let raw = String::from_utf8(golden(report)).expect("golden reports are UTF-8");
        ScanOutcome::from_trivy_output(name, chrono::Utc::now(), Duration::ZERO, raw)
    }

    fn availability(&self) -> Availability {
        Availability::Available
    }
}

fn scanner() -> GoldenScanner {
    GoldenScanner::new(&[
        ("registry.lan/app:1", "alpine-310.json"),
        ("registry.lan/app:2", "debian-buster.json"),
        ("registry.lan/app:3", "centos-7-ignore-unfixed.json"),
        ("registry.lan/app:4", "alpine-39-high-critical.json"),
    ])
}

#[tokio::test]
async fn a_candidate_bringing_a_new_critical_is_refused_with_the_difference() {
    let scanner = scanner();
    let running = ScanTarget::image("registry.lan/app:1"); // 4 MEDIUM
    let candidate = ScanTarget::registry_image("registry.lan/app:2"); // + CRITICAL libidn2
    let decision =
        gate::check_candidate(GateLevel::NewCritical, &scanner, &candidate, Some(&running))
            .await
            .unwrap();
    assert_eq!(decision.verdict, Verdict::Refuse);
    let new: Vec<(&str, &str, Severity)> = decision
        .new_findings
        .iter()
        .map(|f| (f.id.as_str(), f.package.as_str(), f.severity))
        .collect();
    assert_eq!(new, [("CVE-2019-18224", "libidn2-0", Severity::Critical)]);
    assert_eq!(decision.candidate, "registry.lan/app:2");
    assert_eq!(decision.running.as_deref(), Some("registry.lan/app:1"));
    let explanation = decision.explanation();
    assert!(
        explanation.contains("refused registry.lan/app:2")
            && explanation.contains("CRITICAL CVE-2019-18224 in libidn2-0"),
        "{explanation}"
    );
    // The decision is stored with the revision, so it must survive a round trip.
    let stored = serde_json::to_string(&decision).unwrap();
    assert_eq!(
        serde_json::from_str::<gate::GateDecision>(&stored).unwrap(),
        decision
    );
}

#[tokio::test]
async fn a_candidate_without_a_new_critical_goes_through() {
    let scanner = scanner();
    let running = ScanTarget::image("registry.lan/app:2"); // has the CRITICAL already
    for candidate in ["registry.lan/app:3", "registry.lan/app:2"] {
        let decision = gate::check_candidate(
            GateLevel::NewCritical,
            &scanner,
            &ScanTarget::registry_image(candidate),
            Some(&running),
        )
        .await
        .unwrap();
        assert_eq!(
            decision.verdict,
            Verdict::Allow,
            "{}",
            decision.explanation()
        );
        assert!(decision.new_findings.is_empty());
    }
}

#[tokio::test]
async fn new_high_also_counts_criticals_and_ignores_mediums() {
    let scanner = scanner();
    let running = ScanTarget::image("registry.lan/app:3"); // MEDIUM + LOW
    let refused = gate::check_candidate(
        GateLevel::NewHigh,
        &scanner,
        &ScanTarget::image("registry.lan/app:4"),
        Some(&running),
    )
    .await
    .unwrap();
    assert_eq!(refused.new_findings.len(), 2, "musl and musl-utils");
    let allowed = gate::check_candidate(
        GateLevel::NewHigh,
        &scanner,
        &ScanTarget::image("registry.lan/app:1"),
        Some(&running),
    )
    .await
    .unwrap();
    assert!(allowed.allows(), "{}", allowed.explanation());
}

#[tokio::test]
async fn the_gate_works_through_the_queue_and_a_failed_scan_is_an_error_not_an_allow() {
    let (queue, _worker) = ScanQueue::start(Arc::new(scanner()), 4);
    let decision = gate::check_candidate(
        GateLevel::NewCritical,
        &queue,
        &ScanTarget::image("registry.lan/app:4"),
        Some(&ScanTarget::image("registry.lan/app:1")),
    )
    .await
    .unwrap();
    assert_eq!(decision.verdict, Verdict::Refuse);

    let error = gate::check_candidate(
        GateLevel::NewCritical,
        &queue,
        &ScanTarget::image("registry.lan/missing:1"),
        Some(&ScanTarget::image("registry.lan/app:1")),
    )
    .await
    .unwrap_err();
    assert!(error.to_string().contains("no such image"), "{error}");
}
