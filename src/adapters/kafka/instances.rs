//! The instances topic (`--instances-topic`, default `reckon.instances`): how instances of one
//! consumer group find each other for interactive queries, as Kafka Streams' metadata does.
//!
//! - Each instance announces itself (record key: its instance id; value: JSON
//!   [`PeerInfo`]: advertised HTTP URL, assigned partitions, epoch) when it starts and on every
//!   assignment change, and writes a tombstone on clean shutdown.
//! - Each instance reads the whole topic (its own consumer, manual assignment of every
//!   partition, from the beginning, no group) and keeps the latest record per instance in
//!   [`Peers`].
//!
//! The topic is small and compacted (one partition is plenty). An instance that crashed leaves
//! its last announcement behind until it restarts with the same instance id; queries
//! forwarded to it fail fast (`unreachable`) and are reported as such.

use std::sync::Arc;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::util::Timeout;
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::config::KafkaArgs;
use super::topics::TopicError;
use crate::adapters::http::{PeerInfo, Peers};
use crate::runtime::ReadModel;

/// The default name of the instances topic.
pub const DEFAULT_INSTANCES_TOPIC: &str = "reckon.instances";

const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Creates the instances topic (one partition, compacted) when it is missing and `create` is
/// set; otherwise only checks that it exists.
pub async fn ensure_instances_topic(
    kafka: &KafkaArgs,
    topic: &str,
    create: bool,
    replication: i32,
) -> Result<(), TopicError> {
    let admin: AdminClient<DefaultClientContext> = kafka.client_config().create()?;
    let exists = || -> Result<bool, KafkaError> {
        let md = admin.inner().fetch_metadata(None, REQUEST_TIMEOUT)?;
        Ok(md
            .topics()
            .iter()
            .any(|t| t.name() == topic && t.error().is_none() && !t.partitions().is_empty()))
    };
    if tokio::task::block_in_place(exists)? {
        return Ok(());
    }
    if !create {
        return Err(TopicError::Missing(topic.to_string()));
    }
    let new = NewTopic::new(topic, 1, TopicReplication::Fixed(replication))
        .set("cleanup.policy", "compact");
    let opts = AdminOptions::new().operation_timeout(Some(REQUEST_TIMEOUT));
    for result in admin.create_topics([&new], &opts).await? {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => {
                return Err(TopicError::Create {
                    topic,
                    reason: code.to_string(),
                })
            }
        }
    }
    for _ in 0..50 {
        if tokio::task::block_in_place(exists)? {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(TopicError::Missing(topic.to_string()))
}

/// What this instance announces.
#[derive(Debug, Clone)]
pub struct Announce {
    /// The instances topic.
    pub topic: String,
    /// This instance's id.
    pub instance_id: String,
    /// Its advertised HTTP URL.
    pub url: String,
}

/// The running announcer and peer reader.
pub struct Instances {
    announce: Announce,
    producer: FutureProducer,
    stop: watch::Sender<bool>,
    announcer: JoinHandle<()>,
    reader: JoinHandle<()>,
}

impl std::fmt::Debug for Instances {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instances")
            .field("announce", &self.announce)
            .finish_non_exhaustive()
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Instances {
    /// Starts announcing this instance (now, and on every assignment change of `model`) and
    /// reading the topic into `peers`. Runs on the current tokio runtime.
    pub fn start(
        kafka: &KafkaArgs,
        announce: Announce,
        model: Arc<ReadModel>,
        peers: Peers,
    ) -> Result<Self, KafkaError> {
        let client_id = format!("reckon-{}-instances", announce.instance_id);
        let producer: FutureProducer = kafka
            .client_config_with(&[
                ("client.id", client_id.as_str()),
                ("linger.ms", "0"),
                ("message.timeout.ms", "10000"),
            ])
            .create()?;
        let group = format!("reckon-instances-{}", announce.instance_id);
        let consumer: StreamConsumer = kafka
            .client_config_with(&[
                ("client.id", client_id.as_str()),
                // Never joined (manual assignment) and nothing is committed to it; librdkafka
                // wants a group id to assign partitions.
                ("group.id", group.as_str()),
                ("enable.auto.commit", "false"),
                ("enable.auto.offset.store", "false"),
                ("auto.offset.reset", "earliest"),
                ("enable.partition.eof", "false"),
            ])
            .create()?;
        let (stop, stop_rx) = watch::channel(false);
        let announcer = tokio::spawn(announce_loop(
            producer.clone(),
            announce.clone(),
            model,
            stop_rx.clone(),
        ));
        let reader = tokio::spawn(read_loop(consumer, announce.topic.clone(), peers, stop_rx));
        Ok(Self {
            announce,
            producer,
            stop,
            announcer,
            reader,
        })
    }

    /// Stops both tasks and writes this instance's tombstone (clean shutdown: peers forget it).
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.announcer.await;
        let tombstone = FutureRecord::<str, [u8]>::to(&self.announce.topic)
            .key(self.announce.instance_id.as_str());
        match self
            .producer
            .send(tombstone, Timeout::After(REQUEST_TIMEOUT))
            .await
        {
            Ok(_) => tracing::info!(
                instance_id = %self.announce.instance_id,
                "removed this instance from the instances topic"
            ),
            Err((e, _)) => tracing::warn!(error = %e, "could not write this instance's tombstone"),
        }
        let _ = self.reader.await;
    }
}

async fn announce_loop(
    producer: FutureProducer,
    announce: Announce,
    model: Arc<ReadModel>,
    mut stop: watch::Receiver<bool>,
) {
    let mut assignment = model.assignment();
    loop {
        let partitions = assignment.borrow_and_update().clone();
        let info = PeerInfo {
            instance_id: announce.instance_id.clone(),
            url: announce.url.clone(),
            partitions,
            epoch: model.epoch().to_string(),
            announced_at_ms: now_ms(),
        };
        let payload = serde_json::to_vec(&info).unwrap_or_default();
        let mut backoff = Duration::from_millis(200);
        loop {
            let record = FutureRecord::to(&announce.topic)
                .key(announce.instance_id.as_str())
                .payload(&payload);
            match producer.send(record, Timeout::After(REQUEST_TIMEOUT)).await {
                Ok(_) => {
                    tracing::info!(partitions = ?info.partitions, url = %info.url, "announced this instance");
                    break;
                }
                Err((e, _)) => {
                    tracing::warn!(error = %e, "announcing this instance failed; retrying");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            backoff = (backoff * 2).min(Duration::from_secs(5));
            if assignment.has_changed().unwrap_or(false) {
                break;
            }
        }
        tokio::select! {
            changed = assignment.changed() => if changed.is_err() { return },
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

async fn read_loop(
    consumer: StreamConsumer,
    topic: String,
    peers: Peers,
    mut stop: watch::Receiver<bool>,
) {
    // Wait for the topic, then read every partition from the beginning.
    loop {
        let fetched = tokio::task::block_in_place(|| {
            consumer.fetch_metadata(None, REQUEST_TIMEOUT).map(|md| {
                md.topics()
                    .iter()
                    .filter(|t| t.name() == topic && t.error().is_none())
                    .flat_map(|t| t.partitions().iter().map(|p| p.id()))
                    .collect::<Vec<i32>>()
            })
        });
        match fetched {
            Ok(ps) if !ps.is_empty() => {
                let mut tpl = TopicPartitionList::new();
                for p in ps {
                    if let Err(e) = tpl.add_partition_offset(&topic, p, Offset::Beginning) {
                        tracing::warn!(error = %e, "instances topic partition");
                    }
                }
                match consumer.assign(&tpl) {
                    Ok(()) => break,
                    Err(e) => tracing::warn!(error = %e, "assigning the instances topic"),
                }
            }
            Ok(_) => {
                tracing::warn!(%topic, "the instances topic does not exist yet; peers unknown")
            }
            Err(e) => tracing::warn!(error = %e, "reading metadata of the instances topic"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
    loop {
        let msg = tokio::select! {
            m = consumer.recv() => m,
            _ = stop.wait_for(|s| *s) => return,
        };
        let m = match msg {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "reading the instances topic");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        let Some(key) = m.key().and_then(|k| std::str::from_utf8(k).ok()) else {
            tracing::warn!(
                offset = m.offset(),
                "instances record without a text key; ignored"
            );
            continue;
        };
        match m.payload() {
            None => {
                tracing::debug!(instance_id = key, "instance left");
                peers.remove(key);
            }
            Some(bytes) => match serde_json::from_slice::<PeerInfo>(bytes) {
                Ok(mut info) => {
                    if info.instance_id != key {
                        tracing::warn!(key, instance_id = %info.instance_id, "instances record key and id differ; the key wins");
                        info.instance_id = key.to_string();
                    }
                    tracing::debug!(instance_id = key, url = %info.url, partitions = ?info.partitions, "peer");
                    peers.upsert(info);
                }
                Err(e) => {
                    tracing::warn!(instance_id = key, error = %e, "malformed instances record; ignored")
                }
            },
        }
    }
}
