//! (a) The bare pipe: consume the reports topic in a consumer group and produce every message
//! unchanged (key, payload, headers) to another topic, with the client settings the processor
//! uses. No decoding, no state, no changelog: the most any consume-and-produce service can do
//! on this broker and these clients, which is what reckon's throughput is compared with.
//!
//! Offsets are committed asynchronously every commit interval, without waiting for the copies
//! to be acknowledged first (reckon waits: that wait is part of what the comparison shows).
//! In throughput mode the run ends when the expected number of messages has been copied and
//! acknowledged; it is timed from the moment the partitions are assigned (fetching starts), as
//! the processor's run is.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;
use rdkafka::message::{DeliveryResult, Message};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

use crate::adapters::kafka::KafkaArgs;

/// Consumer-only librdkafka properties of every group member in the benchmark (the processor
/// and the pipe): a short session so that joins are quick, as the tests and the demo use, and
/// the run's `fetch.wait.max.ms` if it sets one.
pub fn group_properties(fetch_wait_ms: Option<u64>) -> Vec<(String, String)> {
    let mut p = vec![
        ("session.timeout.ms".into(), "6000".into()),
        ("heartbeat.interval.ms".into(), "500".into()),
    ];
    p.extend(fetch_wait_ms.map(|ms| ("fetch.wait.max.ms".to_string(), ms.to_string())));
    p
}

/// A group-less reader's client settings: `kafka`'s, `extra`, and `fetch.wait.max.ms` if set.
pub fn reader_config(
    kafka: &KafkaArgs,
    extra: &[(&str, &str)],
    fetch_wait_ms: Option<u64>,
) -> rdkafka::ClientConfig {
    let mut c = kafka.client_config_with(extra);
    if let Some(ms) = fetch_wait_ms {
        if !kafka
            .properties
            .iter()
            .any(|(k, _)| k == "fetch.wait.max.ms")
        {
            c.set("fetch.wait.max.ms", ms.to_string());
        }
    }
    c
}

/// The processor's group-consumer settings (see `Processor::start`), for the pipe.
fn consumer_settings<'a>(group: &'a str, client_id: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("group.id", group),
        ("client.id", client_id),
        ("enable.auto.commit", "false"),
        ("enable.auto.offset.store", "false"),
        ("auto.offset.reset", "earliest"),
        ("isolation.level", "read_committed"),
        ("partition.assignment.strategy", "roundrobin"),
        ("enable.partition.eof", "true"),
        ("statistics.interval.ms", "5000"),
    ]
}

/// The processor's producer settings (see `Processor::start`), for the pipe.
fn producer_settings(client_id: &str) -> Vec<(&str, &str)> {
    vec![
        ("client.id", client_id),
        ("enable.idempotence", "true"),
        ("partitioner", "murmur2_random"),
        ("linger.ms", "5"),
    ]
}

/// Records when partitions were first assigned.
#[derive(Default)]
struct PipeContext {
    assigned_at: std::sync::Mutex<Option<Instant>>,
}

impl ClientContext for PipeContext {}

impl ConsumerContext for PipeContext {
    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(tpl) = rebalance {
            if tpl.count() > 0 {
                if let Ok(mut a) = self.assigned_at.lock() {
                    a.get_or_insert_with(Instant::now);
                }
            }
        }
    }
}

/// Counts deliveries.
#[derive(Debug, Default)]
struct Counter {
    delivered: AtomicU64,
    failed: AtomicU64,
}

impl ClientContext for Counter {}

impl ProducerContext for Counter {
    type DeliveryOpaque = ();
    fn delivery(&self, r: &DeliveryResult<'_>, _: ()) {
        match r {
            Ok(_) => self.delivered.fetch_add(1, Ordering::Relaxed),
            Err(_) => self.failed.fetch_add(1, Ordering::Relaxed),
        };
    }
}

/// What the pipe does.
#[derive(Debug, Clone)]
pub struct PipeOptions {
    /// Brokers and `-X` properties (topic names are not used).
    pub kafka: KafkaArgs,
    /// The topic consumed.
    pub input: String,
    /// The topic produced to.
    pub output: String,
    /// The consumer group.
    pub group: String,
    /// Throughput mode: stop once this many messages are copied and acknowledged. `None`:
    /// run until stopped.
    pub expected: Option<u64>,
    /// The longest time between offset commits (the processor's default: 100 ms).
    pub commit_interval: Duration,
    /// The most messages between offset commits (the processor's default: 1000).
    pub commit_max_records: u64,
    /// Give up when no message came for this long (throughput mode).
    pub idle_timeout: Duration,
    /// The consumer's `fetch.wait.max.ms`, if set.
    pub fetch_wait_ms: Option<u64>,
}

/// A finished pipe run.
#[derive(Debug, Clone, Copy)]
pub struct PipeRun {
    /// Messages copied (and acknowledged, in throughput mode).
    pub copied: u64,
    /// When the partitions were assigned (fetching starts).
    pub assigned: Option<Instant>,
    /// When the first message was consumed.
    pub first: Option<Instant>,
    /// When the last copy was acknowledged.
    pub done: Instant,
}

