//! Berth: a GitOps deployment agent for Docker Compose hosts.
//!
//! The engine and its adapters, one module per domain noun (see DESIGN.md). The `berth`
//! binary in `main.rs` is a thin clap layer over this library.

pub mod api;
pub mod auth;
pub mod backend;
pub mod cli;
pub mod clock;
pub mod config;
pub mod containers;
pub mod deploy;
pub mod discovery;
pub mod doctor;
pub mod engine;
pub mod events;
pub mod heap;
pub mod metrics;
pub mod notify;
pub mod ranking;
pub mod registry;
pub mod scan;
pub mod store;
pub mod web;
pub mod webhooks;
