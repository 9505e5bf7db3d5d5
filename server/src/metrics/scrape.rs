//! One `/metrics` page: the event-fed counters, plus what is read at scrape time from the
//! store (services by state, the latest scan of each service) and from the registry client
//! (requests, quota, rate limits, auth).

use std::collections::BTreeMap;

use app::model::SyncState;

use crate::registry::{Quota, RegistryStatus};
use crate::scan::Severity;
use crate::scan::report::SeverityCounts;
use crate::store::{ServiceRecord, Store};

use super::MetricsError;
use super::counters::{RevisionKind, Snapshot};
use super::exposition::{Exposition, Kind};

/// Everything one page shows, gathered before any of it is written.
pub struct Sources<'a> {
    pub counters: Snapshot,
    pub services: &'a [ServiceRecord],
    /// The latest scan's counts of each service that has one.
    pub scans: &'a [(&'a ServiceRecord, SeverityCounts)],
    pub registries: &'a [RegistryStatus],
}

/// Read the store's part of a page and write the whole page.
pub async fn render(
    counters: Snapshot,
    store: &Store,
    registries: &[RegistryStatus],
) -> Result<String, MetricsError> {
    let services = store
        .service_records()
        .await
        .map_err(MetricsError::ReadServices)?;
    let mut scans = Vec::new();
    for service in &services {
        if let Some(counts) = latest_scan(store, service).await? {
            scans.push((service, counts));
        }
    }
    Ok(write(&Sources {
        counters,
        services: &services,
        scans: &scans,
        registries,
    }))
}

/// The severity counts of the newest scan of the revision the service runs (its last
/// verified one), if that revision was scanned.
async fn latest_scan(
    store: &Store,
    service: &ServiceRecord,
) -> Result<Option<SeverityCounts>, MetricsError> {
    let read_error = |source| MetricsError::ReadScans {
        service_id: service.id,
        source,
    };
    // Revision ids start at 1, so excluding id 0 excludes none.
    let Some(revision) = store
        .last_verified_revision(service.id, 0)
        .await
        .map_err(read_error)?
    else {
        return Ok(None);
    };
    let scans = store
        .revision_scans(revision.id)
        .await
        .map_err(read_error)?;
    let Some(newest) = scans.first() else {
        return Ok(None);
    };
    match serde_json::from_str::<SeverityCounts>(&newest.summary) {
        Ok(counts) => Ok(Some(counts)),
        Err(error) => {
            // One unreadable row must not take the whole page down.
            tracing::warn!(scan_id = newest.id, %error, "metrics skip a scan whose summary is unreadable");
            Ok(None)
        }
    }
}

pub fn write(sources: &Sources<'_>) -> String {
    let mut page = Exposition::default();
    build_info(&mut page);
    services(&mut page, sources.services);
    checks(&mut page, &sources.counters);
    revisions(&mut page, &sources.counters);
    registries(&mut page, sources.registries);
    auth_failures(&mut page, &sources.counters);
    scans(&mut page, sources.scans);
    page.family(
        "berth_metrics_events_missed_total",
        Kind::Counter,
        "Engine events the metrics subscriber fell too far behind to read (the counters above are low by these).",
    );
    page.count(
        "berth_metrics_events_missed_total",
        &[],
        sources.counters.events_missed,
    );
    page.finish()
}

fn build_info(page: &mut Exposition) {
    page.family(
        "berth_build_info",
        Kind::Gauge,
        "Always 1; the labels say which Berth is running.",
    );
    page.count(
        "berth_build_info",
        &[("version", env!("CARGO_PKG_VERSION"))],
        1,
    );
}

fn services(page: &mut Exposition, services: &[ServiceRecord]) {
    page.family(
        "berth_services",
        Kind::Gauge,
        "Services Berth knows, by state (synced, update_available, deploying, verifying, failed, pinned, excluded, unknown).",
    );
    for state in SyncState::ALL {
        let count = services.iter().filter(|s| s.state == state).count();
        page.count("berth_services", &[("state", state.as_str())], count as u64);
    }
}

fn checks(page: &mut Exposition, counters: &Snapshot) {
    page.family(
        "berth_checks_total",
        Kind::Counter,
        "Check cycles finished since Berth started.",
    );
    page.count("berth_checks_total", &[], counters.checks);
    page.family(
        "berth_check_duration_seconds",
        Kind::Histogram,
        "How long a check cycle took, deploys included.",
    );
    page.histogram(
        "berth_check_duration_seconds",
        &[],
        &counters.check_duration,
    );
    if let Some(at) = counters.last_check_at {
        page.family(
            "berth_last_check_timestamp_seconds",
            Kind::Gauge,
            "When the latest check cycle started, in Unix seconds.",
        );
        page.value(
            "berth_last_check_timestamp_seconds",
            &[],
            at.timestamp_millis() as f64 / 1000.0,
        );
    }
}

