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

/// How long a partition assigned at a checkpoint may stay silent (no record, no end event)
/// before the processor reads from an earlier offset.
const RESUME_PROBE_AFTER: Duration = Duration::from_millis(500);

/// A partition assigned at checkpoint `target`, read from `from` (`from <= target`).
///
/// A compliant broker returns the record at `target` first (or the next one, past a gap).
/// Tansu 0.6.0 does not: a fetch at an offset inside a record batch returns the *following*
/// batches, silently skipping the rest of that batch, and a fetch inside the last batch returns
/// nothing at all. So when the first record is past `target` (or nothing comes), the partition
/// is read again from further back (1, 2, 4, ... records before `target`) until a record at or
/// before `target` arrives: the task skips what it already reflects. On a compliant broker
/// this costs at most one extra seek, when the checkpoint sits on a gap (a transaction marker).
#[derive(Debug, Clone, Copy)]
struct Resume {
    target: i64,
    from: i64,
    since: Instant,
}

/// Everything the processor thread and its rebalance callback share.
struct Worker {
    config: ProcessorConfig,
    restore_config: ClientConfig,
    outputs: Outputs,
    tasks: BTreeMap<i32, PartitionTask>,
    /// Partitions assigned at a checkpoint, until a record (or the end) shows the broker really
    /// resumed there.
    resuming: BTreeMap<i32, Resume>,
    policy: CommitPolicy,
    /// Set when the processor can no longer write consistent state: no more checkpoints.
    poisoned: bool,
    /// An error raised in a callback, for the loop to stop on.
    fatal: Option<ProcessorError>,
    status: Status,
    shared: Arc<Shared>,
}

impl Worker {
    fn topic(&self) -> &str {
        &self.config.kafka.topics.reports_topic
    }

    fn publish_status(&mut self) {
        self.status.partitions = self.tasks.iter().map(|(p, t)| (*p, t.status())).collect();
        *lock(&self.shared.status) = self.status.clone();
        metrics::gauge!(m::ASSIGNED_PARTITIONS).set(self.tasks.len() as f64);
    }

    /// Checks a partition that is resuming at a checkpoint: `Ok(true)` when the record at
    /// `offset` (`None`: nothing arrived in time) may be processed, `Ok(false)` when the
    /// partition was moved back to read from earlier.
    fn check_resume(
        &mut self,
        consumer: &BaseConsumer<ProcessorContext>,
        partition: i32,
        offset: Option<i64>,
    ) -> Result<bool, ProcessorError> {
        let Some(r) = self.resuming.get_mut(&partition) else {
            return Ok(true);
        };
        if offset.is_some_and(|o| o <= r.target) || r.from <= 0 {
            self.resuming.remove(&partition);
            return Ok(true);
        }
        let distance = (r.target - r.from).max(0);
        let from = (r.target - (distance * 2).max(1)).max(0);
        if distance == 0 {
            tracing::info!(
                partition,
                checkpoint = r.target,
                first_offset = offset,
                "the broker did not resume the partition at its checkpoint; reading from earlier offsets"
            );
        }
        r.from = from;
        r.since = Instant::now();
        let topic = self.config.kafka.topics.reports_topic.clone();
        if let Err(e) = consumer.seek(
            &topic,
            partition,
            Offset::Offset(from),
            self.config.request_timeout,
        ) {
            // Tried again after the probe interval.
            tracing::debug!(partition, from, error = %e, "seek failed");
        }
        Ok(false)
    }

    /// Probes partitions that stayed silent since they were assigned at a checkpoint.
    fn probe_silent(
        &mut self,
        consumer: &BaseConsumer<ProcessorContext>,
    ) -> Result<(), ProcessorError> {
        let silent: Vec<i32> = self
            .resuming
            .iter()
            .filter(|(_, r)| r.since.elapsed() >= RESUME_PROBE_AFTER)
            .map(|(p, _)| *p)
            .collect();
        for p in silent {
            self.check_resume(consumer, p, None)?;
        }
        Ok(())
    }

