//! What a person is told, built from an engine event: a title, a line of text, the facts
//! behind it, and the key that makes it "the same notification" when the event repeats.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::events::Event;

/// The kinds of notification, by their stable names (used in payloads and the store).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    UpdateAvailable,
    DeployStarted,
    DeployVerified,
    /// A deploy failed; the previous version was kept or restored.
    DeployFailed,
    /// A person (or a pin) rolled a service back.
    Rollback,
    ScanFindings,
    RegistryAuthFailed,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::UpdateAvailable => "update_available",
            Kind::DeployStarted => "deploy_started",
            Kind::DeployVerified => "deploy_verified",
            Kind::DeployFailed => "deploy_failed",
            Kind::Rollback => "rollback",
            Kind::ScanFindings => "scan_findings",
            Kind::RegistryAuthFailed => "registry_auth_failed",
        }
    }

    /// Whether it calls for someone to look (it is sent louder where a channel can).
    pub fn is_problem(self) -> bool {
        matches!(
            self,
            Kind::DeployFailed | Kind::ScanFindings | Kind::RegistryAuthFailed
        )
    }
}

/// One notification, ready for any channel to format.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notification {
    pub kind: Kind,
    pub title: String,
    pub text: String,
    /// `project/service`, or the registry host.
    pub subject: String,
    /// The version it is about: a tag or digest, a revision, an image.
    pub version: String,
    /// The event exactly as the engine published it.
    pub event: Value,
}

impl Notification {
    /// The notification for `event`, if it is one people are told about; `now` dates the
    /// ones that have no version of their own.
    pub fn from_event(event: &Event, now: DateTime<Utc>) -> Option<Notification> {
        let (kind, title, text, subject, version) = describe(event, now)?;
        Some(Notification {
            kind,
            title,
            text,
            subject,
            version,
            event: serde_json::to_value(event).unwrap_or(Value::Null),
        })
    }

    /// The dedupe subject: a service by id (a rename keeps the history), else the subject.
    pub fn dedupe_subject(&self) -> String {
        match self.event.get("service_id").and_then(Value::as_i64) {
            Some(id) => format!("service:{id}"),
            None => self.subject.clone(),
        }
    }
}

type Described = (Kind, String, String, String, String);

fn describe(event: &Event, now: DateTime<Utc>) -> Option<Described> {
    match event {
        Event::UpdateAvailable {
            project,
            service,
            current_tag,
            candidate_tag,
            candidate_digest,
            mode,
            ..
        } => {
            let subject = format!("{project}/{service}");
            let next = if mode == "auto" {
                "it will be deployed now"
            } else {
                "it waits for approval"
            };
            let body = match candidate_digest {
                Some(digest) if candidate_tag == current_tag => format!(
                    "{subject} runs {current_tag}, which now names another image ({digest}); it waits for approval."
                ),
                _ => format!(
                    "{subject} runs {current_tag}; {candidate_tag} is available and {next}."
                ),
            };
            Some((
                Kind::UpdateAvailable,
                format!("Update available for {subject}: {candidate_tag}"),
                body,
                subject,
                candidate_digest
                    .clone()
                    .unwrap_or_else(|| candidate_tag.clone()),
            ))
        }
        Event::DeployStarted {
            revision_id,
            project,
            service,
            from_tag,
            to_tag,
            kind,
            actor,
            ..
        } => {
            let subject = format!("{project}/{service}");
            let from = from_tag.as_deref().unwrap_or("its current version");
            let what = if kind == "rollback" {
                "Rolling back"
            } else {
                "Deploying"
            };
            Some((
                Kind::DeployStarted,
                format!("{what} {subject} to {to_tag}"),
                format!("{what} {subject} from {from} to {to_tag} (asked by {actor})."),
                subject,
                format!("revision:{revision_id}"),
            ))
        }
        Event::DeployFinished {
            revision_id,
            tag,
            verdict,
            reason,
            kind,
            actor,
            project,
            service,
            ..
        } => {
            let subject = format!("{project}/{service}");
            let reason = reason.as_deref().unwrap_or("no reason recorded");
            let (notification_kind, title, text) = match (kind.as_str(), verdict.as_str()) {
                ("rollback", "verified") => (
                    Kind::Rollback,
                    format!("{subject} rolled back to {tag}"),
                    format!("{subject} was rolled back to {tag} by {actor}; it runs and verified."),
                ),
                ("rollback", _) => (
                    Kind::Rollback,
                    format!("Rollback of {subject} to {tag} failed"),
                    format!("Rolling {subject} back to {tag} (asked by {actor}) failed: {reason}"),
                ),
                (_, "verified") => (
                    Kind::DeployVerified,
                    format!("{subject} deployed {tag}"),
                    format!("{subject} runs {tag}; it started and verified healthy."),
                ),
                (_, "rolled_back") => (
                    Kind::DeployFailed,
                    format!("Deploy of {tag} to {subject} failed and was rolled back"),
                    format!(
                        "{tag} failed on {subject} and the previous version was restored; \
                         {tag} is ignored from now on. Why: {reason}"
                    ),
                ),
                _ => (
                    Kind::DeployFailed,
                    format!("Deploy of {tag} to {subject} failed"),
                    format!(
                        "{tag} was not deployed to {subject}; the old version still runs. Why: {reason}"
                    ),
                ),
            };
            Some((
                notification_kind,
                title,
                text,
                subject,
                format!("revision:{revision_id}"),
            ))
        }
        Event::ScanFindings {
            project,
            service,
            image,
            critical,
            high,
            medium,
            low,
            unknown,
            new_findings,
            ..
        } if *new_findings > 0 => {
            let subject = format!("{project}/{service}");
            Some((
                Kind::ScanFindings,
                format!("{new_findings} new finding(s) in {image}"),
                format!(
                    "Trivy found {new_findings} new finding(s) in {image} ({subject}): \
                     {critical} critical, {high} high, {medium} medium, {low} low, {unknown} unknown."
                ),
                subject,
                image.clone(),
            ))
        }
        Event::RegistryAuthFailed { registry, error } => Some((
            Kind::RegistryAuthFailed,
            format!("Registry {registry} refuses Berth's credentials"),
            format!("Berth cannot sign in to {registry}: {error}"),
            registry.clone(),
            // A failing registry is told once a day, not once per repository and cycle.
            format!("day:{}", now.date_naive()),
        )),
        Event::ScanFindings { .. } | Event::CheckFinished { .. } | Event::ServiceState { .. } => {
            None
        }
    }
}
