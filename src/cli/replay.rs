//! `reckon replay`: rebuilds state from the reports topic into fresh state, the way the processor
//! builds it: one fresh [`Engine`] per partition, fed that partition's reports in offset order.
//! Messages the processor would dead-letter (undecodable, invalid, or refused by the fold) are
//! counted and reported.
//!
//! What it is for: rebuilding a deployment (`--publish-to` a fresh topic), inspecting the rebuilt
//! state (`--print-views`), and checking that the updates topic is what the reports topic
//! deterministically gives (`--verify`).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use reckon::adapters::kafka::reader::{Record, StartAt, TopicReader};
use reckon::adapters::kafka::sender::{check_topic, TrackedProducer, KEY_PARTITIONER};
use reckon::adapters::kafka::KafkaArgs;
use reckon::core::latest::Rebuild;
use reckon::core::model::IncidentId;
use reckon::core::update::{Digest, MergeNotice, Update};
use reckon::wire::{self, json, ContentType, DecodeError, CONTENT_TYPE_HEADER};

use super::feed::{Progress, WireFormat};
use super::reconcile::{load_actors, load_places, load_registry};
use super::subscribe::{content_type, decode_record_update};

/// Arguments of `reckon replay`.
///
/// Exit status: 0 on success (with `--verify`: the updates topic matches the rebuilt state);
/// 1 on a difference or an error.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to start in each partition of the reports topic: `beginning` or an RFC 3339
    /// timestamp (state is then rebuilt from that point only).
    #[arg(long, default_value = "beginning", value_parser = StartAt::parse, env = "RECKON_REPLAY_FROM")]
    from: StartAt,
    /// Print the rebuilt final views (the latest update of each standing incident, sorted by
    /// incident id) as JSON lines on stdout.
    #[arg(long, env = "RECKON_REPLAY_PRINT_VIEWS")]
    print_views: bool,
    /// Publish every rebuilt update, in order, to this topic (which must exist and be empty).
    #[arg(long, value_name = "TOPIC", env = "RECKON_REPLAY_PUBLISH_TO")]
    publish_to: Option<String>,
    /// Format of the published updates.
    #[arg(
        long,
        value_enum,
        default_value = "json",
        env = "RECKON_REPLAY_PUBLISH_FORMAT"
    )]
    publish_format: WireFormat,
    /// Read the updates topic to its end and compare its latest version of each incident with
    /// the rebuilt one: incident set, versions and views. Every difference is printed.
    #[arg(long, env = "RECKON_REPLAY_VERIFY")]
    verify: bool,
    /// JSON file of registered sources (the processor's `--sources`).
    #[arg(long, env = "RECKON_SOURCES")]
    sources: Option<std::path::PathBuf>,
    /// JSON file of standard place names (the processor's `--places`).
    #[arg(long, env = "RECKON_PLACES")]
    places: Option<std::path::PathBuf>,
    /// JSON file of actors' ids and their aliases (the processor's `--actors`).
    #[arg(long, env = "RECKON_ACTORS")]
    actors: Option<std::path::PathBuf>,
    /// How long the cluster may take to answer, and the longest wait for a message before the
    /// end of a partition, in milliseconds.
    #[arg(long, default_value_t = 30_000, env = "RECKON_REPLAY_TIMEOUT_MS")]
    timeout_ms: u64,
    /// Kafka connection and topics.
    #[command(flatten)]
    kafka: KafkaArgs,
}

/// The rebuilt state's outcome.
#[derive(Debug, Default)]
struct Rebuilt {
    reports: u64,
    undecodable: BTreeMap<&'static str, u64>,
    updates: u64,
    /// The latest update per incident (absorbed ones included).
    latest: BTreeMap<IncidentId, Update>,
    partitions: usize,
}

