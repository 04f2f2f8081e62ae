//! `reckon demo`: the whole pipeline in one process, no install, no broker. Starts librdkafka's
//! mock cluster, feeds the seed article's reports (keyed by region), runs the processor until
//! every report is processed, reads the updates topic as a subscriber does (dropping versions
//! it has seen) and prints each incident's reconciled view.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use reckon::adapters::kafka::latest::LatestView;
use reckon::adapters::kafka::mock::EmbeddedCluster;
use reckon::adapters::kafka::processor::{Processor, ProcessorConfig};
use reckon::adapters::kafka::reader::{StartAt, TopicReader};
use reckon::adapters::kafka::sender::TrackedProducer;
use reckon::adapters::kafka::{KafkaArgs, TopicArgs};
use reckon::core::update::{MergeNotice, Update};
use reckon::core::view::{CasualtyEstimate, CategoricalView, Figure, IncidentView};
use reckon::wire::{self, ContentType, CONTENT_TYPE_HEADER};

use super::run::{init_logging, LogFormat};

/// The seed article's reports, one JSON document per line.
const SEED: &str = include_str!("../../tests/fixtures/seed-2017-iraq.jsonl");

/// Arguments of `reckon demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Also print every update as published (JSON lines), before the tables.
    #[arg(long)]
    updates: bool,
    /// Partitions of the demo topics.
    #[arg(long, default_value_t = 2)]
    partitions: i32,
}

/// Runs the command.
pub fn run(args: Args) -> Result<ExitCode> {
    // The group-less readers ask for end-of-partition events, which librdkafka's default
    // context reports as errors: they are not.
    init_logging(LogFormat::Text, "warn,rdkafka::client=off");
    let started = Instant::now();
    let topics = TopicArgs::default();
    let cluster = EmbeddedCluster::start(&topics, args.partitions.max(1))
        .context("starting the mock cluster")?;
    let kafka = KafkaArgs::for_brokers(cluster.bootstrap_servers());

    let fed = feed(&kafka)?;
    let mut config = ProcessorConfig::new(kafka.clone());
    config.group_id = "reckon-demo".into();
    config.instance_id = "demo".into();
    // A short session: rebalances on the mock cluster wait for members up to the session.
    config.consumer_properties = vec![("session.timeout.ms".into(), "6000".into())];
    let handle = Processor::start(config).context("starting the processor")?;
    handle
        .wait_until_caught_up(Duration::from_secs(60))
        .context("waiting for the processor")?;
    let status = handle.shutdown().context("stopping the processor")?;

    let (view, published, dropped) = subscribe(&kafka, args.updates)?;
    println!(
        "reckon demo: {fed} reports fed, {} processed, {published} updates published{}, {} incidents, in {:.1}s\n",
        status.records,
        if dropped > 0 {
            format!(" ({dropped} re-published versions dropped)")
        } else {
            String::new()
        },
        view.iter().filter(|u| u.view.is_some()).count(),
        started.elapsed().as_secs_f64()
    );
    for u in view.iter() {
        print!("{}", render(u));
    }
    println!("* the figure rests on party claims only (a perpetrator or its media)");
    Ok(ExitCode::SUCCESS)
}

/// Feeds the seed reports, keyed by region, as JSON. Returns how many.
fn feed(kafka: &KafkaArgs) -> Result<usize> {
    let config = kafka.client_config_with(&[
        ("enable.idempotence", "true"),
        ("partitioner", "murmur2_random"),
    ]);
    let mut producer = TrackedProducer::new(&config).context("creating the feeder")?;
    let mut n = 0;
    for (i, line) in SEED.lines().enumerate() {
        let report = wire::json::decode_report(line.as_bytes())
            .with_context(|| format!("seed line {}", i + 1))?;
        producer
            .send(
                &kafka.topics.reports_topic,
                Some(report.region_key().as_bytes()),
                line.as_bytes(),
                &[(CONTENT_TYPE_HEADER, ContentType::Json.mime().as_bytes())],
                i,
            )
            .context("feeding a report")?;
        n += 1;
    }
    producer
        .flush(Duration::from_secs(10))
        .context("feeding the reports")?;
    let failures = producer.take_failures();
    if !failures.is_empty() {
        bail!("{} report(s) were not delivered", failures.len());
    }
    Ok(n)
}

/// Reads the updates topic to its end as a subscriber: the newest version per incident.
/// Returns the view, the updates read and how many were dropped as seen.
fn subscribe(kafka: &KafkaArgs, print: bool) -> Result<(LatestView, usize, usize)> {
    let config = kafka.client_config_with(&[("group.id", "reckon-demo-subscriber")]);
    let mut reader = TopicReader::open(
        &config,
        &kafka.topics.updates_topic,
        StartAt::Beginning,
        Duration::from_secs(10),
    )
    .context("opening the updates topic")?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut view = LatestView::new();
    let (mut read, mut dropped) = (0, 0);
    while !reader.caught_up() {
        if Instant::now() > deadline {
            bail!("reading the updates topic timed out");
        }
        let Some(record) = reader
            .poll_bounded(Duration::from_millis(200))
            .context("reading updates")?
        else {
            continue;
        };
        let ct = record
            .header(CONTENT_TYPE_HEADER)
            .and_then(|v| std::str::from_utf8(v).ok())
            .map_or(Ok(ContentType::Json), ContentType::parse)
            .context("update content type")?;
        let payload = record.payload.as_deref().unwrap_or_default();
        let update = wire::decode_update(payload, ct).context("decoding an update")?;
        read += 1;
        if print {
            println!(
                "{}",
                String::from_utf8_lossy(&wire::json::encode_update(&update))
            );
        }
        if !view.offer(&update).is_new() {
            dropped += 1;
        }
    }
    if print {
        println!();
    }
    Ok((view, read, dropped))
}

