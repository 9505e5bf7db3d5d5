//! maintenant's update-intelligence endpoints, with the same paths and meaning, answered
//! from Berth's store: what has an update, counts, one service, what a scan would check,
//! pins, and exclusions.
//!
//! `{container_id}` names a service, not a container: a container is replaced at every
//! deploy, so its id would not survive one. It accepts the service's numeric id, its name,
//! or `project/name` (URL-encode the slash as `%2F`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, ApiPath};
use super::model::ServiceState;
use super::problem::ApiError;
use super::services::{PinState, record};
use super::token::Caller;
use crate::store::ServiceRecord;
use crate::web::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_updates))
        .routes(routes!(summary))
        .routes(routes!(container))
        .routes(routes!(dry_run))
        .routes(routes!(pin, unpin))
        .routes(routes!(list_exclusions, create_exclusion))
        .routes(routes!(delete_exclusion))
}

/// A service's update status.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Update {
    pub service_id: i64,
    pub project: String,
    pub service: String,
    /// The image repository, without the tag.
    pub image: String,
    pub current_tag: Option<String>,
    /// The best tag the last check found, when it differs from the running one.
    pub available_tag: Option<String>,
    pub update_available: bool,
    pub state: ServiceState,
    pub pinned_tag: Option<String>,
    pub excluded: bool,
    pub last_checked_at: Option<DateTime<Utc>>,
}

fn update(record: ServiceRecord) -> Update {
    let available_tag = record
        .best_candidate
        .filter(|best| Some(best) != record.current_tag.as_ref());
    Update {
        service_id: record.id,
        update_available: available_tag.is_some() && !record.excluded,
        available_tag,
        project: record.project,
        service: record.name,
        image: record.image,
        current_tag: record.current_tag,
        state: record.state.into(),
        pinned_tag: record.pinned_tag,
        excluded: record.excluded,
        last_checked_at: record.last_checked_at,
    }
}

/// The service a `{container_id}` names (see the module comment).
async fn resolve(state: &AppState, container_id: &str) -> Result<ServiceRecord, ApiError> {
    match container_id.parse::<i64>() {
        Ok(id) => record(state, id).await,
        Err(_) => Ok(state.engine.find_service(container_id).await?),
    }
}

/// Every service with an update available (as of the last check).
#[utoipa::path(get, path = "/updates", tag = "updates",
    responses((status = 200, description = "Services with an update available", body = Vec<Update>)))]
async fn list_updates(
    _caller: Caller,
    State(state): State<AppState>,
) -> Result<Json<Vec<Update>>, ApiError> {
    let records = state.store.service_records().await?;
    Ok(Json(
        records
            .into_iter()
            .map(update)
            .filter(|u| u.update_available)
            .collect(),
    ))
}

/// Counts of services by where they stand.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct UpdateSummary {
    pub total: u64,
    /// Services with a newer tag available (not excluded).
    pub updates_available: u64,
    pub synced: u64,
    pub pinned: u64,
    pub excluded: u64,
    pub failed: u64,
    pub in_progress: u64,
    pub unknown: u64,
    /// The most recent check of any service.
    pub last_checked_at: Option<DateTime<Utc>>,
}

/// Counts of services by state, and how many have an update.
#[utoipa::path(get, path = "/updates/summary", tag = "updates",
    responses((status = 200, description = "Counts", body = UpdateSummary)))]
async fn summary(
    _caller: Caller,
    State(state): State<AppState>,
) -> Result<Json<UpdateSummary>, ApiError> {
    let mut summary = UpdateSummary::default();
    for record in state.store.service_records().await? {
        summary.total += 1;
        summary.last_checked_at = summary.last_checked_at.max(record.last_checked_at);
        let counter = match ServiceState::from(record.state) {
            ServiceState::Synced | ServiceState::UpdateAvailable => &mut summary.synced,
            ServiceState::Pinned => &mut summary.pinned,
            ServiceState::Excluded => &mut summary.excluded,
            ServiceState::Failed => &mut summary.failed,
            ServiceState::Deploying | ServiceState::Verifying => &mut summary.in_progress,
            ServiceState::Unknown => &mut summary.unknown,
        };
        *counter += 1;
        if update(record).update_available {
            summary.updates_available += 1;
        }
    }
    // `synced` counts services that run what they should: those with an update do not.
    summary.synced = summary.synced.saturating_sub(summary.updates_available);
    Ok(Json(summary))
}

