//! Reports for download: JSON exactly as Trivy wrote it, CSV for spreadsheets, and a small
//! self-contained HTML page (no scripts, no external styles) to read or attach to a ticket.

use std::fmt::Write as _;
use std::str::FromStr;

use super::ScanOutcome;
use super::report::Severity;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("writing the CSV report")]
    WriteCsv(#[source] csv::Error),
    #[error("finishing the CSV report")]
    FinishCsv(#[source] std::io::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Json,
    Csv,
    Html,
}

impl ExportFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Json => "application/json",
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Html => "text/html; charset=utf-8",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Json => "json",
            ExportFormat::Csv => "csv",
            ExportFormat::Html => "html",
        }
    }
}

impl FromStr for ExportFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<ExportFormat, String> {
        match text.to_ascii_lowercase().as_str() {
            "json" => Ok(ExportFormat::Json),
            "csv" => Ok(ExportFormat::Csv),
            "html" => Ok(ExportFormat::Html),
            _ => Err(format!(
                "{text:?} is not a report format; expected json, csv or html"
            )),
        }
    }
}

/// The report in `format`, as bytes to send or write.
pub fn export(outcome: &ScanOutcome, format: ExportFormat) -> Result<Vec<u8>, ExportError> {
    match format {
        ExportFormat::Json => Ok(outcome.raw_json.as_bytes().to_vec()),
        ExportFormat::Csv => csv(outcome),
        ExportFormat::Html => Ok(html(outcome).into_bytes()),
    }
}

/// The CSV header, one row per finding below it.
pub const CSV_HEADER: [&str; 9] = [
    "severity",
    "id",
    "package",
    "installed_version",
    "fixed_version",
    "title",
    "link",
    "kind",
    "target",
];

pub fn csv(outcome: &ScanOutcome) -> Result<Vec<u8>, ExportError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(CSV_HEADER)
        .map_err(ExportError::WriteCsv)?;
    for finding in &outcome.report.findings {
        let kind = match finding.kind {
            super::report::FindingKind::Vulnerability => "vulnerability",
            super::report::FindingKind::Secret => "secret",
        };
        let row = [
            finding.severity.as_str(),
            &finding.id,
            &finding.package,
            finding.installed_version.as_deref().unwrap_or(""),
            finding.fixed_version.as_deref().unwrap_or(""),
            finding.title.as_deref().unwrap_or(""),
            finding.link.as_deref().unwrap_or(""),
            kind,
            &finding.target,
        ]
        .map(neutralise_formula);
        writer.write_record(&row).map_err(ExportError::WriteCsv)?;
    }
    writer
        .into_inner()
        .map_err(|error| ExportError::FinishCsv(error.into_error()))
}

/// Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` as a formula, and titles
/// come from a vulnerability database Berth does not control; a leading `'` makes such a
/// cell plain text (OWASP's advice against CSV injection).
fn neutralise_formula(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

pub fn html(outcome: &ScanOutcome) -> String {
    let report = &outcome.report;
    let counts = &report.summary.counts;
    let mut page = String::new();
    let title = format!("Trivy scan of {}", outcome.target);
    // Writing to a String cannot fail; `let _` keeps the page building linear.
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{title}</h1>\n\
         <p>Scanned {started} with Trivy {version}. Risk score <strong>{risk}</strong>.</p>\n\
         <table class=\"summary\"><tr>",
        title = escape(&title),
        started = escape(&outcome.started_at.to_rfc3339()),
        version = escape(
            report
                .trivy_version
                .as_deref()
                .unwrap_or("(unknown version)")
        ),
        risk = report.summary.risk_score,
    );
    for severity in Severity::DESCENDING {
        let _ = write!(
            page,
            "<th class=\"{class}\">{severity}</th><td>{count}</td>",
            class = severity.as_str().to_ascii_lowercase(),
            count = counts.get(severity)
        );
    }
    page.push_str("</tr></table>\n");
    if report.findings.is_empty() {
        page.push_str("<p>No findings.</p>\n");
    } else {
        page.push_str(
            "<table class=\"findings\">\n<tr><th>Severity</th><th>ID</th><th>Package</th>\
             <th>Installed</th><th>Fixed</th><th>Title</th><th>Target</th></tr>\n",
        );
        for finding in &report.findings {
            let id = match finding.link.as_deref().filter(|link| is_web_link(link)) {
                Some(link) => format!("<a href=\"{}\">{}</a>", escape(link), escape(&finding.id)),
                None => escape(&finding.id),
            };
            let _ = writeln!(
                page,
                "<tr><td class=\"{class}\">{severity}</td><td>{id}</td><td>{package}</td>\
                 <td>{installed}</td><td>{fixed}</td><td>{title}</td><td>{target}</td></tr>",
                class = finding.severity.as_str().to_ascii_lowercase(),
                severity = finding.severity,
                package = escape(&finding.package),
                installed = escape(finding.installed_version.as_deref().unwrap_or("")),
                fixed = escape(finding.fixed_version.as_deref().unwrap_or("no fix yet")),
                title = escape(finding.title.as_deref().unwrap_or("")),
                target = escape(&finding.target),
            );
        }
        page.push_str("</table>\n");
    }
    page.push_str("</body>\n</html>\n");
    page
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.3em .6em;\
text-align:left;vertical-align:top}.critical{background:#f8d7da}.high{background:#fde2c8}\
.medium{background:#fff3cd}.low{background:#e2eef9}.unknown{background:#eee}";

/// Only http(s) links become anchors: a `javascript:` link from a report must not run.
fn is_web_link(link: &str) -> bool {
    let lower = link.trim_start().to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// Escape text for an HTML element or a double-quoted attribute.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::ScanTarget;

    fn outcome(json: &str) -> ScanOutcome {
        ScanOutcome::from_trivy_output(
            ScanTarget::image("app:1").display_name(),
            chrono::Utc::now(),
            std::time::Duration::from_millis(5),
            json.to_owned(),
        )
        .unwrap()
    }

    const HOSTILE: &str = r#"{"SchemaVersion": 2, "Results": [{"Target": "t", "Vulnerabilities": [
        {"VulnerabilityID": "CVE-<1>", "PkgName": "a&b", "Severity": "HIGH",
         "Title": "=HYPERLINK(\"http://evil\") <script>alert('x')</script>",
         "PrimaryURL": "javascript:alert(1)"}]}]}"#;

    #[test]
    fn html_escapes_everything_from_the_report_and_drops_script_links() {
        let page = html(&outcome(HOSTILE));
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        assert!(page.contains("CVE-&lt;1&gt;") && page.contains("a&amp;b"));
        assert!(!page.contains("javascript:"), "{page}");
        assert!(
            !page.contains("<link") && !page.contains("src="),
            "not self-contained"
        );
    }

    #[test]
    fn csv_cells_that_would_run_as_formulas_are_made_text() {
        let bytes = csv(&outcome(HOSTILE)).unwrap();
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        let row = reader.records().next().unwrap().unwrap();
        assert!(row[5].starts_with("'=HYPERLINK"), "{:?}", &row[5]);
        assert_eq!(&row[1], "CVE-<1>");
    }

    #[test]
    fn formats_parse_by_name() {
        assert_eq!("HTML".parse(), Ok(ExportFormat::Html));
        assert!("pdf".parse::<ExportFormat>().is_err());
    }
}
