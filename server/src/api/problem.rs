//! Errors as RFC 9457 `application/problem+json`: one [`ApiError`] variant per kind of
//! failure, each with a stable `type` URI that clients can switch on, and a `detail` that
//! names the input that was wrong.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::engine::{ActionError, EngineError, error_chain};
use crate::store::StoreError;

/// Where every problem `type` URI starts; the rest is the kind, e.g. `unknown-service`.
pub const PROBLEM_BASE: &str = "https://berth.dev/problems/";
pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(
        "this endpoint needs `Authorization: Bearer <token>`; create a token with \
         `berth token create NAME --scope read`"
    )]
    MissingToken,
    #[error("the Authorization header is not `Bearer <token>`")]
    MalformedToken,
    #[error("the bearer token is unknown or revoked")]
    RejectToken,
    #[error("token {name:?} has the read scope; {method} needs a token with the write scope")]
    ReadOnlyToken { name: String, method: String },
    #[error("no service is {0}")]
    UnknownService(String),
    #[error("{name:?} names several services ({}); use the service id", candidates.join(", "))]
    AmbiguousService {
        name: String,
        candidates: Vec<String>,
    },
    #[error("image: no service runs {0:?}")]
    UnknownImage(String),
    #[error("no scan has id {0:?} (scans are kept in memory until Berth restarts)")]
    UnknownScan(String),
    #[error("service {0} is not excluded")]
    UnknownExclusion(i64),
    #[error("service {service_id} does not ignore tag {tag:?}")]
    UnknownIgnoredTag { service_id: i64, tag: String },
    #[error("no endpoint {0}; the API is described at /api/v1/openapi.json")]
    UnknownRoute(String),
    #[error("{method} is not allowed here; the API is described at /api/v1/openapi.json")]
    MethodNotAllowed { method: String },
    #[error("request body: {0}")]
    ParseBody(String),
    #[error("request body: {0}")]
    BodyContentType(String),
    #[error("path: {0}")]
    ParsePath(String),
    #[error("{field}: {value:?} is not a valid image tag ({reason})")]
    InvalidTag {
        field: &'static str,
        value: String,
        reason: &'static str,
    },
    #[error("{field}: {reason}")]
    InvalidField { field: &'static str, reason: String },
    #[error(transparent)]
    Action(ActionError),
    #[error("the store failed")]
    Store(#[from] StoreError),
    #[error("the engine failed")]
    Engine(#[from] EngineError),
}

impl From<ActionError> for ApiError {
    fn from(error: ActionError) -> Self {
        match error {
            ActionError::FindService(name) => ApiError::UnknownService(format!("{name:?}")),
            ActionError::AmbiguousService { name, candidates } => {
                ApiError::AmbiguousService { name, candidates }
            }
            other => ApiError::Action(other),
        }
    }
}

impl ApiError {
    /// The status and the problem kind (the last segment of its `type` URI).
    fn kind(&self) -> (StatusCode, &'static str, &'static str) {
        use ApiError as E;
        match self {
            E::MissingToken | E::MalformedToken | E::RejectToken => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Authentication required",
            ),
            E::ReadOnlyToken { .. } => (
                StatusCode::FORBIDDEN,
                "insufficient-scope",
                "The token's scope does not allow this",
            ),
            E::UnknownService(_) => (StatusCode::NOT_FOUND, "unknown-service", "Unknown service"),
            E::AmbiguousService { .. } => (
                StatusCode::CONFLICT,
                "ambiguous-service",
                "Ambiguous service name",
            ),
            E::UnknownImage(_) => (StatusCode::NOT_FOUND, "unknown-image", "Unknown image"),
            E::UnknownScan(_) => (StatusCode::NOT_FOUND, "unknown-scan", "Unknown scan"),
            E::UnknownExclusion(_) => (
                StatusCode::NOT_FOUND,
                "unknown-exclusion",
                "Unknown exclusion",
            ),
            E::UnknownIgnoredTag { .. } => (
                StatusCode::NOT_FOUND,
                "unknown-ignored-tag",
                "Tag is not ignored",
            ),
            E::UnknownRoute(_) => (StatusCode::NOT_FOUND, "not-found", "No such endpoint"),
            E::MethodNotAllowed { .. } => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
            ),
            E::ParseBody(_) => (
                StatusCode::BAD_REQUEST,
                "invalid-body",
                "Invalid request body",
            ),
            E::BodyContentType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "The body must be JSON",
            ),
            E::ParsePath(_) => (
                StatusCode::BAD_REQUEST,
                "invalid-parameter",
                "Invalid parameter",
            ),
            E::InvalidTag { .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-tag",
                "Invalid image tag",
            ),
            E::InvalidField { .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-body",
                "Invalid request body",
            ),
            E::Action(action) => action_kind(action),
            E::Store(_) | E::Engine(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
            ),
        }
    }

    /// The input the problem is about, when there is one.
    fn field(&self) -> Option<&'static str> {
        match self {
            ApiError::InvalidTag { field, .. } | ApiError::InvalidField { field, .. } => {
                Some(field)
            }
            ApiError::UnknownImage(_) => Some("image"),
            ApiError::MissingToken | ApiError::MalformedToken | ApiError::RejectToken => {
                Some("Authorization")
            }
            _ => None,
        }
    }
}

