//! Folds a synthetic stream once and prints reports/s and heap bytes of state per incident.
//! A small, fixed workload for profilers: `valgrind --tool=callgrind` on it gives instruction
//! counts that do not depend on what else the machine is doing.
//!
//! `cargo run --release --example fold_profile -- 20000 [apply|decoded]` (number of incidents;
//! `apply` renders each update as part of the fold, as the processor does; `decoded` decodes
//! every report first and folds them in one loop, as the criterion benchmark does)

use std::alloc::{GlobalAlloc, Layout};

use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Instant;
use tikv_jemallocator::Jemalloc;

use reckon::core::registry::SourceRegistry;
use reckon::core::Engine;
use reckon::synth::{generate, SynthConfig};
use reckon::wire::json;

/// Counts live heap bytes, over jemalloc: the allocator of the `reckon` binary.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
/// Allocations and reallocations made, to count those of the fold per report.
static ALLOCS: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { Jemalloc.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        unsafe { Jemalloc.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        LIVE.fetch_add(n as isize - l.size() as isize, Ordering::Relaxed);
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { Jemalloc.realloc(p, l, n) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn main() {
    let incidents: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let encoded: Vec<Vec<u8>> = generate(SynthConfig {
        incidents,
        regions: 400,
        seed: 7,
        days: 90,
    })
    .iter()
    .map(json::encode_report)
    .collect();
    // Decoded reports are dropped after applying, as in the processor, so the state's strings
    // are all counted.
    let before = LIVE.load(Ordering::Relaxed);
    let mut engine = Engine::new(SourceRegistry::default());
    let mut fold_time = std::time::Duration::ZERO;
    let mut render_time = std::time::Duration::ZERO;
    let mut updates = 0usize;
    // `apply`: fold and render in one step, as the processor does.
    let apply = std::env::args().nth(2).as_deref() == Some("apply");
    // `decoded`: every report decoded before the fold, as in the criterion benchmark, so the
    // caches hold only the fold's code and data (the state figure then counts the reports).
    if std::env::args().nth(2).as_deref() == Some("decoded") {
        let reports: Vec<_> = encoded
            .iter()
            .map(|b| json::decode_report(b).expect("synthetic reports are valid"))
            .collect();
        let allocs = ALLOCS.load(Ordering::Relaxed);
        let t = Instant::now();
        for report in &reports {
            updates += engine.fold(report).map_or(0, |f| f.len());
        }
        fold_time = t.elapsed();
        let allocs = ALLOCS.load(Ordering::Relaxed) - allocs;
        println!(
            "the fold made {allocs} allocations, {:.2} per report",
            allocs as f64 / reports.len() as f64
        );
    }
    let folded_already = !fold_time.is_zero();
    for bytes in encoded.iter().filter(|_| !folded_already) {
        let report = json::decode_report(bytes).expect("synthetic reports are valid");
        let t = Instant::now();
        if apply {
            updates += engine.try_apply(&report).map_or(0, |u| u.len());
            fold_time += t.elapsed();
            continue;
        }
        let Ok(folded) = engine.fold(&report) else {
            continue;
        };
        updates += folded.len();
        fold_time += t.elapsed();
        let t = Instant::now();
        drop(folded.into_updates());
        render_time += t.elapsed();
    }
    let state = LIVE.load(Ordering::Relaxed) - before;
    let live = engine.live_incidents().max(1);
    println!(
        "{} reports -> {} incidents, {} updates; fold {:.0} reports/s, with the updates rendered \
         {:.0} reports/s; state {} bytes per incident",
        encoded.len(),
        live,
        updates,
        encoded.len() as f64 / fold_time.as_secs_f64(),
        encoded.len() as f64 / (fold_time + render_time).as_secs_f64(),
        state / live as isize
    );
}
