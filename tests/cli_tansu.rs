//! `reckon feed`, `subscribe` and `replay` as the real binary against a real broker (Tansu).
//! The processor is not involved: the updates topic is filled with the offline fold's updates,
//! which is what the processor publishes for the same reports.

mod broker;
mod cli_common;
mod support;

use std::io::Write;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use broker::Tansu;
use cli_common::*;
use reckon::adapters::kafka::{ensure_topics, KafkaArgs, TopicArgs, TopicLayout};
use reckon::core::model::{AttackOutcome, Cause, Harm, Party};
use reckon::core::update::Update;
use reckon::core::view::{CasualtyEstimate, Grade};
use reckon::wire::{ContentType, CONTENT_TYPE_HEADER};

const PARTITIONS: i32 = 3;

/// A Tansu broker with reckon's topics created through the admin API.
fn broker_with_topics() -> (Tansu, TopicArgs) {
    let tansu = Tansu::start();
    let topics = TopicArgs::default();
    let args = KafkaArgs::for_brokers(tansu.bootstrap.clone());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(ensure_topics(
        &args.client_config(),
        &TopicLayout::new(topics.clone(), PARTITIONS),
        true,
    ))
    .expect("create topics on tansu");
    (tansu, topics)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn estimate(u: &Update, party: Party, harm: Harm) -> CasualtyEstimate {
    u.view
        .as_ref()
        .unwrap()
        .casualties
        .iter()
        .find(|e| e.party == party && e.outcome == harm)
        .unwrap_or_else(|| panic!("{party:?} {harm:?} in {}", u.incident_id))
        .clone()
}

#[test]
fn feed_then_subscribe_shows_the_reconciled_seed_and_replay_agrees() {
    let (tansu, topics) = broker_with_topics();
    let b = tansu.bootstrap.as_str();

    let seed = seed_path();
    let o = reckon(
        b,
        &["feed", "--timeout-ms", "20000", seed.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", show(&o));
    assert!(stderr(&o).contains("sent 5 report(s)"), "{}", show(&o));
    let reports = read_all(b, &topics.reports_topic);
    assert_eq!(reports.len(), 5);
    for r in &reports {
        let key = r.key.as_deref().unwrap();
        assert_eq!(r.partition, java_partition(key, PARTITIONS));
        assert_eq!(
            header(r, CONTENT_TYPE_HEADER).as_deref(),
            Some("application/json")
        );
    }

    // What the processor would publish for these reports.
    let updates = seed_updates();
    let messages: Vec<(Update, ContentType)> = updates
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let ct = if i % 2 == 0 {
                ContentType::Json
            } else {
                ContentType::Protobuf
            };
            (u.clone(), ct)
        })
        .collect();
    produce_updates(b, &topics.updates_topic, &messages);

    let o = reckon(
        b,
        &[
            "subscribe",
            "--latest",
            "--from",
            "beginning",
            "--until-idle-ms",
            "2000",
        ],
    );
    assert!(o.status.success(), "{}", show(&o));
    let views = parse_updates(&o.stdout);
    assert_eq!(views.len(), 3, "{}", show(&o));

    let karbala = in_region(&views, "iq/karbala");
    let killed = estimate(karbala, Party::Military, Harm::Killed);
    assert_eq!(killed.low.as_ref().unwrap().value, 0);
    assert_eq!(killed.high.as_ref().unwrap().value, 50);
    assert!(killed.disputed);
    let kv = karbala.view.as_ref().unwrap();
    assert!(kv.outcome.contested);
    assert_eq!(kv.outcome.leading, Some(AttackOutcome::Foiled));

    let baghdad = in_region(&views, "iq/baghdad");
    let civilians = estimate(baghdad, Party::Civilians, Harm::Killed);
    assert_eq!(civilians.low.as_ref().unwrap().value, 27, "at least 27");
    assert!(civilians.party_claims_only);
    assert_eq!(baghdad.view.as_ref().unwrap().grade, Grade::Weak);

    let tal_afar = in_region(&views, "iq/nanawa");
    let killed = estimate(tal_afar, Party::Military, Harm::Killed);
    assert_eq!(killed.low.as_ref().unwrap().value, 2);
    assert_eq!(killed.high.as_ref().unwrap().value, 4);
    assert!(killed.disputed);
    let tv = tal_afar.view.as_ref().unwrap();
    assert!(tv.cause.contested);
    let causes: Vec<Cause> = tv.cause.alternatives.iter().map(|a| a.value).collect();
    assert_eq!(causes.len(), 2, "{causes:?}");

    let o = reckon(
        b,
        &[
            "subscribe",
            "--latest",
            "--from",
            "beginning",
            "--until-idle-ms",
            "2000",
            "--format",
            "table",
            "--grade",
            "weak",
        ],
    );
    assert!(o.status.success(), "{}", show(&o));
    let table = String::from_utf8_lossy(&o.stdout);
    assert_eq!(table.lines().count(), 2, "header and Baghdad: {table}");
    assert!(table.contains("civilians killed 27/27/27"), "{table}");

    let o = reckon(b, &["replay", "--verify"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(
        stderr(&o).contains("matches the rebuilt state (3 incident(s))"),
        "{}",
        show(&o)
    );
}

#[test]
fn feed_and_replay_link_reports_under_the_gazetteers_names() {
    let (tansu, topics) = broker_with_topics();
    let b = tansu.bootstrap.as_str();
    // Sadr City as three desks name it; the third gives no province.
    let lines = support::places::sadr_city();
    let dir = std::env::temp_dir().join(format!("reckon-feed-places-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("reports.jsonl");
    std::fs::write(&input, lines.join("\n")).unwrap();
    let places = support::places::EXAMPLE;

    let o = reckon(
        b,
        &[
            "feed",
            "--places",
            places,
            "--timeout-ms",
            "20000",
            input.to_str().unwrap(),
        ],
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert!(o.status.success(), "{}", show(&o));
    // Keyed by the region under the gazetteer: the report without a province goes with
    // Baghdad's. The reports are sent as given.
    let sent = read_all(b, &topics.reports_topic);
    assert_eq!(sent.len(), 3);
    for r in &sent {
        assert_eq!(r.key.as_deref(), Some(&b"iq/baghdad"[..]));
    }
    assert!(sent.iter().any(
        |r| String::from_utf8_lossy(r.payload.as_deref().unwrap()).contains("Madinat al-Sadr")
    ));

    let views = |args: &[&str]| {
        let o = reckon(b, args);
        assert!(o.status.success(), "{}", show(&o));
        parse_updates(&o.stdout)
    };
    let apart = views(&["replay", "--print-views"]);
    assert_eq!(apart.len(), 3, "without the gazetteer, three names");
    let one = views(&["replay", "--print-views", "--places", places]);
    assert_eq!(one.len(), 1, "{one:?}");
    let v = one[0].view.as_ref().unwrap();
    assert_eq!(v.region, "iq/baghdad");
    assert_eq!(v.evidence.len(), 3);
}

#[test]
fn subscribe_from_a_timestamp_skips_older_updates() {
    let (tansu, topics) = broker_with_topics();
    let b = tansu.bootstrap.as_str();
    let updates = seed_updates();
    let (old, new) = updates.split_at(2);
    let tagged = |us: &[Update]| -> Vec<(Update, ContentType)> {
        us.iter().map(|u| (u.clone(), ContentType::Json)).collect()
    };
    produce_updates(b, &topics.updates_topic, &tagged(old));
    std::thread::sleep(Duration::from_millis(1500));
    let cut = time::OffsetDateTime::now_utc() - Duration::from_millis(500);
    let cut = cut
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    produce_updates(b, &topics.updates_topic, &tagged(new));

    let from = |when: &str| {
        let o = reckon(b, &["subscribe", "--from", when, "--until-idle-ms", "1500"]);
        assert!(o.status.success(), "{}", show(&o));
        parse_updates(&o.stdout)
    };
    let mut got = from(&cut);
    got.sort_by_key(|u| (u.incident_id.clone(), u.version));
    let mut want = new.to_vec();
    want.sort_by_key(|u| (u.incident_id.clone(), u.version));
    assert_eq!(got, want, "only updates published after {cut}");
    assert_eq!(from("2000-01-01T00:00:00Z").len(), updates.len());
    assert!(from("2100-01-01T00:00:00Z").is_empty());
}

/// Waits until the reports topic holds `n` messages.
fn wait_for_reports(b: &str, topic: &str, n: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let have = read_all(b, topic).len();
        if have >= n || Instant::now() > deadline {
            return have;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn feed_follow_sends_lines_as_the_file_grows() {
    let (tansu, topics) = broker_with_topics();
    let b = tansu.bootstrap.as_str();
    let dir = TempDir::new("follow");
    let file = dir.path("growing.jsonl");
    let lines = seed_lines();
    std::fs::write(&file, format!("{}\n{}\n", lines[0], lines[1])).unwrap();

    let mut child = reckon_command(
        b,
        &[
            "feed",
            "--follow",
            "--poll-ms",
            "50",
            "--timeout-ms",
            "20000",
            file.to_str().unwrap(),
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    assert_eq!(wait_for_reports(b, &topics.reports_topic, 2), 2);

    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&file)
        .unwrap();
    // A line written in two parts: nothing may be sent from the first part alone.
    let (head, tail) = lines[2].split_at(lines[2].len() / 2);
    f.write_all(head.as_bytes()).unwrap();
    f.flush().unwrap();
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(
        read_all(b, &topics.reports_topic).len(),
        2,
        "half a line waits"
    );
    writeln!(f, "{tail}").unwrap();
    writeln!(f, "{}", lines[3]).unwrap();
    writeln!(f, "not json").unwrap();
    writeln!(f, "{}", lines[4]).unwrap();
    f.write_all(b"{\"incomplete\":").unwrap();
    f.flush().unwrap();
    assert_eq!(wait_for_reports(b, &topics.reports_topic, 5), 5);

    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "feed --follow did not stop on SIGINT"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "one line rejected: {}", show(&o));
    assert!(err.contains("line 5: rejected (malformed_json)"), "{err}");
    assert!(err.contains("line 7: incomplete"), "{err}");
    assert!(err.contains("sent 5 report(s)"), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    let reports = read_all(b, &topics.reports_topic);
    let mut ids: Vec<String> = reports
        .iter()
        .map(|r| {
            reckon::wire::json::decode_report(r.payload.as_deref().unwrap())
                .unwrap()
                .report_id
                .to_string()
        })
        .collect();
    ids.sort();
    let mut want: Vec<String> = seed_reports()
        .iter()
        .map(|r| r.report_id.to_string())
        .collect();
    want.sort();
    assert_eq!(ids, want);
    let dead = read_all(b, &topics.dead_letter_topic);
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].payload.as_deref(), Some(&b"not json"[..]));
}

#[test]
fn feed_to_an_unreachable_broker_fails_in_bounded_time() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let seed = seed_path();
    let started = Instant::now();
    let o = reckon(
        &format!("127.0.0.1:{port}"),
        &["feed", "--timeout-ms", "3000", seed.to_str().unwrap()],
    );
    assert!(!o.status.success(), "{}", show(&o));
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    assert!(stderr(&o).contains("cannot reach"), "{}", show(&o));
}

#[test]
fn feed_fails_when_the_broker_goes_away_mid_feed() {
    let (tansu, topics) = broker_with_topics();
    let b = tansu.bootstrap.clone();
    let dir = TempDir::new("gone");
    let file = dir.path("growing.jsonl");
    let lines = seed_lines();
    std::fs::write(&file, format!("{}\n", lines[0])).unwrap();
    let mut child = reckon_command(
        &b,
        &[
            "feed",
            "--follow",
            "--poll-ms",
            "50",
            "--timeout-ms",
            "3000",
            file.to_str().unwrap(),
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    assert_eq!(wait_for_reports(&b, &topics.reports_topic, 1), 1);
    drop(tansu);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&file)
        .unwrap();
    writeln!(f, "{}", lines[1]).unwrap();
    f.flush().unwrap();
    // The message times out after 3 s; the feeder then stops on its own.
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("feed did not give up on an unreachable broker");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(stderr(&o).contains("line 2: not delivered"), "{}", show(&o));
}