    /// Processes one input record.
    fn handle(
        &mut self,
        consumer: &BaseConsumer<ProcessorContext>,
        msg: &BorrowedMessage<'_>,
    ) -> Result<(), ProcessorError> {
        let partition = msg.partition();
        if !self.check_resume(consumer, partition, Some(msg.offset()))? {
            return Ok(());
        }
        let started = Instant::now();
        let Some(task) = self.tasks.get_mut(&partition) else {
            // Fetched before its partition was revoked: the new owner processes it.
            return Ok(());
        };
        let content_type = msg.headers().and_then(|h| {
            h.iter()
                .filter(|h| h.key.eq_ignore_ascii_case(CONTENT_TYPE_HEADER))
                .last()
                .and_then(|h| h.value)
        });
        let offset = msg.offset();
        let outcome = task.process(offset, msg.payload(), content_type);
        metrics::counter!(m::RECORDS_CONSUMED, "partition" => partition.to_string()).increment(1);
        match outcome {
            Outcome::AlreadyProcessed => {
                tracing::debug!(partition, offset, "record already reflected in the state");
                return Ok(());
            }
            Outcome::Updates { report_id, updates } => {
                metrics::counter!(m::REPORTS_PROCESSED).increment(1);
                if updates.is_empty() {
                    tracing::debug!(partition, offset, report_id = %report_id, "report changed no view");
                }
                for u in &updates {
                    self.outputs.send_update(u)?;
                    if let Some(rm) = &self.config.read_model {
                        rm.apply(partition, u);
                    }
                    tracing::debug!(
                        partition,
                        offset,
                        report_id = %report_id,
                        incident_id = %u.incident_id,
                        version = u.version,
                        "update"
                    );
                }
                self.status.updates += updates.len() as u64;
                metrics::counter!(m::UPDATES_PUBLISHED).increment(updates.len() as u64);
                if let Some(ts) = msg.timestamp().to_millis() {
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_millis() as i64)
                        .unwrap_or(ts);
                    metrics::histogram!(m::END_TO_END_SECONDS)
                        .record((now - ts).max(0) as f64 / 1000.0);
                }
            }
            Outcome::DeadLetter(error) => {
                tracing::warn!(
                    partition,
                    offset,
                    reason_code = error.reason_code(),
                    reason = %error,
                    "dead letter"
                );
                let source = SourceRecord {
                    topic: msg.topic(),
                    partition,
                    offset,
                    key: msg.key(),
                    payload: msg.payload(),
                    headers: msg.headers(),
                };
                self.outputs.send_dead_letter(&source, &error)?;
                self.status.dead_letters += 1;
                metrics::counter!(m::DEAD_LETTERS, "reason" => error.reason_code()).increment(1);
            }
        }
        self.status.records += 1;
        self.policy.record();
        metrics::histogram!(m::PROCESSING_SECONDS).record(started.elapsed().as_secs_f64());
        Ok(())
    }

    /// The commit cycle for every partition. `sync` waits for the offset commit (on revoke
    /// and shutdown, when the partitions are about to go).
    fn commit(
        &mut self,
        consumer: &BaseConsumer<ProcessorContext>,
        sync: bool,
    ) -> Result<(), ProcessorError> {
        let result = self.commit_inner(consumer, sync);
        // The interval runs from the end of a cycle: a cycle slower than the interval (a slow
        // broker) must not make every record trigger the next one.
        self.policy.committed(Instant::now());
        self.publish_status();
        result
    }

    fn commit_inner(
        &mut self,
        consumer: &BaseConsumer<ProcessorContext>,
        sync: bool,
    ) -> Result<(), ProcessorError> {
        if self.poisoned {
            return Ok(());
        }
        let started = Instant::now();
        let transactional = self.outputs.transactional();
        if !transactional {
            // (a) Everything published so far is acknowledged before a checkpoint passes it.
            self.outputs.flush()?;
        } else if !self.outputs.in_transaction()
            && !self.tasks.values().any(PartitionTask::needs_checkpoint)
        {
            return Ok(());
        }
        // (b) The changed incidents and a checkpoint per partition.
        let mut offsets = TopicPartitionList::new();
        let mut written = 0usize;
        let topic = self.topic().to_string();
        for task in self.tasks.values_mut() {
            let Some(batch) = task.take_checkpoint()? else {
                continue;
            };
            for r in &batch.records {
                self.outputs.send_changelog(batch.partition, r)?;
            }
            written += batch.records.len();
            offsets.add_partition_offset(
                &topic,
                batch.partition,
                Offset::Offset(batch.next_offset),
            )?;
            tracing::debug!(
                partition = batch.partition,
                next_offset = batch.next_offset,
                records = batch.records.len(),
                "checkpoint"
            );
        }
        if transactional {
            let group = consumer
                .group_metadata()
                .ok_or_else(|| ProcessorError::Fatal("no consumer group metadata".into()))?;
            let t = Instant::now();
            match self.outputs.commit_transaction(&offsets, &group) {
                Ok(()) => {
                    metrics::histogram!(m::TRANSACTION_SECONDS).record(t.elapsed().as_secs_f64());
                }
                Err(e) if e.is_abortable() => {
                    tracing::warn!(error = %e, "aborting the transaction and restoring every partition");
                    self.outputs.abort_transaction()?;
                    self.status.aborts += 1;
                    self.reset_all(consumer)?;
                    return Ok(());
                }
                Err(e) => {
                    self.poisoned = true;
                    return Err(e.into());
                }
            }
        } else {
            if offsets.count() == 0 {
                return Ok(());
            }
            if let Err(e) = self.outputs.flush() {
                // Some checkpoint may be missing: no later one may be written over it.
                self.poisoned = true;
                return Err(e.into());
            }
            // (c) Offsets, for lag visibility.
            let mode = if sync {
                CommitMode::Sync
            } else {
                CommitMode::Async
            };
            if let Err(e) = consumer.commit(&offsets, mode) {
                tracing::warn!(error = %e, "offset commit failed (the changelog checkpoint stands)");
            }
        }
        if offsets.count() > 0 {
            self.status.checkpoints += 1;
        }
        metrics::histogram!(m::COMMIT_SECONDS).record(started.elapsed().as_secs_f64());
        tracing::trace!(records = written, "commit cycle");
        Ok(())
    }

    /// Restores `partitions` from the changelog and returns where to read each one from.
    fn restore(&mut self, partitions: &[i32]) -> Result<Vec<(i32, Offset)>, ProcessorError> {
        let fresh: Vec<i32> = partitions
            .iter()
            .copied()
            .filter(|p| !self.tasks.contains_key(p))
            .collect();
        if let Some(rm) = &self.config.read_model {
            rm.joined();
            for p in &fresh {
                rm.assign(*p);
            }
        }
        let started = Instant::now();
        let restored = restore_partitions(
            &self.restore_config,
            &self.config.kafka.topics.changelog_topic,
            &fresh,
            self.config.restore_timeout,
        )?;
        for (p, r) in restored {
            tracing::info!(
                partition = p,
                incidents = r.incidents.len(),
                next_offset = r.next_offset,
                changelog_records = r.records,
                discarded = r.discarded,
                stale = r.stale.len(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "restored partition"
            );
            if r.discarded > 0 {
                tracing::warn!(
                    partition = p,
                    discarded = r.discarded,
                    "changelog records after the last checkpoint were discarded (a crash during a commit cycle); they are rewritten at the next checkpoint"
                );
            }
            let task = PartitionTask::restore(p, self.config.registry.clone(), r);
            if let Some(rm) = &self.config.read_model {
                rm.restored(p, task.engine().current_updates());
            }
            self.tasks.insert(p, task);
            self.status.restores += 1;
        }
        let now = Instant::now();
        let mut starts = Vec::with_capacity(partitions.len());
        for p in partitions {
            let offset = match self.tasks.get(p) {
                // A task kept over a cooperative rebalance resumes where it is.
                Some(t) if !fresh.contains(p) => Some(t.next_offset()),
                Some(t) => t.resume_offset(),
                None => None,
            };
            match offset {
                Some(o) if o > 0 => {
                    self.resuming.insert(
                        *p,
                        Resume {
                            target: o,
                            from: o,
                            since: now,
                        },
                    );
                    starts.push((*p, Offset::Offset(o)));
                }
                _ => {
                    self.resuming.remove(p);
                    starts.push((*p, Offset::Beginning));
                }
            }
        }
        Ok(starts)
    }

    /// After an aborted transaction: drops every task, restores them from the changelog and
    /// moves the consumer back to the restored checkpoints.
    fn reset_all(
        &mut self,
        consumer: &BaseConsumer<ProcessorContext>,
    ) -> Result<(), ProcessorError> {
        let partitions: Vec<i32> = self.tasks.keys().copied().collect();
        self.tasks.clear();
        self.resuming.clear();
        let topic = self.topic().to_string();
        for (p, offset) in self.restore(&partitions)? {
            consumer.seek(&topic, p, offset, self.config.request_timeout)?;
        }
        self.publish_status();
        Ok(())
    }

    fn on_assign(
        &mut self,
        consumer: &BaseConsumer<ProcessorContext>,
        tpl: &TopicPartitionList,
    ) -> Result<(), ProcessorError> {
        let topic = self.topic().to_string();
        let partitions: Vec<i32> = tpl
            .elements_for_topic(&topic)
            .iter()
            .map(|e| e.partition())
            .collect();
        metrics::counter!(m::REBALANCES, "kind" => "assign").increment(1);
        tracing::info!(?partitions, "partitions assigned");
        let starts = self.restore(&partitions)?;
        let mut assignment = TopicPartitionList::new();
        for (p, offset) in starts {
            assignment.add_partition_offset(&topic, p, offset)?;
        }
        match consumer.rebalance_protocol() {
            RebalanceProtocol::Cooperative => consumer.incremental_assign(&assignment)?,
            _ => consumer.assign(&assignment)?,
        }
        self.policy.committed(Instant::now());
        self.publish_status();
        Ok(())
    }

    fn on_revoke(
        &mut self,
        consumer: &BaseConsumer<ProcessorContext>,
        tpl: &TopicPartitionList,
    ) -> Result<(), ProcessorError> {
        let topic = self.topic().to_string();
        let partitions: Vec<i32> = tpl
            .elements_for_topic(&topic)
            .iter()
            .map(|e| e.partition())
            .collect();
        metrics::counter!(m::REBALANCES, "kind" => "revoke").increment(1);
        let lost = consumer.assignment_lost();
        tracing::info!(?partitions, lost, "partitions revoked");
        let result = if lost {
            // Another instance may own them already: writing their changelog now could
            // interleave with its records. Their unsaved progress is redone by the new owner.
            if self.outputs.in_transaction() {
                let _ = self.outputs.abort_transaction();
            }
            Ok(())
        } else {
            self.commit(consumer, true)
        };
        for p in &partitions {
            self.tasks.remove(p);
            self.resuming.remove(p);
            if let Some(rm) = &self.config.read_model {
                rm.revoke(*p);
            }
        }
        let unassign = match consumer.rebalance_protocol() {
            RebalanceProtocol::Cooperative => consumer.incremental_unassign(tpl),
            _ => consumer.unassign(),
        };
        self.publish_status();
        result?;
        unassign?;
        Ok(())
    }
}

