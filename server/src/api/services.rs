//! Berth's own resources: services, their revisions, and the actions people take on one
//! service (deploy, roll back, pin and unpin, ignore and un-ignore a tag).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, ApiPath};
use super::model::{RevisionEntry, RevisionVerdict, Service, ServiceDetail};
use super::problem::{ApiError, check_tag};
use super::token::Caller;
use crate::deploy::rollout::DeployOutcome;
use crate::store::ServiceRecord;
use crate::web::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_services))
        .routes(routes!(get_service))
        .routes(routes!(list_revisions))
        .routes(routes!(deploy))
        .routes(routes!(rollback))
        .routes(routes!(pin, unpin))
        .routes(routes!(ignore))
        .routes(routes!(unignore))
}

/// The service with this id, or a 404 naming it.
pub async fn record(state: &AppState, service_id: i64) -> Result<ServiceRecord, ApiError> {
    state
        .store
        .service(service_id)
        .await?
        .ok_or_else(|| ApiError::UnknownService(format!("service_id {service_id}")))
}

/// Every service Berth knows, ordered by project then name.
#[utoipa::path(get, path = "/services", tag = "services",
    responses((status = 200, description = "The services", body = Vec<Service>)))]
async fn list_services(
    _caller: Caller,
    State(state): State<AppState>,
) -> Result<Json<Vec<Service>>, ApiError> {
    let records = state.store.service_records().await?;
    Ok(Json(records.into_iter().map(Service::from).collect()))
}

/// One service, with its ignored tags.
#[utoipa::path(get, path = "/services/{service_id}", tag = "services",
    params(("service_id" = i64, Path, description = "The service's id")),
    responses((status = 200, description = "The service", body = ServiceDetail)))]
async fn get_service(
    _caller: Caller,
    State(state): State<AppState>,
    ApiPath(service_id): ApiPath<i64>,
) -> Result<Json<ServiceDetail>, ApiError> {
    let record = record(&state, service_id).await?;
    let ignored_tags = state.store.ignored_tags(service_id).await?;
    Ok(Json(ServiceDetail {
        service: record.into(),
        ignored_tags,
    }))
}

/// A service's deploys and rollbacks, newest first.
#[utoipa::path(get, path = "/services/{service_id}/revisions", tag = "services",
    params(("service_id" = i64, Path, description = "The service's id")),
    responses((status = 200, description = "Revisions, newest first", body = Vec<RevisionEntry>)))]
async fn list_revisions(
    _caller: Caller,
    State(state): State<AppState>,
    ApiPath(service_id): ApiPath<i64>,
) -> Result<Json<Vec<RevisionEntry>>, ApiError> {
    record(&state, service_id).await?;
    let revisions = state.store.revisions(service_id).await?;
    Ok(Json(
        revisions.into_iter().map(RevisionEntry::from).collect(),
    ))
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeployRequest {
    /// The tag to deploy; without it, the best candidate of a fresh check.
    #[serde(default)]
    #[schema(pattern = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    pub tag: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackRequest {
    /// The tag to roll back to; without it, the newest verified revision older than the
    /// running one.
    #[serde(default)]
    #[schema(pattern = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    pub to: Option<String>,
}

/// How a deploy or rollback ended. The call returns once the new version verified, failed,
/// or was rolled back, so a CI job can wait on it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeployResult {
    pub service_id: i64,
    pub revision_id: i64,
    pub tag: String,
    pub verdict: RevisionVerdict,
    /// Why it failed, if it did.
    pub reason: Option<String>,
}

async fn result(
    state: &AppState,
    service_id: i64,
    outcome: DeployOutcome,
) -> Result<DeployResult, ApiError> {
    let (revision_id, verdict, reason) = match outcome {
        DeployOutcome::Verified { revision_id, .. } => {
            (revision_id, RevisionVerdict::Verified, None)
        }
        DeployOutcome::Failed {
            revision_id,
            reason,
        } => (revision_id, RevisionVerdict::Failed, Some(reason)),
        DeployOutcome::RolledBack {
            revision_id,
            reason,
        } => (revision_id, RevisionVerdict::RolledBack, Some(reason)),
    };
    let tag = state
        .store
        .revisions(service_id)
        .await?
        .into_iter()
        .find(|revision| revision.id == revision_id)
        .map(|revision| revision.tag)
        .unwrap_or_default();
    Ok(DeployResult {
        service_id,
        revision_id,
        tag,
        verdict,
        reason,
    })
}

/// Deploy a tag (or the best candidate) now, and wait until it verified or failed.
#[utoipa::path(post, path = "/services/{service_id}/deploy", tag = "services",
    params(("service_id" = i64, Path, description = "The service's id")),
    request_body = DeployRequest,
    responses(
        (status = 200, description = "The deploy ran; `verdict` says how it ended", body = DeployResult),
        (status = 409, description = "Nothing newer to deploy, a deploy is running, or the service cannot be managed", body = super::problem::Problem, content_type = "application/problem+json"),
        (status = 502, description = "The registry failed", body = super::problem::Problem, content_type = "application/problem+json")))]
