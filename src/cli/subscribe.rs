//! `reckon subscribe`: tails the updates topic and prints updates as JSON lines or a table.
//!
//! Partitions are assigned by hand (no consumer group): no join delay, nothing committed, any
//! number of subscribers. Each message is decoded per its content-type header (JSON when it has
//! none). `--latest` applies the subscriber's dedup rule (see
//! [`reckon::adapters::kafka::latest`]) and, while catching up, shows only the newest version
//! of each incident.

use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use reckon::adapters::kafka::latest::LatestView;
use reckon::adapters::kafka::reader::{Record, StartAt, TopicReader};
use reckon::adapters::kafka::update_filter::UpdateFilter;
use reckon::adapters::kafka::KafkaArgs;
use reckon::core::update::{MergeNotice, Update};
use reckon::core::view::{CasualtyEstimate, Figure, IncidentView};
use reckon::runtime::partition::content_type_of;
use reckon::wire::{self, json, ContentType, DecodeError, CONTENT_TYPE_HEADER};

use super::feed::interrupt_flag;

/// How updates are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// One JSON update per line (the canonical JSON form, whatever the message's format).
    Json,
    /// A readable table: incident, version, grade, casualty estimates, contested fields.
    Table,
}

/// Arguments of `reckon subscribe`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to start: `beginning`, `end`, or an RFC 3339 timestamp (the first update
    /// published at or after it).
    #[arg(long, default_value = "end", value_parser = StartAt::parse, env = "RECKON_SUBSCRIBE_FROM")]
    from: StartAt,
    /// Only these incidents (and, once one is absorbed, its survivor). Repeatable or
    /// comma-separated.
    #[arg(
        long = "incident",
        value_name = "ID",
        value_delimiter = ',',
        env = "RECKON_SUBSCRIBE_INCIDENTS"
    )]
    incidents: Vec<String>,
    /// Only incidents in these countries (ISO 3166 alpha-2). Repeatable or comma-separated.
    #[arg(
        long = "country",
        value_name = "CC",
        value_delimiter = ',',
        env = "RECKON_SUBSCRIBE_COUNTRIES"
    )]
    countries: Vec<String>,
    /// Only updates with these grades (confirmed, fair, weak, contested). Repeatable or
    /// comma-separated.
    #[arg(
        long = "grade",
        value_name = "G",
        value_delimiter = ',',
        env = "RECKON_SUBSCRIBE_GRADES"
    )]
    grades: Vec<String>,
    /// Output format.
    #[arg(
        long,
        value_enum,
        default_value = "json",
        env = "RECKON_SUBSCRIBE_FORMAT"
    )]
    format: OutputFormat,
    /// Keep a materialised view: show only the newest version of each incident while catching
    /// up, then only versions newer than those shown (redelivered and older versions are
    /// dropped; an absorbed incident is shown once, with its "absorbed into" notice).
    #[arg(long, env = "RECKON_SUBSCRIBE_LATEST")]
    latest: bool,
    /// Exit after this many milliseconds without a new message, once caught up.
    #[arg(long, value_name = "MS", env = "RECKON_SUBSCRIBE_UNTIL_IDLE_MS")]
    until_idle_ms: Option<u64>,
    /// Exit after printing this many updates.
    #[arg(long, value_name = "N", env = "RECKON_SUBSCRIBE_MAX_MESSAGES")]
    max_messages: Option<u64>,
    /// How long the cluster may take to answer metadata and offset requests, in milliseconds.
    #[arg(long, default_value_t = 30_000, env = "RECKON_SUBSCRIBE_TIMEOUT_MS")]
    timeout_ms: u64,
    /// Kafka connection and topics.
    #[command(flatten)]
    kafka: KafkaArgs,
}

/// Decodes an update per the message's content-type header (JSON when there is none).
pub(crate) fn decode_record_update(r: &Record) -> Result<Update, DecodeError> {
    let ct = content_type(r)?;
    wire::decode_update(r.payload.as_deref().unwrap_or_default(), ct)
}

/// The content type a record declares (JSON when it declares none), by the processor's rule.
pub(crate) fn content_type(r: &Record) -> Result<ContentType, DecodeError> {
    content_type_of(r.header(CONTENT_TYPE_HEADER))
}

/// Writes updates to stdout, flushing each so that pipes see them at once.
struct Printer {
    format: OutputFormat,
    header_done: bool,
    printed: u64,
    limit: Option<u64>,
    out: io::Stdout,
}

impl Printer {
    fn done(&self) -> bool {
        self.limit.is_some_and(|n| self.printed >= n)
    }

