//! The parts of Trivy's JSON format that Berth reads; every field may be absent.

use serde::Deserialize;

use super::{Finding, FindingKind, Severity};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Report {
    // A Value, so that a version written as a string is reported, not a decode error.
    pub schema_version: Option<serde_json::Value>,
    pub artifact_name: Option<String>,
    pub created_at: Option<String>,
    pub trivy: Option<Trivy>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub results: Vec<Result>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Trivy {
    pub version: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Result {
    #[serde(default)]
    pub target: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub vulnerabilities: Vec<Vulnerability>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub secrets: Vec<Secret>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Vulnerability {
    #[serde(rename = "VulnerabilityID", default)]
    pub vulnerability_id: String,
    #[serde(default)]
    pub pkg_name: String,
    pub installed_version: Option<String>,
    pub fixed_version: Option<String>,
    pub severity: Option<String>,
    pub title: Option<String>,
    #[serde(rename = "PrimaryURL")]
    pub primary_url: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub references: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Secret {
    #[serde(rename = "RuleID", default)]
    pub rule_id: String,
    pub severity: Option<String>,
    pub title: Option<String>,
}

impl Result {
    pub(super) fn into_findings(self) -> Vec<Finding> {
        let target = self.target;
        let vulnerabilities = self.vulnerabilities.into_iter().map(|v| Finding {
            kind: FindingKind::Vulnerability,
            id: v.vulnerability_id,
            package: v.pkg_name,
            installed_version: non_empty(v.installed_version),
            fixed_version: non_empty(v.fixed_version),
            severity: severity(v.severity.as_deref()),
            title: non_empty(v.title),
            link: non_empty(v.primary_url).or_else(|| v.references.into_iter().next()),
            target: target.clone(),
        });
        let secrets = self.secrets.into_iter().map(|s| Finding {
            kind: FindingKind::Secret,
            id: s.rule_id,
            package: String::new(),
            installed_version: None,
            fixed_version: None,
            severity: severity(s.severity.as_deref()),
            title: non_empty(s.title),
            link: None,
            target: target.clone(),
        });
        vulnerabilities.chain(secrets).collect()
    }
}

/// A severity Trivy does not name (or none) is shown as UNKNOWN, as Trivy does.
fn severity(text: Option<&str>) -> Severity {
    text.and_then(|text| text.parse().ok())
        .unwrap_or(Severity::Unknown)
}

fn non_empty(text: Option<String>) -> Option<String> {
    text.filter(|text| !text.trim().is_empty())
}

/// Trivy writes `null` for some empty lists; read it as empty.
fn null_as_empty<'de, D, T>(deserializer: D) -> std::result::Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}
