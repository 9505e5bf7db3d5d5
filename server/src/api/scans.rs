//! `POST /updates/scan` and `GET /updates/scan/{scan_id}`: a scan is a dry-run check cycle
//! (it asks the registries and ranks, and changes nothing) run in the background; its status
//! and results are kept in memory, the last [`KEPT`] of them.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::ApiPath;
use super::problem::ApiError;
use super::token::Caller;
use crate::clock::{Clock, SystemClock};
use crate::engine::{Action, CycleReport, error_chain};
use crate::web::AppState;

/// How many scans are remembered; older ones answer 404.
const KEPT: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScanStatus {
    Running,
    Finished,
    Failed,
}

/// What a scan found for one service.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ScanResult {
    pub project: String,
    pub service: String,
    pub image: Option<String>,
    pub current_tag: Option<String>,
    /// The tag the ranking picked.
    pub best_candidate: Option<String>,
    /// What a real check would do: `up_to_date`, `deploy`, `notify`, `pinned`, `excluded`,
    /// `unmanageable` or `error`.
    pub action: String,
    /// The tag the action is about, if any.
    pub tag: Option<String>,
    /// Why, for `unmanageable` and `error`.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Scan {
    pub scan_id: String,
    pub status: ScanStatus,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Why the scan failed, if it did.
    pub error: Option<String>,
    /// One entry per discovered service, once finished.
    pub results: Vec<ScanResult>,
}

/// The scans this server started.
#[derive(Debug, Clone, Default)]
pub struct ScanBook {
    scans: Arc<Mutex<VecDeque<Scan>>>,
}

impl ScanBook {
    fn start(&self, now: DateTime<Utc>) -> Scan {
        let mut bytes = [0u8; 8];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let scan = Scan {
            scan_id: hex::encode(bytes),
            status: ScanStatus::Running,
            started_at: now,
            finished_at: None,
            error: None,
            results: Vec::new(),
        };
        let mut scans = self.lock();
        if scans.len() == KEPT {
            scans.pop_front();
        }
        scans.push_back(scan.clone());
        scan
    }

    fn finish(&self, scan_id: &str, outcome: Result<CycleReport, String>, now: DateTime<Utc>) {
        let mut scans = self.lock();
        let Some(scan) = scans.iter_mut().find(|s| s.scan_id == scan_id) else {
            return;
        };
        scan.finished_at = Some(now);
        match outcome {
            Ok(report) => {
                scan.status = ScanStatus::Finished;
                scan.results = report.services.into_iter().map(scan_result).collect();
            }
            Err(reason) => {
                scan.status = ScanStatus::Failed;
                scan.error = Some(reason);
            }
        }
    }

    fn get(&self, scan_id: &str) -> Option<Scan> {
        self.lock().iter().find(|s| s.scan_id == scan_id).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Scan>> {
        // A panic while holding the lock leaves the list consistent: every write is one step.
        self.scans
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn scan_result(report: crate::engine::ServiceReport) -> ScanResult {
    let (action, tag, reason) = match report.action {
        Action::UpToDate => ("up_to_date", None, None),
        Action::Deploy { tag } => ("deploy", Some(tag), None),
        Action::Notify { tag } => ("notify", Some(tag), None),
        Action::NewDigest { tag, digest } => (
            "new_digest",
            Some(tag),
            Some(format!("the tag now names {digest}")),
        ),
        Action::Pinned { tag } => ("pinned", Some(tag), None),
        Action::Excluded => ("excluded", None, None),
        Action::Unmanageable { reason } => ("unmanageable", None, Some(reason)),
        Action::Error { reason } => ("error", None, Some(reason)),
        // A dry run never deploys; these keep their names should that change.
        Action::Deployed { tag } => ("deployed", Some(tag), None),
        Action::DeployFailed { tag, reason } => ("deploy_failed", Some(tag), Some(reason)),
        Action::RolledBack { tag, reason } => ("rolled_back", Some(tag), Some(reason)),
        Action::RetryLater {
            tag,
            reason,
            retry_at,
        } => (
            "retry_later",
            Some(tag),
            Some(format!("{reason}; tried again after {retry_at}")),
        ),
    };
    ScanResult {
        project: report.project,
        service: report.service,
        image: report.image,
        current_tag: report.current_tag,
        best_candidate: report.best_candidate,
        action: action.to_owned(),
        tag,
        reason,
    }
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_scan))
        .routes(routes!(get_scan))
}

/// Start a scan: a check of every service against its registry that changes nothing.
/// Poll `GET /updates/scan/{scan_id}` for its results.
#[utoipa::path(post, path = "/updates/scan", tag = "updates",
    responses((status = 202, description = "The scan started", body = Scan)))]
async fn start_scan(_caller: Caller, State(state): State<AppState>) -> (StatusCode, Json<Scan>) {
    let book = state.api.scans.clone();
    let scan = book.start(SystemClock.now());
    let scan_id = scan.scan_id.clone();
    let engine = state.engine.clone();
    tokio::spawn(async move {
        let outcome = engine
            .check_all(true)
            .await
            .map_err(|error| error_chain(&error));
        book.finish(&scan_id, outcome, SystemClock.now());
    });
    (StatusCode::ACCEPTED, Json(scan))
}

/// A scan's status and, once finished, its results.
#[utoipa::path(get, path = "/updates/scan/{scan_id}", tag = "updates",
    params(("scan_id" = String, Path, description = "The id `POST /updates/scan` answered")),
    responses((status = 200, description = "The scan", body = Scan)))]
async fn get_scan(
    _caller: Caller,
    State(state): State<AppState>,
    ApiPath(scan_id): ApiPath<String>,
) -> Result<Json<Scan>, ApiError> {
    state
        .api
        .scans
        .get(&scan_id)
        .map(Json)
        .ok_or(ApiError::UnknownScan(scan_id))
}
