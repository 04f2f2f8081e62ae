//! `reckon feed`: sends reports from a file or stdin to the reports topic.
//!
//! Every report is validated before it is sent; an invalid one is reported on stderr with its
//! line number (or message index) and reason, and goes to the rejects file or, without one, to
//! the dead-letter topic: never dropped silently. Valid reports are keyed by region key, so one
//! area's reports meet in one partition. The producer is idempotent, and every message's delivery
//! is tracked: the command exits non-zero when the broker refused or never acknowledged any.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use reckon::adapters::kafka::feeder::dead_letter_headers;
use reckon::adapters::kafka::sender::{
    check_topic, TopicCheckError, TrackedProducer, KEY_PARTITIONER,
};
use reckon::adapters::kafka::KafkaArgs;
use reckon::core::gazetteer::Gazetteer;
use reckon::wire::framing::{frame_bytes, Frame, FrameError, Framer};
use reckon::wire::{self, ContentType, CONTENT_TYPE_HEADER};

use super::reconcile::load_places;

/// A wire format on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WireFormat {
    /// JSON (a file: one report per line).
    Json,
    /// Protobuf (a file: varint length-delimited messages).
    Protobuf,
}

impl From<WireFormat> for ContentType {
    fn from(f: WireFormat) -> Self {
        match f {
            WireFormat::Json => ContentType::Json,
            WireFormat::Protobuf => ContentType::Protobuf,
        }
    }
}

/// Arguments of `reckon feed`.
///
/// Exit status: 0 when every report was delivered; 2 when every valid report was delivered and
/// some were rejected (each is reported on stderr and kept in the rejects file or the
/// dead-letter topic); 1 when the broker refused or did not acknowledge a message in time, or
/// the input could not be read.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Reports file; `-` reads stdin.
    #[arg(default_value = "-", env = "RECKON_FEED_INPUT")]
    input: String,
    /// Input format: JSON lines, or varint length-delimited protobuf messages.
    #[arg(long, value_enum, default_value = "json", env = "RECKON_FEED_FORMAT")]
    format: WireFormat,
    /// Format of the messages sent (default: the input format).
    #[arg(long, value_enum, env = "RECKON_FEED_OUTPUT_FORMAT")]
    output_format: Option<WireFormat>,
    /// Keep reading as the file grows, like `tail -f`, until interrupted (Ctrl-C). A partial
    /// last line waits for the rest of it.
    #[arg(long, env = "RECKON_FEED_FOLLOW")]
    follow: bool,
    /// Append rejected inputs to this file (in the input format, to be fixed and fed again)
    /// instead of sending them to the dead-letter topic.
    #[arg(long, env = "RECKON_FEED_REJECTS")]
    rejects: Option<PathBuf>,
    /// How long the cluster may take to answer, and to acknowledge each message
    /// (`message.timeout.ms`), in milliseconds.
    #[arg(long, default_value_t = 30_000, env = "RECKON_FEED_TIMEOUT_MS")]
    timeout_ms: u64,
    /// With `--follow`: how often to look for new data, in milliseconds.
    #[arg(long, default_value_t = 200, env = "RECKON_FEED_POLL_MS")]
    poll_ms: u64,
    /// JSON file of standard place names (the processor's `--places`): a report is keyed by
    /// its region under them, so a report naming a known place without its province meets
    /// the province's reports. Reports are sent as given.
    #[arg(long, env = "RECKON_PLACES")]
    places: Option<PathBuf>,
    /// Kafka connection and topics.
    #[command(flatten)]
    kafka: KafkaArgs,
}

/// Sets a flag on the first Ctrl-C (or SIGTERM) so that a command can finish cleanly (flush,
/// summary); a second one exits at once.
pub(crate) fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = Arc::clone(&flag);
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async move {
            #[cfg(unix)]
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            loop {
                #[cfg(unix)]
                {
                    let got = match term.as_mut() {
                        Some(t) => tokio::select! {
                            r = tokio::signal::ctrl_c() => r.is_ok(),
                            r = t.recv() => r.is_some(),
                        },
                        None => tokio::signal::ctrl_c().await.is_ok(),
                    };
                    if !got {
                        return;
                    }
                }
                #[cfg(not(unix))]
                if tokio::signal::ctrl_c().await.is_err() {
                    return;
                }
                if f.swap(true, Ordering::SeqCst) {
                    std::process::exit(130);
                }
            }
        });
    });
    flag
}

