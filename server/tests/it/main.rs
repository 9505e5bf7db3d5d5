//! Berth's integration tests: one binary (the server crate is linked once), one module per
//! area. Tests that need a real component call `testkit::require`, which fails under CI=true.

mod api;
mod compose_file;
mod crash;
mod deploy;
mod doctor;
mod floating;
mod metrics;
mod notify;
mod one_writer;
mod private_registry;
mod ranking;
mod registry;
mod rollback;
mod rollout;
mod scan;
mod scan_gate;
mod webhook;
