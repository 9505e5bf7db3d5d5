//! Berth's benchmark: one command, one table, each figure beside its target.
//!
//!   scripts/bench.sh            the full run (N = 100 and 1,000; release build)
//!   scripts/bench.sh --smoke    N = 20, debug build, figures printed but not judged
//!
//! What is real: the registry (docker-registry over loopback HTTP), the engine, its SQLite
//! store, discovery from compose and env files, the `berth serve` binary, wrk, the SSE
//! stream. What stands in: the Docker engine's container list in the in-process cycle
//! (a port reporting one compose container per service), since 1,000 containers cannot run
//! here. See `docs/BENCHMARKS.md`.

mod cycle;
mod fixture;
mod serve;
mod services;
mod sizes;
mod table;

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use crate::cycle::Cycle;
use crate::fixture::{Fixture, Track};
use crate::serve::Serve;
use crate::table::{Table, Target};

#[derive(Debug, Parser)]
#[command(about = "Berth's benchmark: check cycles, memory, dashboard latency, WASM size")]
struct Args {
    /// N = 20 everywhere and shorter loads: proves the benchmark runs, judges nothing.
    #[arg(long)]
    smoke: bool,
    /// The `berth` binary to serve with (a release build for real figures).
    #[arg(long)]
    berth: Option<PathBuf>,
    /// The site folder (`<target>/site`) holding pkg/berth.wasm and pkg/berth.js.
    #[arg(long)]
    site: Option<PathBuf>,
    /// The site was built by `scripts/build.sh --release`, so its sizes are judged.
    #[arg(long)]
    release_site: bool,
}

/// The sizes each part runs at.
struct Plan {
    cycles: Vec<usize>,
    memory: Vec<usize>,
    dashboard: usize,
    load_seconds: u32,
    sse_samples: usize,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let plan = if args.smoke {
        Plan {
            cycles: vec![20],
            memory: vec![20],
            dashboard: 20,
            load_seconds: 2,
            sse_samples: 2,
        }
    } else {
        Plan {
            cycles: vec![100, 1000],
            memory: vec![100, 1000],
            dashboard: 200,
            load_seconds: 10,
            sse_samples: 5,
        }
    };
    let most = plan
        .cycles
        .iter()
        .chain(&plan.memory)
        .chain([&plan.dashboard])
        .copied()
        .max()
        .unwrap_or(0);
    let work = tempfile::tempdir().expect("a temporary folder for the benchmark");
    let fixture = tokio::task::block_in_place(|| Fixture::start(most));
    eprintln!(
        "bench: registry {} with {} repositories and {} tags, set up in {:.1} s",
        fixture.registry.host(),
        fixture.repositories.len(),
        fixture.tags_written,
        fixture.setup.as_secs_f64()
    );
    let mut table = Table::default();
    table.add(
        "registry setup",
        Some(fixture.setup.as_secs_f64()),
        "s",
        Target::None,
        format!(
            "{} repositories, {} tags, 1 in 10 multi-arch; 2 images pushed with skopeo, the rest written to the registry's storage",
            fixture.repositories.len(),
            fixture.tags_written
        ),
    );

    for &count in &plan.cycles {
        eprintln!("bench: engine check cycles, N={count}");
        for (track, what) in [
            (Track::Digests, "engine cycle, floating tags (digests only)"),
            (
                Track::Tags,
                "engine cycle, versioned tags (tag lists; 1 in 5 floating)",
            ),
        ] {
            let dir = work.path().join(format!("cycle-{count}-{track:?}"));
            std::fs::create_dir_all(&dir).expect("a folder for the cycle");
            let (cold, warm) = cycle::engine_cycles(&fixture, count, track, &dir).await;
            cycle_rows(&mut table, what, count, &cold, "first");
            cycle_rows(&mut table, what, count, &warm, "unchanged");
        }
        // Where the rest of the engine's time goes: the same cycle with the store on tmpfs,
        // where SQLite's fsyncs cost nothing, and the tag lists without the engine.
        if let Ok(memory) = tempfile::tempdir_in("/dev/shm") {
            let (_, warm) = cycle::engine_cycles(&fixture, count, Track::Tags, memory.path()).await;
            table.add(
                format!(
                    "engine cycle, versioned tags, N={count}, unchanged, store on tmpfs: wall time"
                ),
                Some(warm.wall.as_secs_f64()),
                "s",
                Target::None,
                "diagnostic: the difference to the row above is the store's fsyncs",
            );
        }
        let alone = cycle::tag_lists_alone(&fixture, count).await;
        table.add(
            format!("tag lists alone (no engine), N={count}, unchanged: wall time"),
            Some(alone.wall.as_secs_f64()),
            "s",
            Target::None,
            format!(
                "diagnostic: the registry client only; {}; {}",
                alone.breakdown(),
                alone.cpu.describe()
            ),
        );
    }