/// Reads a topic to the end it has now, calling `f` for each message; fails when no message
/// comes for `timeout` before every partition is read.
fn read_to_end(
    reader: &mut TopicReader,
    timeout: Duration,
    progress: &mut Progress,
    mut f: impl FnMut(Record, &Progress) -> Result<()>,
) -> Result<()> {
    let mut last = Instant::now();
    let mut read = 0u64;
    let topic = reader.topic().to_string();
    while !reader.caught_up() {
        match reader.poll_bounded(Duration::from_millis(100)) {
            Ok(Some(r)) => {
                last = Instant::now();
                read += 1;
                f(r, progress)?;
            }
            Ok(None) => {}
            Err(e) => progress.println(&format!("reckon replay: {topic}: {e}")),
        }
        if last.elapsed() >= timeout {
            bail!(
                "no message from {topic} for {} ms before reaching the end of every partition",
                timeout.as_millis()
            );
        }
        progress.update(read, String::new);
    }
    Ok(())
}

fn rebuild(
    args: &Args,
    timeout: Duration,
    mut publisher: Option<(&mut TrackedProducer, &str, ContentType)>,
) -> Result<Rebuilt> {
    let registry = load_registry(args.sources.as_ref())?;
    let places = load_places(args.places.as_ref())?;
    let actors = load_actors(args.actors.as_ref())?;
    let topic = &args.kafka.topics.reports_topic;
    let mut reader = TopicReader::open(&args.kafka.client_config(), topic, args.from, timeout)
        .with_context(|| format!("reading {topic} from {}", args.kafka.brokers))?;
    let mut out = Rebuilt {
        partitions: reader.ranges().len(),
        ..Rebuilt::default()
    };
    // Per partition, its engine and, when nothing is published, the latest update of each of
    // its incidents, whose views are rendered once at the end instead of at every update.
    let mut engines = Rebuild::new(registry)
        .with_places(places)
        .with_actors(actors);
    let mut progress = Progress::new("replay", Some(reader.backlog()));
    let mut publish_error: Option<anyhow::Error> = None;
    read_to_end(&mut reader, timeout, &mut progress, |rec, progress| {
        let (engine, kept) = engines.partition(rec.partition);
        // Undecodable, invalid or refused by the fold: the processor dead-letters these and
        // moves on; so does the rebuild.
        let dead_letter = |out: &mut Rebuilt, e: DecodeError| {
            *out.undecodable.entry(e.reason_code()).or_default() += 1;
            progress.println(&format!(
                "{topic} partition {} offset {}: would be dead-lettered ({}): {e}",
                rec.partition,
                rec.offset,
                e.reason_code()
            ));
        };
        let report = match content_type(&rec)
            .and_then(|ct| wire::decode_report(rec.payload.as_deref().unwrap_or_default(), ct))
        {
            Ok(report) => report,
            Err(e) => {
                dead_letter(&mut out, e);
                return Ok(());
            }
        };
        out.reports += 1;
        let folded = match engine.fold(&report) {
            Ok(folded) => folded,
            Err(e) => {
                dead_letter(&mut out, e.into());
                return Ok(());
            }
        };
        if publisher.is_none() {
            out.updates += kept.keep(folded) as u64;
            return Ok(());
        }
        for u in folded.into_updates() {
            out.updates += 1;
            if let Some((producer, to, ct)) = publisher.as_mut() {
                let sent = producer.send(
                    to,
                    Some(u.incident_id.as_str().as_bytes()),
                    &wire::encode_update(&u, *ct),
                    &[(CONTENT_TYPE_HEADER, ct.mime().as_bytes())],
                    0,
                );
                if let Err(e) = sent {
                    publish_error.get_or_insert(e.into());
                }
            }
            out.latest.insert(u.incident_id.clone(), u);
        }
        match publish_error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    })?;
    progress.finish();
    out.latest.extend(engines.into_rendered());
    Ok(out)
}