fn action_kind(error: &ActionError) -> (StatusCode, &'static str, &'static str) {
    use crate::deploy::rollout::RolloutError;
    match error {
        ActionError::FindService(_) => {
            (StatusCode::NOT_FOUND, "unknown-service", "Unknown service")
        }
        ActionError::AmbiguousService { .. } => (
            StatusCode::CONFLICT,
            "ambiguous-service",
            "Ambiguous service name",
        ),
        ActionError::Discover(_) => (
            StatusCode::CONFLICT,
            "service-not-discovered",
            "The service's compose project cannot be found",
        ),
        ActionError::Unmanageable { .. } => (
            StatusCode::CONFLICT,
            "unmanageable-service",
            "Berth cannot manage this service",
        ),
        ActionError::NoRollbackTarget { .. } => (
            StatusCode::CONFLICT,
            "no-rollback-target",
            "Nothing to roll back to",
        ),
        ActionError::NothingToDeploy { .. } => (
            StatusCode::CONFLICT,
            "nothing-to-deploy",
            "No newer tag to deploy",
        ),
        ActionError::Registry { .. } => (
            StatusCode::BAD_GATEWAY,
            "registry-error",
            "The registry failed",
        ),
        ActionError::Deploy(RolloutError::Busy { .. }) => (
            StatusCode::CONFLICT,
            "deploy-in-progress",
            "A deploy of this service is running",
        ),
        ActionError::Deploy(RolloutError::Store(_)) | ActionError::Engine(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
        ),
    }
}

/// The `application/problem+json` body.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct Problem {
    /// A stable URI per kind of problem, e.g. `https://berth.dev/problems/unknown-service`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// What was wrong, naming the input.
    pub detail: String,
    /// The request field or header the problem is about, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, kind, title) = self.kind();
        if status.is_server_error() {
            tracing::warn!(error = %error_chain(&self), "API request failed");
        }
        let problem = Problem {
            kind: format!("{PROBLEM_BASE}{kind}"),
            title: title.to_owned(),
            status: status.as_u16(),
            // The chain of causes: engine and store messages never hold a secret.
            detail: error_chain(&self),
            field: self.field().map(str::to_owned),
        };
        let mut response = (status, Json(problem)).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"berth\""),
            );
        }
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => ApiError::BodyContentType(
                "send the body as JSON with `Content-Type: application/json`".to_owned(),
            ),
            JsonRejection::JsonDataError(error) => ApiError::InvalidField {
                field: "body",
                reason: inner_text(&error.body_text()),
            },
            other => ApiError::ParseBody(inner_text(&other.body_text())),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::ParsePath(inner_text(&rejection.body_text()))
    }
}

/// axum's rejection texts start with a generic sentence; the part after it names the field.
fn inner_text(text: &str) -> String {
    text.split_once(": ")
        .filter(|(head, _)| head.starts_with("Failed to") || head.starts_with("Invalid URL"))
        .map_or(text, |(_, rest)| rest)
        .to_owned()
}

/// Docker's tag grammar: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub fn check_tag(field: &'static str, value: &str) -> Result<(), ApiError> {
    let invalid = |reason| ApiError::InvalidTag {
        field,
        value: value.to_owned(),
        reason,
    };
    let mut chars = value.chars();
    match chars.next() {
        None => return Err(invalid("it is empty")),
        Some(first) if !(first.is_ascii_alphanumeric() || first == '_') => {
            return Err(invalid("it must start with a letter, digit or _"));
        }
        Some(_) => {}
    }
    if value.len() > 128 {
        return Err(invalid("it is longer than 128 characters"));
    }
    if !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')) {
        return Err(invalid("only letters, digits, _ . and - are allowed"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_follow_the_docker_grammar() {
        for good in ["1.0.0", "latest", "_x", "v1.2-rc.1", &"a".repeat(128)] {
            assert!(check_tag("tag", good).is_ok(), "{good}");
        }
        for bad in ["", "-x", ".x", "a b", "a/b", "a:b", &"a".repeat(129)] {
            let error = check_tag("tag", bad).unwrap_err();
            assert!(error.to_string().starts_with("tag: "), "{error}");
        }
    }

    #[test]
    fn rejection_text_keeps_the_part_that_names_the_field() {
        assert_eq!(
            inner_text(
                "Failed to deserialize the JSON body into the target type: tag: invalid type"
            ),
            "tag: invalid type"
        );
        assert_eq!(inner_text("plain"), "plain");
    }
}
