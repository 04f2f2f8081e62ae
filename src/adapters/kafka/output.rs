//! The processor's producer: updates, dead letters and changelog records, with delivery
//! tracking (a commit cycle checkpoints only after everything before it was acknowledged) and,
//! under `--exactly-once`, Kafka transactions.
//!
//! A `BaseProducer` polled by the processor thread: delivery callbacks run inside
//! [`Outputs::poll`] and [`Outputs::flush`], never on an async executor.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use rdkafka::client::ClientContext;
use rdkafka::consumer::ConsumerGroupMetadata;
use rdkafka::error::{KafkaError, RDKafkaError};
use rdkafka::message::{BorrowedHeaders, DeliveryResult, Header, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, Message, TopicPartitionList};
use thiserror::Error;

use super::config::TopicArgs;
use super::feeder::{
    DLQ_REASON_CODE_HEADER, DLQ_REASON_HEADER, DLQ_SOURCE_OFFSET_HEADER,
    DLQ_SOURCE_PARTITION_HEADER, DLQ_SOURCE_TOPIC_HEADER,
};
use crate::core::update::Update;
use crate::runtime::changelog::ChangelogRecord;
use crate::wire::{encode_update, ContentType, DecodeError, CONTENT_TYPE_HEADER};

/// How often a retriable transaction commit is tried before the processor gives up.
const COMMIT_ATTEMPTS: u32 = 5;

/// Header of an update: its version, so consumers can deduplicate without decoding.
pub const VERSION_HEADER: &str = "reckon-version";

/// Why producing failed.
#[derive(Debug, Error)]
pub enum OutputError {
    /// A Kafka call failed.
    #[error("kafka: {0}")]
    Kafka(#[from] KafkaError),
    /// Messages were not acknowledged: the checkpoint must not be written.
    #[error("{count} message(s) were not delivered; first: {first}")]
    Delivery {
        /// Failed deliveries.
        count: u64,
        /// The first failure.
        first: String,
    },
    /// The producer hit a fatal error (e.g. fenced by a newer instance, lost idempotence).
    #[error("fatal producer error {code:?}: {reason}")]
    Fatal {
        /// The code.
        code: RDKafkaErrorCode,
        /// librdkafka's explanation.
        reason: String,
    },
    /// A record is larger than the producer may send. An incident's update and state grow with
    /// its evidence, so a very large incident can outgrow the default limit (1,000,000 bytes).
    #[error(
        "{what} is {bytes} bytes, more than the producer's message.max.bytes allows: raise it \
         (-X message.max.bytes=N) and the topics' max.message.bytes on the broker"
    )]
    TooLarge {
        /// Which record.
        what: String,
        /// Its payload size.
        bytes: usize,
    },
    /// The broker does not implement transactions.
    #[error(
        "the broker does not support transactions ({0}); run without --exactly-once \
         (the at-least-once guarantee does not need them)"
    )]
    TransactionsUnsupported(String),
    /// A transaction call failed.
    #[error("transaction: {error} (abortable: {abortable}, retriable: {retriable})")]
    Transaction {
        /// librdkafka's error.
        error: String,
        /// The transaction must be aborted (state rolled back) and the work redone.
        abortable: bool,
        /// The call may be retried.
        retriable: bool,
    },
}

impl OutputError {
    fn from_txn(e: KafkaError) -> Self {
        match &e {
            KafkaError::Transaction(t) => Self::txn(t),
            _ => Self::Kafka(e),
        }
    }

    fn txn(t: &RDKafkaError) -> Self {
        let text = t.string();
        // librdkafka words a missing API as "... not supported by broker" and calls it
        // retriable; retrying cannot help.
        if text.contains("not supported by broker") {
            return Self::TransactionsUnsupported(text);
        }
        if t.is_fatal() {
            return Self::Fatal {
                code: t.code(),
                reason: t.string(),
            };
        }
        Self::Transaction {
            error: t.string(),
            abortable: t.txn_requires_abort(),
            retriable: t.is_retriable(),
        }
    }

    /// Whether the current transaction must be aborted and its work redone.
    pub fn is_abortable(&self) -> bool {
        matches!(
            self,
            Self::Transaction {
                abortable: true,
                ..
            }
        )
    }
}

/// Counts deliveries and keeps the first failure.
#[derive(Debug, Default)]
pub struct OutputContext {
    delivered: AtomicU64,
    failed: AtomicU64,
    first_failure: Mutex<Option<String>>,
}

impl ClientContext for OutputContext {
    fn error(&self, error: KafkaError, reason: &str) {
        tracing::error!(error = %error, reason, "producer error");
    }
}