/// The latest version per incident in the updates topic, and the problems found on the way
/// (undecodable messages, a version found twice with different contents).
fn read_updates(
    args: &Args,
    timeout: Duration,
) -> Result<(BTreeMap<IncidentId, Update>, Vec<String>)> {
    let topic = &args.kafka.topics.updates_topic;
    let mut reader = TopicReader::open(
        &args.kafka.client_config(),
        topic,
        StartAt::Beginning,
        timeout,
    )
    .with_context(|| format!("reading {topic} from {}", args.kafka.brokers))?;
    let mut latest: BTreeMap<IncidentId, Update> = BTreeMap::new();
    let mut problems = Vec::new();
    let mut progress = Progress::new("verify", Some(reader.backlog()));
    read_to_end(&mut reader, timeout, &mut progress, |rec, _| {
        if rec.payload.is_none() {
            // A tombstone removes the key from a compacted topic.
            if let Some(id) = rec
                .key
                .as_deref()
                .and_then(|k| std::str::from_utf8(k).ok())
                .and_then(|k| IncidentId::parse(k).ok())
            {
                latest.remove(&id);
            }
            return Ok(());
        }
        let u = match decode_record_update(&rec) {
            Ok(u) => u,
            Err(e) => {
                problems.push(format!(
                    "undecodable: {topic} partition {} offset {}: {e}",
                    rec.partition, rec.offset
                ));
                return Ok(());
            }
        };
        match latest.get(&u.incident_id) {
            Some(old) if old.version > u.version => {}
            Some(old) if old.version == u.version => {
                if json::encode_update(old) != json::encode_update(&u) {
                    problems.push(format!(
                        "conflict: {} v{} appears in {topic} twice with different contents \
                         (partition {} offset {})",
                        u.incident_id, u.version, rec.partition, rec.offset
                    ));
                }
            }
            _ => {
                latest.insert(u.incident_id.clone(), u);
            }
        }
        Ok(())
    })?;
    progress.finish();
    Ok((latest, problems))
}