    match &args.berth {
        Some(berth) => {
            let site = args
                .site
                .clone()
                .unwrap_or_else(|| work.path().join("site"));
            serve_rows(&mut table, &plan, &fixture, berth, &site, work.path()).await;
        }
        None => table.add(
            "berth serve",
            None,
            "",
            Target::None,
            "skipped: no --berth binary given",
        ),
    }
    size_rows(&mut table, args.site.as_deref(), args.release_site);

    let judged = !args.smoke;
    println!();
    println!(
        "Berth benchmark ({}) — {}",
        if args.smoke {
            "smoke: N = 20, figures not judged"
        } else {
            "full"
        },
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    );
    println!();
    print!("{}", table.render(judged));
    if judged {
        println!();
        println!("{} target(s) missed or not measured", table.misses());
    }
}

fn cycle_rows(table: &mut Table, what: &str, count: usize, cycle: &Cycle, when: &str) {
    let judged = count >= 1000;
    let errors = if cycle.errors.is_empty() {
        String::new()
    } else {
        format!(
            "; {} services failed, first: {}",
            cycle.errors.len(),
            cycle.errors[0]
        )
    };
    table.add(
        format!("{what}, N={count}, {when}: wall time"),
        Some(cycle.wall.as_secs_f64()),
        "s",
        if judged {
            Target::AtMost(0.5)
        } else {
            Target::None
        },
        format!(
            "{:.1} KB received; {}{errors}",
            cycle.bytes as f64 / 1024.0,
            cycle.cpu.describe()
        ),
    );
    table.add(
        format!("{what}, N={count}, {when}: requests per image"),
        Some(cycle.per_image()),
        "",
        Target::AtMost(1.05),
        cycle.breakdown(),
    );
}