    fn print(&mut self, u: &Update) -> Result<()> {
        if self.done() {
            return Ok(());
        }
        let mut out = self.out.lock();
        match self.format {
            OutputFormat::Json => {
                out.write_all(&json::encode_update(u))?;
                out.write_all(b"\n")?;
            }
            OutputFormat::Table => {
                if !self.header_done {
                    out.write_all(table_header().as_bytes())?;
                    self.header_done = true;
                }
                out.write_all(table_rows(u).as_bytes())?;
            }
        }
        out.flush().context("writing to stdout")?;
        self.printed += 1;
        Ok(())
    }
}

const ID_WIDTH: usize = 28;
const REGION_WIDTH: usize = 16;
const CASUALTY_WIDTH: usize = 64;

fn table_header() -> String {
    format!(
        "{:<ID_WIDTH$} {:>4} {:<10} {:<REGION_WIDTH$} {:<CASUALTY_WIDTH$} CONTESTED\n",
        "INCIDENT", "VER", "GRADE", "REGION", "CASUALTIES low/best/high"
    )
}

fn figure(f: &Option<Figure>) -> String {
    f.as_ref().map_or("?".into(), |f| f.value.to_string())
}

/// One casualty estimate: `military killed 0/0/50 disputed`.
fn casualty_cell(e: &CasualtyEstimate) -> String {
    let mut s = format!(
        "{} {} {}/{}/{}",
        e.party.as_str(),
        e.outcome.as_str(),
        figure(&e.low),
        figure(&e.best),
        figure(&e.high)
    );
    let mut flags = Vec::new();
    if e.disputed {
        flags.push("disputed");
    }
    if e.party_claims_only {
        flags.push("party claims only");
    } else if e.high.as_ref().is_some_and(|h| h.party_claims_only) {
        flags.push("high: party claim");
    }
    if e.confirmed {
        flags.push("confirmed");
    }
    if !flags.is_empty() {
        s.push_str(" [");
        s.push_str(&flags.join(", "));
        s.push(']');
    }
    s
}

/// The contested (or disputed) categorical fields of a view.
fn contested(v: &IncidentView) -> String {
    let mut out = Vec::new();
    if v.responsibility.contested {
        out.push("responsibility");
    } else if v.responsibility.disputed {
        out.push("responsibility (disputed)");
    }
    if v.cause.contested {
        out.push("cause");
    }
    if v.outcome.contested {
        out.push("outcome");
    }
    if out.is_empty() {
        "-".into()
    } else {
        out.join(", ")
    }
}

/// The table rows of one update: one row per casualty estimate (at least one).
fn table_rows(u: &Update) -> String {
    let id = u.incident_id.as_str();
    let Some(v) = &u.view else {
        let note = match &u.merge {
            Some(MergeNotice::AbsorbedInto { incident_id }) => {
                format!("absorbed into {incident_id}")
            }
            _ => "no view".into(),
        };
        return format!("{id:<ID_WIDTH$} {:>4} {note}\n", u.version);
    };
    let cells: Vec<String> = if v.casualties.is_empty() {
        vec!["-".into()]
    } else {
        v.casualties.iter().map(casualty_cell).collect()
    };
    let mut out = String::new();
    for (i, cell) in cells.iter().enumerate() {
        if i == 0 {
            out.push_str(&format!(
                "{id:<ID_WIDTH$} {:>4} {:<10} {:<REGION_WIDTH$} {cell:<CASUALTY_WIDTH$} {}",
                u.version,
                v.grade.as_str(),
                v.region,
                contested(v)
            ));
            if let Some(MergeNotice::Absorbed { incidents }) = &u.merge {
                let ids: Vec<&str> = incidents.iter().map(|i| i.as_str()).collect();
                out.push_str(&format!(" (absorbed {})", ids.join(", ")));
            }
        } else {
            out.push_str(&format!(
                "{:<ID_WIDTH$} {:>4} {:<10} {:<REGION_WIDTH$} {cell}",
                "", "", "", ""
            ));
        }
        out.push('\n');
    }
    out
}

