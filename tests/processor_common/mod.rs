//! Helpers shared by the processor tests (mock cluster and Tansu): producing reports, reading a
//! topic to its end, the offline fold a clean run must match, and the subscriber's
//! version-deduplicated view of the updates topic.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use reckon::adapters::kafka::processor::ProcessorConfig;
use reckon::adapters::kafka::reader::{Record, StartAt, TopicReader};
use reckon::adapters::kafka::sender::TrackedProducer;
use reckon::adapters::kafka::KafkaArgs;
use reckon::core::model::Report;
use reckon::core::registry::SourceRegistry;
use reckon::core::update::Update;
use reckon::core::Engine;
use reckon::wire::{self, ContentType, CONTENT_TYPE_HEADER};

/// The seed article's five reports, one JSON document per line.
pub const SEED: &str = include_str!("../fixtures/seed-2017-iraq.jsonl");

/// Client settings for a broker.
pub fn kafka(bootstrap: &str) -> KafkaArgs {
    KafkaArgs::for_brokers(bootstrap)
}

/// A processor configuration for tests: a short session timeout so group joins are quick.
pub fn config(kafka: &KafkaArgs, group: &str, instance: &str) -> ProcessorConfig {
    let mut c = ProcessorConfig::new(kafka.clone());
    c.consumer_properties = vec![
        ("session.timeout.ms".into(), "6000".into()),
        ("heartbeat.interval.ms".into(), "500".into()),
    ];
    c.group_id = group.into();
    c.instance_id = instance.into();
    c.commit_interval = Duration::from_millis(100);
    c
}

/// One message to produce.
#[derive(Debug, Clone)]
pub struct Msg {
    /// Key.
    pub key: Option<Vec<u8>>,
    /// Value.
    pub payload: Vec<u8>,
    /// Headers.
    pub headers: Vec<(&'static str, Vec<u8>)>,
}

impl Msg {
    /// A report as a feeder sends it: keyed by region, JSON, with a content-type header.
    pub fn report(r: &Report) -> Self {
        Self {
            key: Some(r.region_key().into_bytes()),
            payload: wire::json::encode_report(r),
            headers: vec![(
                CONTENT_TYPE_HEADER,
                ContentType::Json.mime().as_bytes().to_vec(),
            )],
        }
    }