impl ProducerContext for OutputContext {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => {
                self.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Err((e, m)) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                let mut first = self.first_failure.lock().unwrap_or_else(|p| p.into_inner());
                if first.is_none() {
                    *first = Some(format!("{} [{}]: {e}", m.topic(), m.partition()));
                }
            }
        }
    }
}

/// Where a dead-lettered record came from, and what it held.
#[derive(Clone, Copy)]
pub struct SourceRecord<'a> {
    /// The input topic.
    pub topic: &'a str,
    /// Its partition.
    pub partition: i32,
    /// Its offset.
    pub offset: i64,
    /// Its key.
    pub key: Option<&'a [u8]>,
    /// Its value.
    pub payload: Option<&'a [u8]>,
    /// Its headers.
    pub headers: Option<&'a BorrowedHeaders>,
}

/// The processor's producer.
pub struct Outputs {
    producer: BaseProducer<OutputContext>,
    topics: TopicArgs,
    format: ContentType,
    transactional: bool,
    in_transaction: bool,
    timeout: Duration,
}

impl std::fmt::Debug for Outputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outputs")
            .field("format", &self.format)
            .field("transactional", &self.transactional)
            .field("in_transaction", &self.in_transaction)
            .finish()
    }
}

impl Outputs {
    /// Creates the producer from a configuration that already holds its settings (idempotence,
    /// `transactional.id` when `transactional`); initialises transactions when asked to.
    /// `timeout` bounds flushes and transaction calls.
    pub fn new(
        config: &ClientConfig,
        topics: TopicArgs,
        format: ContentType,
        transactional: bool,
        timeout: Duration,
    ) -> Result<Self, OutputError> {
        let producer: BaseProducer<OutputContext> =
            config.create_with_context(OutputContext::default())?;
        if transactional {
            producer
                .init_transactions(timeout)
                .map_err(OutputError::from_txn)?;
        }
        Ok(Self {
            producer,
            topics,
            format,
            transactional,
            in_transaction: false,
            timeout,
        })
    }

    /// Whether outputs go through transactions.
    pub fn transactional(&self) -> bool {
        self.transactional
    }

    /// Whether a transaction is open.
    pub fn in_transaction(&self) -> bool {
        self.in_transaction
    }

    fn begin_if_needed(&mut self) -> Result<(), OutputError> {
        if self.transactional && !self.in_transaction {
            self.producer
                .begin_transaction()
                .map_err(OutputError::from_txn)?;
            self.in_transaction = true;
        }
        Ok(())
    }