/// Update information for one service.
#[utoipa::path(get, path = "/updates/container/{container_id}", tag = "updates",
    params(("container_id" = String, Path,
        description = "A service id, a service name, or `project/name` (slash URL-encoded)")),
    responses(
        (status = 200, description = "The service's update status", body = Update),
        (status = 409, description = "The name matches services in several projects", body = super::problem::Problem, content_type = "application/problem+json")))]
async fn container(
    _caller: Caller,
    State(state): State<AppState>,
    ApiPath(container_id): ApiPath<String>,
) -> Result<Json<Update>, ApiError> {
    Ok(Json(update(resolve(&state, &container_id).await?)))
}

/// What a scan would do with one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScanPlan {
    /// Asked about and ranked; an update would be reported.
    Check,
    /// Asked about, but held at its pinned tag.
    Pinned,
    /// Skipped: excluded.
    Excluded,
    /// Skipped: Berth cannot manage it (the reason says why).
    Unmanageable,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DryRunEntry {
    pub service_id: i64,
    pub project: String,
    pub service: String,
    pub image: String,
    pub current_tag: Option<String>,
    pub plan: ScanPlan,
    pub reason: Option<String>,
}

/// What a scan would check: every known service and whether it would be asked about. Sends
/// nothing to any registry.
#[utoipa::path(get, path = "/updates/dry-run", tag = "updates",
    responses((status = 200, description = "The plan, service by service", body = Vec<DryRunEntry>)))]
async fn dry_run(
    _caller: Caller,
    State(state): State<AppState>,
) -> Result<Json<Vec<DryRunEntry>>, ApiError> {
    let records = state.store.service_records().await?;
    Ok(Json(
        records
            .into_iter()
            .map(|record| {
                let (plan, reason) = if let Some(reason) = record.unmanageable {
                    (ScanPlan::Unmanageable, Some(reason))
                } else if record.excluded {
                    (ScanPlan::Excluded, None)
                } else if record.pinned_tag.is_some() {
                    (ScanPlan::Pinned, None)
                } else {
                    (ScanPlan::Check, None)
                };
                DryRunEntry {
                    service_id: record.id,
                    project: record.project,
                    service: record.name,
                    image: record.image,
                    current_tag: record.current_tag,
                    plan,
                    reason,
                }
            })
            .collect(),
    ))
}

/// Pin a service to the version it runs now.
#[utoipa::path(post, path = "/updates/pin/{container_id}", tag = "updates",
    params(("container_id" = String, Path,
        description = "A service id, a service name, or `project/name` (slash URL-encoded)")),
    responses(
        (status = 200, description = "Pinned to the running tag", body = PinState),
        (status = 409, description = "The name matches services in several projects", body = super::problem::Problem, content_type = "application/problem+json")))]
async fn pin(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(container_id): ApiPath<String>,
) -> Result<Json<PinState>, ApiError> {
    let record = resolve(&state, &container_id).await?;
    let selector = record.selector();
    let tag = state.engine.pin(&selector, None, &caller.actor()).await?;
    Ok(Json(PinState {
        service_id: record.id,
        pinned_tag: Some(tag),
    }))
}

/// Unpin a service.
#[utoipa::path(delete, path = "/updates/pin/{container_id}", tag = "updates",
    params(("container_id" = String, Path,
        description = "A service id, a service name, or `project/name` (slash URL-encoded)")),
    responses(
        (status = 200, description = "Unpinned", body = PinState),
        (status = 409, description = "The name matches services in several projects", body = super::problem::Problem, content_type = "application/problem+json")))]
