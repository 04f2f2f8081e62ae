//! The processor: consumes the reports topic in a consumer group, folds each assigned partition
//! with a [`PartitionTask`], publishes updates and dead letters, and keeps each partition's
//! state in the changelog topic so that another instance (or this one, restarted) resumes
//! exactly where the last checkpoint left off.
//!
//! One dedicated OS thread owns a `BaseConsumer` and a `BaseProducer`; every blocking
//! librdkafka call (flush, commit, transactions, the restore read) runs on it, never on an
//! async executor. Rebalances are handled inside the consumer's rebalance callback, which runs
//! on the same thread during `poll`:
//! - on revoke: the commit cycle runs for every partition (the revoked ones still assigned, so
//!   the offset commit succeeds), then their state is dropped;
//! - on assign: each new partition is restored from its changelog partition and the input is
//!   assigned at the restored checkpoint's offset.
//!
//! Commit cycle (every `commit_interval`, every `commit_max_records` records, on revoke and on
//! shutdown): (a) flush, so every update and dead letter before the checkpoint is acknowledged;
//! (b) write the dirty incidents and a checkpoint to the changelog, flush; (c) commit the group
//! offsets (for lag visibility only: the position comes from the changelog). Under
//! `--exactly-once` the same records and the offsets go into one transaction instead.
//!
//! The guarantee does not rest on transactions: after a crash, processing resumes from the last
//! checkpoint with exactly the state it had, so every re-published version is byte-identical to
//! the one published before the crash, and a subscriber that drops `(incident, version)` pairs
//! it has seen gets the clean run's sequence.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, RebalanceProtocol};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Headers, Message};
use rdkafka::statistics::Statistics;
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use thiserror::Error;

use super::config::KafkaArgs;
use super::output::{OutputError, Outputs, SourceRecord};
use super::restore::{restore_partitions, RestoreError};
use crate::adapters::metrics as m;
use crate::core::actors::ActorNames;
use crate::core::gazetteer::Gazetteer;
use crate::core::registry::SourceRegistry;
use crate::runtime::changelog::ChangelogError;
use crate::runtime::{CommitPolicy, Outcome, PartitionTask, ReadModel, TaskStatus};
use crate::wire::{ContentType, CONTENT_TYPE_HEADER};

/// How the processor runs.
#[derive(Debug, Clone)]
pub struct ProcessorConfig {
    /// Brokers, `-X` properties and topic names.
    pub kafka: KafkaArgs,
    /// The consumer group.
    pub group_id: String,
    /// This instance's name: the client id and, under `--exactly-once`, part of the
    /// `transactional.id`. Keep it stable across restarts of one instance (a restarted
    /// instance then fences its previous incarnation) and unique among live instances.
    pub instance_id: String,
    /// The wire form of published updates.
    pub output_format: ContentType,
    /// Operator-registered sources.
    pub registry: SourceRegistry,
    /// Standard place names and their aliases (empty: reports keep the names they give).
    pub places: Arc<Gazetteer>,
    /// Actors' ids and their aliases (empty: responsibility is per id as reports give it).
    pub actors: Arc<ActorNames>,
    /// The longest time between commit cycles.
    pub commit_interval: Duration,
    /// The most records between commit cycles.
    pub commit_max_records: u64,
    /// Publish through Kafka transactions (outputs, changelog and offsets in one commit).
    pub exactly_once: bool,
    /// How long restoring the state of newly assigned partitions may take.
    pub restore_timeout: Duration,
    /// How long a flush or a transaction call may take.
    pub request_timeout: Duration,
    /// librdkafka properties for the group consumer only (e.g. `session.timeout.ms`), applied
    /// before the `-X` properties.
    pub consumer_properties: Vec<(String, String)>,
    /// The HTTP API's read model, fed with every published update and every assignment,
    /// restore and revoke (only with `--http-addr`).
    pub read_model: Option<Arc<ReadModel>>,
}

impl ProcessorConfig {
    /// The defaults: group `reckon`, JSON output, a commit cycle every 100 ms or 1000 records,
    /// at-least-once.
    pub fn new(kafka: KafkaArgs) -> Self {
        Self {
            kafka,
            group_id: "reckon".into(),
            instance_id: default_instance_id(),
            output_format: ContentType::Json,
            registry: SourceRegistry::default(),
            places: Arc::default(),
            actors: Arc::default(),
            commit_interval: Duration::from_millis(100),
            commit_max_records: 1000,
            exactly_once: false,
            restore_timeout: Duration::from_secs(300),
            request_timeout: Duration::from_secs(30),
            consumer_properties: Vec::new(),
            read_model: None,
        }
    }

    /// The `transactional.id` under `--exactly-once`.
    pub fn transactional_id(&self) -> String {
        format!("{}-{}", self.group_id, self.instance_id)
    }
}

/// The host name (stable across restarts of one instance in a container or a VM), or `reckon`.
pub fn default_instance_id() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "reckon".into())
}

/// Why the processor stopped or could not start.
#[derive(Debug, Error)]
pub enum ProcessorError {
    /// A Kafka call failed.
    #[error("kafka: {0}")]
    Kafka(#[from] KafkaError),
    /// Producing failed.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// Restoring a partition failed.
    #[error(transparent)]
    Restore(#[from] RestoreError),
    /// A changelog record could not be encoded.
    #[error(transparent)]
    Changelog(#[from] ChangelogError),
    /// The consumer hit a fatal error.
    #[error("fatal consumer error: {0}")]
    Fatal(String),
    /// The processor thread panicked.
    #[error("the processor thread panicked")]
    Panicked,
    /// Waiting for the processor timed out.
    #[error("timed out after {0:?}: {1}")]
    Timeout(Duration, String),
}

/// A snapshot of what the processor is doing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    /// Assigned partitions and their tasks.
    pub partitions: BTreeMap<i32, TaskStatus>,
    /// Input records processed.
    pub records: u64,
    /// Updates published.
    pub updates: u64,
    /// Records dead-lettered.
    pub dead_letters: u64,
    /// Commit cycles that wrote a checkpoint.
    pub checkpoints: u64,
    /// Partitions restored from the changelog.
    pub restores: u64,
    /// Transactions aborted (and partitions restored again) under `--exactly-once`.
    pub aborts: u64,
}

#[derive(Debug, Default)]
struct Shared {
    stop: AtomicBool,
    status: Mutex<Status>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere leaves the data as it was; the thread's own result reports the panic.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

mod context;
mod handle;
mod worker;

use worker::Worker;

pub use context::ProcessorContext;
pub use handle::{caught_up, input_end_offsets, Processor, ProcessorHandle};
