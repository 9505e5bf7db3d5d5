//! Integration tests: scanning. Parsing, summaries and exports on Trivy's own golden reports;
//! the gate through the scanner trait; and the real `trivy` binary run from Berth.

mod binary;
mod gate;
mod reports;

use std::path::PathBuf;

/// One of Trivy's golden reports (see scan/golden/README.md), as the bytes Trivy wrote.
pub fn golden(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/scan/golden")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("reading {}: {error}", path.display()))
}
