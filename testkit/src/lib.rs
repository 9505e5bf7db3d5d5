//! Test support shared by Berth's integration tests and browser tests.
//!
//! Everything here starts the real thing (docs/DEVELOPING.md, "Tests"): a real
//! `docker-registry` on a free loopback port, real images pushed with `skopeo`. Fixtures
//! clean up in `Drop`, so they are torn down when a test fails too.
//!
//! Where no real server can give an answer (a 429, a hostile body, a cloud vendor's API),
//! [`fake_http::FakeServer`] answers what the test says.
//!
//! Helpers panic with a message naming what failed: a fixture that cannot be set up is a
//! failed test, never a silently skipped one.

pub mod component;
pub mod fake_http;
pub mod image;
pub mod moto;
pub mod registry;

pub use component::{Component, require};
pub use image::{Descriptor, ImageSpec, OciLayout};
pub use registry::Registry;

/// A free TCP port on 127.0.0.1 (bound, read and released; the caller binds it next).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("no free port on 127.0.0.1")
}