/// Progress on stderr: a bar with counts and rate on a terminal, plain periodic lines otherwise
/// (logs, CI).
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    label: &'static str,
    last_plain: Instant,
    started: Instant,
}

/// The progress bar when the total is known.
const BAR_TEMPLATE: &str =
    "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec}, eta {eta}) {msg}";
/// The spinner when it is not.
const SPINNER_TEMPLATE: &str = "{spinner} {prefix} [{elapsed_precise}] {pos} ({per_sec}) {msg}";

/// How often plain progress lines are printed.
const PLAIN_PROGRESS_EVERY: Duration = Duration::from_secs(5);

impl Progress {
    /// A progress display; `total` gives a bar with an end, `None` a spinner.
    pub(crate) fn new(label: &'static str, total: Option<u64>) -> Self {
        use std::io::IsTerminal;
        let bar = io::stderr().is_terminal().then(|| {
            let (bar, template) = match total {
                Some(n) => (ProgressBar::new(n), BAR_TEMPLATE),
                None => (ProgressBar::new_spinner(), SPINNER_TEMPLATE),
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            bar.set_prefix(label);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Self {
            bar,
            label,
            last_plain: Instant::now(),
            started: Instant::now(),
        }
    }

    /// Updates the counts; `msg` is only built when it will be shown.
    pub(crate) fn update(&mut self, pos: u64, msg: impl FnOnce() -> String) {
        match &self.bar {
            Some(b) => {
                b.set_position(pos);
                b.set_message(msg());
            }
            None => {
                if self.last_plain.elapsed() >= PLAIN_PROGRESS_EVERY {
                    self.last_plain = Instant::now();
                    let secs = self.started.elapsed().as_secs_f64().max(0.001);
                    eprintln!(
                        "{}: {pos} ({:.0}/s) {}",
                        self.label,
                        pos as f64 / secs,
                        msg()
                    );
                }
            }
        }
    }

    /// Prints a line on stderr without garbling the bar.
    pub(crate) fn println(&self, line: &str) {
        match &self.bar {
            Some(b) => b.println(line),
            None => eprintln!("{line}"),
        }
    }

    /// Removes the bar.
    pub(crate) fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }

    /// Time since the display started.
    pub(crate) fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

/// What the input thread hands over.
enum Input {
    Chunk(Vec<u8>),
    /// The followed file shrank or was replaced: reading restarts at its beginning.
    Restarted(&'static str),
    Eof,
    Error(io::Error),
}

enum Source {
    Stdin(io::Stdin),
    File(File),
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Stdin(s) => s.read(buf),
            Self::File(f) => f.read(buf),
        }
    }
}

/// Whether `path` now names another file than `file` (rotated away).
#[cfg(unix)]
fn replaced(path: &Path, file: &File) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(path), file.metadata()) {
        (Ok(a), Ok(b)) => a.ino() != b.ino() || a.dev() != b.dev(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn replaced(_path: &Path, _file: &File) -> bool {
    false
}

/// Reads the input on its own thread, so the main loop can keep serving the producer, the
/// progress display and Ctrl-C while the input is idle. The channel is bounded: a slow broker
/// slows the reading down instead of filling memory.
fn spawn_input(path: &str, follow: bool, poll: Duration) -> Result<Receiver<Input>> {
    let mut source = if path == "-" {
        Source::Stdin(io::stdin())
    } else {
        Source::File(File::open(path).with_context(|| format!("opening {path}"))?)
    };
    let path = PathBuf::from(path);
    let (tx, rx) = mpsc::sync_channel(16);
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        let mut pos: u64 = 0;
        let mut drained = false;
        loop {
            match source.read(&mut buf) {
                Ok(0) => {
                    let Source::File(file) = &mut source else {
                        // Stdin ends when its writer closes it, following or not.
                        let _ = tx.send(Input::Eof);
                        return;
                    };
                    if !follow {
                        let _ = tx.send(Input::Eof);
                        return;
                    }
                    if replaced(&path, file) {
                        if !drained {
                            // Read the old file to its end once more: lines written to it
                            // just before it was renamed belong to the input too.
                            drained = true;
                            continue;
                        }
                        // Between the rename and the new file, opening fails: look again later.
                        if let Ok(f) = File::open(&path) {
                            *file = f;
                            pos = 0;
                            drained = false;
                            if tx.send(Input::Restarted("was replaced")).is_err() {
                                return;
                            }
                            continue;
                        }
                    } else if file.metadata().map(|m| m.len() < pos).unwrap_or(false) {
                        if let Err(e) = file.seek(SeekFrom::Start(0)) {
                            let _ = tx.send(Input::Error(e));
                            return;
                        }
                        pos = 0;
                        if tx.send(Input::Restarted("was truncated")).is_err() {
                            return;
                        }
                        continue;
                    }
                    std::thread::sleep(poll);
                }
                Ok(n) => {
                    pos += n as u64;
                    if tx.send(Input::Chunk(buf[..n].to_vec())).is_err() {
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let _ = tx.send(Input::Error(e));
                    return;
                }
            }
        }
    });
    Ok(rx)
}

/// Delivery tags: the input index, and whether the message went to the dead-letter topic.
fn tag(index: u64, dead_letter: bool) -> usize {
    usize::try_from(index)
        .unwrap_or(usize::MAX / 2)
        .saturating_mul(2)
        .saturating_add(usize::from(dead_letter))
}

fn untag(tag: usize) -> (u64, bool) {
    ((tag / 2) as u64, tag % 2 == 1)
}

#[derive(Debug, Default)]
struct Counts {
    /// Reports handed to the producer.
    enqueued: u64,
    /// Reports the broker did not take.
    failed: u64,
    /// Reports the producer would not even enqueue (not counted in `enqueued`).
    not_enqueued: u64,
    /// Inputs rejected by validation or framing.
    rejected: u64,
    /// Rejected inputs sent to the dead-letter topic.
    dead_lettered: u64,
    /// Dead letters the broker did not take.
    dead_letters_failed: u64,
}

/// Everything the main loop needs to handle one input.
struct Feeder {
    producer: TrackedProducer,
    reports_topic: String,
    dead_letter_topic: String,
    in_ct: ContentType,
    out_ct: ContentType,
    /// Standard place names, for the region key.
    places: Arc<Gazetteer>,
    unit: &'static str,
    source: String,
    rejects: Option<BufWriter<File>>,
    counts: Counts,
    progress: Progress,
    /// Set by a local producer error or an unreadable input: the run fails.
    broken: bool,
}

impl Feeder {
    fn handle(&mut self, frame: Result<Frame, FrameError>) -> Result<()> {
        let frame = match frame {
            Ok(f) => f,
            Err(e @ FrameError::BadLength { .. }) => {
                // The rest cannot be split into messages: stop, and fail the run.
                self.broken = true;
                self.progress.println(&format!("reckon feed: {e}"));
                return Ok(());
            }
            Err(e @ FrameError::Truncated { .. }) => {
                return self.reject(e.index(), e.partial(), "truncated", &e.to_string());
            }
        };
        match wire::decode_report(&frame.bytes, self.in_ct) {
            Ok(report) => {
                let payload = if self.out_ct == self.in_ct {
                    // Sent as read: the feeder is a transport, and the processor validates again.
                    frame.bytes
                } else {
                    wire::encode_report(&report, self.out_ct)
                };
                let key = self
                    .places
                    .standardise(&report)
                    .as_ref()
                    .unwrap_or(&report)
                    .region_key();
                let sent = self.producer.send(
                    &self.reports_topic,
                    Some(key.as_bytes()),
                    &payload,
                    &[(CONTENT_TYPE_HEADER, self.out_ct.mime().as_bytes())],
                    tag(frame.index, false),
                );
                match sent {
                    Ok(()) => self.counts.enqueued += 1,
                    Err(e) => {
                        self.counts.not_enqueued += 1;
                        self.broken = true;
                        self.progress
                            .println(&format!("{} {}: not sent: {e}", self.unit, frame.index));
                    }
                }
                Ok(())
            }
            Err(e) => {
                let reason = if frame.truncated {
                    format!("{e} (the input is longer still; it was cut)")
                } else {
                    e.to_string()
                };
                self.reject(frame.index, &frame.bytes, e.reason_code(), &reason)
            }
        }
    }

    fn reject(&mut self, index: u64, original: &[u8], code: &str, reason: &str) -> Result<()> {
        self.counts.rejected += 1;
        self.progress.println(&format!(
            "{} {index}: rejected ({code}): {reason}",
            self.unit
        ));
        if let Some(w) = self.rejects.as_mut() {
            w.write_all(&frame_bytes(self.in_ct, original))
                .and_then(|()| w.flush())
                .context("writing the rejects file")?;
            return Ok(());
        }
        let offset = i64::try_from(index).unwrap_or(i64::MAX);
        let mut headers: Vec<(&str, String)> =
            vec![(CONTENT_TYPE_HEADER, self.in_ct.mime().into())];
        headers.extend(dead_letter_headers(code, reason, &self.source, -1, offset));
        let headers: Vec<(&str, &[u8])> = headers.iter().map(|(k, v)| (*k, v.as_bytes())).collect();
        match self.producer.send(
            &self.dead_letter_topic,
            None,
            original,
            &headers,
            tag(index, true),
        ) {
            Ok(()) => self.counts.dead_lettered += 1,
            Err(e) => {
                self.counts.dead_letters_failed += 1;
                self.broken = true;
                self.progress.println(&format!(
                    "{} {index}: rejected and not dead-lettered: {e}",
                    self.unit
                ));
            }
        }
        Ok(())
    }

    /// Reports delivery failures seen so far. Any failure stops the feed: the broker refuses
    /// or cannot be reached, and what follows would fail alike. Feeding the same input again is
    /// safe (a report id seen before changes nothing).
    fn collect_failures(&mut self) {
        for f in self.producer.take_failures() {
            self.broken = true;
            let (index, dead_letter) = untag(f.tag);
            if dead_letter {
                self.counts.dead_letters_failed += 1;
                self.progress.println(&format!(
                    "{} {index}: dead letter not delivered to {}: {}",
                    self.unit, self.dead_letter_topic, f.error
                ));
            } else {
                self.counts.failed += 1;
                self.progress.println(&format!(
                    "{} {index}: not delivered to {}: {}",
                    self.unit, self.reports_topic, f.error
                ));
            }
        }
    }

    fn show_progress(&mut self) {
        let delivered = self.producer.delivered();
        let (rejected, failed) = (
            self.counts.rejected,
            self.counts.failed + self.counts.not_enqueued,
        );
        self.progress.update(self.counts.enqueued, || {
            format!("sent, {delivered} acknowledged, {rejected} rejected, {failed} failed")
        });
    }
}

fn topic_error(e: TopicCheckError, kafka: &KafkaArgs, timeout_ms: u64) -> anyhow::Error {
    match e {
        TopicCheckError::Missing(t) => anyhow::anyhow!(
            "topic {t} does not exist on {}; create it first (reckon feed does not create topics)",
            kafka.brokers
        ),
        TopicCheckError::Kafka(k) => anyhow::anyhow!(
            "cannot reach the Kafka cluster at {} within {timeout_ms} ms: {k}",
            kafka.brokers
        ),
    }
}

/// Runs the command.
pub fn run(args: Args) -> Result<ExitCode> {
    let places = load_places(args.places.as_ref())?;
    let in_ct: ContentType = args.format.into();
    let out_ct: ContentType = args.output_format.map_or(in_ct, Into::into);
    let timeout = Duration::from_millis(args.timeout_ms.max(1));
    let timeout_ms = args.timeout_ms.max(1).to_string();
    let config = args.kafka.client_config_with(&[
        ("enable.idempotence", "true"),
        ("acks", "all"),
        // Bounds how long a message may wait for the broker: an unreachable or refusing
        // cluster turns into delivery failures, never a hang.
        ("message.timeout.ms", &timeout_ms),
        ("partitioner", KEY_PARTITIONER),
        ("linger.ms", "5"),
    ]);
    let producer = TrackedProducer::new(&config).context("creating the Kafka producer")?;
    let topics = &args.kafka.topics;
    check_topic(&producer, &topics.reports_topic, timeout)
        .map_err(|e| topic_error(e, &args.kafka, args.timeout_ms))?;
    let rejects = match &args.rejects {
        Some(p) => Some(BufWriter::new(
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .with_context(|| format!("opening the rejects file {}", p.display()))?,
        )),
        None => {
            check_topic(&producer, &topics.dead_letter_topic, timeout)
                .map_err(|e| topic_error(e, &args.kafka, args.timeout_ms))?;
            None
        }
    };
    let source = if args.input == "-" {
        "stdin".to_string()
    } else {
        format!("file:{}", args.input)
    };
    let interrupted = interrupt_flag();
    let input = spawn_input(
        &args.input,
        args.follow,
        Duration::from_millis(args.poll_ms.max(1)),
    )?;
    let unit = match in_ct {
        ContentType::Json => "line",
        ContentType::Protobuf => "message",
    };
    let mut feeder = Feeder {
        producer,
        reports_topic: topics.reports_topic.clone(),
        dead_letter_topic: topics.dead_letter_topic.clone(),
        in_ct,
        out_ct,
        places,
        unit,
        source,
        rejects,
        counts: Counts::default(),
        progress: Progress::new("feed", None),
        broken: false,
    };
    let mut framer = Framer::new(in_ct);
    let mut was_interrupted = false;
    let mut input_done = false;
    loop {
        if interrupted.load(Ordering::SeqCst) {
            was_interrupted = true;
            break;
        }
        if feeder.broken {
            break;
        }
        match input.recv_timeout(Duration::from_millis(100)) {
            Ok(Input::Chunk(c)) => {
                framer.push(&c);
                while let Some(f) = framer.next_frame() {
                    feeder.handle(f)?;
                    if feeder.broken {
                        break;
                    }
                }
            }
            Ok(Input::Restarted(why)) => {
                report_partial(&feeder, &framer, &format!("the file {why}"));
                feeder.progress.println(&format!(
                    "reckon feed: {} {why}; reading it again from the start",
                    args.input
                ));
                framer = Framer::new(in_ct);
            }
            Ok(Input::Eof) | Err(RecvTimeoutError::Disconnected) => {
                while let Some(f) = framer.next_frame() {
                    feeder.handle(f)?;
                    if feeder.broken {
                        break;
                    }
                }
                if !feeder.broken {
                    if let Some(f) = framer.finish() {
                        feeder.handle(f)?;
                    }
                    input_done = !feeder.broken;
                }
                break;
            }
            Ok(Input::Error(e)) => {
                feeder
                    .progress
                    .println(&format!("reckon feed: reading {}: {e}", args.input));
                feeder.broken = true;
                break;
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
        feeder.producer.poll(Duration::ZERO);
        feeder.collect_failures();
        if let Some(e) = feeder.producer.fatal_error() {
            feeder.progress.println(&format!("reckon feed: {e}"));
            feeder.broken = true;
        }
        feeder.show_progress();
    }
    if was_interrupted {
        report_partial(&feeder, &framer, "interrupted");
    }
    // Deliveries may take up to message.timeout.ms; allow a little more before giving up.
    let flushed = feeder.producer.flush(timeout + Duration::from_secs(5));
    feeder.collect_failures();
    feeder.progress.finish();
    let mut failed = false;
    if let Err(e) = flushed {
        eprintln!("reckon feed: {e}");
        failed = true;
    }
    if let Some(e) = feeder.producer.fatal_error() {
        eprintln!("reckon feed: {e}");
        failed = true;
    }
    if let Some(w) = feeder.rejects.as_mut() {
        w.flush().context("writing the rejects file")?;
    }
    let c = &feeder.counts;
    let sent = c.enqueued.saturating_sub(c.failed);
    let secs = feeder.progress.elapsed().as_secs_f64().max(0.001);
    let destination = match &args.rejects {
        Some(p) => format!("written to {}", p.display()),
        None => format!(
            "{} sent to {}",
            c.dead_lettered.saturating_sub(c.dead_letters_failed),
            topics.dead_letter_topic
        ),
    };
    eprintln!(
        "feed: sent {sent} report(s) to {} ({:.0}/s), rejected {} ({destination}), failed {}{}",
        topics.reports_topic,
        sent as f64 / secs,
        c.rejected,
        c.failed + c.not_enqueued + c.dead_letters_failed,
        if was_interrupted {
            ", interrupted"
        } else if !input_done {
            ", stopped before the end of the input"
        } else {
            ""
        },
    );
    if failed || feeder.broken || c.failed + c.not_enqueued + c.dead_letters_failed > 0 {
        return Ok(ExitCode::from(1));
    }
    if c.rejected > 0 {
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

/// Says so when input is left over that never became a complete line or message.
fn report_partial(feeder: &Feeder, framer: &Framer, why: &str) {
    if framer.pending() > 0 {
        feeder.progress.println(&format!(
            "{} {}: incomplete ({} byte(s) without an end) when {why}; not sent",
            feeder.unit,
            framer.next_index(),
            framer.pending()
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_templates_parse() {
        assert!(ProgressStyle::with_template(BAR_TEMPLATE).is_ok());
        assert!(ProgressStyle::with_template(SPINNER_TEMPLATE).is_ok());
    }

    #[test]
    fn tags_round_trip() {
        assert_eq!(untag(tag(7, false)), (7, false));
        assert_eq!(untag(tag(7, true)), (7, true));
        assert_eq!(untag(tag(0, true)), (0, true));
    }
}
