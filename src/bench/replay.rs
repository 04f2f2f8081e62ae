//! (d) Replay throughput: what `reckon replay` does without `--publish-to` or `--verify`: read
//! the reports topic from its beginning with a group-less reader, decode each report, fold it
//! into a fresh engine per partition and keep the latest update per incident, whose views are
//! rendered once at the end. Timed from opening the reader to the end of every partition, the
//! views rendered at the end included. The same read without decoding or folding
//! is timed too, so that the cost of the fold shows against the cost of reading.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::adapters::kafka::reader::{Record, StartAt, TopicReader};
use crate::adapters::kafka::KafkaArgs;
use crate::core::latest::Rebuild;
use crate::core::registry::SourceRegistry;
use crate::wire::{self, ContentType, DecodeError, CONTENT_TYPE_HEADER};

use super::pipe::reader_config;

/// A finished read of a topic.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReplayRun {
    /// Messages read.
    pub messages: u64,
    /// Reports folded (0 for a bare read).
    pub reports: u64,
    /// Messages that would be dead-lettered.
    pub undecodable: u64,
    /// Updates the fold produced.
    pub updates: u64,
    /// Incidents (absorbed ones included) with a latest update.
    pub incidents: usize,
    /// Seconds from opening the reader to the end of every partition.
    pub seconds: f64,
}

impl ReplayRun {
    /// Messages per second.
    pub fn per_s(&self) -> f64 {
        if self.seconds > 0.0 {
            self.messages as f64 / self.seconds
        } else {
            0.0
        }
    }
}

fn read_to_end(
    kafka: &KafkaArgs,
    topic: &str,
    timeout: Duration,
    fetch_wait_ms: Option<u64>,
    mut f: impl FnMut(Record),
) -> Result<f64> {
    let started = Instant::now();
    let config = reader_config(kafka, &[], fetch_wait_ms);
    let mut reader = TopicReader::open(&config, topic, StartAt::Beginning, timeout)
        .with_context(|| format!("reading {topic}"))?;
    let mut last = Instant::now();
    while !reader.caught_up() {
        match reader.poll_bounded(Duration::from_millis(100)) {
            Ok(Some(r)) => {
                last = Instant::now();
                f(r);
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "replay read error"),
        }
        if last.elapsed() >= timeout {
            bail!("no message from {topic} for {timeout:?} before the end of every partition");
        }
    }
    Ok(started.elapsed().as_secs_f64())
}

/// Reads `topic` to its end without looking at the messages.
pub fn bare_read(
    kafka: &KafkaArgs,
    topic: &str,
    timeout: Duration,
    fetch_wait_ms: Option<u64>,
) -> Result<ReplayRun> {
    let mut out = ReplayRun::default();
    out.seconds = read_to_end(kafka, topic, timeout, fetch_wait_ms, |r| {
        out.messages += 1;
        std::hint::black_box(&r);
    })?;
    Ok(out)
}

fn content_type(r: &Record) -> Result<ContentType, DecodeError> {
    match r.header(CONTENT_TYPE_HEADER) {
        None => Ok(ContentType::Json),
        Some(v) => ContentType::parse(&String::from_utf8_lossy(v)),
    }
}

/// Replays `topic` into fresh engines, as `reckon replay` does.
pub fn replay(
    kafka: &KafkaArgs,
    topic: &str,
    timeout: Duration,
    fetch_wait_ms: Option<u64>,
) -> Result<ReplayRun> {
    let registry = SourceRegistry::default();
    let mut engines = Rebuild::new(registry);
    let mut out = ReplayRun::default();
    out.seconds = read_to_end(kafka, topic, timeout, fetch_wait_ms, |rec| {
        out.messages += 1;
        let report = content_type(&rec)
            .and_then(|ct| wire::decode_report(rec.payload.as_deref().unwrap_or_default(), ct));
        let Ok(report) = report else {
            out.undecodable += 1;
            return;
        };
        out.reports += 1;
        let (engine, kept) = engines.partition(rec.partition);
        if let Ok(folded) = engine.fold(&report) {
            out.updates += kept.keep(folded) as u64;
        }
    })?;
    // The views are rendered once, at the end, as `reckon replay` does: part of the timed run.
    let started = Instant::now();
    let latest = engines.into_rendered();
    out.seconds += started.elapsed().as_secs_f64();
    out.incidents = latest.len();
    Ok(out)
}
