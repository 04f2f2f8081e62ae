//! The broker a benchmark runs on: the embedded mock cluster (librdkafka's, in-process, as
//! `reckon demo` and [`crate::adapters::kafka::mock`] start it) or a real broker at an address;
//! and the topics each measurement creates for itself, so that runs never see each other's
//! messages or state.

use std::time::Duration;

use anyhow::{Context, Result};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use rdkafka::types::RDKafkaErrorCode;

use crate::adapters::kafka::partitioner::murmur2;
use crate::adapters::kafka::{ensure_topics, KafkaArgs, TopicArgs, TopicLayout};

enum Kind {
    /// librdkafka's mock cluster. [`crate::adapters::kafka::mock::EmbeddedCluster`] creates a
    /// fixed set of four topics at start; the benchmark needs a fresh set per run, so it holds
    /// the cluster itself and creates topics through the same mock API.
    Embedded(MockCluster<'static, DefaultProducerContext>),
    /// A broker at an address (Tansu, Kafka, Redpanda).
    External,
}

/// The broker of a benchmark run.
pub struct BenchBroker {
    kind: Kind,
    bootstrap: String,
    properties: Vec<(String, String)>,
    partitions: i32,
    fetch_wait_ms: Option<u64>,
}

impl std::fmt::Debug for BenchBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BenchBroker")
            .field("bootstrap", &self.bootstrap)
            .field("embedded", &self.is_embedded())
            .field("partitions", &self.partitions)
            .finish()
    }
}

impl BenchBroker {
    /// Starts a one-broker mock cluster in this process; `properties` go to every client.
    pub fn embedded(partitions: i32, properties: Vec<(String, String)>) -> Result<Self> {
        let cluster = MockCluster::new(1).context("starting the mock cluster")?;
        Ok(Self {
            bootstrap: cluster.bootstrap_servers(),
            kind: Kind::Embedded(cluster),
            properties,
            partitions,
            fetch_wait_ms: None,
        })
    }

    /// A broker at `bootstrap`, with librdkafka `-X` properties for every client.
    pub fn external(bootstrap: &str, properties: Vec<(String, String)>, partitions: i32) -> Self {
        Self {
            kind: Kind::External,
            bootstrap: bootstrap.to_string(),
            properties,
            partitions,
            fetch_wait_ms: None,
        }
    }

    /// Sets every consumer's `fetch.wait.max.ms` (consumers only: producers warn about it).
    pub fn with_fetch_wait_ms(mut self, ms: Option<u64>) -> Self {
        self.fetch_wait_ms = ms;
        self
    }

    /// The consumers' `fetch.wait.max.ms`, when the run sets one.
    pub fn fetch_wait_ms(&self) -> Option<u64> {
        self.fetch_wait_ms
    }

    /// Whether this is the in-process mock cluster.
    pub fn is_embedded(&self) -> bool {
        matches!(self.kind, Kind::Embedded(_))
    }

    /// Partitions of every topic created.
    pub fn partitions(&self) -> i32 {
        self.partitions
    }

    /// What it is, for the report.
    pub fn describe(&self) -> String {
        match self.kind {
            Kind::Embedded(_) => format!(
                "embedded (librdkafka mock cluster, 1 broker, in this process, {})",
                self.bootstrap
            ),
            Kind::External => format!("{} (external broker)", self.bootstrap),
        }
    }

    /// Client settings for this broker and the given topic names.
    pub fn kafka(&self, topics: TopicArgs) -> KafkaArgs {
        KafkaArgs {
            brokers: self.bootstrap.clone(),
            properties: self.properties.clone(),
            topics,
        }
    }

    /// Creates reckon's four topics named in `topics`, with `partitions` each (compacted
    /// updates and changelog on a real broker); with `reports_exists`, the reports topic is
    /// there already (runs that share one input).
    pub fn create_reckon_topics(
        &self,
        topics: &TopicArgs,
        partitions: i32,
        reports_exists: bool,
    ) -> Result<()> {
        match &self.kind {
            Kind::Embedded(cluster) => {
                let outputs = [
                    &topics.updates_topic,
                    &topics.changelog_topic,
                    &topics.dead_letter_topic,
                ];
                let input = (!reports_exists).then_some(&topics.reports_topic);
                for t in input.into_iter().chain(outputs) {
                    cluster
                        .create_topic(t, partitions, 1)
                        .with_context(|| format!("creating {t}"))?;
                }
                Ok(())
            }
            Kind::External => {
                let kafka = self.kafka(topics.clone());
                let layout = TopicLayout::new(topics.clone(), partitions);
                runtime()?
                    .block_on(ensure_topics(&kafka.client_config(), &layout, true))
                    .with_context(|| format!("creating the topics {}.*", topics.reports_topic))
            }
        }
    }

