//! Reading a topic without a consumer group: every partition is assigned by hand, so there is no
//! group join delay and no committed offset to disturb. Used to replay the reports topic, to read
//! the updates topic to its end, and to tail it.
//!
//! Each partition starts at a chosen position (its beginning, its end, or the first offset at or
//! after a timestamp). A partition has reached its end when the client says so (librdkafka's
//! end-of-partition event, from the fetch responses): a bounded read stops once every partition
//! has, a tailing reader is then "caught up". The high watermarks listed when the reader opens
//! are only used to size progress displays: Tansu 0.6.0 answers ListOffsets with the last
//! *batch's* base offset + 1, short of the real end when a batch holds several records, and
//! offsets past it would otherwise be skipped.

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers, Message};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use thiserror::Error;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Where each partition starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartAt {
    /// The oldest offset still stored.
    Beginning,
    /// The high watermark when the reader opens: only new messages.
    End,
    /// The first message whose timestamp is at or after this instant (Unix milliseconds).
    Timestamp(i64),
}

impl StartAt {
    /// Parses `beginning`, `end` or an RFC 3339 timestamp such as `2017-08-14T09:00:00Z`.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "beginning" | "earliest" | "start" => Ok(Self::Beginning),
            "end" | "latest" => Ok(Self::End),
            _ => {
                let t = OffsetDateTime::parse(s.trim(), &Rfc3339).map_err(|e| {
                    format!("expected beginning, end or an RFC 3339 timestamp, got {s:?}: {e}")
                })?;
                let ms = t.unix_timestamp_nanos() / 1_000_000;
                i64::try_from(ms)
                    .map(Self::Timestamp)
                    .map_err(|_| format!("timestamp {s:?} is out of range"))
            }
        }
    }
}

/// Why a topic could not be read.
#[derive(Debug, Error)]
pub enum ReaderError {
    /// A Kafka request failed (unreachable broker, timeout, protocol error).
    #[error("kafka: {0}")]
    Kafka(#[from] KafkaError),
    /// The topic does not exist.
    #[error("topic {0} does not exist")]
    UnknownTopic(String),
    /// The topic exists but the broker reports an error for it.
    #[error("topic {topic}: {reason}")]
    Topic {
        /// The topic.
        topic: String,
        /// What the broker said.
        reason: String,
    },
}

/// One consumed message, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Its partition.
    pub partition: i32,
    /// Its offset.
    pub offset: i64,
    /// Its timestamp in Unix milliseconds, when it has one.
    pub timestamp_ms: Option<i64>,
    /// Its key.
    pub key: Option<Vec<u8>>,
    /// Its value; `None` for a tombstone.
    pub payload: Option<Vec<u8>>,
    /// Its headers, in order.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

impl Record {
    /// The value of the last header with this name, compared ASCII case-insensitively as the
    /// processor does (Kafka clients treat the last one as current).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_deref())
    }

    fn from_message<M: Message>(m: &M) -> Self {
        let headers = m
            .headers()
            .map(|h| {
                h.iter()
                    .map(|h| (h.key.to_string(), h.value.map(<[u8]>::to_vec)))
                    .collect()
            })
            .unwrap_or_default();
        Self {
            partition: m.partition(),
            offset: m.offset(),
            timestamp_ms: m.timestamp().to_millis(),
            key: m.key().map(<[u8]>::to_vec),
            payload: m.payload().map(<[u8]>::to_vec),
            headers,
        }
    }
}

/// One partition's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionRange {
    /// The partition.
    pub partition: i32,
    /// The first offset read.
    pub start: i64,
    /// The high watermark listed when the reader opened (a progress hint, see the module doc).
    pub end: i64,
}

#[derive(Debug)]
struct PartitionState {
    range: PartitionRange,
    /// Set once the client reported the end of the partition.
    reached_end: bool,
    /// With a timestamp start: records older than this are skipped until the first one at or
    /// after it. A compliant broker already starts there (so nothing is skipped); Tansu 0.6.0
    /// answers offset 0 instead of "none" when no record is that recent.
    skip_before: Option<i64>,
}

