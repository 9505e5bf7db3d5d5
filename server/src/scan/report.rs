//! Trivy's JSON report (`trivy image --format json`, report schema version 2), read into what
//! Berth shows and stores: counts by severity, the findings, and a risk score.
//!
//! Reading is tolerant of absent fields (Trivy omits empty ones, and older databases lack
//! titles) and strict about the schema version: a report of another version would be read
//! as "no findings", which is the one wrong answer a scanner must never give.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

mod wire;

/// The report schema version this module reads.
pub const SUPPORTED_SCHEMA_VERSION: u64 = 2;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("reading Trivy's JSON report")]
    ReadJson(#[source] serde_json::Error),
    #[error(
        "Trivy's report has SchemaVersion {found}, Berth reads SchemaVersion {SUPPORTED_SCHEMA_VERSION}"
    )]
    CheckSchemaVersion { found: String },
}

/// Trivy's severities, ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    Unknown,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Most severe first, the order reports are shown in.
    pub const DESCENDING: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Unknown => "UNKNOWN",
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        }
    }

    /// The weight of one finding in [`ScanSummary::risk_score`].
    pub fn risk_weight(self) -> u64 {
        match self {
            Severity::Critical => 10,
            Severity::High => 5,
            Severity::Medium => 2,
            Severity::Low | Severity::Unknown => 1,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The text is not one of Trivy's five severities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownSeverity(pub String);

impl FromStr for Severity {
    type Err = UnknownSeverity;

    fn from_str(text: &str) -> Result<Severity, UnknownSeverity> {
        Severity::DESCENDING
            .into_iter()
            .find(|severity| severity.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| UnknownSeverity(text.to_owned()))
    }
}

/// What kind of problem a finding is; Trivy reports each kind in its own list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A known vulnerability in an installed package (`Vulnerabilities`).
    Vulnerability,
    /// A credential found in a file of the image (`Secrets`); `package` is empty.
    Secret,
}

/// One finding: a vulnerability in one package, or one secret in one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: FindingKind,
    /// `VulnerabilityID` (CVE-…, GHSA-…) or a secret's `RuleID`.
    pub id: String,
    /// The package name; empty for a secret.
    pub package: String,
    pub installed_version: Option<String>,
    /// `None` when no fixed version exists yet.
    pub fixed_version: Option<String>,
    pub severity: Severity,
    pub title: Option<String>,
    /// Where to read more: `PrimaryURL`, else the first reference.
    pub link: Option<String>,
    /// Trivy's result target: the OS or lock file scanned, or the file holding a secret.
    pub target: String,
}

impl Finding {
    /// What makes two findings "the same problem" across two images: a vulnerability in a
    /// package by name (an upgrade that leaves it vulnerable is not new), a secret by rule
    /// and file. The target is left out for vulnerabilities because Trivy names it after
    /// the image (`alpine:3.19 (alpine 3.19.1)`), which differs between any two images.
    pub fn identity(&self) -> (FindingKind, &str, &str) {
        match self.kind {
            FindingKind::Vulnerability => (self.kind, self.id.as_str(), self.package.as_str()),
            FindingKind::Secret => (self.kind, self.id.as_str(), self.target.as_str()),
        }
    }
}

/// How many findings of each severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityCounts {
    pub critical: u32,
    pub high: u32,
    pub medium: u32,
    pub low: u32,
    pub unknown: u32,
}

impl SeverityCounts {
    pub fn of(findings: &[Finding]) -> SeverityCounts {
        let mut counts = SeverityCounts::default();
        for finding in findings {
            *counts.slot(finding.severity) += 1;
        }
        counts
    }

    pub fn get(&self, severity: Severity) -> u32 {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Unknown => self.unknown,
        }
    }

    pub fn total(&self) -> u32 {
        Severity::DESCENDING
            .iter()
            .map(|severity| self.get(*severity))
            .sum()
    }

    fn slot(&mut self, severity: Severity) -> &mut u32 {
        match severity {
            Severity::Critical => &mut self.critical,
            Severity::High => &mut self.high,
            Severity::Medium => &mut self.medium,
            Severity::Low => &mut self.low,
            Severity::Unknown => &mut self.unknown,
        }
    }
}

/// The numbers shown beside a revision.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanSummary {
    pub counts: SeverityCounts,
    /// See [`ScanSummary::risk_score`].
    pub risk_score: u64,
}

impl ScanSummary {
    pub fn of(findings: &[Finding]) -> ScanSummary {
        ScanSummary {
            counts: SeverityCounts::of(findings),
            risk_score: ScanSummary::risk_score(findings),
        }
    }

    /// The image's risk score: the sum over its findings of a weight per severity,
    ///
    /// ```text
    /// risk = 10 × CRITICAL + 5 × HIGH + 2 × MEDIUM + 1 × LOW + 1 × UNKNOWN
    /// ```
    ///
    /// counting each finding Trivy lists (one CVE in two packages counts twice, as Trivy's
    /// own totals do; secrets count like vulnerabilities). 0 means nothing was found. The
    /// weights make one CRITICAL outweigh a handful of MEDIUMs, and leave an unrated finding
    /// (UNKNOWN) counted like a LOW rather than free. The score has no upper bound, so two
    /// revisions of one service compare directly: higher is worse. It depends on the scan's
    /// settings (TRIVY_SEVERITIES, TRIVY_IGNORE_UNFIXED) because it counts what Trivy reported.
    pub fn risk_score(findings: &[Finding]) -> u64 {
        findings
            .iter()
            .map(|finding| finding.severity.risk_weight())
            .sum()
    }
}

