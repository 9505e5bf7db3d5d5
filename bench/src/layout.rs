//! The order the release `berth` is linked in: the functions `berth serve` runs first and
//! together (`server/layout/hot-functions.order`, which `server/build.rs` hands the linker).
//!
//! Why it matters: Linux maps a program's code 64 KB at a time (fault-around), so running one
//! function makes the 16 pages around it resident. In rustc's own order, the 5 MB of functions
//! a running Berth uses lie spread over its 16 MB of code and reach nearly every 64 KB of it:
//! 14 MB of resident code, most of a 23 MB idle RSS (measured 2026-11-23). Linked together,
//! about 6 MB of code is resident.
//!
//! How the list is made: `berth serve` runs under callgrind, which records every function that
//! executes (exactly, not by sampling), through what its days consist of: start-up, check
//! cycles over 200 services (tag lists and digests), logging in, every dashboard page, the
//! event stream, the REST API with a token, the metrics. On SIGTERM callgrind writes its
//! profile; the functions of the `berth` binary in it, by linker name, are the list. Then, with
//! berth linked in that order, the same workload runs natively under perf, and the functions
//! whose code still faults outside the order are added: valgrind's CPU has neither the host's
//! SHA instructions nor its pidfd, and runs one thread at a time, so some code only runs
//! natively. Deploys are not in the workload (they need running containers): their code stays
//! in rustc's order.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::fixture::{Fixture, Track};
use crate::serve::{Serve, berth_environment};
use crate::services;

/// The order file in this checkout.
pub fn order_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/layout/hot-functions.order")
}

/// Services in the run: enough for the overview's paging and both kinds of check.
pub const SERVICES: usize = 200;

/// Berth's log filter when RUST_LOG is not set (`berth::cli::main`): its log lines' code runs.
const DEFAULT_LOG: &str = "info,sqlx=warn";

/// Dashboard pages, read with the session cookie (service ids are the store's, from 1).
const PAGES: &[&str] = &[
    "/",
    "/registries",
    "/services/1",
    "/services/2",
    "/services/99999",
    "/login",
    "/no-such-page",
    "/pkg/berth.js",
    "/metrics",
    "/healthz",
];

/// REST API paths, read with a `read` token.
const API: &[&str] = &[
    "/api/v1/openapi.json",
    "/api/v1/services",
    "/api/v1/services/1",
    "/api/v1/services/1/revisions",
    "/api/v1/updates",
    "/api/v1/updates/summary",
    "/api/v1/updates/exclusions",
    "/api/v1/updates/dry-run",
    "/api/v1/registries",
    "/api/v1/no-such-route",
];

/// Run `berth` (a release build) through the workload under callgrind and write the functions
/// it ran to `out`; how many were written.
pub async fn record(
    fixture: &Fixture,
    berth: &Path,
    site: &Path,
    work: &Path,
    out: &Path,
) -> Result<usize, String> {
    let profile = work.join("callgrind.out");
    let launcher = [
        "valgrind".to_owned(),
        "--tool=callgrind".to_owned(),
        format!("--callgrind-out-file={}", profile.display()),
        // Linker names, as `nm` prints them and the linker reads them; no line tables.
        "--demangle=no".to_owned(),
        "--compress-strings=no".to_owned(),
        "--dump-line=no".to_owned(),
    ];
    exercise(fixture, berth, site, &work.join("callgrind"), &launcher).await?;
    let text = std::fs::read_to_string(&profile)
        .map_err(|error| format!("reading callgrind's profile {}: {error}", profile.display()))?;
    let functions = functions_of(&text, berth);
    if functions.is_empty() {
        return Err(format!(
            "callgrind's profile names no function of {}",
            berth.display()
        ));
    }
    write_order(out, &functions)?;
    Ok(functions.len())
}

/// Run `berth`, linked with the order in `order`, through the workload natively under perf,
/// and add to `order` the functions whose first instruction fetch faulted outside it: code
/// that runs natively but not under valgrind, whose CPU lacks some of the host's instructions
/// (so sha2 and ring take other paths) and which runs one thread at a time (so tokio's
/// work-stealing and lock contention never happen). How many were added.
pub async fn extend_with_faults(
    fixture: &Fixture,
    berth: &Path,
    site: &Path,
    work: &Path,
    order: &Path,
) -> Result<usize, String> {
    let data = work.join("perf.data");
    let launcher = [
        "perf".to_owned(),
        "record".to_owned(),
        "--quiet".to_owned(),
        "--event=page-faults".to_owned(),
        // Every fault, with the address it faulted on.
        "--count=1".to_owned(),
        "--data".to_owned(),
        format!("--output={}", data.display()),
        "--".to_owned(),
    ];
    exercise(fixture, berth, site, &work.join("faults"), &launcher).await?;
    let script = Command::new("perf")
        .arg("script")
        .arg(format!("--input={}", data.display()))
        .args(["--fields=addr,ip,sym,dso", "--no-demangle"])
        .output()
        .map_err(|error| format!("running perf script: {error}"))?;
    if !script.status.success() {
        return Err(format!(
            "perf script failed: {}",
            String::from_utf8_lossy(&script.stderr)
        ));
    }
    let mut functions = listed(order)?;
    let before = functions.len();
    functions.extend(code_faults(&String::from_utf8_lossy(&script.stdout), berth));
    write_order(order, &functions)?;
    Ok(functions.len() - before)
}

