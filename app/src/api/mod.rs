//! Server functions, one file per noun. Each calls the engine through
//! [`crate::backend::Backend`] and returns [`crate::error::AppError`] on failure.
//! They live under `/rpc` so they never collide with the REST API under `/api/v1`.

pub mod checks;
pub mod containers;
pub mod ignored_tags;
pub mod pins;
pub mod registries;
pub mod rollbacks;
pub mod services;
pub mod session;
