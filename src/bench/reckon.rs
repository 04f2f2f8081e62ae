//! (b) and (f): reckon's processor, in this process, over a reports topic that is already full:
//! from the moment every partition is assigned (restored from an empty changelog, fetching
//! starts: the first message follows within one fetch) to caught up (every partition
//! processed to its end and checkpointed), at-least-once or under `--exactly-once`.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::adapters::kafka::processor::{
    caught_up, input_end_offsets, Processor, ProcessorConfig, ProcessorHandle, Status,
};
use crate::adapters::kafka::KafkaArgs;
use crate::wire::ContentType;

use super::pipe::group_properties;

/// The processor settings a benchmark varies; the defaults are `reckon run`'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessorSettings {
    /// The longest time between commit cycles.
    pub commit_interval: Duration,
    /// The most records between commit cycles.
    pub commit_max_records: u64,
    /// Wire form of the updates.
    pub output_format: ContentType,
    /// The consumer's `fetch.wait.max.ms`, if set (see [`super::BenchConfig::fetch_wait_ms`]).
    pub fetch_wait_ms: Option<u64>,
}

impl Default for ProcessorSettings {
    fn default() -> Self {
        Self {
            commit_interval: Duration::from_millis(100),
            commit_max_records: 1000,
            output_format: ContentType::Json,
            fetch_wait_ms: None,
        }
    }
}

/// The processor's configuration in the benchmark: `settings`, a fresh group, the short session
/// of the tests.
pub fn processor_config(
    kafka: &KafkaArgs,
    group: &str,
    exactly_once: bool,
    settings: &ProcessorSettings,
) -> ProcessorConfig {
    let mut c = ProcessorConfig::new(kafka.clone());
    c.group_id = group.to_string();
    c.instance_id = "bench".into();
    c.exactly_once = exactly_once;
    c.consumer_properties = group_properties(settings.fetch_wait_ms);
    c.commit_interval = settings.commit_interval;
    c.commit_max_records = settings.commit_max_records;
    c.output_format = settings.output_format;
    c
}

/// A finished throughput run.
#[derive(Debug, Clone)]
pub struct ReckonRun {
    /// Input records processed.
    pub records: u64,
    /// Updates published.
    pub updates: u64,
    /// Seconds from the assignment of every partition (restored, fetching starts) to caught up.
    pub seconds: f64,
    /// Checkpoints written.
    pub checkpoints: u64,
    /// Aborted transactions.
    pub aborts: u64,
}

impl ReckonRun {
    /// Records per second.
    pub fn per_s(&self) -> f64 {
        if self.seconds > 0.0 {
            self.records as f64 / self.seconds
        } else {
            0.0
        }
    }
}

/// Polls the processor's status until `done` says so, the processor stops, or `timeout`.
pub fn wait_for(
    handle: &ProcessorHandle,
    timeout: Duration,
    what: &str,
    mut done: impl FnMut(&Status) -> bool,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let s = handle.status();
        if done(&s) {
            return Ok(());
        }
        if handle.is_finished() {
            bail!("the processor stopped while waiting until {what}");
        }
        if Instant::now() >= deadline {
            bail!(
                "timed out after {timeout:?} waiting until {what} (status: {} records, partitions {:?})",
                s.records,
                s.partitions
            );
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Runs the processor over the reports topic of `kafka` (whose updates, changelog and
/// dead-letter topics must be fresh) until it has caught up.
pub fn throughput(
    kafka: &KafkaArgs,
    group: &str,
    exactly_once: bool,
    settings: &ProcessorSettings,
    timeout: Duration,
) -> Result<ReckonRun> {
    let ends = input_end_offsets(kafka, Duration::from_secs(15))
        .context("listing the reports topic's offsets")?;
    let handle = Processor::start(processor_config(kafka, group, exactly_once, settings))
        .context("starting reckon")?;
    let partitions = ends.len();
    // The status shows the partitions once they are restored and assigned, just before the
    // consumer starts fetching them (polled every 2 ms).
    wait_for(&handle, timeout, "partitions are assigned", |s| {
        s.partitions.len() >= partitions
    })?;
    let assigned = Instant::now();
    wait_for(&handle, timeout, "caught up", |s| caught_up(&[s], &ends))?;
    let seconds = assigned.elapsed().as_secs_f64();
    let status = handle.shutdown().context("stopping reckon")?;
    Ok(ReckonRun {
        records: status.records,
        updates: status.updates,
        seconds: seconds.max(1e-3),
        checkpoints: status.checkpoints,
        aborts: status.aborts,
    })
}