async fn serve_rows(
    table: &mut Table,
    plan: &Plan,
    fixture: &Fixture,
    berth: &std::path::Path,
    site: &std::path::Path,
    work: &std::path::Path,
) {
    for &count in &plan.memory {
        eprintln!("bench: berth serve memory, N={count}");
        let dir = work.join(format!("serve-{count}"));
        std::fs::create_dir_all(&dir).expect("a folder for berth serve");
        let written = services::write(&dir, fixture, count, Track::Tags, &[]);
        let serve = Serve::start(berth, site, &written.env_file, &dir, "10s").await;
        // The first cycle runs at start-up, beside the login (an argon2 hash of 46 MiB):
        // the peak is taken over the second cycle alone, from a reset VmHWM.
        let first = serve.cycle_events(1, Duration::from_secs(120)).await;
        serve.reset_peak();
        let events = if first.is_empty() {
            first
        } else {
            serve.cycle_events(1, Duration::from_secs(120)).await
        };
        let peak = serve.memory();
        // The next cycle is 10 s after the last one began: 3 s after one ended is idle.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let memory = serve.memory();
        let cycle_note =
            events
                .first()
                .map_or("no cycle finished within 120 s".to_owned(), |event| {
                    format!(
                        "cycle of {} services took {} ms",
                        event.services, event.duration_ms
                    )
                });
        table.add(
            format!("berth serve, {count} services: peak RSS during a cycle (VmHWM)"),
            Some(peak.peak_mb),
            "MB",
            if count >= 1000 && !events.is_empty() {
                Target::AtMost(40.0)
            } else {
                Target::None
            },
            format!(
                "the second check cycle, with a logged-in SSE client; {cycle_note}; heap and stacks {:.1} MB, mapped binary {:.1} MB at its end",
                peak.anon_mb, peak.file_mb
            ),
        );
        table.add(
            format!("berth serve, {count} services: idle RSS (VmRSS)"),
            Some(memory.rss_mb),
            "MB",
            if count == 100 {
                Target::AtMost(25.0)
            } else {
                Target::None
            },
            format!(
                "3 s after the cycle ended; heap and stacks {:.1} MB, mapped binary {:.1} MB",
                memory.anon_mb, memory.file_mb
            ),
        );
    }

    let count = plan.dashboard;
    eprintln!("bench: dashboard and SSE, N={count}");
    let dir = work.join(format!("dashboard-{count}"));
    std::fs::create_dir_all(&dir).expect("a folder for berth serve");
    let written = services::write(&dir, fixture, count, Track::Tags, &[]);
    {
        let serve = Serve::start(berth, site, &written.env_file, &dir, "2s").await;
        let events = serve
            .cycle_events(plan.sse_samples + 1, Duration::from_secs(60))
            .await;
        // The first may have been in flight when the client connected.
        let mut delays: Vec<f64> = events
            .iter()
            .skip(1)
            .map(|event| event.delivery.as_secs_f64() * 1000.0)
            .collect();
        delays.sort_by(f64::total_cmp);
        table.add(
            format!("engine event to SSE client, {count} services (worst)"),
            delays.last().copied(),
            "ms",
            Target::AtMost(100.0),
            format!(
                "check_finished, published after the cycle's {} service events, over {} cycles; median {}",
                count * 2,
                delays.len(),
                delays
                    .get(delays.len() / 2)
                    .map_or("–".to_owned(), |median| format!("{median:.1} ms"))
            ),
        );
    }
    let serve = Serve::start(berth, site, &written.env_file, &dir, "1h").await;
    let _first_cycle = serve.cycle_events(1, Duration::from_secs(30)).await;
    let (status, body) = serve.overview().await;
    let last_service = written
        .services
        .last()
        .map(|(_, service, _, _)| service.clone())
        .unwrap_or_default();
    let renders = status == 200 && body.contains(&last_service);
    match serve::wrk(&serve, plan.load_seconds, 8) {
        Ok(load) => {
            let note = format!(
                "wrk -t2 -c8 -d{}s, logged in; {:.0} requests/s, {} non-2xx{}",
                plan.load_seconds,
                load.requests_per_second,
                load.errors,
                if renders {
                    String::new()
                } else {
                    format!("; WARNING: GET / answered {status} without {last_service}")
                }
            );
            table.add(
                format!("dashboard overview, {count} services: p50"),
                Some(load.p50_ms),
                "ms",
                Target::None,
                note.clone(),
            );
            table.add(
                format!("dashboard overview, {count} services: p99"),
                Some(load.p99_ms),
                "ms",
                Target::AtMost(20.0),
                note,
            );
        }
        Err(reason) => table.add(
            format!("dashboard overview, {count} services: p99"),
            None,
            "ms",
            Target::AtMost(20.0),
            reason,
        ),
    }
}

fn size_rows(table: &mut Table, site: Option<&std::path::Path>, release: bool) {
    let which = if release {
        "release (scripts/build.sh --release)"
    } else {
        "NOT release: the existing site was measured, as the smoke run does"
    };
    for (file, target) in [("berth.wasm", Some(250.0)), ("berth.js", None)] {
        let path = site.map(|site| site.join("pkg").join(file));
        let Some(sizes) = path.as_deref().and_then(sizes::of) else {
            table.add(
                file.to_owned(),
                None,
                "KB",
                Target::None,
                match site {
                    Some(site) => format!(
                        "not found under {}/pkg: build it with scripts/build.sh",
                        site.display()
                    ),
                    None => "no --site given".to_owned(),
                },
            );
            continue;
        };
        let kb = |bytes: u64| bytes as f64 / 1024.0;
        table.add(
            format!("{file}: raw / gzip"),
            Some(kb(sizes.raw)),
            "KB",
            Target::None,
            format!(
                "gzip -9: {}; {which}",
                sizes.gzip.map_or("gzip missing".to_owned(), |gzip| format!(
                    "{:.1} KB",
                    kb(gzip)
                ))
            ),
        );
        table.add(
            format!("{file}: brotli"),
            sizes.brotli.map(kb),
            "KB",
            match target {
                Some(bound) if release => Target::AtMost(bound),
                _ => Target::None,
            },
            if sizes.brotli.is_some() {
                "brotli -q 11".to_owned()
            } else {
                "brotli missing: run scripts/setup.sh".to_owned()
            },
        );
    }
}