/// Why two updates of the same incident differ, or `None` when they agree.
fn describe_difference(rebuilt: &Update, topic: &Update) -> Option<String> {
    let mut parts = Vec::new();
    if rebuilt.version != topic.version {
        parts.push(format!(
            "version: rebuilt v{}, topic v{}",
            rebuilt.version, topic.version
        ));
    }
    match (&rebuilt.view, &topic.view) {
        (Some(a), Some(b)) => {
            let (ja, jb) = (serde_json::to_vec(a), serde_json::to_vec(b));
            if ja.ok() != jb.ok() {
                let sections: Vec<String> = Digest::of(b)
                    .changes(&Digest::of(a))
                    .into_iter()
                    .map(|s| s.path())
                    .collect();
                let mut other = Vec::new();
                if a.incident_id != b.incident_id {
                    other.push("incident_id".to_string());
                }
                if a.region != b.region {
                    other.push("region".to_string());
                }
                let all: Vec<String> = sections.into_iter().chain(other).collect();
                parts.push(format!(
                    "view differs in {}",
                    if all.is_empty() {
                        "encoding only".to_string()
                    } else {
                        all.join(", ")
                    }
                ));
            }
        }
        (None, None) => {}
        (Some(_), None) => parts.push("view: rebuilt has one, topic has none".into()),
        (None, Some(_)) => parts.push("view: topic has one, rebuilt has none".into()),
    }
    if rebuilt.merge != topic.merge {
        let show = |m: &Option<MergeNotice>| match m {
            None => "none".to_string(),
            Some(MergeNotice::AbsorbedInto { incident_id }) => {
                format!("absorbed into {incident_id}")
            }
            Some(MergeNotice::Absorbed { incidents }) => {
                let ids: Vec<&str> = incidents.iter().map(|i| i.as_str()).collect();
                format!("absorbed {}", ids.join(", "))
            }
        };
        parts.push(format!(
            "merge: rebuilt {}, topic {}",
            show(&rebuilt.merge),
            show(&topic.merge)
        ));
    }
    if parts.is_empty() && rebuilt.version == topic.version {
        if rebuilt.changes != topic.changes {
            parts.push("changes list differs".into());
        }
        if rebuilt.caused_by != topic.caused_by {
            parts.push("caused_by differs".into());
        }
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// Every difference between the rebuilt latest updates and the topic's, one line each.
fn differences(
    rebuilt: &BTreeMap<IncidentId, Update>,
    topic: &BTreeMap<IncidentId, Update>,
    topic_name: &str,
) -> Vec<String> {
    let ids: BTreeSet<&IncidentId> = rebuilt.keys().chain(topic.keys()).collect();
    let mut out = Vec::new();
    for id in ids {
        match (rebuilt.get(id), topic.get(id)) {
            (Some(r), None) => out.push(format!(
                "missing: {id} v{} was rebuilt but is not in {topic_name}",
                r.version
            )),
            (None, Some(t)) => out.push(format!(
                "extra: {id} v{} is in {topic_name} but was not rebuilt",
                t.version
            )),
            (Some(r), Some(t)) => {
                if let Some(d) = describe_difference(r, t) {
                    out.push(format!("different: {id}: {d}"));
                }
            }
            (None, None) => {}
        }
    }
    out
}

/// Runs the command.
pub fn run(args: Args) -> Result<ExitCode> {
    if args.verify && args.from != StartAt::Beginning {
        bail!("--verify compares full state: it needs --from beginning");
    }
    if args.from == StartAt::End {
        bail!("--from end would replay nothing; use beginning or a timestamp");
    }
    let timeout = Duration::from_millis(args.timeout_ms.max(1));
    let started = Instant::now();
    let publish_ct: ContentType = args.publish_format.into();
    let mut producer = match &args.publish_to {
        None => None,
        Some(to) => {
            let timeout_ms = args.timeout_ms.max(1).to_string();
            let config = args.kafka.client_config_with(&[
                ("enable.idempotence", "true"),
                ("acks", "all"),
                ("message.timeout.ms", &timeout_ms),
                ("partitioner", KEY_PARTITIONER),
                ("linger.ms", "5"),
            ]);
            let p = TrackedProducer::new(&config).context("creating the Kafka producer")?;
            check_topic(&p, to, timeout).with_context(|| format!("checking {to}"))?;
            ensure_empty(&args, to, timeout)?;
            Some(p)
        }
    };
    let publisher = match (&mut producer, &args.publish_to) {
        (Some(p), Some(to)) => Some((p, to.as_str(), publish_ct)),
        _ => None,
    };
    let rebuilt = rebuild(&args, timeout, publisher)?;
    let mut failed = false;
    if let (Some(p), Some(to)) = (&producer, &args.publish_to) {
        let flushed = p.flush(timeout + Duration::from_secs(5));
        let failures = p.take_failures();
        for f in &failures {
            eprintln!(
                "reckon replay: an update was not delivered to {to}: {}",
                f.error
            );
        }
        if let Err(e) = flushed {
            eprintln!("reckon replay: {e}");
            failed = true;
        }
        failed |= !failures.is_empty();
        eprintln!("replay: published {} update(s) to {to}", p.delivered());
    }
    let standing = rebuilt.latest.values().filter(|u| u.view.is_some()).count();
    let undecodable: u64 = rebuilt.undecodable.values().sum();
    let reasons: Vec<String> = rebuilt
        .undecodable
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    eprintln!(
        "replay: {} report(s) from {} partition(s) of {} in {:.1}s: {} update(s), {} incident(s) \
         ({standing} standing), {undecodable} dead-lettered{}",
        rebuilt.reports,
        rebuilt.partitions,
        args.kafka.topics.reports_topic,
        started.elapsed().as_secs_f64(),
        rebuilt.updates,
        rebuilt.latest.len(),
        if reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", reasons.join(", "))
        }
    );
    let mut stdout = io::stdout().lock();
    if args.print_views {
        for u in rebuilt.latest.values().filter(|u| u.view.is_some()) {
            stdout.write_all(&json::encode_update(u))?;
            stdout.write_all(b"\n")?;
        }
        stdout.flush()?;
    }
    if args.verify {
        let topic = &args.kafka.topics.updates_topic;
        let (in_topic, problems) = read_updates(&args, timeout)?;
        let diffs = differences(&rebuilt.latest, &in_topic, topic);
        for d in problems.iter().chain(&diffs) {
            writeln!(stdout, "{d}")?;
        }
        stdout.flush()?;
        if diffs.is_empty() && problems.is_empty() {
            eprintln!(
                "verify: {topic} matches the rebuilt state ({} incident(s))",
                rebuilt.latest.len()
            );
        } else {
            eprintln!(
                "verify: {topic} does not match the rebuilt state: {} difference(s), {} \
                 problem message(s); {} incident(s) rebuilt, {} in the topic",
                diffs.len(),
                problems.len(),
                rebuilt.latest.len(),
                in_topic.len()
            );
            failed = true;
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Refuses to publish into a topic that holds messages: subscribers drop versions they have seen,
/// so rebuilt updates mixed into an old topic would be silently ignored.
fn ensure_empty(args: &Args, topic: &str, timeout: Duration) -> Result<()> {
    let reader = TopicReader::open(
        &args.kafka.client_config(),
        topic,
        StartAt::Beginning,
        timeout,
    )
    .with_context(|| format!("checking that {topic} is empty"))?;
    if reader.backlog() > 0 {
        bail!(
            "{topic} already holds {} message(s); publish a rebuild to a fresh topic",
            reader.backlog()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reckon::core::registry::SourceRegistry;
    use reckon::core::view::Grade;
    use reckon::core::Engine;

    const SEED: &str = include_str!("../../tests/fixtures/seed-2017-iraq.jsonl");

    fn seed_latest() -> BTreeMap<IncidentId, Update> {
        let mut engine = Engine::new(SourceRegistry::default());
        let mut latest = BTreeMap::new();
        for l in SEED.lines().filter(|l| !l.trim().is_empty()) {
            for u in engine.apply(&json::decode_report(l.as_bytes()).unwrap()) {
                latest.insert(u.incident_id.clone(), u);
            }
        }
        latest
    }

    #[test]
    fn equal_states_have_no_differences() {
        let a = seed_latest();
        assert!(differences(&a, &a.clone(), "t").is_empty());
    }

    #[test]
    fn every_kind_of_difference_is_reported() {
        let rebuilt = seed_latest();
        let mut topic = rebuilt.clone();
        let ids: Vec<IncidentId> = rebuilt.keys().cloned().collect();
        // Missing one, a changed grade on another, an older version of the third, an extra one.
        topic.remove(&ids[0]);
        let u = topic.get_mut(&ids[1]).unwrap();
        let v = u.view.as_mut().unwrap();
        v.grade = if v.grade == Grade::Confirmed {
            Grade::Fair
        } else {
            Grade::Confirmed
        };
        topic.get_mut(&ids[2]).unwrap().version -= 1;
        let mut extra = rebuilt[&ids[0]].clone();
        extra.incident_id = IncidentId::parse("iq-extra").unwrap();
        topic.insert(extra.incident_id.clone(), extra);

        let d = differences(&rebuilt, &topic, "t");
        assert_eq!(d.len(), 4, "{d:#?}");
        assert!(d
            .iter()
            .any(|l| l.starts_with("missing: ") && l.contains(ids[0].as_str())));
        assert!(d
            .iter()
            .any(|l| l.contains(ids[1].as_str()) && l.contains("view differs in grade")));
        assert!(d
            .iter()
            .any(|l| l.contains(ids[2].as_str()) && l.contains("version: rebuilt v")));
        assert!(d.iter().any(|l| l.starts_with("extra: iq-extra")));
    }
}