/// The workload, with `berth serve` started by `launcher`, in a new folder `dir`.
async fn exercise(
    fixture: &Fixture,
    berth: &Path,
    site: &Path,
    dir: &Path,
    launcher: &[String],
) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|error| format!("creating {}: {error}", dir.display()))?;
    let written = services::write(dir, fixture, SERVICES, Track::Tags, &[]);
    // A new store, so its migrations run in serve too; logging as Berth does by default.
    let mut serve = Serve::start_under(
        launcher,
        DEFAULT_LOG,
        berth,
        site,
        &written.env_file,
        dir,
        "5s",
    )
    .await;
    let token = create_token(berth, &written.env_file, dir)?;
    let patience = Duration::from_secs(300);
    if serve.cycle_events(1, patience).await.is_empty() {
        return Err("no check cycle finished within 300 s".to_owned());
    }
    for path in PAGES {
        expect_no_server_error(path, serve.status_of(path, None).await)?;
    }
    for path in API {
        expect_no_server_error(path, serve.status_of(path, Some(&token)).await)?;
    }
    if serve.cycle_events(1, patience).await.is_empty() {
        return Err("no second check cycle within 300 s".to_owned());
    }
    if serve.stop(Duration::from_secs(120)) {
        Ok(())
    } else {
        Err("berth serve did not stop within 120 s of SIGTERM".to_owned())
    }
}

fn expect_no_server_error(path: &str, status: u16) -> Result<(), String> {
    if status >= 500 {
        Err(format!(
            "GET {path} answered {status} during the layout run"
        ))
    } else {
        Ok(())
    }
}

