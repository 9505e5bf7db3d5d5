//! Trivy's golden reports read into counts, findings and risk scores, and exported. The
//! expected numbers were counted from the JSON with jq (scan/golden/README.md).

use berth::scan::export::{self, CSV_HEADER, ExportFormat};
use berth::scan::report::{FindingKind, ScanReport, Severity, SeverityCounts};
use berth::scan::{ScanOutcome, ScanTarget};

use super::golden;

fn counts(critical: u32, high: u32, medium: u32, low: u32) -> SeverityCounts {
    SeverityCounts {
        critical,
        high,
        medium,
        low,
        unknown: 0,
    }
}

fn outcome(name: &str) -> ScanOutcome {
    let raw = String::from_utf8(golden(name)).unwrap();
    ScanOutcome::from_trivy_output(
        ScanTarget::image(name).display_name(),
        chrono::Utc::now(),
        std::time::Duration::from_secs(1),
        raw,
    )
    .unwrap()
}

#[test]
fn severity_counts_and_risk_scores_match_the_golden_reports() {
    // risk = 10 × CRITICAL + 5 × HIGH + 2 × MEDIUM + 1 × LOW
    for (name, expected_counts, expected_risk) in [
        ("alpine-310.json", counts(0, 0, 4, 0), 8),
        ("alpine-39-high-critical.json", counts(2, 0, 0, 0), 20),
        ("centos-7-ignore-unfixed.json", counts(0, 0, 1, 1), 3),
        ("debian-buster.json", counts(1, 0, 0, 1), 11),
    ] {
        let report = ScanReport::parse(&golden(name)).unwrap();
        assert_eq!(report.summary.counts, expected_counts, "{name}");
        assert_eq!(report.summary.risk_score, expected_risk, "{name}");
        assert_eq!(
            report.findings.len() as u32,
            expected_counts.total(),
            "{name}"
        );
        assert_eq!(report.trivy_version.as_deref(), Some("dev"), "{name}");
    }
}

#[test]
fn findings_carry_id_package_versions_severity_title_and_link() {
    let report = ScanReport::parse(&golden("alpine-310.json")).unwrap();
    assert_eq!(
        report.artifact_name,
        "testdata/fixtures/images/alpine-310.tar.gz"
    );
    let first = &report.findings[0];
    assert_eq!(first.kind, FindingKind::Vulnerability);
    assert_eq!(first.id, "CVE-2019-1549");
    assert_eq!(first.package, "libcrypto1.1");
    assert_eq!(first.installed_version.as_deref(), Some("1.1.1c-r0"));
    assert_eq!(first.fixed_version.as_deref(), Some("1.1.1d-r0"));
    assert_eq!(first.severity, Severity::Medium);
    assert_eq!(
        first.title.as_deref(),
        Some("openssl: information disclosure in fork()")
    );
    assert_eq!(
        first.link.as_deref(),
        Some("https://avd.aquasec.com/nvd/cve-2019-1549")
    );
    let pairs: Vec<(&str, &str)> = report
        .findings
        .iter()
        .map(|f| (f.id.as_str(), f.package.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("CVE-2019-1549", "libcrypto1.1"),
            ("CVE-2019-1551", "libcrypto1.1"),
            ("CVE-2019-1549", "libssl1.1"),
            ("CVE-2019-1551", "libssl1.1"),
        ]
    );
}

#[test]
fn absent_titles_and_fixes_stay_absent_and_the_worst_comes_first() {
    // alpine-39's findings have no Title in the report.
    let alpine = ScanReport::parse(&golden("alpine-39-high-critical.json")).unwrap();
    assert!(alpine.findings.iter().all(|f| f.title.is_none()));
    assert_eq!(alpine.findings[1].package, "musl-utils");
    assert_eq!(
        alpine.findings[1].fixed_version.as_deref(),
        Some("1.1.20-r5")
    );

    // debian-buster lists bash's LOW finding (no fix) before libidn2's CRITICAL one.
    let debian = ScanReport::parse(&golden("debian-buster.json")).unwrap();
    let ids: Vec<&str> = debian.findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["CVE-2019-18224", "CVE-2019-18276"]);
    let bash = &debian.findings[1];
    assert_eq!(
        (bash.package.as_str(), bash.severity),
        ("bash", Severity::Low)
    );
    assert_eq!(bash.fixed_version, None);
}

#[test]
fn a_golden_report_with_its_schema_version_changed_is_refused() {
    let text = String::from_utf8(golden("debian-buster.json")).unwrap();
    let changed = text.replacen("\"SchemaVersion\": 2", "\"SchemaVersion\": 3", 1);
    assert_ne!(
        text, changed,
        "the golden report should name its SchemaVersion"
    );
    let error = ScanReport::parse(changed.as_bytes()).unwrap_err();
    assert!(error.to_string().contains("SchemaVersion 3"), "{error}");
}

#[test]
fn the_json_download_is_byte_for_byte_what_trivy_wrote() {
    for name in ["alpine-310.json", "debian-buster.json"] {
        let bytes = export::export(&outcome(name), ExportFormat::Json).unwrap();
        assert_eq!(bytes, golden(name), "{name}");
    }
}

#[test]
fn the_csv_download_has_one_row_per_finding() {
    let bytes = export::export(&outcome("debian-buster.json"), ExportFormat::Csv).unwrap();
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    assert_eq!(reader.headers().unwrap(), CSV_HEADER.as_slice());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    let libidn = &rows[0];
    assert_eq!(
        libidn.iter().take(7).collect::<Vec<_>>(),
        [
            "CRITICAL",
            "CVE-2019-18224",
            "libidn2-0",
            "2.0.5-1",
            "2.0.5-1+deb10u1",
            "libidn2: heap-based buffer overflow in idn2_to_ascii_4i in lib/lookup.c",
            "https://avd.aquasec.com/nvd/cve-2019-18224",
        ]
    );
    assert_eq!(&rows[1][4], "", "bash has no fixed version");
}

#[test]
fn the_html_download_is_a_small_self_contained_page_with_the_findings() {
    let page = String::from_utf8(
        export::export(&outcome("centos-7-ignore-unfixed.json"), ExportFormat::Html).unwrap(),
    )
    .unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("Risk score <strong>3</strong>"), "{page}");
    assert!(page.contains("<th class=\"medium\">MEDIUM</th><td>1</td>"));
    assert!(page.contains("<th class=\"critical\">CRITICAL</th><td>0</td>"));
    assert!(page.contains("CVE-2019-1559") && page.contains("CVE-2018-0734"));
    assert!(page.contains("1:1.0.2k-19.el7"));
    assert!(!page.contains("<script") && !page.contains("<link"));
    assert!(page.len() < 8 * 1024, "{} bytes", page.len());
}
