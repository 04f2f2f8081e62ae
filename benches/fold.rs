//! The fold on a realistic synthetic mix: reports applied per second on one core, without
//! rendering the updates, rendered, and encoded; and heap bytes of state per incident.
//!
//! `cargo bench --bench fold`

use std::alloc::{GlobalAlloc, Layout};

use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};
use tikv_jemallocator::Jemalloc;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use reckon::core::registry::SourceRegistry;
use reckon::core::Engine;
use reckon::synth::{generate, SynthConfig};
use reckon::wire::{encode_update, ContentType};

/// Counts live heap bytes, to measure the state an engine holds, over jemalloc: the
/// allocator of the `reckon` binary.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { Jemalloc.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { Jemalloc.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { Jemalloc.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const CONFIG: SynthConfig = SynthConfig {
    incidents: 20_000,
    regions: 400,
    seed: 7,
    days: 90,
};

/// Reports decoded at a time for `apply-fresh`: about what one poll of the consumer hands the
/// processor, and few enough that the batch stays in cache.
const FRESH_BATCH: usize = 100;

/// Heap bytes the engine holds per incident. Reports are decoded one at a time from their JSON
/// form and dropped after applying, as the processor does, so every string the state keeps is
/// counted (a report shared with the caller would hide the ids the state references).
fn state_bytes_per_incident() {
    let encoded: Vec<Vec<u8>> = generate(CONFIG)
        .iter()
        .map(reckon::wire::json::encode_report)
        .collect();
    let before = LIVE.load(Ordering::Relaxed);
    let mut engine = Engine::new(SourceRegistry::default());
    for bytes in &encoded {
        let r = reckon::wire::json::decode_report(bytes).expect("synthetic reports are valid");
        drop(engine.apply(&r));
    }
    let reports = encoded;
    let after = LIVE.load(Ordering::Relaxed);
    let incidents = engine.live_incidents();
    println!(
        "state: {} reports -> {} incidents, {} heap bytes of engine state = {} bytes per incident",
        reports.len(),
        incidents,
        after - before,
        (after - before) / incidents as isize
    );
}

fn fold(c: &mut Criterion) {
    state_bytes_per_incident();
    let reports = generate(CONFIG);
    let mut group = c.benchmark_group("fold");
    group.throughput(Throughput::Elements(reports.len() as u64));
    group.sample_size(10);
    // The fold proper: linking, state, which incidents get a version and what changed.
    group.bench_function("apply", |b| {
        b.iter_batched(
            || Engine::new(SourceRegistry::default()),
            |mut engine| {
                let mut n = 0usize;
                for r in &reports {
                    n += engine.fold(r).map_or(0, |f| f.len());
                }
                (engine, n)
            },
            BatchSize::LargeInput,
        )
    });
    // The fold proper again, on reports decoded just before they are applied, as the
    // processor applies each report right after decoding it: the report's strings are in
    // cache, where the loop above reads 90k reports decoded up front, mostly from main memory.
    // Reports are decoded in batches and only the fold is timed.
    let encoded: Vec<Vec<u8>> = reports
        .iter()
        .map(reckon::wire::json::encode_report)
        .collect();
    group.bench_function("apply-fresh", |b| {
        b.iter_custom(|iters| {
            let mut folding = Duration::ZERO;
            for _ in 0..iters {
                let mut engine = Engine::new(SourceRegistry::default());
                let mut n = 0usize;
                for chunk in encoded.chunks(FRESH_BATCH) {
                    let batch: Vec<_> = chunk
                        .iter()
                        .map(|r| {
                            reckon::wire::json::decode_report(r)
                                .expect("synthetic reports are valid")
                        })
                        .collect();
                    let t = Instant::now();
                    for r in &batch {
                        n += engine.fold(r).map_or(0, |f| f.len());
                    }
                    folding += t.elapsed();
                }
                black_box((engine, n));
            }
            folding
        })
    });
    // The same, with every update rendered (its whole view built), not encoded.
    group.bench_function("apply+render", |b| {
        b.iter_batched(
            || Engine::new(SourceRegistry::default()),
            |mut engine| {
                let mut n = 0usize;
                for r in &reports {
                    n += engine.apply(r).len();
                }
                (engine, n)
            },
            BatchSize::LargeInput,
        )
    });
    for (label, ct) in [
        ("apply+json", ContentType::Json),
        ("apply+protobuf", ContentType::Protobuf),
    ] {
        group.bench_function(label, |b| {
            b.iter_batched(
                || Engine::new(SourceRegistry::default()),
                |mut engine| {
                    let mut bytes = 0usize;
                    for r in &reports {
                        for u in engine.apply(r) {
                            bytes += encode_update(&u, ct).len();
                        }
                    }
                    (engine, bytes)
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, fold);
criterion_main!(benches);
