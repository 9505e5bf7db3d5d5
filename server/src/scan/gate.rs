//! The deploy gate (`SCAN_GATE=new-critical|new-high`, off by default): before a candidate
//! image is deployed it is scanned, and refused when it brings findings at or above the
//! gate's level that the running image does not have. Findings the running image already
//! has do not block: the gate stops things getting worse, it does not demand they get better.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::report::{Finding, ScanReport, Severity};
use super::{ScanError, ScanTarget, Scanner};

/// How severe a new finding must be to refuse a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GateLevel {
    /// `new-critical`: refuse new CRITICAL findings.
    NewCritical,
    /// `new-high`: refuse new HIGH or CRITICAL findings.
    NewHigh,
}

impl GateLevel {
    /// The least severe finding that counts.
    pub fn threshold(self) -> Severity {
        match self {
            GateLevel::NewCritical => Severity::Critical,
            GateLevel::NewHigh => Severity::High,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            GateLevel::NewCritical => "new-critical",
            GateLevel::NewHigh => "new-high",
        }
    }
}

impl fmt::Display for GateLevel {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl FromStr for GateLevel {
    type Err = String;

    fn from_str(text: &str) -> Result<GateLevel, String> {
        [GateLevel::NewCritical, GateLevel::NewHigh]
            .into_iter()
            .find(|level| level.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| "expected off, new-critical or new-high".to_owned())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Allow,
    Refuse,
}

/// The gate's answer, with the difference that led to it (recorded and shown either way).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateDecision {
    pub level: GateLevel,
    pub verdict: Verdict,
    /// The candidate's findings at or above the level that the running image does not have;
    /// the candidate is refused exactly when this is not empty.
    pub new_findings: Vec<Finding>,
    /// The candidate's image and the running one (`None` when nothing runs yet).
    pub candidate: String,
    pub running: Option<String>,
}

impl GateDecision {
    /// Compare a candidate's report with the running image's. With nothing running, every
    /// finding at or above the level is new.
    pub fn evaluate(
        level: GateLevel,
        candidate: &ScanReport,
        running: Option<&ScanReport>,
    ) -> GateDecision {
        let already_present: HashSet<_> = running
            .map(|report| report.findings.iter().map(Finding::identity).collect())
            .unwrap_or_default();
        let new_findings: Vec<Finding> = candidate
            .findings
            .iter()
            .filter(|finding| finding.severity >= level.threshold())
            .filter(|finding| !already_present.contains(&finding.identity()))
            .cloned()
            .collect();
        GateDecision {
            level,
            verdict: if new_findings.is_empty() {
                Verdict::Allow
            } else {
                Verdict::Refuse
            },
            new_findings,
            candidate: candidate.artifact_name.clone(),
            running: running.map(|report| report.artifact_name.clone()),
        }
    }

    pub fn allows(&self) -> bool {
        self.verdict == Verdict::Allow
    }

    /// One line for the revision history and the dashboard.
    pub fn explanation(&self) -> String {
        if self.allows() {
            return format!(
                "scan gate {}: {} brings no new finding at {} or above",
                self.level,
                self.candidate,
                self.level.threshold()
            );
        }
        let listed: Vec<String> = self
            .new_findings
            .iter()
            .map(|finding| match finding.package.as_str() {
                "" => format!("{} {} in {}", finding.severity, finding.id, finding.target),
                package => format!("{} {} in {package}", finding.severity, finding.id),
            })
            .collect();
        format!(
            "scan gate {}: refused {}, which brings {} new finding(s) the running image does not have: {}",
            self.level,
            self.candidate,
            self.new_findings.len(),
            listed.join(", ")
        )
    }
}

/// Scan the candidate and (if one runs) the running image through `scanner`, and decide.
/// A failed scan is an error, never an "allow": the caller decides what a broken scanner
/// means for the deploy.
pub async fn check_candidate(
    level: GateLevel,
    scanner: &dyn Scanner,
    candidate: &ScanTarget,
    running: Option<&ScanTarget>,
) -> Result<GateDecision, ScanError> {
    let candidate_outcome = scanner.scan(candidate).await?;
    let running_outcome = match running {
        Some(target) => Some(scanner.scan(target).await?),
        None => None,
    };
    let mut decision = GateDecision::evaluate(
        level,
        &candidate_outcome.report,
        running_outcome.as_ref().map(|outcome| &outcome.report),
    );
    // Name the images as Berth knows them, not as Trivy's ArtifactName spells them.
    decision.candidate = candidate.display_name();
    decision.running = running.map(ScanTarget::display_name);
    Ok(decision)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::report::FindingKind;

    fn finding(id: &str, package: &str, severity: Severity) -> Finding {
        Finding {
            kind: FindingKind::Vulnerability,
            id: id.into(),
            package: package.into(),
            installed_version: Some("1.0".into()),
            fixed_version: None,
            severity,
            title: None,
            link: None,
            target: "image (debian 12)".into(),
        }
    }

    fn report(name: &str, findings: Vec<Finding>) -> ScanReport {
        ScanReport {
            artifact_name: name.into(),
            trivy_version: None,
            created_at: None,
            summary: crate::scan::report::ScanSummary::of(&findings),
            findings,
        }
    }

    #[test]
    fn a_finding_the_running_image_has_does_not_block_even_at_another_version() {
        let running = report(
            "app:1",
            vec![finding("CVE-1", "openssl", Severity::Critical)],
        );
        let mut carried = finding("CVE-1", "openssl", Severity::Critical);
        carried.installed_version = Some("1.1".into());
        carried.target = "app:2 (debian 12)".into();
        let candidate = report("app:2", vec![carried]);
        let decision = GateDecision::evaluate(GateLevel::NewCritical, &candidate, Some(&running));
        assert!(decision.allows(), "{}", decision.explanation());
    }

    #[test]
    fn the_level_decides_which_new_findings_count() {
        let running = report("app:1", vec![]);
        let candidate = report(
            "app:2",
            vec![
                finding("CVE-HIGH", "curl", Severity::High),
                finding("CVE-MEDIUM", "zlib", Severity::Medium),
            ],
        );
        let critical = GateDecision::evaluate(GateLevel::NewCritical, &candidate, Some(&running));
        assert!(critical.allows());
        let high = GateDecision::evaluate(GateLevel::NewHigh, &candidate, Some(&running));
        assert_eq!(high.verdict, Verdict::Refuse);
        let ids: Vec<&str> = high.new_findings.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["CVE-HIGH"]);
        assert!(
            high.explanation().contains("HIGH CVE-HIGH in curl"),
            "{}",
            high.explanation()
        );
    }

    #[test]
    fn with_nothing_running_every_finding_at_the_level_is_new() {
        let candidate = report("app:1", vec![finding("CVE-9", "musl", Severity::Critical)]);
        let decision = GateDecision::evaluate(GateLevel::NewCritical, &candidate, None);
        assert_eq!(decision.verdict, Verdict::Refuse);
        assert_eq!(decision.running, None);
    }

    #[test]
    fn gate_levels_read_as_configured() {
        assert_eq!("new-critical".parse(), Ok(GateLevel::NewCritical));
        assert_eq!("NEW-HIGH".parse(), Ok(GateLevel::NewHigh));
        assert!("critical".parse::<GateLevel>().is_err());
    }
}