impl PipeRun {
    /// Seconds from the assignment (fetching starts) to the last copy acknowledged: timed as
    /// the processor's run is.
    pub fn seconds(&self) -> f64 {
        self.assigned.or(self.first).map_or(0.0, |f| {
            self.done.saturating_duration_since(f).as_secs_f64()
        })
    }
}

/// Runs the pipe until `stop` is set or, in throughput mode, until done. `assigned` is set
/// once the consumer has partitions.
pub fn run(o: &PipeOptions, stop: &AtomicBool, assigned: &AtomicBool) -> Result<PipeRun> {
    let client_id = format!("reckon-bench-pipe-{}", o.group);
    let props = group_properties(o.fetch_wait_ms);
    let mut cs = consumer_settings(&o.group, &client_id);
    cs.extend(props.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let consumer: BaseConsumer<PipeContext> = o
        .kafka
        .client_config_with(&cs)
        .create_with_context(PipeContext::default())
        .context("creating the pipe's consumer")?;
    let producer: BaseProducer<Counter> = o
        .kafka
        .client_config_with(&producer_settings(&client_id))
        .create_with_context(Counter::default())
        .context("creating the pipe's producer")?;
    consumer
        .subscribe(&[o.input.as_str()])
        .context("subscribing")?;
    let mut first: Option<Instant> = None;
    let mut copied = 0u64;
    let mut since_commit = 0u64;
    let mut last_commit = Instant::now();
    let mut last_message = Instant::now();
    let mut next_offsets: BTreeMap<i32, i64> = BTreeMap::new();
    let mut done = false;
    while !stop.load(Ordering::Relaxed) && !done {
        match consumer.poll(Duration::from_millis(20)) {
            None => {}
            Some(Ok(m)) => {
                let now = Instant::now();
                first.get_or_insert(now);
                last_message = now;
                let headers = m.headers().map(|h| h.detach());
                let mut record: BaseRecord<'_, [u8], [u8], ()> = BaseRecord::to(&o.output);
                if let Some(k) = m.key() {
                    record = record.key(k);
                }
                if let Some(p) = m.payload() {
                    record = record.payload(p);
                }
                if let Some(h) = headers {
                    record = record.headers(h);
                }
                loop {
                    match producer.send(record) {
                        Ok(()) => break,
                        Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                            record = back;
                            producer.poll(Duration::from_millis(50));
                        }
                        Err((e, _)) => return Err(e).context("producing a copy"),
                    }
                }
                next_offsets.insert(m.partition(), m.offset() + 1);
                copied += 1;
                since_commit += 1;
                if o.expected.is_some_and(|n| copied >= n) {
                    done = true;
                }
            }
            Some(Err(KafkaError::PartitionEOF(_))) => {}
            Some(Err(e)) => tracing::warn!(error = %e, "pipe consumer error"),
        }
        if !assigned.load(Ordering::Relaxed)
            && consumer
                .context()
                .assigned_at
                .lock()
                .is_ok_and(|a| a.is_some())
        {
            assigned.store(true, Ordering::Relaxed);
        }
        producer.poll(Duration::ZERO);
        if since_commit >= o.commit_max_records || last_commit.elapsed() >= o.commit_interval {
            commit(&consumer, &o.input, &next_offsets);
            since_commit = 0;
            last_commit = Instant::now();
        }
        if o.expected.is_some() && !done && last_message.elapsed() >= o.idle_timeout {
            bail!(
                "the pipe copied {copied} of {} messages and then none for {:?} (next offsets \
                 per partition: {next_offsets:?})",
                o.expected.unwrap_or(0),
                o.idle_timeout
            );
        }
    }
    // The prompt flush: rust-rdkafka's own waits in 100 ms slices, and the end of the run is
    // timed to the millisecond.
    if let Err(e) = crate::adapters::kafka::flush::flush(&producer, Duration::from_secs(60)) {
        bail!(
            "{} copies unacknowledged after 60 s: {e}",
            producer.in_flight_count()
        );
    }
    let end = Instant::now();
    producer.poll(Duration::ZERO);
    commit(&consumer, &o.input, &next_offsets);
    let failed = producer.context().failed.load(Ordering::Relaxed);
    if failed > 0 {
        bail!("{failed} copies were not delivered");
    }
    let assigned_at = *consumer
        .context()
        .assigned_at
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned lock"))?;
    Ok(PipeRun {
        copied,
        assigned: assigned_at,
        first,
        done: end,
    })
}

fn commit(consumer: &BaseConsumer<PipeContext>, topic: &str, next: &BTreeMap<i32, i64>) {
    if next.is_empty() {
        return;
    }
    let mut tpl = TopicPartitionList::new();
    for (p, o) in next {
        if tpl
            .add_partition_offset(topic, *p, Offset::Offset(*o))
            .is_err()
        {
            return;
        }
    }
    if let Err(e) = consumer.commit(&tpl, CommitMode::Async) {
        tracing::debug!(error = %e, "pipe offset commit failed");
    }
}
