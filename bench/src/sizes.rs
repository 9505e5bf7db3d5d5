//! The dashboard's WASM and JS as a browser downloads them: raw, gzip -9 and brotli -q 11
//! (what a reverse proxy or a pre-compressing server would send).

use std::path::Path;
use std::process::{Command, Stdio};

pub struct Sizes {
    pub raw: u64,
    pub gzip: Option<u64>,
    pub brotli: Option<u64>,
}

/// Sizes of `file`, or `None` when it does not exist.
pub fn of(file: &Path) -> Option<Sizes> {
    let raw = std::fs::metadata(file).ok()?.len();
    Some(Sizes {
        raw,
        gzip: compressed(file, "gzip", &["-9", "-c"]),
        brotli: compressed(file, "brotli", &["-q", "11", "-c"]),
    })
}

/// The byte count of `program ARGS FILE`'s output; `None` when the program is missing.
fn compressed(file: &Path, program: &str, args: &[&str]) -> Option<u64> {
    let output = Command::new(program)
        .args(args)
        .arg(file)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then_some(output.stdout.len() as u64)
}