async fn deploy(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(service_id): ApiPath<i64>,
    ApiJson(body): ApiJson<DeployRequest>,
) -> Result<Json<DeployResult>, ApiError> {
    if let Some(tag) = &body.tag {
        check_tag("tag", tag)?;
    }
    let record = record(&state, service_id).await?;
    let outcome = state
        .engine
        .deploy_service(&record.selector(), body.tag.as_deref(), &caller.actor())
        .await?;
    Ok(Json(result(&state, service_id, outcome).await?))
}

/// Roll back to a tag: deploy it with `--force-recreate`, and on success ignore every tag
/// that ranked above it, so the service stays there until a newer tag appears.
#[utoipa::path(post, path = "/services/{service_id}/rollback", tag = "services",
    params(("service_id" = i64, Path, description = "The service's id")),
    request_body = RollbackRequest,
    responses(
        (status = 200, description = "The rollback ran; `verdict` says how it ended", body = DeployResult),
        (status = 409, description = "Nothing to roll back to, a deploy is running, or the service cannot be managed", body = super::problem::Problem, content_type = "application/problem+json"),
        (status = 502, description = "The registry failed", body = super::problem::Problem, content_type = "application/problem+json")))]
async fn rollback(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(service_id): ApiPath<i64>,
    ApiJson(body): ApiJson<RollbackRequest>,
) -> Result<Json<DeployResult>, ApiError> {
    if let Some(tag) = &body.to {
        check_tag("to", tag)?;
    }
    let record = record(&state, service_id).await?;
    let outcome = state
        .engine
        .rollback(&record.selector(), body.to.as_deref(), &caller.actor())
        .await?;
    Ok(Json(result(&state, service_id, outcome).await?))
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PinRequest {
    /// The tag to pin; without it, the running tag.
    #[serde(default)]
    #[schema(pattern = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    pub tag: Option<String>,
}

/// A service's pin after a pin or unpin.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PinState {
    pub service_id: i64,
    /// The pinned tag; `null` once unpinned.
    pub pinned_tag: Option<String>,
}

/// Pin a service to a tag: checks report it, but Berth deploys nothing else.
#[utoipa::path(post, path = "/services/{service_id}/pin", tag = "services",
    params(("service_id" = i64, Path, description = "The service's id")),
    request_body = PinRequest,
    responses((status = 200, description = "Pinned", body = PinState)))]
async fn pin(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(service_id): ApiPath<i64>,
    ApiJson(body): ApiJson<PinRequest>,
) -> Result<Json<PinState>, ApiError> {
    if let Some(tag) = &body.tag {
        check_tag("tag", tag)?;
    }
    let record = record(&state, service_id).await?;
    let tag = state
        .engine
        .pin(&record.selector(), body.tag.as_deref(), &caller.actor())
        .await?;
    Ok(Json(PinState {
        service_id,
        pinned_tag: Some(tag),
    }))
}

/// Remove a service's pin.
#[utoipa::path(delete, path = "/services/{service_id}/pin", tag = "services",
    params(("service_id" = i64, Path, description = "The service's id")),
    responses((status = 200, description = "Unpinned", body = PinState)))]
async fn unpin(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(service_id): ApiPath<i64>,
) -> Result<Json<PinState>, ApiError> {
    let record = record(&state, service_id).await?;
    state
        .engine
        .unpin(&record.selector(), &caller.actor())
        .await?;
    Ok(Json(PinState {
        service_id,
        pinned_tag: None,
    }))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IgnoreRequest {
    /// The tag the ranking should skip for this service.
    #[schema(pattern = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    pub tag: String,
}

/// A tag a service ignores.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IgnoredTag {
    pub service_id: i64,
    pub tag: String,
}

/// Ignore a tag: the ranking skips it for this service.
#[utoipa::path(post, path = "/services/{service_id}/ignored", tag = "services",
    params(("service_id" = i64, Path, description = "The service's id")),
    request_body = IgnoreRequest,
    responses((status = 201, description = "Ignored", body = IgnoredTag)))]
async fn ignore(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(service_id): ApiPath<i64>,
    ApiJson(body): ApiJson<IgnoreRequest>,
) -> Result<(StatusCode, Json<IgnoredTag>), ApiError> {
    check_tag("tag", &body.tag)?;
    let record = record(&state, service_id).await?;
    state
        .engine
        .ignore(&record.selector(), &body.tag, &caller.actor())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(IgnoredTag {
            service_id,
            tag: body.tag,
        }),
    ))
}

/// Stop ignoring a tag.
#[utoipa::path(delete, path = "/services/{service_id}/ignored/{tag}", tag = "services",
    params(
        ("service_id" = i64, Path, description = "The service's id"),
        ("tag" = String, Path, description = "An ignored tag")),
    responses((status = 204, description = "No longer ignored")))]
async fn unignore(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath((service_id, tag)): ApiPath<(i64, String)>,
) -> Result<StatusCode, ApiError> {
    let record = record(&state, service_id).await?;
    let was_ignored = state
        .engine
        .unignore(&record.selector(), &tag, &caller.actor())
        .await?;
    if was_ignored {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::UnknownIgnoredTag { service_id, tag })
    }
}
