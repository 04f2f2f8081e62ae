//! (e) Resident memory per incident: the growth of this process's resident set size
//! (`/proc/self/statm`) while one engine folds the reports of N incidents, divided by the
//! incidents that stand at the end. At the engine level, without Kafka: with the embedded
//! broker in the same process its log would be counted too, and a real broker's client
//! buffers would blur the figure.
//!
//! The reports are generated in chunks of a few hundred incidents (each chunk its own seed,
//! all spread over the same days at the benchmark's density), each report encoded to JSON and
//! decoded again before it is applied and dropped, as the processor does. A first chunk is
//! generated, decoded and dropped *before* the baseline is taken, so that the heap the chunks
//! reuse is already resident and only the state's growth is measured. Run it in a fresh
//! process ([`probe`] from `reckon bench --memory-probe N`): memory freed by earlier
//! measurements would otherwise be reused without growing the RSS.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::core::registry::SourceRegistry;
use crate::core::Engine;
use crate::synth::{generate, SynthConfig};
use crate::wire::json;

use super::machine::rss_bytes;
use super::workload::synth_config;

/// Incidents per generated chunk.
pub const CHUNK_INCIDENTS: usize = 500;

/// One memory measurement.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MemoryFigure {
    /// Incidents generated.
    pub incidents: usize,
    /// Reports folded.
    pub reports: u64,
    /// Incidents standing at the end (merges absorb some).
    pub live_incidents: usize,
    /// Resident bytes before the engine was created.
    pub rss_before: u64,
    /// Resident bytes after the fold, the engine alive.
    pub rss_after: u64,
    /// Seconds the decode-and-fold took.
    pub seconds: f64,
}

impl MemoryFigure {
    /// RSS growth in bytes.
    pub fn growth(&self) -> u64 {
        self.rss_after.saturating_sub(self.rss_before)
    }

    /// RSS growth per standing incident, bytes.
    pub fn bytes_per_incident(&self) -> f64 {
        self.growth() as f64 / self.live_incidents.max(1) as f64
    }

    /// Reports decoded and folded per second.
    pub fn per_s(&self) -> f64 {
        if self.seconds > 0.0 {
            self.reports as f64 / self.seconds
        } else {
            0.0
        }
    }
}

fn chunk(total: usize, index: usize, incidents: usize, seed: u64) -> SynthConfig {
    SynthConfig {
        incidents,
        // A chunk spreads over the whole stream's days: same density as one big stream.
        days: synth_config(total, seed).days,
        regions: synth_config(total, seed).regions,
        seed: seed.wrapping_mul(1_000_003).wrapping_add(index as u64 + 1),
    }
}

/// Folds `incidents` incidents' reports into one engine in this process and measures the RSS
/// growth.
pub fn probe(incidents: usize, seed: u64) -> MemoryFigure {
    // Warm the heap with one chunk's worth of reports and encodings, then free it.
    {
        let warm = generate(chunk(incidents, usize::MAX - 1, CHUNK_INCIDENTS, seed));
        let encoded: Vec<Vec<u8>> = warm.iter().map(json::encode_report).collect();
        let decoded: Vec<_> = encoded
            .iter()
            .filter_map(|b| json::decode_report(b).ok())
            .collect();
        std::hint::black_box((&warm, &decoded));
    }
    let rss_before = rss_bytes().unwrap_or(0);
    let mut engine = Engine::new(SourceRegistry::default());
    let mut reports = 0u64;
    let mut fold = std::time::Duration::ZERO;
    let mut done = 0usize;
    let mut index = 0usize;
    while done < incidents {
        let n = CHUNK_INCIDENTS.min(incidents - done);
        let encoded: Vec<Vec<u8>> = generate(chunk(incidents, index, n, seed))
            .iter()
            .map(json::encode_report)
            .collect();
        let t = Instant::now();
        for bytes in &encoded {
            let Ok(report) = json::decode_report(bytes) else {
                continue;
            };
            drop(engine.apply(&report));
            reports += 1;
        }
        fold += t.elapsed();
        done += n;
        index += 1;
    }
    let rss_after = rss_bytes().unwrap_or(0);
    let live_incidents = engine.live_incidents();
    std::hint::black_box(&engine);
    MemoryFigure {
        incidents,
        reports,
        live_incidents,
        rss_before,
        rss_after,
        seconds: fold.as_secs_f64(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_have_distinct_seeds_and_the_streams_density() {
        let a = chunk(1_000_000, 0, 500, 7);
        let b = chunk(1_000_000, 1, 500, 7);
        assert_ne!(a.seed, b.seed);
        assert_eq!(a.days, 4500);
        assert_eq!(a.incidents, 500);
    }

    #[test]
    fn a_small_probe_counts_what_it_folded() {
        let f = probe(300, 1);
        assert_eq!(f.incidents, 300);
        assert!(f.reports > 300);
        assert!(f.live_incidents > 0 && f.live_incidents <= 300);
        assert!(f.rss_after > 0);
        assert!(f.bytes_per_incident() >= 0.0);
    }
}
