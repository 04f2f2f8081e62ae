//! A producer that keeps count of what the broker acknowledged and what it refused, so that a
//! command can tell its user exactly which inputs did not make it (and exit non-zero), instead
//! of firing and forgetting.
//!
//! Each message carries a caller-chosen tag (a line number, say) that comes back with its
//! delivery failure. The producer is polled on the caller's thread: delivery callbacks run
//! inside [`TrackedProducer::send`], [`TrackedProducer::poll`] and [`TrackedProducer::flush`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use rdkafka::client::ClientContext;
use rdkafka::error::KafkaError;
use rdkafka::message::{DeliveryResult, Header, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientConfig;
use thiserror::Error;

/// The partitioner reckon's producers use for keyed topics: the Java client's (murmur2), so that
/// reports fed by reckon and by any Java or Kafka Connect feeder land in the same partition for
/// the same region key. Can be overridden with `-X partitioner=...`.
pub const KEY_PARTITIONER: &str = "murmur2_random";

/// Why sending failed.
#[derive(Debug, Error)]
pub enum SenderError {
    /// The client could not be created or a request failed.
    #[error("kafka: {0}")]
    Kafka(#[from] KafkaError),
    /// The producer hit a fatal error (e.g. the idempotent producer lost its sequence).
    #[error("fatal producer error {code:?}: {reason}")]
    Fatal {
        /// The error code.
        code: RDKafkaErrorCode,
        /// librdkafka's explanation.
        reason: String,
    },
    /// `flush` gave up with messages still unacknowledged.
    #[error("{0} message(s) still unacknowledged after the flush timeout")]
    Unflushed(i32),
}

/// A message the broker did not take.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The tag given to [`TrackedProducer::send`].
    pub tag: usize,
    /// Why.
    pub error: KafkaError,
}

/// Delivery bookkeeping shared with librdkafka's callbacks.
#[derive(Debug, Default)]
pub struct Tracker {
    delivered: AtomicU64,
    failures: Mutex<Vec<Failure>>,
}

impl ClientContext for Tracker {}

impl ProducerContext for Tracker {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, tag: usize) {
        match result {
            Ok(_) => {
                self.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Err((error, _)) => {
                // A poisoned lock only means another callback panicked; keep recording.
                let mut f = self
                    .failures
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                f.push(Failure {
                    tag,
                    error: error.clone(),
                });
            }
        }
    }
}

/// A producer with delivery tracking.
pub struct TrackedProducer {
    producer: BaseProducer<Tracker>,
    enqueued: u64,
}

impl std::fmt::Debug for TrackedProducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrackedProducer")
            .field("enqueued", &self.enqueued)
            .field("delivered", &self.delivered())
            .finish()
    }
}

impl TrackedProducer {
    /// Creates the producer from a complete client configuration.
    pub fn new(config: &ClientConfig) -> Result<Self, SenderError> {
        let producer = config.create_with_context(Tracker::default())?;
        Ok(Self {
            producer,
            enqueued: 0,
        })
    }

    /// Enqueues one message. When librdkafka's queue is full this serves delivery callbacks
    /// and retries, so it blocks rather than failing; other local errors (a message too large,
    /// an unknown partition) are returned.
    pub fn send(
        &mut self,
        topic: &str,
        key: Option<&[u8]>,
        payload: &[u8],
        headers: &[(&str, &[u8])],
        tag: usize,
    ) -> Result<(), SenderError> {
        let mut h = OwnedHeaders::new_with_capacity(headers.len());
        for (k, v) in headers {
            h = h.insert(Header {
                key: k,
                value: Some(*v),
            });
        }
        let mut record: BaseRecord<'_, [u8], [u8], usize> = BaseRecord::with_opaque_to(topic, tag)
            .payload(payload)
            .headers(h);
        if let Some(k) = key {
            record = record.key(k);
        }
        loop {
            match self.producer.send(record) {
                Ok(()) => {
                    self.enqueued += 1;
                    // Serve callbacks now and then without waiting, so failures surface early.
                    self.producer.poll(Duration::ZERO);
                    return Ok(());
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    self.producer.poll(Duration::from_millis(50));
                }
                Err((e, _)) => return Err(e.into()),
            }
        }
    }

    /// Serves delivery callbacks, waiting at most `timeout`.
    pub fn poll(&self, timeout: Duration) {
        self.producer.poll(timeout);
    }

    /// Messages enqueued so far.
    pub fn enqueued(&self) -> u64 {
        self.enqueued
    }

    /// Messages the broker acknowledged so far.
    pub fn delivered(&self) -> u64 {
        self.producer.context().delivered.load(Ordering::Relaxed)
    }

    /// Messages neither acknowledged nor failed yet.
    pub fn in_flight(&self) -> i32 {
        self.producer.in_flight_count()
    }

    /// Takes the failures recorded since the last call.
    pub fn take_failures(&self) -> Vec<Failure> {
        let mut f = self
            .producer
            .context()
            .failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        std::mem::take(&mut *f)
    }

    /// The producer's fatal error, if it hit one.
    pub fn fatal_error(&self) -> Option<SenderError> {
        self.producer
            .client()
            .fatal_error()
            .map(|(code, reason)| SenderError::Fatal { code, reason })
    }

    /// Waits until every enqueued message is acknowledged or failed, at most `timeout`.
    pub fn flush(&self, timeout: Duration) -> Result<(), SenderError> {
        // `flush` polls, so delivery callbacks run while it waits.
        match super::flush::flush(&self.producer, timeout) {
            Ok(()) => {}
            Err(KafkaError::Flush(RDKafkaErrorCode::OperationTimedOut)) => {}
            Err(e) => return Err(e.into()),
        }
        match self.in_flight() {
            0 => Ok(()),
            n => Err(SenderError::Unflushed(n)),
        }
    }
}

/// Checks that `topic` exists, answering within `timeout`; returns its partition count.
/// Distinguishes an unreachable cluster (a Kafka error, typically a timeout) from a missing
/// topic. Asks for every topic's metadata so that a broker with auto-creation does not create a
/// misspelt topic.
pub fn check_topic(
    producer: &TrackedProducer,
    topic: &str,
    timeout: Duration,
) -> Result<usize, TopicCheckError> {
    let md = producer.producer.client().fetch_metadata(None, timeout)?;
    match md.topics().iter().find(|t| t.name() == topic) {
        Some(t) if t.error().is_none() && !t.partitions().is_empty() => Ok(t.partitions().len()),
        _ => Err(TopicCheckError::Missing(topic.to_string())),
    }
}

/// Why a topic check failed.
#[derive(Debug, Error)]
pub enum TopicCheckError {
    /// The cluster did not answer (or answered with an error).
    #[error("kafka: {0}")]
    Kafka(#[from] KafkaError),
    /// The topic does not exist.
    #[error("topic {0} does not exist")]
    Missing(String),
}