/// A snake_case name of an enum value, as on the wire.
fn name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

fn figure(f: Option<&Figure>) -> String {
    match f {
        None => "-".into(),
        Some(f) if f.party_claims_only => format!("{}*", f.value),
        Some(f) => f.value.to_string(),
    }
}

fn casualty_row(e: &CasualtyEstimate) -> String {
    let mut flags = Vec::new();
    if e.confirmed {
        flags.push("confirmed");
    }
    if e.disputed {
        flags.push("disputed");
    }
    if e.party_claims_only {
        flags.push("party claims only");
    }
    format!(
        "    {:<22} {:>6} {:>6} {:>6}  {}\n",
        format!("{} {}", e.party.as_str(), e.outcome.as_str()),
        figure(e.low.as_ref()),
        figure(e.best.as_ref()),
        figure(e.high.as_ref()),
        flags.join(", ")
    )
}

fn categorical<T: serde::Serialize>(label: &str, c: &CategoricalView<T>, out: &mut String) {
    if c.alternatives.is_empty() {
        return;
    }
    let alts: Vec<String> = c
        .alternatives
        .iter()
        .map(|a| {
            let backers: Vec<&str> = a.backers.iter().map(|b| b.as_str()).collect();
            format!(
                "{} ({}{})",
                name(&a.value),
                backers.join(", "),
                if a.party_claims_only { ", party" } else { "" }
            )
        })
        .collect();
    let _ = writeln!(
        out,
        "  {label:<15}{}{}",
        alts.join(" vs "),
        if c.contested { "  [contested]" } else { "" }
    );
}

fn location(v: &IncidentView) -> String {
    let mut parts = vec![v.location.country.as_str().to_string()];
    for list in [&v.location.admin1, &v.location.admin2, &v.location.places] {
        if !list.is_empty() {
            parts.push(
                list.iter()
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(" / "),
            );
        }
    }
    parts.join(", ")
}

/// One incident as a readable table.
fn render(u: &Update) -> String {
    let mut out = String::new();
    let Some(v) = &u.view else {
        if let Some(MergeNotice::AbsorbedInto { incident_id }) = &u.merge {
            let _ = writeln!(
                out,
                "{} (version {}): merged into {incident_id}\n",
                u.incident_id, u.version
            );
        }
        return out;
    };
    let _ = writeln!(
        out,
        "{}  version {}  grade {}  ({} independent claimant{}, {} report{})",
        u.incident_id,
        u.version,
        v.grade.as_str().to_uppercase(),
        v.independent_claimants,
        if v.independent_claimants == 1 {
            ""
        } else {
            "s"
        },
        v.evidence.len(),
        if v.evidence.len() == 1 { "" } else { "s" },
    );
    let types: Vec<String> = v.event_types.iter().map(name).collect();
    let targets: Vec<String> = v.targets.iter().map(name).collect();
    let _ = writeln!(out, "  {:<15}{}", "where", location(v));
    let _ = writeln!(
        out,
        "  {:<15}{} ({})",
        "when",
        v.time.earliest.to_rfc3339(),
        name(&v.time.precision)
    );
    let _ = writeln!(
        out,
        "  {:<15}{} against {}",
        "what",
        types.join(", "),
        targets.join(", ")
    );
    if !v.casualties.is_empty() {
        let _ = writeln!(
            out,
            "    {:<22} {:>6} {:>6} {:>6}",
            "casualties", "low", "best", "high"
        );
        for e in &v.casualties {
            out.push_str(&casualty_row(e));
        }
    }
    if !v.responsibility.actors.is_empty() {
        let actors: Vec<String> = v
            .responsibility
            .actors
            .iter()
            .map(|a| {
                let mut who = Vec::new();
                if !a.claimed_by.is_empty() {
                    who.push("claimed".to_string());
                }
                if !a.attributed_by.is_empty() {
                    who.push(format!("attributed by {}", a.attributed_by.len()));
                }
                if !a.denied_by.is_empty() {
                    who.push(format!("denied by {}", a.denied_by.len()));
                }
                format!("{} ({})", a.actor, who.join(", "))
            })
            .collect();
        let mut flags = Vec::new();
        if v.responsibility.contested {
            flags.push("contested");
        }
        if v.responsibility.disputed {
            flags.push("disputed");
        }
        let _ = writeln!(
            out,
            "  {:<15}{}{}",
            "responsibility",
            actors.join(" vs "),
            if flags.is_empty() {
                String::new()
            } else {
                format!("  [{}]", flags.join(", "))
            }
        );
    }
    categorical("cause", &v.cause, &mut out);
    categorical("outcome", &v.outcome, &mut out);
    let contested: Vec<&str> = [
        ("responsibility", v.responsibility.contested),
        ("cause", v.cause.contested),
        ("outcome", v.outcome.contested),
    ]
    .iter()
    .filter(|(_, c)| *c)
    .map(|(n, _)| *n)
    .chain(
        v.casualties
            .iter()
            .filter(|e| e.disputed)
            .map(|_| "casualties"),
    )
    .collect::<std::collections::BTreeSet<_>>()
    .into_iter()
    .collect();
    if !contested.is_empty() {
        let _ = writeln!(out, "  {:<15}{}", "contested", contested.join(", "));
    }
    out.push('\n');
    out
}
