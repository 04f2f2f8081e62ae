//! Shared by the `reckon` command tests (`cli_mock`, `cli_tansu`): running the binary, producing
//! and reading topics with plain clients, the seed article's reports and offline updates, and
//! the Java client's partitioner to check where keys land.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::ClientConfig;
use reckon::adapters::kafka::reader::{Record, StartAt, TopicReader};
use reckon::core::model::Report;
use reckon::core::registry::SourceRegistry;
use reckon::core::update::Update;
use reckon::core::Engine;
use reckon::wire::{self, json, ContentType, CONTENT_TYPE_HEADER};

/// The seed article's reports, one JSON line each.
pub const SEED: &str = include_str!("../fixtures/seed-2017-iraq.jsonl");

/// Path of the seed fixture.
pub fn seed_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seed-2017-iraq.jsonl")
}

/// The seed's JSON lines.
pub fn seed_lines() -> Vec<&'static str> {
    SEED.lines().filter(|l| !l.trim().is_empty()).collect()
}

/// The seed's reports.
pub fn seed_reports() -> Vec<Report> {
    seed_lines()
        .iter()
        .map(|l| json::decode_report(l.as_bytes()).expect("seed reports are valid"))
        .collect()
}

/// Every update the offline fold gives for the seed, in order.
pub fn seed_updates() -> Vec<Update> {
    let mut engine = Engine::new(SourceRegistry::default());
    seed_reports()
        .iter()
        .flat_map(|r| engine.apply(r))
        .collect()
}

/// A scratch directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!(
            "reckon-cli-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(&p).expect("temp dir");
        Self(p)
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The `reckon` command with no `RECKON_*` settings inherited from the environment.
pub fn reckon_command(brokers: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_reckon"));
    for (k, _) in std::env::vars() {
        if k.starts_with("RECKON_") {
            c.env_remove(k);
        }
    }
    c.args(args).args(["-b", brokers]);
    c
}

/// Runs `reckon` to completion.
pub fn reckon(brokers: &str, args: &[&str]) -> Output {
    reckon_command(brokers, args).output().expect("run reckon")
}

/// stdout and stderr of a run, for assertion messages.
pub fn show(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

pub use reckon::adapters::kafka::partitioner::java_partition;

/// A plain producer (murmur2 partitioner, like reckon's).
pub fn producer(brokers: &str) -> BaseProducer {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("partitioner", "murmur2_random")
        .set("message.timeout.ms", "20000")
        .create()
        .expect("producer")
}

/// A message to produce: key, value, content type.
pub type Message = (Option<Vec<u8>>, Vec<u8>, ContentType);

/// Produces keyed messages with a content-type header and waits for them.
pub fn produce(brokers: &str, topic: &str, messages: &[Message]) {
    let p = producer(brokers);
    for (key, payload, ct) in messages {
        let headers = OwnedHeaders::new().insert(Header {
            key: CONTENT_TYPE_HEADER,
            value: Some(ct.mime()),
        });
        let mut rec: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(topic)
            .payload(payload.as_slice())
            .headers(headers);
        if let Some(k) = key {
            rec = rec.key(k);
        }
        p.send(rec).map_err(|(e, _)| e).expect("enqueue");
        p.poll(Duration::ZERO);
    }
    p.flush(Duration::from_secs(30)).expect("flush");
}

/// Produces updates keyed by incident id, in the given format.
pub fn produce_updates(brokers: &str, topic: &str, updates: &[(Update, ContentType)]) {
    let msgs: Vec<Message> = updates
        .iter()
        .map(|(u, ct)| {
            (
                Some(u.incident_id.as_str().as_bytes().to_vec()),
                wire::encode_update(u, *ct),
                *ct,
            )
        })
        .collect();
    produce(brokers, topic, &msgs);
}

/// Every message of a topic, read to its end, sorted by (partition, offset).
pub fn read_all(brokers: &str, topic: &str) -> Vec<Record> {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", brokers);
    let mut reader = TopicReader::open(&config, topic, StartAt::Beginning, Duration::from_secs(20))
        .expect("open reader");
    let mut out = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !reader.caught_up() {
        assert!(
            std::time::Instant::now() < deadline,
            "reading {topic} took too long"
        );
        if let Some(r) = reader
            .poll_bounded(Duration::from_millis(200))
            .expect("poll")
        {
            out.push(r);
        }
    }
    out.sort_by_key(|r| (r.partition, r.offset));
    out
}

/// A record's header as text.
pub fn header(r: &Record, name: &str) -> Option<String> {
    r.header(name)
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

/// Parses JSON-lines output into updates.
pub fn parse_updates(stdout: &[u8]) -> Vec<Update> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| json::decode_update(l.as_bytes()).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The latest update per incident, in incident order.
pub fn latest_of(updates: &[Update]) -> Vec<Update> {
    let mut m = std::collections::BTreeMap::new();
    for u in updates {
        m.insert(u.incident_id.clone(), u.clone());
    }
    m.into_values().collect()
}

/// The latest update of the incident in a region.
pub fn in_region<'a>(updates: &'a [Update], region: &str) -> &'a Update {
    let found: Vec<&Update> = updates
        .iter()
        .filter(|u| u.view.as_ref().is_some_and(|v| v.region == region))
        .collect();
    found
        .last()
        .copied()
        .unwrap_or_else(|| panic!("no update for {region}"))
}
