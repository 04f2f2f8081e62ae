//! Restoring partition state from the changelog topic: reads the given changelog partitions
//! from their beginning to their end, through the pure restore fold
//! ([`crate::runtime::changelog`]).
//!
//! "The end" is librdkafka's end-of-partition event (from the fetch responses), not a listed
//! high watermark: Tansu 0.6.0 lists the last *batch's* base offset + 1, short of the real end
//! when a batch holds several records, and a restore cut there would lose state.
//!
//! The reading consumer has no group (nothing to commit, no join delay) and reads committed
//! records only (`isolation.level=read_committed`), so that under `--exactly-once` an aborted
//! transaction's changelog records and checkpoint are never restored on a broker that isolates
//! them.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use thiserror::Error;

use crate::runtime::changelog::{ChangelogError, RestoreFold, Restored};

/// Why a restore failed.
#[derive(Debug, Error)]
pub enum RestoreError {
    /// A Kafka request failed.
    #[error("kafka: {0}")]
    Kafka(#[from] KafkaError),
    /// The changelog holds a record that cannot be restored.
    #[error("changelog {topic} partition {partition}: {source}")]
    Changelog {
        /// The changelog topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// What is wrong.
        source: ChangelogError,
    },
    /// The end of the changelog was not reached in time.
    #[error("restoring {topic} partition {partition}: at offset {reached} after {waited:?}")]
    Timeout {
        /// The changelog topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// The next offset to read.
        reached: i64,
        /// How long it waited.
        waited: Duration,
    },
}

/// Logs client errors, except the end-of-partition events this reader asks for.
struct RestoreContext;

impl ClientContext for RestoreContext {
    fn error(&self, error: KafkaError, reason: &str) {
        if !matches!(error, KafkaError::PartitionEOF(_))
            && !reason.contains("reached end of partition")
        {
            tracing::warn!(error = %error, reason, "changelog reader error");
        }
    }
}

impl ConsumerContext for RestoreContext {}

struct Progress {
    fold: RestoreFold,
    /// The next offset to read (for error messages).
    next: i64,
    /// The listed end, for the progress gauge only (it can be short on some brokers: the end
    /// of the restore is the end-of-partition event, never this).
    listed_end: i64,
    done: bool,
}

impl Progress {
    fn report(&self, partition: i32) {
        let remaining = if self.done {
            0
        } else {
            (self.listed_end - self.next).max(0)
        };
        metrics::gauge!(
            crate::adapters::metrics::RESTORE_REMAINING,
            "partition" => partition.to_string()
        )
        .set(remaining as f64);
    }
}

/// Restores `partitions` of the changelog `topic`. `config` is the client configuration
/// (brokers, `-X` properties); `timeout` bounds the whole restore.
pub fn restore_partitions(
    config: &ClientConfig,
    topic: &str,
    partitions: &[i32],
    timeout: Duration,
) -> Result<BTreeMap<i32, Restored>, RestoreError> {
    let started = Instant::now();
    let mut config = config.clone();
    // librdkafka refuses `assign` without a group id; this group is never joined and nothing
    // is committed to it.
    config
        .set("group.id", "reckon-restore")
        .remove("transactional.id")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .set("auto.offset.reset", "earliest")
        .set("isolation.level", "read_committed")
        // The end is known from a fetch answer: do not let an empty partition's fetch wait.
        .set("fetch.wait.max.ms", "50");
    let consumer: BaseConsumer<RestoreContext> = config.create_with_context(RestoreContext)?;
    let mut progress: BTreeMap<i32, Progress> = BTreeMap::new();
    let mut tpl = TopicPartitionList::new();
    for &p in partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning)?;
        let listed_end = consumer
            .fetch_watermarks(topic, p, Duration::from_secs(5))
            .map_or(0, |(_, high)| high);
        let progress_of_p = Progress {
            fold: RestoreFold::new(),
            next: 0,
            listed_end,
            done: false,
        };
        progress_of_p.report(p);
        progress.insert(p, progress_of_p);
    }
    if tpl.count() > 0 {
        consumer.assign(&tpl)?;
    }
    while let Some((&partition, pending)) = progress.iter().find(|(_, p)| !p.done) {
        let waited = started.elapsed();
        if waited >= timeout {
            return Err(RestoreError::Timeout {
                topic: topic.to_string(),
                partition,
                reached: pending.next,
                waited,
            });
        }
        match consumer.poll(Duration::from_millis(100)) {
            None => {}
            Some(Err(KafkaError::PartitionEOF(partition))) => {
                // The end of what can be read: with read_committed, the last stable offset.
                if let Some(p) = progress.get_mut(&partition) {
                    p.done = true;
                    p.report(partition);
                }
            }
            Some(Err(e)) => return Err(e.into()),
            Some(Ok(m)) => {
                let partition = m.partition();
                let Some(p) = progress.get_mut(&partition) else {
                    continue;
                };
                p.fold
                    .push(m.offset(), m.key(), m.payload())
                    .map_err(|source| RestoreError::Changelog {
                        topic: topic.to_string(),
                        partition,
                        source,
                    })?;
                p.next = m.offset() + 1;
                metrics::counter!(crate::adapters::metrics::RESTORE_RECORDS).increment(1);
                p.report(partition);
            }
        }
    }
    Ok(progress
        .into_iter()
        .map(|(k, p)| (k, p.fold.finish()))
        .collect())
}