/// `berth token create layout --scope read` against the store in `dir` (beside a running
/// serve: SQLite in WAL mode lets both write); the secret.
fn create_token(berth: &Path, env_file: &Path, dir: &Path) -> Result<String, String> {
    let mut command = Command::new(berth);
    berth_environment(&mut command, env_file, dir);
    let output = command
        .args(["token", "create", "layout", "--scope", "read"])
        .output()
        .map_err(|error| format!("running {}: {error}", berth.display()))?;
    let secret = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if !output.status.success() || secret.is_empty() {
        return Err(format!(
            "berth token create failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(secret)
}

/// Whether a path a profiler names is `object`: as given, or as it resolves (valgrind and perf
/// name the file the kernel mapped).
struct Object<'a> {
    given: &'a Path,
    resolved: PathBuf,
}

impl<'a> Object<'a> {
    fn new(given: &'a Path) -> Object<'a> {
        let resolved = std::fs::canonicalize(given).unwrap_or_else(|_| given.to_owned());
        Object { given, resolved }
    }

    fn is(&self, named: &str) -> bool {
        let named = Path::new(named);
        named == self.given || named == self.resolved
    }
}

/// The functions callgrind saw run in `object`, by linker name. Its profile names the object
/// (`ob=`) before the functions (`fn=`) that follow; a recursion level is appended as `'2`.
pub fn functions_of(profile: &str, object: &Path) -> BTreeSet<String> {
    let object = Object::new(object);
    let mut in_object = false;
    let mut functions = BTreeSet::new();
    for line in profile.lines() {
        if let Some(name) = line.strip_prefix("ob=") {
            in_object = object.is(name.trim());
        } else if let Some(name) = line.strip_prefix("fn=")
            && in_object
        {
            let name = name.trim();
            let name = name.split_once('\'').map_or(name, |(name, _)| name);
            if is_symbol(name) {
                functions.insert(name.to_owned());
            }
        }
    }
    functions
}

/// The functions of `object` whose code faulted on an instruction fetch, from `perf script
/// --fields=addr,ip,sym,dso`: a line is `ADDR SYM (DSO) IP SYM (DSO)`, the first three for
/// the address that faulted, the last three for the instruction that did; they are one and
/// the same when the fault was fetching that instruction.
pub fn code_faults(script: &str, object: &Path) -> BTreeSet<String> {
    let object = Object::new(object);
    let mut functions = BTreeSet::new();
    for line in script.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [address, _, _, instruction, function, dso] = fields[..] else {
            continue;
        };
        let dso = dso.trim_start_matches('(').trim_end_matches(')');
        if address == instruction && object.is(dso) && is_symbol(function) {
            functions.insert(function.to_owned());
        }
    }
    functions
}

/// The names an order file lists (its other lines are `#` comments).
fn listed(order: &Path) -> Result<BTreeSet<String>, String> {
    let text = std::fs::read_to_string(order)
        .map_err(|error| format!("reading {}: {error}", order.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect())
}

fn write_order(out: &Path, functions: &BTreeSet<String>) -> Result<(), String> {
    std::fs::write(out, render(functions, &rustc_version()))
        .map_err(|error| format!("writing {}: {error}", out.display()))
}

/// A linker name, not a profiler's placeholder: callgrind's `(below main)` (what runs before
/// main) and `0x…`, perf's `[unknown]` (code without a symbol).
fn is_symbol(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(['(', '['])
        && !name.starts_with("0x")
        && !name.contains(' ')
}

/// The order file: what it is as `#` comments (the linker skips them), then one name a line.
fn render(functions: &BTreeSet<String>, rustc: &str) -> String {
    let mut text = format!(
        "# The functions `berth serve` runs, which the release build links first and together\n\
         # (server/build.rs): {} of them, recorded by scripts/layout.sh (callgrind, then perf's\n\
         # page faults) with {rustc}.\n\
         # Generated; regenerate it after updating dependencies or Rust (scripts/bench.sh\n\
         # shows how much of it the binary still has). Names the binary lacks are skipped.\n",
        functions.len()
    );
    for name in functions {
        text.push_str(name);
        text.push('\n');
    }
    text
}

fn rustc_version() -> String {
    Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .filter(|version| !version.is_empty())
        .unwrap_or_else(|| "an unknown rustc".to_owned())
}

/// How many of the order file's names `berth` defines, out of how many it lists: the share
/// the linker could place. `None` when either cannot be read (no file, no `nm`).
pub fn coverage(order: &Path, berth: &Path) -> Option<(usize, usize)> {
    let listed = listed(order).ok()?;
    let output = Command::new("nm")
        .args(["--defined-only", "--format=just-symbols"])
        .arg(berth)
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let defined: std::collections::HashSet<&str> =
        std::str::from_utf8(&output.stdout).ok()?.lines().collect();
    let found = listed
        .iter()
        .filter(|name| defined.contains(name.as_str()))
        .count();
    Some((found, listed.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A profile as callgrind writes it with --compress-strings=no: objects, files, functions,
    /// calls into other objects, and a recursion level.
    const PROFILE: &str = "\
version: 1
creator: callgrind-3.19.0
cmd: /srv/berth serve
events: Ir
ob=/usr/lib/x86_64-linux-gnu/libc.so.6
fl=???
fn=malloc
0 12
ob=/srv/berth
fl=???
fn=_ZN5berth4main17h0123456789abcdefE
0 5
cob=/usr/lib/x86_64-linux-gnu/libc.so.6
cfn=malloc
calls=1 0
0 12
fn=sqlite3VdbeExec'2
0 40
fn=sqlite3VdbeExec
0 40
fn=(below main)
0 1
fn=0x00000000004a5f10
0 2
ob=/usr/lib/x86_64-linux-gnu/libm.so.6
fn=pow
0 3
";

    #[test]
    fn only_the_named_objects_functions_are_listed_once_each() {
        let functions = functions_of(PROFILE, Path::new("/srv/berth"));
        assert_eq!(
            functions.into_iter().collect::<Vec<_>>(),
            ["_ZN5berth4main17h0123456789abcdefE", "sqlite3VdbeExec"]
        );
    }

    #[test]
    fn instruction_fetch_faults_in_the_object_name_their_functions() {
        let script = "\
    55d0c0a01234 _ZN5tokio4park17h00E (/srv/berth)     55d0c0a01234 _ZN5tokio4park17h00E (/srv/berth)
    55d0c1b00000 .rodata (/srv/berth)     55d0c0a05678 _ZN5serde4read17h11E (/srv/berth)
    7f3d064bcb70 _start (/usr/lib/ld.so)     7f3d064bcb70 _start (/usr/lib/ld.so)
    55d0c0a09abc [unknown] (/srv/berth)     55d0c0a09abc [unknown] (/srv/berth)
    7ffd1bd23dd0 [unknown] ([stack])     ffffffff8225a12d __put_user_8 ([kernel.kallsyms])
";
        let functions = code_faults(script, Path::new("/srv/berth"));
        // A data fault (rodata read by serde), another object's code, and code without a
        // symbol are not listed.
        assert_eq!(
            functions.into_iter().collect::<Vec<_>>(),
            ["_ZN5tokio4park17h00E"]
        );
    }

    #[test]
    fn the_order_file_explains_itself_in_comments_and_lists_one_name_a_line() {
        let functions: BTreeSet<String> = ["b".to_owned(), "a".to_owned()].into();
        let text = render(&functions, "rustc 1.95.0");
        let names: Vec<&str> = text.lines().filter(|line| !line.starts_with('#')).collect();
        assert_eq!(names, ["a", "b"]);
        assert!(text.contains("2 of them") && text.contains("rustc 1.95.0"));
    }
}