    /// A raw JSON line as a report, keyed by its region.
    pub fn json_line(line: &str) -> Self {
        let r = wire::json::decode_report(line.as_bytes()).expect("valid report line");
        Self {
            key: Some(r.region_key().into_bytes()),
            payload: line.as_bytes().to_vec(),
            headers: vec![(
                CONTENT_TYPE_HEADER,
                ContentType::Json.mime().as_bytes().to_vec(),
            )],
        }
    }
}

/// The seed reports as messages.
pub fn seed_msgs() -> Vec<Msg> {
    SEED.lines().map(Msg::json_line).collect()
}

/// Produces `msgs` to `topic` (keyed partitioning, murmur2 as reckon's feeders use) and waits
/// until every one is acknowledged.
pub fn produce(kafka: &KafkaArgs, topic: &str, msgs: &[Msg]) {
    let config = kafka.client_config_with(&[
        ("enable.idempotence", "true"),
        ("partitioner", "murmur2_random"),
    ]);
    let mut p = TrackedProducer::new(&config).expect("producer");
    for (i, m) in msgs.iter().enumerate() {
        let headers: Vec<(&str, &[u8])> =
            m.headers.iter().map(|(k, v)| (*k, v.as_slice())).collect();
        p.send(topic, m.key.as_deref(), &m.payload, &headers, i)
            .expect("enqueue");
    }
    p.flush(Duration::from_secs(60)).expect("flush");
    let failures = p.take_failures();
    assert!(failures.is_empty(), "produce failures: {failures:?}");
    assert_eq!(p.delivered(), msgs.len() as u64);
}

/// Reads `topic` from its beginning to its current end, sorted by partition then offset.
pub fn read_topic(kafka: &KafkaArgs, topic: &str) -> Vec<Record> {
    let config = kafka.client_config_with(&[("group.id", "reckon-test-reader")]);
    let mut reader = TopicReader::open(&config, topic, StartAt::Beginning, Duration::from_secs(20))
        .expect("open reader");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut out = Vec::new();
    while !reader.caught_up() {
        assert!(Instant::now() < deadline, "reading {topic} timed out");
        if let Some(r) = reader
            .poll_bounded(Duration::from_millis(500))
            .expect("read")
        {
            out.push(r);
        }
    }
    out.sort_by_key(|r| (r.partition, r.offset));
    out
}

/// The offline fold of the reports topic as the processor saw it: per partition, in offset
/// order, one engine each. Undecodable records are skipped (they are dead letters).
pub fn offline(reports: &[Record]) -> (BTreeMap<i32, Engine>, Vec<Update>) {
    let mut engines: BTreeMap<i32, Engine> = BTreeMap::new();
    let mut updates = Vec::new();
    for r in reports {
        let ct = match r.header(CONTENT_TYPE_HEADER) {
            None => ContentType::Json,
            Some(v) => match std::str::from_utf8(v)
                .ok()
                .and_then(|s| ContentType::parse(s).ok())
            {
                Some(ct) => ct,
                None => continue,
            },
        };
        let Ok(report) = wire::decode_report(r.payload.as_deref().unwrap_or_default(), ct) else {
            continue;
        };
        let e = engines
            .entry(r.partition)
            .or_insert_with(|| Engine::new(SourceRegistry::default()));
        updates.extend(e.apply(&report));
    }
    (engines, updates)
}

/// Per incident, its versions in order with their encoded bytes.
pub type Sequences = BTreeMap<String, Vec<(u64, Vec<u8>)>>;

/// What a clean run publishes, as JSON bytes.
pub fn expected_sequences(updates: &[Update]) -> Sequences {
    let mut out = Sequences::new();
    for u in updates {
        out.entry(u.incident_id.to_string())
            .or_default()
            .push((u.version, wire::encode_update(u, ContentType::Json)));
    }
    out
}

/// The subscriber's view of the updates topic: per incident, each version once, in the order
/// read. Asserts the guarantee on the way: a version seen again has exactly the same bytes,
/// the key is the incident id, the headers name the content type and the version, and
/// versions grow by one.
pub fn dedup_sequences(records: &[Record]) -> Sequences {
    let mut out = Sequences::new();
    let mut duplicates = 0usize;
    for r in records {
        let payload = r.payload.as_deref().expect("update payload");
        let ct = ContentType::parse(
            std::str::from_utf8(r.header(CONTENT_TYPE_HEADER).expect("content type header"))
                .expect("utf-8"),
        )
        .expect("known content type");
        let u = wire::decode_update(payload, ct).expect("decodable update");
        let id = u.incident_id.to_string();
        assert_eq!(r.key.as_deref(), Some(id.as_bytes()), "update key");
        assert_eq!(
            r.header("reckon-version"),
            Some(u.version.to_string().as_bytes()),
            "version header"
        );
        let seq = out.entry(id.clone()).or_default();
        if let Some((_, earlier)) = seq.iter().find(|(v, _)| *v == u.version) {
            assert_eq!(
                earlier, &payload,
                "{id} version {} was published with two different contents",
                u.version
            );
            duplicates += 1;
            continue;
        }
        let last = seq.last().map_or(0, |(v, _)| *v);
        assert_eq!(
            u.version,
            last + 1,
            "{id}: version {} after {last}",
            u.version
        );
        seq.push((u.version, payload.to_vec()));
    }
    if duplicates > 0 {
        eprintln!("{duplicates} re-published version(s) dropped by the subscriber view");
    }
    out
}

/// Compares two sets of sequences with a readable failure.
pub fn assert_same_sequences(got: &Sequences, want: &Sequences) {
    let only_got: Vec<&String> = got.keys().filter(|k| !want.contains_key(*k)).collect();
    let only_want: Vec<&String> = want.keys().filter(|k| !got.contains_key(*k)).collect();
    assert!(
        only_got.is_empty() && only_want.is_empty(),
        "incidents differ: {} published but not in the clean run {:?}; {} in the clean run but not published {:?}",
        only_got.len(),
        only_got.iter().take(5).collect::<Vec<_>>(),
        only_want.len(),
        only_want.iter().take(5).collect::<Vec<_>>(),
    );
    for (id, w) in want {
        let g = &got[id];
        assert_eq!(
            g.iter().map(|(v, _)| *v).collect::<Vec<_>>(),
            w.iter().map(|(v, _)| *v).collect::<Vec<_>>(),
            "{id}: versions differ"
        );
        for ((v, gb), (_, wb)) in g.iter().zip(w) {
            assert!(
                gb == wb,
                "{id} version {v} differs:\n got {}\nwant {}",
                String::from_utf8_lossy(gb),
                String::from_utf8_lossy(wb)
            );
        }
    }
}