/// Reads every partition of one topic, by manual assignment.
pub struct TopicReader {
    consumer: BaseConsumer,
    topic: String,
    parts: Vec<PartitionState>,
}

impl std::fmt::Debug for TopicReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TopicReader")
            .field("topic", &self.topic)
            .field("parts", &self.parts)
            .finish()
    }
}

/// The partitions of a topic, sorted, from the broker's metadata.
pub fn topic_partitions(
    consumer: &BaseConsumer,
    topic: &str,
    timeout: Duration,
) -> Result<Vec<i32>, ReaderError> {
    // Metadata of every topic, not of this one: asking for one topic by name can make a broker
    // with auto-creation on create it, and a typo should fail instead.
    let md = consumer.fetch_metadata(None, timeout)?;
    let t = md
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .ok_or_else(|| ReaderError::UnknownTopic(topic.to_string()))?;
    if let Some(e) = t.error() {
        return Err(ReaderError::Topic {
            topic: topic.to_string(),
            reason: rdkafka::types::RDKafkaErrorCode::from(e).to_string(),
        });
    }
    let mut ps: Vec<i32> = t.partitions().iter().map(|p| p.id()).collect();
    ps.sort_unstable();
    if ps.is_empty() {
        return Err(ReaderError::UnknownTopic(topic.to_string()));
    }
    Ok(ps)
}