/// The consumer context: rebalance callbacks drive the worker; statistics feed the lag gauge.
pub struct ProcessorContext {
    worker: Mutex<Worker>,
}

impl ProcessorContext {
    fn worker(&self) -> MutexGuard<'_, Worker> {
        lock(&self.worker)
    }
}

impl ClientContext for ProcessorContext {
    fn stats(&self, stats: Statistics) {
        let w = self.worker();
        if let Some(t) = stats.topics.get(w.topic()) {
            for (p, s) in &t.partitions {
                if *p >= 0 && s.consumer_lag >= 0 {
                    metrics::gauge!(m::CONSUMER_LAG, "partition" => p.to_string())
                        .set(s.consumer_lag as f64);
                }
            }
        }
        for (p, t) in &w.tasks {
            metrics::gauge!(m::INCIDENTS, "partition" => p.to_string())
                .set(t.engine().live_incidents() as f64);
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        // End-of-partition events are asked for (they tell when the input is processed).
        if matches!(error, KafkaError::PartitionEOF(_))
            || reason.contains("reached end of partition")
        {
            return;
        }
        tracing::error!(error = %error, reason, "consumer error");
    }
}

impl ConsumerContext for ProcessorContext {
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        tpl: &mut TopicPartitionList,
    ) {
        let mut w = self.worker();
        let result = match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => w.on_assign(consumer, tpl),
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => w.on_revoke(consumer, tpl),
            other => {
                tracing::error!(error = ?other, "rebalance error");
                w.tasks.clear();
                if let Some(rm) = &w.config.read_model {
                    rm.revoke_all();
                }
                w.publish_status();
                consumer.unassign().map_err(ProcessorError::from)
            }
        };
        if let Err(e) = result {
            tracing::error!(error = %e, "rebalance failed; stopping");
            w.poisoned = true;
            w.fatal.get_or_insert(e);
        }
    }
}

