//! The heap: one malloc arena per core, and the pages a check cycle freed given back to the
//! kernel when it ends.
//!
//! glibc gives each thread that allocates an arena of its own, up to 8 per core: Berth's two
//! tokio workers, its blocking threads and one thread per SQLite connection each filled one,
//! and each kept its own free space. One arena per core is what the threads that run at once
//! need: at 1,000 services the peak during a cycle fell from 26.0 to 24.0 MB. One arena in all
//! was smaller still, but the tokio workers then queued for its lock: the overview served 433
//! requests/s instead of 1,082, p99 33 ms (scripts/bench.sh, 2026-11-23).
//!
//! glibc's malloc keeps what a thread frees in that thread's arena and gives back only the top
//! of each arena. A check cycle's reports, tag lists and SQL rows are freed when it ends, but
//! they lie between allocations that live on, so an idle Berth stayed at its cycle's peak:
//! measured at 1,000 services, 20.7 MB of heap, 11.2 MB after `malloc_trim(0)`, which gives
//! back every whole free page of every arena.

/// Let the threads share one malloc arena per core. Call it first in `main`, before any
/// thread starts (an arena a thread has is kept). Elsewhere than glibc a no-op.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[expect(
    unsafe_code,
    reason = "mallopt is a C function; it has no Rust wrapper"
)]
pub fn use_an_arena_per_core() {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let arenas = libc::c_int::try_from(cores).unwrap_or(libc::c_int::MAX);
    // SAFETY: mallopt takes two integers and sets the allocator's own tunables under its own
    // lock; no pointer of ours is involved. It returns 0 only for an unknown parameter.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, arenas);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn use_an_arena_per_core() {}

/// Give freed heap pages back to the kernel; true when glibc released some. Elsewhere than
/// glibc (musl, macOS) a no-op that returns false: those allocators do not hold pages this way.
///
/// It walks and locks every arena in turn, so call it where little else allocates (after a
/// cycle), and from a blocking thread.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[expect(
    unsafe_code,
    reason = "malloc_trim is a C function; it has no Rust wrapper"
)]
pub fn release_freed_pages() -> bool {
    // SAFETY: malloc_trim takes a byte count and touches only the allocator's own state,
    // under the allocator's own locks; no pointer of ours is involved.
    unsafe { libc::malloc_trim(0) == 1 }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_freed_pages() -> bool {
    false
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;

    /// RssAnon of this process, in KiB.
    fn resident_heap_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status
            .lines()
            .find(|line| line.starts_with("RssAnon:"))
            .unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    #[test]
    fn freed_holes_in_a_thread_arena_go_back_to_the_kernel() {
        // What a cycle leaves: many small buffers freed, with every 16th kept, so no free
        // space is at an arena's top and glibc keeps all of it.
        const CHUNKS: usize = 4096;
        const CHUNK: usize = 16 * 1024;
        let kept = std::thread::spawn(|| {
            let mut chunks: Vec<Vec<u8>> = (0..CHUNKS).map(|_| vec![1u8; CHUNK]).collect();
            let kept: Vec<Vec<u8>> = chunks.iter_mut().step_by(16).map(std::mem::take).collect();
            drop(chunks);
            kept
        })
        .join()
        .unwrap();
        let before = resident_heap_kib();

        assert!(release_freed_pages(), "glibc released nothing");

        let after = resident_heap_kib();
        // 60 MiB were freed; other tests of this binary allocate meanwhile, so ask for half.
        assert!(
            before.saturating_sub(after) >= 30 * 1024,
            "RssAnon went from {before} KiB to {after} KiB"
        );
        // The kept buffers live until here, so the holes stay holes while it is measured.
        drop(kept);
    }
}
