//! `berth scan IMAGE`: scan one image with Trivy now and print or save the report.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};

use crate::config::Config;
use crate::registry::{ImageRef, Registries, RegistryApi};
use crate::scan::export::{self, ExportFormat};
use crate::scan::report::Severity;
use crate::scan::trivy::TrivyScanner;
use crate::scan::{
    Availability, RegistryCredentials, ScanConfig, ScanOutcome, ScanTarget, Scanner,
};

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The image reference to scan (e.g. registry.lan/app:2), or with --archive the path of
    /// an image archive (`docker save`) or OCI layout folder.
    #[arg(value_name = "IMAGE")]
    pub image: String,

    /// How to print the report.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,

    /// Write the report to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// IMAGE is an image archive or OCI layout folder, not a reference.
    #[arg(long)]
    pub archive: bool,

    /// Reach the registry over plain HTTP or unverified TLS (a local registry).
    #[arg(long)]
    pub insecure: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// A readable summary and one line per finding.
    Table,
    /// Trivy's own JSON report, unchanged.
    Json,
    Csv,
    Html,
}

pub async fn run(args: ScanArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let scanner = TrivyScanner::new(ScanConfig::from_config(config)?);
    if let Availability::Unavailable { reason } = scanner.availability() {
        bail!("scanning is unavailable: {reason}");
    }
    let mut target = if args.archive {
        ScanTarget::archive(&args.image)
    } else {
        ScanTarget::image(&args.image)
    };
    if args.insecure {
        target = target.insecure_registry();
    }
    // A private image not in the local engine is read from its registry: with Berth's login
    // to it, when the env file has one.
    if !args.archive
        && let Ok(reference) = ImageRef::parse(&args.image)
    {
        let registries = Registries::from_config(config).context("configuring the registries")?;
        let login = registries
            .pull_login(&reference)
            .await
            .with_context(|| format!("logging in to {}", reference.registry))?;
        if let Some((username, password)) =
            login.and_then(|login| login.credentials.user_and_password())
        {
            target = target.with_credentials(RegistryCredentials::Basic { username, password });
        }
    }
    let outcome = scanner
        .scan(&target)
        .await
        .with_context(|| format!("scanning {}", args.image))?;
    let bytes = match args.format {
        OutputFormat::Table => table(&outcome).into_bytes(),
        OutputFormat::Json => export::export(&outcome, ExportFormat::Json)?,
        OutputFormat::Csv => export::export(&outcome, ExportFormat::Csv)?,
        OutputFormat::Html => export::export(&outcome, ExportFormat::Html)?,
    };
    match &args.output {
        Some(path) => {
            std::fs::write(path, &bytes).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("{}", summary_line(&outcome));
            eprintln!("report written to {}", path.display());
        }
        None => {
            use std::io::Write;
            std::io::stdout()
                .write_all(&bytes)
                .context("writing the report to standard output")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn summary_line(outcome: &ScanOutcome) -> String {
    let counts = &outcome.report.summary.counts;
    let by_severity: Vec<String> = Severity::DESCENDING
        .iter()
        .map(|severity| format!("{severity} {}", counts.get(*severity)))
        .collect();
    format!(
        "{}: {} finding(s) ({}), risk score {}",
        outcome.target,
        counts.total(),
        by_severity.join(", "),
        outcome.report.summary.risk_score
    )
}

fn table(outcome: &ScanOutcome) -> String {
    let header = ["SEVERITY", "ID", "PACKAGE", "INSTALLED", "FIXED", "TITLE"];
    let rows: Vec<[String; 6]> = outcome
        .report
        .findings
        .iter()
        .map(|finding| {
            [
                finding.severity.to_string(),
                finding.id.clone(),
                match finding.package.as_str() {
                    "" => finding.target.clone(),
                    package => package.to_owned(),
                },
                finding.installed_version.clone().unwrap_or_default(),
                finding.fixed_version.clone().unwrap_or_else(|| "-".into()),
                finding.title.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[&str]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        padded.join("  ").trim_end().to_owned() + "\n"
    };
    let mut text = summary_line(outcome) + "\n";
    if rows.is_empty() {
        return text;
    }
    text.push('\n');
    text.push_str(&line(&header));
    for row in &rows {
        text.push_str(&line(&row.each_ref().map(String::as_str)));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_summarises_and_aligns_one_line_per_finding() {
        let json = r#"{"SchemaVersion": 2, "Results": [{"Target": "x", "Vulnerabilities": [
            {"VulnerabilityID": "CVE-2019-18276", "PkgName": "bash", "InstalledVersion": "5.0-4",
             "Severity": "LOW", "Title": "bash: saved UID"},
            {"VulnerabilityID": "CVE-1", "PkgName": "libidn2-0", "InstalledVersion": "2.0.5-1",
             "FixedVersion": "2.0.5-1+deb10u1", "Severity": "CRITICAL"}]}]}"#;
        let outcome = ScanOutcome::from_trivy_output(
            "app:1".into(),
            chrono::Utc::now(),
            std::time::Duration::ZERO,
            json.into(),
        )
        .unwrap();
        let text = table(&outcome);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "app:1: 2 finding(s) (CRITICAL 1, HIGH 0, MEDIUM 0, LOW 1, UNKNOWN 0), risk score 11"
        );
        assert_eq!(
            lines[2],
            "SEVERITY  ID              PACKAGE    INSTALLED  FIXED            TITLE"
        );
        assert_eq!(
            lines[3],
            "CRITICAL  CVE-1           libidn2-0  2.0.5-1    2.0.5-1+deb10u1"
        );
        assert_eq!(
            lines[4],
            "LOW       CVE-2019-18276  bash       5.0-4      -                bash: saved UID"
        );
    }
}
