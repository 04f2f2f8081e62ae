//! `reckon feed`, `subscribe` and `replay` run as the real binary against librdkafka's mock
//! cluster (in this test process, on loopback): fast, no install needed.

mod cli_common;

use std::collections::BTreeSet;
use std::io::Write;

use cli_common::*;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use reckon::adapters::kafka::TopicArgs;
use reckon::core::model::IncidentId;
use reckon::core::update::{MergeNotice, Update};
use reckon::core::view::Grade;
use reckon::wire::framing::frame_bytes;
use reckon::wire::{self, json, ContentType, CONTENT_TYPE_HEADER};

const PARTITIONS: i32 = 3;

/// A mock cluster with reckon's four topics (and any extra ones) of [`PARTITIONS`] partitions.
struct Cluster {
    mock: MockCluster<'static, DefaultProducerContext>,
    brokers: String,
    topics: TopicArgs,
}

impl Cluster {
    fn start() -> Self {
        let mock = MockCluster::new(1).expect("mock cluster");
        let topics = TopicArgs::default();
        for t in [
            &topics.reports_topic,
            &topics.updates_topic,
            &topics.changelog_topic,
            &topics.dead_letter_topic,
        ] {
            mock.create_topic(t, PARTITIONS, 1).expect("create topic");
        }
        let brokers = mock.bootstrap_servers();
        Self {
            mock,
            brokers,
            topics,
        }
    }

    fn create(&self, topic: &str) {
        self.mock
            .create_topic(topic, PARTITIONS, 1)
            .expect("create topic");
    }

