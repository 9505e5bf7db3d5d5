//! The release `berth` packs its relative relocations (DT_RELR): the loader reads them all at
//! start-up and they stay resident, and packed they are a small fraction of their size.
//!
//! The loader must know the format (glibc 2.36), so this is done only when the build machine's
//! glibc does and the binary is for this machine: an older glibc refuses such a binary by name
//! (`GLIBC_ABI_DT_RELR not found`) rather than misloading it.

use std::process::Command;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let env = |key: &str| std::env::var(key).unwrap_or_default();
    if env("PROFILE") == "release"
        && env("CARGO_CFG_TARGET_ENV") == "gnu"
        && env("HOST") == env("TARGET")
        && glibc_version().is_some_and(|version| version >= (2, 36))
    {
        println!("cargo::rustc-link-arg-bin=berth=-Wl,-z,pack-relative-relocs");
    }
}

/// The build machine's glibc, from `getconf GNU_LIBC_VERSION` ("glibc 2.36").
fn glibc_version() -> Option<(u32, u32)> {
    let output = Command::new("getconf")
        .arg("GNU_LIBC_VERSION")
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let (major, minor) = text.trim().strip_prefix("glibc ")?.split_once('.')?;
    let minor = minor.split(|c: char| !c.is_ascii_digit()).next()?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}