fn revisions(page: &mut Exposition, counters: &Snapshot) {
    for (kind, name, help) in [
        (
            RevisionKind::Deploy,
            "berth_deploys_total",
            "Deploys of a new version finished, by outcome (verified, failed, rolled_back).",
        ),
        (
            RevisionKind::Rollback,
            "berth_rollbacks_total",
            "Rollbacks to an earlier version finished, by outcome (verified, failed, rolled_back).",
        ),
    ] {
        page.family(name, Kind::Counter, help);
        for ((_, outcome), count) in counters.revisions.iter().filter(|((k, _), _)| *k == kind) {
            page.count(name, &[("outcome", outcome)], *count);
        }
    }
}

fn registries(page: &mut Exposition, registries: &[RegistryStatus]) {
    page.family(
        "berth_registry_requests_total",
        Kind::Counter,
        "Requests Berth sent to each registry, by kind and HTTP status (0: no answer).",
    );
    for registry in registries {
        // Summed by kind and status, so a source that repeats a pair still gives one series.
        let mut requests: BTreeMap<(&str, u16), u64> = BTreeMap::new();
        for request in &registry.stats.requests {
            *requests
                .entry((request.kind.as_str(), request.status))
                .or_default() += request.count;
        }
        for ((kind, status), count) in requests {
            let status = status.to_string();
            page.count(
                "berth_registry_requests_total",
                &[
                    ("registry", &registry.registry),
                    ("kind", kind),
                    ("status", &status),
                ],
                count,
            );
        }
    }
    page.family(
        "berth_registry_received_bytes_total",
        Kind::Counter,
        "Body bytes received from each registry.",
    );
    for registry in registries {
        page.count(
            "berth_registry_received_bytes_total",
            &[("registry", &registry.registry)],
            registry.stats.bytes_received,
        );
    }
    quota(page, registries);
    page.family(
        "berth_registry_rate_limited",
        Kind::Gauge,
        "1 while a registry's 429 holds Berth back, else 0.",
    );
    for registry in registries {
        page.count(
            "berth_registry_rate_limited",
            &[("registry", &registry.registry)],
            u64::from(registry.limited_until.is_some()),
        );
    }
    page.family(
        "berth_registry_auth_ok",
        Kind::Gauge,
        "1 if the latest authentication with a registry succeeded, 0 if it failed (absent before the first).",
    );
    for registry in registries {
        if let Some(ok) = registry.stats.auth_ok {
            page.count(
                "berth_registry_auth_ok",
                &[("registry", &registry.registry)],
                u64::from(ok),
            );
        }
    }
}

fn auth_failures(page: &mut Exposition, counters: &Snapshot) {
    page.family(
        "berth_registry_auth_failures_total",
        Kind::Counter,
        "Times a registry refused Berth's credentials or they could not be obtained.",
    );
    for (registry, count) in &counters.auth_failures {
        page.count(
            "berth_registry_auth_failures_total",
            &[("registry", registry)],
            *count,
        );
    }
}

/// Only registries that reported a quota (Docker Hub's `ratelimit-*` headers) have these.
fn quota(page: &mut Exposition, registries: &[RegistryStatus]) {
    fn remaining(quota: &Quota) -> Option<u64> {
        quota.remaining
    }
    fn limit(quota: &Quota) -> Option<u64> {
        quota.limit
    }
    type Pick = fn(&Quota) -> Option<u64>;
    let families: [(&str, &str, Pick); 2] = [
        (
            "berth_registry_rate_limit_remaining",
            "Requests a registry said are left in its current window (ratelimit-remaining).",
            remaining,
        ),
        (
            "berth_registry_rate_limit_limit",
            "Requests a registry allows per window (ratelimit-limit).",
            limit,
        ),
    ];
    for (name, help, pick) in families {
        page.family(name, Kind::Gauge, help);
        for registry in registries {
            if let Some(value) = registry.quota.as_ref().and_then(pick) {
                page.count(name, &[("registry", &registry.registry)], value);
            }
        }
    }
}

fn scans(page: &mut Exposition, scans: &[(&ServiceRecord, SeverityCounts)]) {
    page.family(
        "berth_scan_findings",
        Kind::Gauge,
        "Findings of the latest Trivy scan of the version each service runs, by severity.",
    );
    for (service, counts) in scans {
        for severity in Severity::DESCENDING {
            page.count(
                "berth_scan_findings",
                &[
                    ("project", &service.project),
                    ("service", &service.name),
                    ("severity", &severity.as_str().to_ascii_lowercase()),
                ],
                u64::from(counts.get(severity)),
            );
        }
    }
}