async fn unpin(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(container_id): ApiPath<String>,
) -> Result<Json<PinState>, ApiError> {
    let record = resolve(&state, &container_id).await?;
    let selector = record.selector();
    state.engine.unpin(&selector, &caller.actor()).await?;
    Ok(Json(PinState {
        service_id: record.id,
        pinned_tag: None,
    }))
}

/// An excluded service. Its `id` is the service's id.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Exclusion {
    pub id: i64,
    pub image: String,
    pub project: String,
    pub service: String,
}

fn exclusion(record: ServiceRecord) -> Exclusion {
    Exclusion {
        id: record.id,
        image: record.image,
        project: record.project,
        service: record.name,
    }
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExclusionRequest {
    /// An image repository (a tag or digest is ignored), e.g.
    /// `myregistry.example.com/internal-app`.
    #[schema(min_length = 1)]
    pub image: String,
}

/// The repository part of an image reference: without `@digest`, and without a `:tag` after
/// the last slash (a colon before it is a registry port).
fn repository(image: &str) -> &str {
    let image = image.split_once('@').map_or(image, |(name, _)| name);
    let last_slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[last_slash..].find(':') {
        Some(colon) => &image[..last_slash + colon],
        None => image,
    }
}

/// Excluded services.
#[utoipa::path(get, path = "/updates/exclusions", tag = "updates",
    responses((status = 200, description = "Excluded services", body = Vec<Exclusion>)))]
async fn list_exclusions(
    _caller: Caller,
    State(state): State<AppState>,
) -> Result<Json<Vec<Exclusion>>, ApiError> {
    let records = state.store.service_records().await?;
    Ok(Json(
        records
            .into_iter()
            .filter(|r| r.excluded)
            .map(exclusion)
            .collect(),
    ))
}

/// Exclude every service that runs `image` from checks and deploys. Answers the exclusions
/// made, one per service.
#[utoipa::path(post, path = "/updates/exclusions", tag = "updates",
    request_body = ExclusionRequest,
    responses(
        (status = 201, description = "The services now excluded", body = Vec<Exclusion>),
        (status = 404, description = "No service runs this image", body = super::problem::Problem, content_type = "application/problem+json")))]
async fn create_exclusion(
    caller: Caller,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ExclusionRequest>,
) -> Result<(StatusCode, Json<Vec<Exclusion>>), ApiError> {
    if body.image.is_empty() {
        return Err(ApiError::InvalidField {
            field: "image",
            reason: "an image repository is required".to_owned(),
        });
    }
    let wanted = repository(&body.image);
    let matching: Vec<ServiceRecord> = state
        .store
        .service_records()
        .await?
        .into_iter()
        .filter(|r| r.image == wanted)
        .collect();
    if matching.is_empty() {
        return Err(ApiError::UnknownImage(body.image));
    }
    for record in &matching {
        let selector = record.selector();
        state
            .engine
            .set_excluded(&selector, true, &caller.actor())
            .await?;
    }
    Ok((
        StatusCode::CREATED,
        Json(matching.into_iter().map(exclusion).collect()),
    ))
}

/// Include an excluded service again.
#[utoipa::path(delete, path = "/updates/exclusions/{id}", tag = "updates",
    params(("id" = i64, Path, description = "The exclusion's id (the service's id)")),
    responses((status = 204, description = "No longer excluded")))]
async fn delete_exclusion(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    let record = state
        .store
        .service(id)
        .await?
        .filter(|r| r.excluded)
        .ok_or(ApiError::UnknownExclusion(id))?;
    let selector = record.selector();
    state
        .engine
        .set_excluded(&selector, false, &caller.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::repository;

    #[test]
    fn an_exclusion_matches_the_repository_without_tag_or_digest() {
        assert_eq!(repository("reg:5000/team/app:1.0"), "reg:5000/team/app");
        assert_eq!(repository("reg:5000/team/app"), "reg:5000/team/app");
        assert_eq!(repository("app@sha256:abc"), "app");
        assert_eq!(repository("app:latest@sha256:abc"), "app");
    }
}