/// Runs the command.
pub fn run(args: Args) -> Result<ExitCode> {
    let mut filter = UpdateFilter::new(args.incidents, args.countries, args.grades)?;
    let timeout = Duration::from_millis(args.timeout_ms.max(1));
    let config = args.kafka.client_config();
    let topic = &args.kafka.topics.updates_topic;
    let mut reader = TopicReader::open(&config, topic, args.from, timeout)
        .with_context(|| format!("reading {topic} from {}", args.kafka.brokers))?;
    let interrupted = interrupt_flag();
    let mut printer = Printer {
        format: args.format,
        header_done: false,
        printed: 0,
        limit: args.max_messages,
        out: io::stdout(),
    };
    let mut view = LatestView::new();
    // With --latest, updates read while catching up only fill the view; it is printed once.
    let mut snapshot_pending = args.latest;
    let mut caught_up_at: Option<Instant> = None;
    let mut last_message = Instant::now();
    let mut last_error: Option<String> = None;
    let idle = args.until_idle_ms.map(Duration::from_millis);
    while !interrupted.load(Ordering::SeqCst) && !printer.done() {
        match reader.poll(Duration::from_millis(100)) {
            Ok(Some(rec)) => {
                last_message = Instant::now();
                last_error = None;
                match decode_record_update(&rec) {
                    Ok(u) => {
                        if args.latest {
                            if view.offer(&u).is_new() {
                                filter.observe(&u);
                                if !snapshot_pending && filter.matches(&u) {
                                    printer.print(&u)?;
                                }
                            }
                        } else {
                            filter.observe(&u);
                            if filter.matches(&u) {
                                printer.print(&u)?;
                            }
                        }
                    }
                    Err(e) => eprintln!(
                        "reckon subscribe: {topic} partition {} offset {}: cannot decode ({}): {e}",
                        rec.partition,
                        rec.offset,
                        e.reason_code()
                    ),
                }
            }
            Ok(None) => {}
            Err(e) => {
                // The client retries by itself; say so once per distinct error, keep going.
                let text = e.to_string();
                if last_error.as_deref() != Some(text.as_str()) {
                    eprintln!("reckon subscribe: {text}");
                    last_error = Some(text);
                }
            }
        }
        if caught_up_at.is_none() && reader.caught_up() {
            caught_up_at = Some(Instant::now());
            if snapshot_pending {
                snapshot_pending = false;
                for u in view.iter() {
                    if filter.matches(u) {
                        printer.print(u)?;
                    }
                }
            }
        }
        if let (Some(idle), Some(at)) = (idle, caught_up_at) {
            if at.max(last_message).elapsed() >= idle {
                break;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reckon::core::registry::SourceRegistry;
    use reckon::core::Engine;

    const SEED: &str = include_str!("../../tests/fixtures/seed-2017-iraq.jsonl");

    fn seed_latest() -> Vec<Update> {
        let mut engine = Engine::new(SourceRegistry::default());
        let mut view = LatestView::new();
        for l in SEED.lines().filter(|l| !l.trim().is_empty()) {
            for u in engine.apply(&json::decode_report(l.as_bytes()).unwrap()) {
                view.offer(&u);
            }
        }
        view.iter().cloned().collect()
    }

    #[test]
    fn table_rows_show_estimates_flags_and_contested_fields() {
        let rows: String = seed_latest().iter().map(table_rows).collect();
        let karbala = rows
            .lines()
            .find(|l| l.contains("iq/karbala"))
            .expect("a Karbala row");
        assert!(karbala.contains("contested"), "{karbala}");
        assert!(karbala.contains("outcome"), "{karbala}");
        assert!(
            rows.contains("military killed 0/0/50 [disputed, high: party claim, confirmed]"),
            "{rows}"
        );
        let tal_afar = rows.lines().find(|l| l.contains("iq/nanawa")).unwrap();
        assert!(tal_afar.contains("cause"), "{tal_afar}");
        let baghdad = rows.lines().find(|l| l.contains("iq/baghdad")).unwrap();
        assert!(baghdad.contains("weak"), "{baghdad}");
        assert!(baghdad.contains("civilians killed 27/"), "{baghdad}");
    }

    #[test]
    fn an_absorbed_notice_is_one_row() {
        let mut u = seed_latest().remove(0);
        let survivor = reckon::core::model::IncidentId::parse("iq-survivor").unwrap();
        u.view = None;
        u.merge = Some(MergeNotice::AbsorbedInto {
            incident_id: survivor,
        });
        let rows = table_rows(&u);
        assert_eq!(rows.lines().count(), 1);
        assert!(rows.contains("absorbed into iq-survivor"), "{rows}");
    }

    #[test]
    fn records_decode_per_their_content_type() {
        let u = seed_latest().remove(0);
        let mut r = Record {
            partition: 0,
            offset: 0,
            timestamp_ms: None,
            key: None,
            payload: Some(wire::encode_update(&u, ContentType::Protobuf)),
            headers: vec![(
                CONTENT_TYPE_HEADER.into(),
                Some(ContentType::Protobuf.mime().as_bytes().to_vec()),
            )],
        };
        assert_eq!(decode_record_update(&r).unwrap(), u);
        r.headers.clear();
        assert!(decode_record_update(&r).is_err(), "no header means JSON");
        r.payload = Some(json::encode_update(&u));
        assert_eq!(decode_record_update(&r).unwrap(), u);
    }
}