/// A parsed Trivy report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanReport {
    /// `ArtifactName`: the image reference or archive path Trivy scanned.
    pub artifact_name: String,
    /// `Trivy.Version`, when the report says.
    pub trivy_version: Option<String>,
    /// `CreatedAt`, as Trivy wrote it.
    pub created_at: Option<String>,
    pub summary: ScanSummary,
    /// Most severe first; Trivy's order within one severity.
    pub findings: Vec<Finding>,
}

impl ScanReport {
    /// Read a report as `trivy image --format json` prints it.
    pub fn parse(json: &[u8]) -> Result<ScanReport, ReportError> {
        let wire: wire::Report = serde_json::from_slice(json).map_err(ReportError::ReadJson)?;
        match &wire.schema_version {
            Some(serde_json::Value::Number(number))
                if number.as_u64() == Some(SUPPORTED_SCHEMA_VERSION) => {}
            other => {
                let found = other
                    .as_ref()
                    .map_or_else(|| "(absent)".to_owned(), serde_json::Value::to_string);
                return Err(ReportError::CheckSchemaVersion { found });
            }
        }
        let mut findings: Vec<Finding> = wire
            .results
            .into_iter()
            .flat_map(wire::Result::into_findings)
            .collect();
        // A stable sort keeps Trivy's order (by package) within each severity.
        findings.sort_by_key(|finding| std::cmp::Reverse(finding.severity));
        Ok(ScanReport {
            artifact_name: wire.artifact_name.unwrap_or_default(),
            trivy_version: wire.trivy.and_then(|trivy| trivy.version),
            created_at: wire.created_at,
            summary: ScanSummary::of(&findings),
            findings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<ScanReport, ReportError> {
        ScanReport::parse(json.as_bytes())
    }

    #[test]
    fn a_report_with_only_the_schema_version_has_no_findings() {
        let report = parse(r#"{"SchemaVersion": 2}"#).unwrap();
        assert!(report.findings.is_empty());
        assert_eq!(report.summary, ScanSummary::default());
        assert_eq!(report.artifact_name, "");
    }

    #[test]
    fn absent_and_null_fields_are_tolerated() {
        let report = parse(
            r#"{"SchemaVersion": 2, "Results": [
                {"Target": "t", "Vulnerabilities": null, "Secrets": null},
                {"Vulnerabilities": [{"VulnerabilityID": "CVE-1", "FixedVersion": "",
                  "References": ["https://example.com/cve-1"]}]}
            ]}"#,
        )
        .unwrap();
        assert_eq!(report.findings.len(), 1);
        let finding = &report.findings[0];
        assert_eq!(finding.severity, Severity::Unknown);
        assert_eq!(
            finding.fixed_version, None,
            "an empty FixedVersion means no fix"
        );
        assert_eq!(finding.link.as_deref(), Some("https://example.com/cve-1"));
        assert_eq!(report.summary.counts.unknown, 1);
    }

    #[test]
    fn another_schema_version_is_refused_and_named() {
        for (json, named) in [
            (r#"{"SchemaVersion": 1, "Results": []}"#, "SchemaVersion 1"),
            (r#"{"SchemaVersion": "2"}"#, "SchemaVersion \"2\""),
            (r#"{"Results": []}"#, "SchemaVersion (absent)"),
        ] {
            let error = parse(json).unwrap_err();
            assert!(
                matches!(error, ReportError::CheckSchemaVersion { .. }),
                "{json}: {error}"
            );
            assert!(error.to_string().contains(named), "{error}");
        }
    }

    #[test]
    fn text_that_is_not_json_is_a_read_error() {
        let error = parse("FATAL: no such image").unwrap_err();
        assert!(matches!(error, ReportError::ReadJson(_)), "{error}");
    }

    #[test]
    fn findings_are_ordered_most_severe_first_and_secrets_are_findings() {
        let report = parse(
            r#"{"SchemaVersion": 2, "Results": [
                {"Target": "os", "Vulnerabilities": [
                    {"VulnerabilityID": "CVE-LOW", "PkgName": "a", "Severity": "LOW"},
                    {"VulnerabilityID": "CVE-HIGH", "PkgName": "b", "Severity": "HIGH"}]},
                {"Target": "/app/.env", "Class": "secret", "Secrets": [
                    {"RuleID": "aws-access-key-id", "Severity": "CRITICAL", "Title": "AWS Access Key ID"}]}
            ]}"#,
        )
        .unwrap();
        let ids: Vec<&str> = report.findings.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["aws-access-key-id", "CVE-HIGH", "CVE-LOW"]);
        assert_eq!(report.findings[0].kind, FindingKind::Secret);
        assert_eq!(report.findings[0].target, "/app/.env");
        assert_eq!(report.summary.risk_score, 10 + 5 + 1);
    }

    #[test]
    fn severities_parse_in_any_case_and_order_by_gravity() {
        assert_eq!("critical".parse::<Severity>(), Ok(Severity::Critical));
        assert_eq!(" High ".parse::<Severity>(), Ok(Severity::High));
        assert!("SEVERE".parse::<Severity>().is_err());
        assert!(Severity::Critical > Severity::High && Severity::Low > Severity::Unknown);
    }
}
