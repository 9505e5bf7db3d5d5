//! How the release `berth` is linked, for a smaller resident set (measured by
//! scripts/bench.sh; why and how: bench/src/layout.rs):
//!
//! - the functions it runs first and together, as `layout/hot-functions.order` lists them
//!   (made by scripts/layout.sh). Linux maps code 64 KB at a time, so packing the 5 MB of code
//!   a running Berth uses took its resident code from 14 MB to about 6.
//! - its relative relocations packed (DT_RELR): 13 KB instead of 1.1 MB, all of which the
//!   loader read at start-up and kept resident. The loader must know the format (glibc 2.36),
//!   so only when the build machine's glibc does; an older one refuses the binary by name
//!   (`GLIBC_ABI_DT_RELR not found`) rather than misloading it.
//!
//! Only where the linker is rust-lld, the default of x86_64-unknown-linux-gnu since Rust 1.90
//! (`--symbol-ordering-file` is an lld option), and only in release builds: debug builds name
//! their functions differently. BERTH_LINK_TUNING=off links plainly, for a linker of one's own.

use std::path::Path;
use std::process::Command;

fn main() {
    const ORDER: &str = "layout/hot-functions.order";
    println!("cargo::rerun-if-changed={ORDER}");
    println!("cargo::rerun-if-env-changed=BERTH_LINK_TUNING");
    let env = |key: &str| std::env::var(key).unwrap_or_default();
    let target = env("TARGET");
    let tuned = env("PROFILE") == "release"
        && target == "x86_64-unknown-linux-gnu"
        && env("BERTH_LINK_TUNING") != "off";
    if !tuned {
        return;
    }
    let order = Path::new(&env("CARGO_MANIFEST_DIR")).join(ORDER);
    if order.is_file() {
        println!(
            "cargo::rustc-link-arg-bin=berth=-Wl,--symbol-ordering-file={}",
            order.display()
        );
        // A function the list names but the binary lacks (renamed by an update) is no error.
        println!("cargo::rustc-link-arg-bin=berth=-Wl,--no-warn-symbol-ordering");
    }
    if env("HOST") == target && glibc_version().is_some_and(|version| version >= (2, 36)) {
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
