//! axum's extractors with their rejections turned into problem+json, so a malformed body or a
//! bad path parameter answers like every other error of the API.

use axum::extract::{FromRequest, FromRequestParts};

use super::problem::ApiError;

/// `axum::Json`, rejecting with [`ApiError`].
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// `axum::extract::Path`, rejecting with [`ApiError`].
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);