/// The processor's entry point.
#[derive(Debug)]
pub struct Processor;

impl Processor {
    /// Creates the clients, joins the group and starts the processor thread. Topics must
    /// exist (see [`super::ensure_topics`]).
    pub fn start(config: ProcessorConfig) -> Result<ProcessorHandle, ProcessorError> {
        let kafka = &config.kafka;
        let client_id = format!("reckon-{}", config.instance_id);
        let mut producer_settings: Vec<(&str, String)> = vec![
            ("client.id", client_id.clone()),
            ("enable.idempotence", "true".into()),
            // The Java client's partitioner: updates of one incident land where any Kafka
            // client would put them.
            ("partitioner", "murmur2_random".into()),
            ("linger.ms", "5".into()),
        ];
        if config.exactly_once {
            producer_settings.push(("transactional.id", config.transactional_id()));
        }
        let producer_config = kafka.client_config_with(
            &producer_settings
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect::<Vec<_>>(),
        );
        let outputs = Outputs::new(
            &producer_config,
            kafka.topics.clone(),
            config.output_format,
            config.exactly_once,
            config.request_timeout,
        )?;
        let mut consumer_settings: Vec<(&str, &str)> = vec![
            ("group.id", config.group_id.as_str()),
            ("client.id", client_id.as_str()),
            // The position comes from the changelog checkpoint; commits are for lag only and
            // are made by the commit cycle.
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("auto.offset.reset", "earliest"),
            ("isolation.level", "read_committed"),
            // Eager rebalancing: a revoke hands every partition over at once.
            ("partition.assignment.strategy", "roundrobin"),
            // End-of-partition events tell when the input is processed to its end (listed
            // watermarks cannot: Tansu 0.6.0 lists a batch's base offset + 1).
            ("enable.partition.eof", "true"),
            ("statistics.interval.ms", "5000"),
        ];
        consumer_settings.extend(
            config
                .consumer_properties
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        let consumer_config = kafka.client_config_with(&consumer_settings);
        let restore_config = kafka.client_config_with(&[("client.id", client_id.as_str())]);
        let shared = Arc::new(Shared::default());
        let worker = Worker {
            policy: CommitPolicy::new(
                config.commit_interval,
                config.commit_max_records,
                Instant::now(),
            ),
            config: config.clone(),
            restore_config,
            outputs,
            tasks: BTreeMap::new(),
            resuming: BTreeMap::new(),
            poisoned: false,
            fatal: None,
            status: Status::default(),
            shared: shared.clone(),
        };
        let consumer: BaseConsumer<ProcessorContext> =
            consumer_config.create_with_context(ProcessorContext {
                worker: Mutex::new(worker),
            })?;
        consumer.subscribe(&[kafka.topics.reports_topic.as_str()])?;
        tracing::info!(
            group_id = %config.group_id,
            instance_id = %config.instance_id,
            brokers = %kafka.brokers,
            reports_topic = %kafka.topics.reports_topic,
            exactly_once = config.exactly_once,
            output_format = config.output_format.mime(),
            "processor started"
        );
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("reckon-processor".into())
            .spawn(move || run_loop(consumer, &thread_shared))
            .map_err(|e| ProcessorError::Fatal(format!("spawning the processor thread: {e}")))?;
        Ok(ProcessorHandle {
            shared,
            thread: Some(thread),
            kafka: config.kafka,
        })
    }
}

fn poll_loop(
    consumer: &BaseConsumer<ProcessorContext>,
    shared: &Shared,
) -> Result<(), ProcessorError> {
    let ctx = consumer.context().clone();
    while !shared.stop.load(Ordering::Relaxed) {
        if let Some(e) = ctx.worker().fatal.take() {
            return Err(e);
        }
        // The worker is not locked during poll: rebalance callbacks lock it.
        match consumer.poll(Duration::from_millis(20)) {
            None => {}
            Some(Ok(msg)) => ctx.worker().handle(consumer, &msg)?,
            Some(Err(KafkaError::PartitionEOF(p))) => {
                // Offsets past the last record (transaction markers) are skipped by the
                // client: the position says where the partition really ends.
                let position = consumer.position().ok().and_then(|tpl| {
                    tpl.find_partition(&ctx.worker().config.kafka.topics.reports_topic, p)
                        .and_then(|e| e.offset().to_raw())
                        .filter(|o| *o >= 0)
                });
                let mut w = ctx.worker();
                // Nothing past the checkpoint: resumed where it should.
                w.resuming.remove(&p);
                if let Some(t) = w.tasks.get_mut(&p) {
                    t.reached_end(position);
                }
            }
            Some(Err(KafkaError::MessageConsumptionFatal(code))) => {
                return Err(ProcessorError::Fatal(code.to_string()));
            }
            Some(Err(e)) => tracing::warn!(error = %e, "consumer error"),
        }
        if let Some((code, reason)) = consumer.client().fatal_error() {
            return Err(ProcessorError::Fatal(format!("{code:?}: {reason}")));
        }
        let mut w = ctx.worker();
        w.outputs.poll();
        if !w.resuming.is_empty() {
            w.probe_silent(consumer)?;
        }
        if w.policy.due(Instant::now()) {
            w.commit(consumer, false)?;
        }
    }
    Ok(())
}

fn run_loop(
    consumer: BaseConsumer<ProcessorContext>,
    shared: &Shared,
) -> Result<Status, ProcessorError> {
    let ctx = consumer.context().clone();
    let mut result = poll_loop(&consumer, shared);
    if result.is_ok() {
        tracing::info!("stopping: final commit cycle");
        result = ctx.worker().commit(&consumer, true);
    }
    if let Err(e) = &result {
        tracing::error!(error = %e, "processor failed; no further checkpoint is written");
        ctx.worker().poisoned = true;
    }
    // Leave the group: dropping the consumer closes it, and the revoke callback runs then (its
    // commit cycle has nothing left to write after the one above).
    drop(consumer);
    let mut w = ctx.worker();
    if w.outputs.in_transaction() {
        let _ = w.outputs.abort_transaction();
    }
    if result.is_ok() {
        if let Some(e) = w.fatal.take() {
            result = Err(e);
        }
    }
    w.tasks.clear();
    if let Some(rm) = &w.config.read_model {
        rm.revoke_all();
    }
    w.publish_status();
    let status = w.status.clone();
    drop(w);
    tracing::info!(
        records = status.records,
        updates = status.updates,
        dead_letters = status.dead_letters,
        "processor stopped"
    );
    result.map(|()| status)
}

/// A running processor.
#[derive(Debug)]
pub struct ProcessorHandle {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<Result<Status, ProcessorError>>>,
    kafka: KafkaArgs,
}

impl ProcessorHandle {
    /// What the processor is doing now.
    pub fn status(&self) -> Status {
        lock(&self.shared.status).clone()
    }

