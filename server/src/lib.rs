//! Berth: a GitOps deployment agent for Docker Compose hosts.
//!
//! The engine and its adapters, one module per domain noun (see docs/ARCHITECTURE.md). The `berth`
//! binary's `main.rs` only calls [`cli::main`], which parses the arguments and runs the command.

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
pub mod writer_lock;