    /// Creates a plain topic (the pipe's input or output) with `partitions`.
    pub fn create_topic(&self, name: &str, partitions: i32) -> Result<()> {
        match &self.kind {
            Kind::Embedded(cluster) => cluster
                .create_topic(name, partitions, 1)
                .with_context(|| format!("creating {name}")),
            Kind::External => {
                let kafka = self.kafka(TopicArgs::default());
                runtime()?.block_on(async move {
                    let admin: AdminClient<DefaultClientContext> =
                        kafka.client_config().create()?;
                    let topic = NewTopic::new(name, partitions, TopicReplication::Fixed(1));
                    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(15)));
                    for r in admin.create_topics([&topic], &opts).await? {
                        match r {
                            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                            Err((t, code)) => anyhow::bail!("creating {t}: {code}"),
                        }
                    }
                    // Creation is asynchronous on some brokers: wait until metadata shows it.
                    for _ in 0..50 {
                        let md = admin
                            .inner()
                            .fetch_metadata(None, Duration::from_secs(15))?;
                        if md
                            .topics()
                            .iter()
                            .any(|t| t.name() == name && !t.partitions().is_empty())
                        {
                            return Ok(());
                        }
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    anyhow::bail!("topic {name} did not appear in the metadata")
                })
            }
        }
    }
}

impl BenchBroker {
    /// The fewest partitions (at least `min`) over which the embedded cluster keeps every one
    /// of `messages` (key and size), placed by the murmur2 key partitioner as the feeder does;
    /// `min` on a real broker.
    pub fn partitions_for(&self, messages: &[(&[u8], usize)], min: i32) -> i32 {
        if !self.is_embedded() {
            return min;
        }
        let hashes: Vec<(u32, usize)> = messages
            .iter()
            .map(|(k, size)| (murmur2(k) & 0x7fff_ffff, size + k.len() + RECORD_OVERHEAD))
            .collect();
        let mut n = min.max(1);
        loop {
            let mut bytes = vec![0usize; n as usize];
            for (h, size) in &hashes {
                bytes[(*h % n as u32) as usize] += size;
            }
            if bytes.iter().all(|b| *b <= MOCK_PARTITION_BUDGET) || n >= 1024 {
                return n;
            }
            n += 1;
        }
    }

    /// Partitions of `topic` whose oldest messages are gone (log start above 0): on the
    /// embedded cluster, a topic that outgrew [`MOCK_PARTITION_BYTES`] per partition.
    pub fn truncated_partitions(&self, topic: &str) -> Result<Vec<i32>> {
        let consumer: BaseConsumer = self.kafka(TopicArgs::default()).client_config().create()?;
        let md = consumer.fetch_metadata(None, Duration::from_secs(15))?;
        let mut out = Vec::new();
        for t in md.topics().iter().filter(|t| t.name() == topic) {
            for p in t.partitions() {
                let (low, _) = consumer.fetch_watermarks(topic, p.id(), Duration::from_secs(15))?;
                if low > 0 {
                    out.push(p.id());
                }
            }
        }
        Ok(out)
    }
}

/// What librdkafka's mock cluster keeps of each partition: it drops the oldest message sets
/// beyond 5 MiB (or 100,000 sets), like a size-based retention (`rdkafka_mock.c`,
/// `rd_kafka_mock_partition_log_append`; not configurable).
pub const MOCK_PARTITION_BYTES: usize = 5 << 20;

/// The most bytes the benchmark puts in one embedded partition: below
/// [`MOCK_PARTITION_BYTES`], with room for batch headers.
pub const MOCK_PARTITION_BUDGET: usize = 9 << 19;

/// Bytes a record takes beyond its key and value (record header fields and the two headers the
/// feeder adds), rounded up.
const RECORD_OVERHEAD: usize = 80;

/// A small runtime for the asynchronous admin calls (`ensure_topics` blocks in place, which
/// needs a multi-threaded runtime).
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("starting a tokio runtime")
}

/// Topic names of one run: `{prefix}.{run}.reports` and so on.
pub fn reckon_topics(prefix: &str, run: &str) -> TopicArgs {
    TopicArgs {
        reports_topic: format!("{prefix}.{run}.reports"),
        updates_topic: format!("{prefix}.{run}.updates"),
        changelog_topic: format!("{prefix}.{run}.changelog"),
        dead_letter_topic: format!("{prefix}.{run}.dead-letters"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_topics_get_partitions_for_their_size() {
        let keys: Vec<Vec<u8>> = (0..400)
            .map(|i| format!("iq/province-{i}").into_bytes())
            .collect();
        let msgs: Vec<(&[u8], usize)> = (0..60_000)
            .map(|i| (keys[i % keys.len()].as_slice(), 1000))
            .collect();
        let b = BenchBroker::external("x:1", Vec::new(), 4);
        assert_eq!(b.partitions_for(&msgs, 4), 4);
        let e = BenchBroker::embedded(4, Vec::new()).unwrap();
        assert_eq!(e.partitions_for(&msgs[..100], 4), 4);
        let n = e.partitions_for(&msgs, 4);
        // 64 MB over partitions of at most 4.5 MiB.
        assert!((15..40).contains(&n), "{n}");
    }

    #[test]
    fn topic_names_are_per_run() {
        let t = reckon_topics("bench-1", "b2");
        assert_eq!(t.reports_topic, "bench-1.b2.reports");
        assert_eq!(t.changelog_topic, "bench-1.b2.changelog");
        assert_ne!(
            reckon_topics("bench-1", "b1").updates_topic,
            t.updates_topic
        );
    }
}