    fn reckon(&self, args: &[&str]) -> std::process::Output {
        reckon(&self.brokers, args)
    }
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The reports topic holds exactly the seed's reports, each keyed by its region key, in the
/// partition the Java client's partitioner gives that key, with the given content type.
fn assert_seed_in_reports_topic(c: &Cluster, ct: ContentType) {
    let records = read_all(&c.brokers, &c.topics.reports_topic);
    assert_eq!(records.len(), 5, "{records:#?}");
    let mut ids = BTreeSet::new();
    for r in &records {
        assert_eq!(header(r, CONTENT_TYPE_HEADER).as_deref(), Some(ct.mime()));
        let report = wire::decode_report(r.payload.as_deref().unwrap(), ct).expect("decodes");
        let key = r.key.as_deref().expect("keyed");
        assert_eq!(key, report.region_key().as_bytes());
        assert_eq!(
            r.partition,
            java_partition(key, PARTITIONS),
            "{} in the partition its key hashes to",
            report.region_key()
        );
        ids.insert(report.report_id.as_str().to_string());
    }
    let expected: BTreeSet<String> = seed_reports()
        .iter()
        .map(|r| r.report_id.as_str().to_string())
        .collect();
    assert_eq!(ids, expected);
    let regions: BTreeSet<Vec<u8>> = records.iter().filter_map(|r| r.key.clone()).collect();
    assert_eq!(
        regions,
        BTreeSet::from([
            b"iq/baghdad".to_vec(),
            b"iq/karbala".to_vec(),
            b"iq/nanawa".to_vec()
        ])
    );
}

#[test]
fn feed_sends_the_seed_keyed_by_region() {
    let c = Cluster::start();
    let seed = seed_path();
    let o = c.reckon(&["feed", seed.to_str().unwrap()]);
    assert!(o.status.success(), "{}", show(&o));
    assert!(stderr(&o).contains("sent 5 report(s)"), "{}", show(&o));
    assert!(stderr(&o).contains("rejected 0"), "{}", show(&o));
    assert_seed_in_reports_topic(&c, ContentType::Json);
    assert!(read_all(&c.brokers, &c.topics.dead_letter_topic).is_empty());
}

#[test]
fn feed_reads_length_delimited_protobuf() {
    let c = Cluster::start();
    let dir = TempDir::new("proto");
    let file = dir.path("seed.pb");
    let mut bytes = Vec::new();
    for r in seed_reports() {
        bytes.extend(frame_bytes(
            ContentType::Protobuf,
            &wire::encode_report(&r, ContentType::Protobuf),
        ));
    }
    std::fs::write(&file, bytes).unwrap();
    let o = c.reckon(&["feed", "--format", "protobuf", file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", show(&o));
    assert_seed_in_reports_topic(&c, ContentType::Protobuf);
}

#[test]
fn feed_rejects_bad_and_truncated_protobuf_messages_by_index() {
    let c = Cluster::start();
    let dir = TempDir::new("proto-bad");
    let file = dir.path("bad.pb");
    let rejects = dir.path("rejects.pb");
    let mut bytes = Vec::new();
    for r in seed_reports() {
        bytes.extend(frame_bytes(
            ContentType::Protobuf,
            &wire::encode_report(&r, ContentType::Protobuf),
        ));
    }
    bytes.extend(frame_bytes(ContentType::Protobuf, &[0xff, 0xff, 0xff]));
    let last = frame_bytes(
        ContentType::Protobuf,
        &wire::encode_report(&seed_reports()[0], ContentType::Protobuf),
    );
    bytes.extend(&last[..last.len() / 2]);
    std::fs::write(&file, bytes).unwrap();
    let o = c.reckon(&[
        "feed",
        "--format",
        "protobuf",
        "--rejects",
        rejects.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let err = stderr(&o);
    assert!(
        err.contains("message 6: rejected (malformed_protobuf)"),
        "{err}"
    );
    assert!(err.contains("message 7: rejected (truncated)"), "{err}");
    assert_seed_in_reports_topic(&c, ContentType::Protobuf);
    let kept = std::fs::read(&rejects).unwrap();
    assert!(
        kept.starts_with(&frame_bytes(ContentType::Protobuf, &[0xff, 0xff, 0xff])),
        "the rejects file holds the rejected messages, framed"
    );
}

#[test]
fn feed_converts_json_to_protobuf_from_stdin() {
    let c = Cluster::start();
    let mut child = reckon_command(&c.brokers, &["feed", "--output-format", "protobuf", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(SEED.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", show(&o));
    assert_seed_in_reports_topic(&c, ContentType::Protobuf);
}

/// Seed lines with bad ones between them: line 2 is not JSON, line 4 is blank, line 5 is a
/// report without an id, line 8 has a count over the limit.
fn mixed_input() -> (String, Vec<(u64, &'static str, String)>) {
    let seed = seed_lines();
    let no_id = seed[1].replacen(
        "\"report_id\":\"southfront-2017-08-14-karbala-islamic-state\"",
        "\"report_id\":\"\"",
        1,
    );
    assert_ne!(no_id, seed[1]);
    let too_many = seed[4].replacen("\"value\":4", "\"value\":99999999", 1);
    assert_ne!(too_many, seed[4]);
    let lines: Vec<String> = vec![
        seed[0].to_string(),
        "{not json".to_string(),
        seed[1].to_string(),
        String::new(),
        no_id.clone(),
        seed[2].to_string(),
        seed[3].to_string(),
        too_many.clone(),
        seed[4].to_string(),
    ];
    let bad = vec![
        (2, "malformed_json", "{not json".to_string()),
        (5, "invalid", no_id),
        (8, "invalid", too_many),
    ];
    // No newline after the last line: it is still a line.
    (lines.join("\n"), bad)
}

#[test]
fn invalid_lines_go_to_the_rejects_file_and_valid_ones_are_sent() {
    let c = Cluster::start();
    let dir = TempDir::new("rejects");
    let input = dir.path("in.jsonl");
    let rejects = dir.path("rejects.jsonl");
    let (text, bad) = mixed_input();
    std::fs::write(&input, text).unwrap();
    let o = c.reckon(&[
        "feed",
        "--rejects",
        rejects.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "rejections exit 2: {}", show(&o));
    let err = stderr(&o);
    for (line, code, _) in &bad {
        assert!(
            err.contains(&format!("line {line}: rejected ({code})")),
            "line {line} reported: {}",
            show(&o)
        );
    }
    assert!(err.contains("rejected 3"), "{}", show(&o));
    assert!(
        err.contains("report_id"),
        "the reason names the field: {err}"
    );
    let kept = std::fs::read_to_string(&rejects).unwrap();
    let expected: String = bad.iter().map(|(_, _, l)| format!("{l}\n")).collect();
    assert_eq!(kept, expected, "the rejected lines, as they were");
    assert_seed_in_reports_topic(&c, ContentType::Json);
    assert!(
        read_all(&c.brokers, &c.topics.dead_letter_topic).is_empty(),
        "with a rejects file nothing goes to the dead-letter topic"
    );
}

#[test]
fn invalid_lines_go_to_the_dead_letter_topic_with_their_origin() {
    let c = Cluster::start();
    let dir = TempDir::new("dlq");
    let input = dir.path("in.jsonl");
    let (text, bad) = mixed_input();
    std::fs::write(&input, text).unwrap();
    let o = c.reckon(&["feed", input.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert_seed_in_reports_topic(&c, ContentType::Json);
    let mut dead = read_all(&c.brokers, &c.topics.dead_letter_topic);
    dead.sort_by_key(|r| {
        header(r, "reckon-source-offset")
            .unwrap()
            .parse::<u64>()
            .unwrap()
    });
    assert_eq!(dead.len(), bad.len(), "{dead:#?}");
    let source = format!("file:{}", input.display());
    for (r, (line, code, original)) in dead.iter().zip(&bad) {
        assert_eq!(r.payload.as_deref(), Some(original.as_bytes()));
        assert_eq!(header(r, "reckon-dlq-reason-code").as_deref(), Some(*code));
        assert!(!header(r, "reckon-dlq-reason").unwrap().is_empty());
        assert_eq!(header(r, "reckon-source-topic"), Some(source.clone()));
        assert_eq!(header(r, "reckon-source-partition").as_deref(), Some("-1"));
        assert_eq!(header(r, "reckon-source-offset"), Some(line.to_string()));
        assert_eq!(
            header(r, CONTENT_TYPE_HEADER).as_deref(),
            Some("application/json")
        );
    }
}

#[test]
fn feed_fails_on_a_missing_topic() {
    let c = Cluster::start();
    let seed = seed_path();
    let o = c.reckon(&[
        "feed",
        "--reports-topic",
        "no.such.topic",
        "--timeout-ms",
        "5000",
        seed.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(
        stderr(&o).contains("no.such.topic does not exist"),
        "{}",
        show(&o)
    );
}

#[test]
fn feed_fails_when_the_broker_refuses_the_reports() {
    use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
    let c = Cluster::start();
    c.mock.request_errors(
        RDKafkaApiKey::Produce,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED; 50],
    );
    let seed = seed_path();
    let started = std::time::Instant::now();
    let o = c.reckon(&["feed", "--timeout-ms", "5000", seed.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    let err = stderr(&o);
    assert!(
        err.contains("not delivered to reckon.reports"),
        "{}",
        show(&o)
    );
    assert!(!err.contains("sent 5 report(s)"), "{}", show(&o));
}

/// An incident absorbed into the seed's Karbala incident: a view of its own at version 1, then
/// its "absorbed into" notice at version 2.
fn absorbed_incident(karbala: &Update) -> (Update, Update) {
    let x = IncidentId::parse("iq-20170813-absorbed").unwrap();
    let mut before = karbala.clone();
    before.incident_id = x.clone();
    before.version = 1;
    if let Some(v) = before.view.as_mut() {
        v.incident_id = x.clone();
        v.grade = Grade::Weak;
    }
    let notice = Update::new(
        x,
        2,
        None,
        vec!["merged".into()],
        karbala.caused_by.clone(),
        Some(MergeNotice::AbsorbedInto {
            incident_id: karbala.incident_id.clone(),
        }),
    );
    (before, notice)
}

/// Fills the updates topic with the seed's updates, delivered at least once: duplicates, an old
/// version re-published after a newer one, an absorbed incident, JSON and protobuf mixed.
/// Returns the messages in order and the newest version per incident.
fn fill_updates(c: &Cluster) -> (Vec<Update>, Vec<Update>) {
    let updates = seed_updates();
    let karbala = in_region(&updates, "iq/karbala").clone();
    let (before, notice) = absorbed_incident(&karbala);
    let mut sent: Vec<(Update, ContentType)> = Vec::new();
    for (i, u) in updates.iter().enumerate() {
        let ct = if i % 2 == 0 {
            ContentType::Json
        } else {
            ContentType::Protobuf
        };
        sent.push((u.clone(), ct));
        // Every update is delivered twice, the second time in the other format.
        let other = if ct == ContentType::Json {
            ContentType::Protobuf
        } else {
            ContentType::Json
        };
        sent.push((u.clone(), other));
    }
    // Version 1 of every incident re-published after its newer versions.
    for u in updates.iter().filter(|u| u.version == 1) {
        sent.push((u.clone(), ContentType::Json));
    }
    sent.push((before.clone(), ContentType::Json));
    sent.push((notice.clone(), ContentType::Protobuf));
    sent.push((notice.clone(), ContentType::Json));
    sent.push((before.clone(), ContentType::Json));
    produce_updates(&c.brokers, &c.topics.updates_topic, &sent);
    let mut all: Vec<Update> = updates.clone();
    all.push(before);
    all.push(notice);
    (sent.into_iter().map(|(u, _)| u).collect(), latest_of(&all))
}

fn subscribe(c: &Cluster, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "subscribe",
        "--from",
        "beginning",
        "--until-idle-ms",
        "1000",
    ];
    args.extend_from_slice(extra);
    let o = c.reckon(&args);
    assert!(o.status.success(), "{}", show(&o));
    o
}

fn ids_versions(updates: &[Update]) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = updates
        .iter()
        .map(|u| (u.incident_id.to_string(), u.version))
        .collect();
    v.sort();
    v
}

#[test]
fn subscribe_shows_everything_or_the_latest_view() {
    let c = Cluster::start();
    let (sent, latest) = fill_updates(&c);
    assert_eq!(latest.len(), 4);

    let all = parse_updates(&subscribe(&c, &[]).stdout);
    assert_eq!(
        ids_versions(&all),
        ids_versions(&sent),
        "without --latest every message is shown, decoded per its content type"
    );

    let o = subscribe(&c, &["--latest"]);
    let shown = parse_updates(&o.stdout);
    assert_eq!(
        shown, latest,
        "one line per incident, its newest version, in incident order"
    );
    let absorbed: Vec<&Update> = shown.iter().filter(|u| u.view.is_none()).collect();
    assert_eq!(absorbed.len(), 1, "the absorbed incident is shown once");
    assert!(matches!(
        absorbed[0].merge,
        Some(MergeNotice::AbsorbedInto { .. })
    ));

    let o = subscribe(&c, &["--latest", "--max-messages", "2"]);
    assert_eq!(parse_updates(&o.stdout).len(), 2);
    let o = subscribe(&c, &["--max-messages", "3"]);
    assert_eq!(parse_updates(&o.stdout).len(), 3);
}

#[test]
fn subscribe_latest_drops_redelivered_and_older_versions_while_tailing() {
    use std::io::{BufRead, BufReader};
    let c = Cluster::start();
    let (_, latest) = fill_updates(&c);
    let mut child = reckon_command(
        &c.brokers,
        &[
            "subscribe",
            "--latest",
            "--from",
            "beginning",
            "--until-idle-ms",
            "4000",
        ],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let wait = std::time::Duration::from_secs(20);
    let snapshot: Vec<String> = (0..latest.len())
        .map(|_| rx.recv_timeout(wait).expect("the caught-up view"))
        .collect();
    assert_eq!(parse_updates(snapshot.join("\n").as_bytes()), latest);

    // Caught up; now the topic gets redeliveries, an older version and one new version.
    let karbala = in_region(&latest, "iq/karbala").clone();
    let mut newer = karbala.clone();
    newer.version += 1;
    newer.changes = vec!["grade".into()];
    if let Some(v) = newer.view.as_mut() {
        v.grade = Grade::Fair;
    }
    let first = seed_updates()
        .into_iter()
        .find(|u| u.incident_id == karbala.incident_id && u.version == 1)
        .unwrap();
    let notice = latest.iter().find(|u| u.view.is_none()).unwrap().clone();
    produce_updates(
        &c.brokers,
        &c.topics.updates_topic,
        &[
            (karbala.clone(), ContentType::Protobuf),
            (first, ContentType::Json),
            (notice, ContentType::Json),
            (newer.clone(), ContentType::Protobuf),
            (karbala, ContentType::Json),
            (newer.clone(), ContentType::Json),
        ],
    );
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", show(&o));
    let live: Vec<String> = rx.try_iter().collect();
    assert_eq!(
        parse_updates(live.join("\n").as_bytes()),
        vec![newer],
        "only the new version is shown"
    );
}

#[test]
fn subscribe_filters() {
    let c = Cluster::start();
    let (_, latest) = fill_updates(&c);
    let karbala = in_region(&latest, "iq/karbala").incident_id.to_string();
    let baghdad = in_region(&latest, "iq/baghdad").incident_id.to_string();

    let weak = parse_updates(&subscribe(&c, &["--latest", "--grade", "weak"]).stdout);
    assert_eq!(
        weak.iter()
            .map(|u| u.incident_id.to_string())
            .collect::<Vec<_>>(),
        vec![baghdad.clone(), "iq-20170813-absorbed".to_string()],
        "Baghdad, and the absorbed incident whose last view was weak"
    );

    let both = parse_updates(
        &subscribe(
            &c,
            &["--latest", "--grade", "weak,contested", "--country", "iq"],
        )
        .stdout,
    );
    assert_eq!(both.len(), 4);
    let none = parse_updates(&subscribe(&c, &["--latest", "--country", "SY"]).stdout);
    assert!(none.is_empty());

    let one =
        parse_updates(&subscribe(&c, &["--incident", &karbala, "--incident", "iq-unknown"]).stdout);
    assert!(!one.is_empty());
    assert!(one.iter().all(|u| u.incident_id.as_str() == karbala));

    let followed =
        parse_updates(&subscribe(&c, &["--latest", "--incident", "iq-20170813-absorbed"]).stdout);
    assert_eq!(
        ids_versions(&followed),
        ids_versions(&[
            latest
                .iter()
                .find(|u| u.incident_id.as_str() == "iq-20170813-absorbed")
                .unwrap()
                .clone(),
            in_region(&latest, "iq/karbala").clone()
        ]),
        "following an absorbed incident leads to its survivor"
    );

    let bad = c.reckon(&["subscribe", "--grade", "sure", "--until-idle-ms", "100"]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("unknown grade"), "{}", show(&bad));
}

#[test]
fn subscribe_table_is_readable() {
    let c = Cluster::start();
    fill_updates(&c);
    let o = subscribe(&c, &["--latest", "--format", "table"]);
    let table = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("INCIDENT"), "{table}");
    assert!(
        table.contains("military killed 0/0/50 [disputed"),
        "{table}"
    );
    assert!(table.contains("civilians killed 27/27/27"), "{table}");
    assert!(table.contains("absorbed into iq-20170813-"), "{table}");
    let karbala = lines.iter().find(|l| l.contains("iq/karbala")).unwrap();
    assert!(
        karbala.contains("contested") && karbala.contains("outcome"),
        "{karbala}"
    );
}

#[test]
fn subscribe_from_end_waits_for_new_updates() {
    let c = Cluster::start();
    fill_updates(&c);
    let o = subscribe(&c, &[]);
    assert!(!o.stdout.is_empty());
    let o = c.reckon(&["subscribe", "--from", "end", "--until-idle-ms", "500"]);
    assert!(o.status.success(), "{}", show(&o));
    assert!(o.stdout.is_empty(), "nothing new: {}", show(&o));
}

/// Feeds the seed and returns the offline fold's updates.
fn seed_reports_topic(c: &Cluster) -> Vec<Update> {
    let seed = seed_path();
    let o = c.reckon(&["feed", seed.to_str().unwrap()]);
    assert!(o.status.success(), "{}", show(&o));
    seed_updates()
}

#[test]
fn replay_verify_agrees_with_the_offline_fold() {
    let c = Cluster::start();
    let updates = seed_reports_topic(&c);
    // A message the processor would dead-letter: the rebuild counts it and goes on.
    produce(
        &c.brokers,
        &c.topics.reports_topic,
        &[(
            Some(b"iq/karbala".to_vec()),
            b"garbage".to_vec(),
            ContentType::Json,
        )],
    );
    let with_protobuf: Vec<(Update, ContentType)> = updates
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let ct = if i % 2 == 0 {
                ContentType::Protobuf
            } else {
                ContentType::Json
            };
            (u.clone(), ct)
        })
        .collect();
    produce_updates(&c.brokers, &c.topics.updates_topic, &with_protobuf);

    let o = c.reckon(&["replay", "--verify", "--print-views"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(
        stderr(&o).contains("matches the rebuilt state"),
        "{}",
        show(&o)
    );
    assert!(stderr(&o).contains("5 report(s)"), "{}", show(&o));
    assert!(
        stderr(&o).contains("1 dead-lettered (malformed_json: 1)"),
        "{}",
        show(&o)
    );
    // --print-views gives what the offline fold gives.
    let offline: Vec<u8> = latest_of(&updates)
        .iter()
        .filter(|u| u.view.is_some())
        .flat_map(|u| {
            let mut l = json::encode_update(u);
            l.push(b'\n');
            l
        })
        .collect();
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&offline)
    );
}

#[test]
fn replay_verify_reports_a_tampered_topic() {
    let c = Cluster::start();
    let updates = seed_reports_topic(&c);
    let karbala = in_region(&updates, "iq/karbala").clone();
    let baghdad = in_region(&updates, "iq/baghdad").clone();
    let mut tampered: Vec<(Update, ContentType)> = updates
        .iter()
        .filter(|u| u.incident_id != baghdad.incident_id)
        .map(|u| (u.clone(), ContentType::Json))
        .collect();
    // Karbala's latest version re-published with another grade.
    let mut forged = karbala.clone();
    if let Some(v) = forged.view.as_mut() {
        v.grade = Grade::Confirmed;
    }
    tampered.push((forged, ContentType::Json));
    c.create("tampered.updates");
    produce_updates(&c.brokers, "tampered.updates", &tampered);
    let o = c.reckon(&["replay", "--verify", "--updates-topic", "tampered.updates"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(&format!("missing: {}", baghdad.incident_id)),
        "{}",
        show(&o)
    );
    assert!(
        out.contains(&format!(
            "conflict: {} v{} appears in tampered.updates twice",
            karbala.incident_id, karbala.version
        )),
        "the forged copy conflicts with the real one: {}",
        show(&o)
    );
    assert_eq!(out.lines().count(), 2, "{}", show(&o));
    assert!(stderr(&o).contains("does not match"), "{}", show(&o));
}

#[test]
fn replay_verify_reports_a_different_view() {
    let c = Cluster::start();
    let updates = seed_reports_topic(&c);
    let karbala = in_region(&updates, "iq/karbala").clone();
    let forged: Vec<(Update, ContentType)> = updates
        .iter()
        .map(|u| {
            let mut u = u.clone();
            if u.incident_id == karbala.incident_id && u.version == karbala.version {
                if let Some(v) = u.view.as_mut() {
                    v.grade = Grade::Confirmed;
                }
            }
            (u, ContentType::Json)
        })
        .collect();
    produce_updates(&c.brokers, &c.topics.updates_topic, &forged);
    let o = c.reckon(&["replay", "--verify"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(out.lines().count(), 1, "{}", show(&o));
    assert!(
        out.contains(&format!(
            "different: {}: view differs in grade",
            karbala.incident_id
        )),
        "{}",
        show(&o)
    );
}

#[test]
fn replay_publishes_a_rebuild_to_a_fresh_topic() {
    let c = Cluster::start();
    let updates = seed_reports_topic(&c);
    c.create("rebuilt.updates");
    let o = c.reckon(&[
        "replay",
        "--publish-to",
        "rebuilt.updates",
        "--publish-format",
        "protobuf",
    ]);
    assert!(o.status.success(), "{}", show(&o));
    let records = read_all(&c.brokers, "rebuilt.updates");
    assert_eq!(records.len(), updates.len());
    for r in &records {
        assert_eq!(
            header(r, CONTENT_TYPE_HEADER).as_deref(),
            Some(ContentType::Protobuf.mime())
        );
        let u = wire::decode_update(r.payload.as_deref().unwrap(), ContentType::Protobuf).unwrap();
        assert_eq!(r.key.as_deref(), Some(u.incident_id.as_str().as_bytes()));
        assert!(updates.contains(&u));
    }
    let o = c.reckon(&["replay", "--verify", "--updates-topic", "rebuilt.updates"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    // A topic that already holds messages is refused.
    let o = c.reckon(&["replay", "--publish-to", "rebuilt.updates"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(stderr(&o).contains("already holds"), "{}", show(&o));
}

/// Waits until a topic holds `n` messages.
fn wait_for(c: &Cluster, topic: &str, n: usize) -> usize {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let have = read_all(&c.brokers, topic).len();
        if have >= n || std::time::Instant::now() > deadline {
            return have;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn feed_follow_survives_rotation_and_truncation() {
    use std::time::Duration;
    let c = Cluster::start();
    let dir = TempDir::new("rotate");
    let file = dir.path("feed.jsonl");
    let lines = seed_lines();
    std::fs::write(&file, format!("{}\n{}\n", lines[0], lines[1])).unwrap();
    let mut child = reckon_command(
        &c.brokers,
        &[
            "feed",
            "--follow",
            "--poll-ms",
            "50",
            "--rejects",
            dir.path("rejects").to_str().unwrap(),
            file.to_str().unwrap(),
        ],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let topic = c.topics.reports_topic.clone();
    assert_eq!(wait_for(&c, &topic, 2), 2);

    // Rotation: the old file is renamed (and still gets a last line), a new one takes its name.
    let old = dir.path("feed.jsonl.1");
    std::fs::rename(&file, &old).unwrap();
    let mut f = std::fs::OpenOptions::new().append(true).open(&old).unwrap();
    writeln!(f, "{}", lines[2]).unwrap();
    drop(f);
    std::fs::write(&file, format!("{}\n", lines[3])).unwrap();
    assert_eq!(wait_for(&c, &topic, 4), 4);

    // Truncation: the file is emptied in place, then written again.
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&file)
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&file)
        .unwrap();
    writeln!(f, "{}", lines[4]).unwrap();
    drop(f);
    assert_eq!(wait_for(&c, &topic, 5), 5);

    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        assert!(std::time::Instant::now() < deadline, "no exit on SIGINT");
        std::thread::sleep(Duration::from_millis(50));
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let err = stderr(&o);
    assert!(err.contains("was replaced"), "{err}");
    assert!(err.contains("was truncated"), "{err}");
    assert!(err.contains("sent 5 report(s)"), "{err}");
    assert_seed_in_reports_topic(&c, ContentType::Json);
}