    /// Whether the processor thread has ended (after a stop request or an error).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Asks the processor to stop; [`Self::shutdown`] or [`Self::wait`] then returns.
    pub fn request_stop(&self) {
        self.shared.stop.store(true, Ordering::Relaxed);
    }

    /// Stops: runs a last commit cycle for every partition, leaves the group, and returns the
    /// final status (or the error that stopped the processor).
    pub fn shutdown(self) -> Result<Status, ProcessorError> {
        self.request_stop();
        self.wait()
    }

    /// Waits until the processor thread ends.
    pub fn wait(mut self) -> Result<Status, ProcessorError> {
        match self.thread.take() {
            Some(t) => t.join().map_err(|_| ProcessorError::Panicked)?,
            None => Ok(self.status()),
        }
    }

    /// Waits until the checkpoints of this processor cover the whole reports topic as it is
    /// now (every partition's checkpoint at its high watermark), or the processor ends.
    pub fn wait_until_caught_up(&self, timeout: Duration) -> Result<(), ProcessorError> {
        let ends = input_end_offsets(&self.kafka, Duration::from_secs(10))?;
        let deadline = Instant::now() + timeout;
        loop {
            let status = self.status();
            if caught_up(&[&status], &ends) {
                return Ok(());
            }
            if self.is_finished() {
                return Err(ProcessorError::Fatal(
                    "the processor stopped before catching up".into(),
                ));
            }
            if Instant::now() >= deadline {
                return Err(ProcessorError::Timeout(
                    timeout,
                    format!("ends {ends:?}, status {:?}", status.partitions),
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ProcessorHandle {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            self.shared.stop.store(true, Ordering::Relaxed);
            let _ = t.join();
        }
    }
}

/// The `(low, high)` watermarks of every partition of the reports topic.
pub fn input_end_offsets(
    kafka: &KafkaArgs,
    timeout: Duration,
) -> Result<BTreeMap<i32, (i64, i64)>, ProcessorError> {
    let consumer: BaseConsumer = kafka.client_config().create()?;
    let topic = &kafka.topics.reports_topic;
    // Every topic's metadata: asking for one by name can auto-create it on some brokers.
    let md = consumer.fetch_metadata(None, timeout)?;
    let mut out = BTreeMap::new();
    for t in md.topics().iter().filter(|t| t.name() == topic) {
        for p in t.partitions() {
            out.insert(p.id(), consumer.fetch_watermarks(topic, p.id(), timeout)?);
        }
    }
    if out.is_empty() {
        return Err(ProcessorError::Fatal(format!(
            "topic {topic} has no partitions"
        )));
    }
    Ok(out)
}

/// Whether the processors in `statuses` (one per instance of the group) have processed and
/// checkpointed every partition to its end: the consumer reported the end of the partition
/// after the last record, everything processed is checkpointed, and the checkpoint is at or
/// past the listed high watermark in `ends` (from [`input_end_offsets`]). The end-of-partition
/// event is what makes this right on brokers whose listed watermarks fall short (Tansu); the
/// watermark is what makes it right for records produced after an earlier end event.
pub fn caught_up(statuses: &[&Status], ends: &BTreeMap<i32, (i64, i64)>) -> bool {
    ends.iter().all(|(p, (low, high))| {
        high <= low
            || statuses.iter().any(|s| {
                s.partitions.get(p).is_some_and(|t| {
                    t.at_end && t.checkpointed == Some(t.next_offset) && t.next_offset >= *high
                })
            })
    })
}