impl TopicReader {
    /// Opens a reader on `topic` with the client settings in `config` (brokers, `-X`
    /// properties). `timeout` bounds each metadata and offset request.
    pub fn open(
        config: &ClientConfig,
        topic: &str,
        start: StartAt,
        timeout: Duration,
    ) -> Result<Self, ReaderError> {
        let mut config = config.clone();
        // No group: nothing is committed, and no join delay. The end-of-partition events tell
        // when a partition is caught up even if its last offsets hold no message (transaction
        // markers, compacted records).
        config
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "true")
            .set("auto.offset.reset", "earliest");
        if config.get("fetch.wait.max.ms").is_none() {
            // The end of a partition is only known from a fetch answer; a short wait there makes
            // "caught up" quick to notice on an idle topic.
            config.set("fetch.wait.max.ms", "100");
        }
        if config.get("group.id").is_none() {
            // librdkafka refuses `assign` without a group id ("Unknown group"); the group is
            // never joined and nothing is committed to it.
            config.set("group.id", "reckon-reader");
        }
        let consumer: BaseConsumer = config.create()?;
        let partitions = topic_partitions(&consumer, topic, timeout)?;
        let mut marks = Vec::with_capacity(partitions.len());
        for p in &partitions {
            marks.push(consumer.fetch_watermarks(topic, *p, timeout)?);
        }
        let starts: Vec<i64> = match start {
            StartAt::Beginning => marks.iter().map(|(low, _)| *low).collect(),
            StartAt::End => marks.iter().map(|(_, high)| *high).collect(),
            StartAt::Timestamp(ms) => {
                let mut tpl = TopicPartitionList::new();
                for p in &partitions {
                    tpl.add_partition_offset(topic, *p, Offset::Offset(ms))?;
                }
                let found = consumer.offsets_for_times(tpl, timeout)?;
                partitions
                    .iter()
                    .zip(&marks)
                    .map(|(p, (_, high))| {
                        match found.find_partition(topic, *p).map(|e| e.offset()) {
                            Some(Offset::Offset(o)) => o,
                            // No message at or after the timestamp: start at the end.
                            _ => *high,
                        }
                    })
                    .collect()
            }
        };
        let mut tpl = TopicPartitionList::new();
        let mut parts = Vec::with_capacity(partitions.len());
        for ((p, (_, high)), s) in partitions.iter().zip(&marks).zip(&starts) {
            tpl.add_partition_offset(topic, *p, Offset::Offset(*s))?;
            parts.push(PartitionState {
                range: PartitionRange {
                    partition: *p,
                    start: *s,
                    end: *high,
                },
                // Even an empty partition waits for its end-of-partition event: a listed
                // watermark can be short of the real end.
                reached_end: false,
                skip_before: match start {
                    StartAt::Timestamp(ms) => Some(ms),
                    _ => None,
                },
            });
        }
        consumer.assign(&tpl)?;
        Ok(Self {
            consumer,
            topic: topic.to_string(),
            parts,
        })
    }

    /// The topic read.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Each partition's range, sorted by partition.
    pub fn ranges(&self) -> Vec<PartitionRange> {
        self.parts.iter().map(|p| p.range).collect()
    }

    /// Messages between the start positions and the ends seen at open (an upper bound: some
    /// offsets may hold no message).
    pub fn backlog(&self) -> u64 {
        self.parts
            .iter()
            .map(|p| u64::try_from(p.range.end - p.range.start).unwrap_or(0))
            .sum()
    }

    /// Whether every partition has been read to its end (once; a tailing reader stays caught up
    /// when new messages arrive).
    pub fn caught_up(&self) -> bool {
        self.parts.iter().all(|p| p.reached_end)
    }

    fn state(&mut self, partition: i32) -> Option<&mut PartitionState> {
        self.parts
            .iter_mut()
            .find(|p| p.range.partition == partition)
    }

    /// The next message, waiting at most `timeout`; `Ok(None)` when none came.
    pub fn poll(&mut self, timeout: Duration) -> Result<Option<Record>, ReaderError> {
        self.poll_inner(timeout, false)
    }

    /// Like [`Self::poll`], but returns `Ok(None)` at once when [`Self::caught_up`]: a read to
    /// the end. Messages that arrive while the read is under way are included.
    pub fn poll_bounded(&mut self, timeout: Duration) -> Result<Option<Record>, ReaderError> {
        self.poll_inner(timeout, true)
    }

    fn poll_inner(
        &mut self,
        timeout: Duration,
        bounded: bool,
    ) -> Result<Option<Record>, ReaderError> {
        let deadline = Instant::now() + timeout;
        loop {
            if bounded && self.caught_up() {
                return Ok(None);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let record = match self.consumer.poll(left) {
                None => return Ok(None),
                Some(Err(KafkaError::PartitionEOF(p))) => {
                    if let Some(s) = self.state(p) {
                        s.reached_end = true;
                    }
                    continue;
                }
                Some(Err(e)) => return Err(e.into()),
                Some(Ok(m)) => Record::from_message(&m),
            };
            if let Some(s) = self.state(record.partition) {
                if let Some(ts) = s.skip_before {
                    if record.timestamp_ms.is_some_and(|t| t < ts) {
                        continue;
                    }
                    s.skip_before = None;
                }
            }
            return Ok(Some(record));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_positions_parse() {
        assert_eq!(StartAt::parse("beginning"), Ok(StartAt::Beginning));
        assert_eq!(StartAt::parse("END"), Ok(StartAt::End));
        assert_eq!(
            StartAt::parse("2017-08-14T09:00:00Z"),
            Ok(StartAt::Timestamp(1_502_701_200_000))
        );
        assert_eq!(
            StartAt::parse("2017-08-14T11:00:00+02:00"),
            Ok(StartAt::Timestamp(1_502_701_200_000))
        );
        assert!(StartAt::parse("yesterday").is_err());
    }

    #[test]
    fn last_header_wins() {
        let r = Record {
            partition: 0,
            offset: 0,
            timestamp_ms: None,
            key: None,
            payload: None,
            headers: vec![
                ("content-type".into(), Some(b"application/json".to_vec())),
                (
                    "content-type".into(),
                    Some(b"application/x-protobuf".to_vec()),
                ),
            ],
        };
        assert_eq!(
            r.header("content-type"),
            Some(&b"application/x-protobuf"[..])
        );
        assert_eq!(
            r.header("Content-Type"),
            Some(&b"application/x-protobuf"[..])
        );
        assert_eq!(r.header("other"), None);
    }
}
