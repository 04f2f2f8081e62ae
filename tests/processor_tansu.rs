//! The processor against a real broker (Tansu): round trip, a crash (SIGKILL of the `reckon
//! run` binary mid-stream, then a restart), and a rebalance (two instances split the
//! partitions, one leaves, the other takes its partitions over from the changelog).

mod broker;
mod processor_common;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use broker::Tansu;
use processor_common::*;
use rdkafka::consumer::{BaseConsumer, Consumer};
use reckon::adapters::kafka::processor::{caught_up, input_end_offsets, Processor};
use reckon::adapters::kafka::restore::restore_partitions;
use reckon::adapters::kafka::{ensure_topics, KafkaArgs, TopicLayout};
use reckon::synth::{generate, SynthConfig};

const PARTITIONS: i32 = 4;

fn create_topics(k: &KafkaArgs) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(ensure_topics(
        &k.client_config(),
        &TopicLayout::new(k.topics.clone(), PARTITIONS),
        true,
    ))
    .expect("topics created and verified");
}

/// A deterministic stream over many regions: several reports per incident, relays, claimants
/// correcting their figures, party claims that conflict with independent ones.
fn synthetic(incidents: usize) -> Vec<Msg> {
    generate(SynthConfig {
        incidents,
        regions: 48,
        seed: 2024,
        days: 30,
    })
    .iter()
    .map(Msg::report)
    .collect()
}

/// Asserts that the updates topic, as a version-deduplicating subscriber reads it, is exactly
/// what a clean offline fold of the reports topic publishes, byte for byte.
fn assert_clean_run(k: &KafkaArgs) -> Sequences {
    let reports = read_topic(k, &k.topics.reports_topic);
    let (engines, updates) = offline(&reports);
    let got = dedup_sequences(&read_topic(k, &k.topics.updates_topic));
    assert_same_sequences(&got, &expected_sequences(&updates));
    // The final views are the clean fold's.
    let mut views = 0;
    for e in engines.values() {
        for view in e.views() {
            let (_, latest) = got[view.incident_id.as_str()].last().unwrap();
            let u = reckon::wire::json::decode_update(latest).unwrap();
            assert_eq!(u.view.as_ref(), Some(&view));
            views += 1;
        }
    }
    assert!(views > 0);
    got
}

/// Sum of the updates topic's high watermarks: how many updates were published so far.
fn published(consumer: &BaseConsumer, k: &KafkaArgs) -> i64 {
    (0..PARTITIONS)
        .map(|p| {
            consumer
                .fetch_watermarks(&k.topics.updates_topic, p, Duration::from_secs(5))
                .map_or(0, |(_, h)| h)
        })
        .sum()
}

/// The real end of every reports partition, from reading it (listed watermarks on Tansu 0.6.0
/// fall short when a batch holds several records).
fn real_ends(k: &KafkaArgs) -> BTreeMap<i32, i64> {
    let mut ends: BTreeMap<i32, i64> = (0..PARTITIONS).map(|p| (p, 0)).collect();
    for r in read_topic(k, &k.topics.reports_topic) {
        ends.insert(r.partition, r.offset + 1);
    }
    ends
}

/// Whether the changelog checkpoints cover the reports topic up to `ends`.
fn checkpoints_cover(k: &KafkaArgs, ends: &BTreeMap<i32, i64>) -> bool {
    let parts: Vec<i32> = ends.keys().copied().collect();
    let restored = restore_partitions(
        &k.client_config(),
        &k.topics.changelog_topic,
        &parts,
        Duration::from_secs(30),
    )
    .unwrap();
    ends.iter()
        .all(|(p, end)| *end == 0 || restored[p].next_offset.is_some_and(|n| n >= *end))
}

struct RunningBinary {
    child: Child,
    log: PathBuf,
}

impl RunningBinary {
    fn spawn(k: &KafkaArgs, name: &str) -> Self {
        let log =
            std::env::temp_dir().join(format!("reckon-tansu-{name}-{}.log", std::process::id()));
        let child = Command::new(env!("CARGO_BIN_EXE_reckon"))
            .args([
                "run",
                "-b",
                &k.brokers,
                "-X",
                "session.timeout.ms=6000",
                "-X",
                "heartbeat.interval.ms=500",
                // A secret-looking value: it must never reach the logs.
                "-X",
                "sasl.password=hunter2-do-not-log",
                "--group-id",
                "crash",
                "--instance-id",
                "crash-test",
                "--commit-interval-ms",
                "100",
                "--log-format",
                "json",
            ])
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .expect("spawn reckon run");
        Self { child, log }
    }

    fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn kill9(mut self) {
        // Child::kill is SIGKILL: no commit cycle, no group leave.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -TERM {pid}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status, self.logs());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("reckon run did not stop on SIGTERM:\n{}", self.logs());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for RunningBinary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn round_trip_on_a_real_broker() {
    let tansu = Tansu::start();
    let k = kafka(&tansu.bootstrap);
    create_topics(&k);
    let mut msgs = seed_msgs();
    msgs.extend(synthetic(60));
    produce(&k, &k.topics.reports_topic, &msgs);
    let h = Processor::start(config(&k, "tansu-round-trip", "a")).unwrap();
    h.wait_until_caught_up(Duration::from_secs(90)).unwrap();
    let status = h.shutdown().unwrap();
    assert_eq!(status.records, msgs.len() as u64);
    assert_eq!(status.dead_letters, 0);
    assert_clean_run(&k);
}

#[test]
fn a_crashed_processor_restarts_without_changing_any_published_version() {
    let tansu = Tansu::start();
    let k = kafka(&tansu.bootstrap);
    create_topics(&k);
    let msgs = synthetic(700);
    assert!(
        msgs.len() > 2500,
        "a few thousand reports, got {}",
        msgs.len()
    );
    let (first, second) = msgs.split_at(msgs.len() / 2);

    let watch: BaseConsumer = k.client_config().create().unwrap();
    let a = RunningBinary::spawn(&k, "a");
    produce(&k, &k.topics.reports_topic, first);
    // SIGKILL mid-stream: some updates published, most of the input not yet processed.
    let started = Instant::now();
    let mut seen = 0;
    while seen < 200 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no progress before the kill:\n{}",
            a.logs()
        );
        std::thread::sleep(Duration::from_millis(5));
        seen = published(&watch, &k);
    }
    let logs_a = a.logs();
    a.kill9();
    let at_kill = published(&watch, &k);
    eprintln!("killed after {at_kill} updates published");
    assert!(
        !checkpoints_cover(&k, &real_ends(&k)),
        "the kill came after the processor had finished"
    );

    // More input arrives while it is down.
    produce(&k, &k.topics.reports_topic, second);
    let ends = real_ends(&k);
    assert_eq!(ends.values().sum::<i64>(), msgs.len() as i64);
    let b = RunningBinary::spawn(&k, "b");
    let deadline = Instant::now() + Duration::from_secs(90);
    while !checkpoints_cover(&k, &ends) {
        assert!(Instant::now() < deadline, "no catch-up:\n{}", b.logs());
        std::thread::sleep(Duration::from_millis(500));
    }
    let (status, logs_b) = b.terminate();
    assert!(status.success(), "exit status {status:?}:\n{logs_b}");
    assert!(logs_b.contains("restored partition"), "{logs_b}");
    for logs in [&logs_a, &logs_b] {
        assert!(!logs.contains("hunter2"), "a -X value reached the logs");
    }
    let got = assert_clean_run(&k);
    let versions: usize = got.values().map(Vec::len).sum();
    let total = read_topic(&k, &k.topics.updates_topic).len();
    eprintln!(
        "{total} update records, {versions} distinct versions: {} re-published after the crash",
        total - versions
    );
}

#[test]
fn a_partition_handed_over_in_a_rebalance_continues_from_its_changelog() {
    let tansu = Tansu::start();
    let k = kafka(&tansu.bootstrap);
    create_topics(&k);
    let msgs = synthetic(300);
    let (first, second) = msgs.split_at(msgs.len() / 2);

    let p1 = Processor::start(config(&k, "rebalance", "one")).unwrap();
    let p2 = Processor::start(config(&k, "rebalance", "two")).unwrap();
    // The input arrives once the two have split the partitions, so that each processes a
    // share (a fast instance alone in the group could otherwise process it all first).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (s1, s2) = (p1.status(), p2.status());
        if !s1.partitions.is_empty() && !s2.partitions.is_empty() {
            assert_eq!(
                s1.partitions.len() + s2.partitions.len(),
                PARTITIONS as usize
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the two instances did not split the partitions: {s1:?} {s2:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    produce(&k, &k.topics.reports_topic, first);
    let ends = input_end_offsets(&k, Duration::from_secs(5)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (s1, s2) = (p1.status(), p2.status());
        if caught_up(&[&s1, &s2], &ends) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the two instances did not catch up: {s1:?} {s2:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let s2 = p2.shutdown().unwrap();
    assert!(s2.records > 0, "the second instance processed its share");

    produce(&k, &k.topics.reports_topic, second);
    p1.wait_until_caught_up(Duration::from_secs(60)).unwrap();
    let s1 = p1.shutdown().unwrap();
    assert!(
        s1.restores >= PARTITIONS as u64,
        "the survivor restored the handed-over partitions: {s1:?}"
    );
    assert_eq!(
        s1.records + s2.records,
        msgs.len() as u64,
        "every record processed exactly once by the group"
    );
    // Final views (and every version) equal a single-instance clean run's.
    assert_clean_run(&k);
}

#[test]
fn exactly_once_on_a_broker_without_transactions_fails_clearly() {
    let tansu = Tansu::start();
    let k = kafka(&tansu.bootstrap);
    create_topics(&k);
    produce(&k, &k.topics.reports_topic, &seed_msgs());
    let mut cfg = config(&k, "tansu-eos", "a");
    cfg.exactly_once = true;
    let h = Processor::start(cfg).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !h.is_finished() {
        assert!(Instant::now() < deadline, "the processor kept going");
        std::thread::sleep(Duration::from_millis(50));
    }
    let err = h.wait().unwrap_err().to_string();
    assert!(
        err.contains("does not support transactions") && err.contains("--exactly-once"),
        "{err}"
    );
}