    /// Enqueues a record, waiting for room when the local queue is full. `what` names the
    /// record in an error.
    fn send(
        &mut self,
        mut record: BaseRecord<'_, [u8], [u8], ()>,
        what: impl FnOnce() -> String,
    ) -> Result<(), OutputError> {
        self.begin_if_needed()?;
        loop {
            match self.producer.send(record) {
                Ok(()) => return Ok(()),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    self.producer.poll(Duration::from_millis(50));
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge), r)) => {
                    return Err(OutputError::TooLarge {
                        what: what(),
                        bytes: r.payload.map_or(0, <[u8]>::len),
                    });
                }
                Err((e, _)) => return Err(e.into()),
            }
        }
    }

    /// Publishes an update: key = incident id, headers content type and version.
    pub fn send_update(&mut self, update: &Update) -> Result<(), OutputError> {
        let payload = encode_update(update, self.format);
        let version = update.version.to_string();
        let headers = OwnedHeaders::new_with_capacity(2)
            .insert(Header {
                key: CONTENT_TYPE_HEADER,
                value: Some(self.format.mime()),
            })
            .insert(Header {
                key: VERSION_HEADER,
                value: Some(version.as_str()),
            });
        let topic = self.topics.updates_topic.clone();
        let record = BaseRecord::to(&topic)
            .key(update.incident_id.as_str().as_bytes())
            .payload(payload.as_slice())
            .headers(headers);
        self.send(record, || {
            format!(
                "the update of incident {} (version {})",
                update.incident_id, update.version
            )
        })
    }

    /// Sends a rejected record to the dead-letter topic: its key, value and headers as they
    /// were, plus the reason and where it came from.
    pub fn send_dead_letter(
        &mut self,
        source: &SourceRecord<'_>,
        error: &DecodeError,
    ) -> Result<(), OutputError> {
        let mut headers = source
            .headers
            .map(BorrowedHeaders::detach)
            .unwrap_or_default();
        let ours = [
            (DLQ_REASON_HEADER, error.to_string()),
            (DLQ_REASON_CODE_HEADER, error.reason_code().to_string()),
            (DLQ_SOURCE_TOPIC_HEADER, source.topic.to_string()),
            (DLQ_SOURCE_PARTITION_HEADER, source.partition.to_string()),
            (DLQ_SOURCE_OFFSET_HEADER, source.offset.to_string()),
        ];
        for (k, v) in ours {
            headers = headers.insert(Header {
                key: k,
                value: Some(v.as_str()),
            });
        }
        let has_ct = source.headers.is_some_and(|h| {
            rdkafka::message::Headers::iter(h).any(|h| h.key == CONTENT_TYPE_HEADER)
        });
        if !has_ct {
            // Say what the record was read as (JSON, the default), so a replay reads it alike.
            headers = headers.insert(Header {
                key: CONTENT_TYPE_HEADER,
                value: Some(ContentType::Json.mime()),
            });
        }
        let topic = self.topics.dead_letter_topic.clone();
        let mut record = BaseRecord::to(&topic).headers(headers);
        if let Some(k) = source.key {
            record = record.key(k);
        }
        if let Some(p) = source.payload {
            record = record.payload(p);
        }
        self.send(record, || {
            format!(
                "the dead letter of {} [{}] offset {}",
                source.topic, source.partition, source.offset
            )
        })
    }

    /// Writes a changelog record to changelog partition `partition`.
    pub fn send_changelog(
        &mut self,
        partition: i32,
        record: &ChangelogRecord,
    ) -> Result<(), OutputError> {
        let topic = self.topics.changelog_topic.clone();
        let mut r = BaseRecord::to(&topic)
            .partition(partition)
            .key(record.key.as_bytes());
        if let Some(v) = &record.value {
            r = r.payload(v.as_slice());
        }
        self.send(r, || format!("the changelog record {:?}", record.key))
    }

    /// Serves delivery callbacks without waiting.
    pub fn poll(&self) {
        self.producer.poll(Duration::ZERO);
    }

    /// Checks for a fatal producer error and failed deliveries.
    fn check(&self) -> Result<(), OutputError> {
        if let Some((code, reason)) = self.producer.client().fatal_error() {
            return Err(OutputError::Fatal { code, reason });
        }
        let ctx = self.producer.context();
        let failed = ctx.failed.load(Ordering::Relaxed);
        if failed > 0 {
            let first = ctx
                .first_failure
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
                .unwrap_or_default();
            return Err(OutputError::Delivery {
                count: failed,
                first,
            });
        }
        Ok(())
    }

    /// Waits until every record sent so far is acknowledged; errors if any was refused.
    pub fn flush(&self) -> Result<(), OutputError> {
        super::flush::flush(&self.producer, self.timeout)?;
        self.check()
    }

    /// Commits the open transaction with the consumer offsets `offsets` of `group` (opening
    /// one first if nothing was sent, so the offsets still commit).
    pub fn commit_transaction(
        &mut self,
        offsets: &TopicPartitionList,
        group: &ConsumerGroupMetadata,
    ) -> Result<(), OutputError> {
        self.begin_if_needed()?;
        // Deliver the transaction's records first, serving their reports as they come: the
        // commit's own flush waits in 100 ms slices for reports nobody serves meanwhile. A
        // failure here shows again, classified, in the commit below.
        let _ = super::flush::flush(&self.producer, self.timeout);
        if offsets.count() > 0 {
            self.producer
                .send_offsets_to_transaction(offsets, group, self.timeout)
                .map_err(OutputError::from_txn)?;
        }
        let mut attempt = 0u32;
        loop {
            match self.producer.commit_transaction(self.timeout) {
                Ok(()) => break,
                Err(e) => {
                    let err = OutputError::from_txn(e);
                    let retriable = matches!(
                        err,
                        OutputError::Transaction {
                            retriable: true,
                            abortable: false,
                            ..
                        }
                    );
                    attempt += 1;
                    if !retriable || attempt >= COMMIT_ATTEMPTS {
                        return Err(err);
                    }
                    tracing::warn!(error = %err, attempt, "retrying transaction commit");
                    std::thread::sleep(Duration::from_millis(100 * u64::from(attempt)));
                }
            }
        }
        self.in_transaction = false;
        self.producer.poll(Duration::ZERO);
        self.check()
    }

    /// Aborts the open transaction, if any.
    pub fn abort_transaction(&mut self) -> Result<(), OutputError> {
        if self.in_transaction {
            self.producer
                .abort_transaction(self.timeout)
                .map_err(OutputError::from_txn)?;
            self.in_transaction = false;
        }
        // Failures of aborted records no longer matter.
        let ctx = self.producer.context();
        ctx.failed.store(0, Ordering::Relaxed);
        *ctx.first_failure.lock().unwrap_or_else(|p| p.into_inner()) = None;
        Ok(())
    }

    /// Records acknowledged so far.
    pub fn delivered(&self) -> u64 {
        self.producer.context().delivered.load(Ordering::Relaxed)
    }
}
