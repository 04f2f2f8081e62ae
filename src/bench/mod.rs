//! `reckon bench`: throughput, latency, replay speed, memory and the cost of exactly-once, on
//! one broker in one run, side by side with a bare consume-and-produce pipe.
//!
//! - (a) [`pipe`]: the bare pipe's throughput over the workload: the upper limit.
//! - (b) [`reckon`]: the processor's throughput over the same messages, and the ratio b/a.
//! - (c) [`latency`]: end-to-end latency percentiles at fixed offered rates.
//! - (d) [`replay`]: replay throughput (and a bare read of the same topic).
//! - (e) [`memory`]: resident bytes per incident at given sizes (engine level).
//! - (f) the throughput cost of `--exactly-once` (pairs of (b) runs with and without).
//!
//! The pure parts (percentiles, the pacing schedule, the goals) are in [`stats`], [`pacing`]
//! and [`goals`]. Nothing here asserts a speed: figures are reported against goals.

pub mod broker;
pub mod goals;
pub mod latency;
pub mod machine;
pub mod memory;
pub mod pacing;
pub mod pipe;
pub mod reckon;
pub mod replay;
pub mod report;
pub mod stats;
pub mod workload;

use std::collections::BTreeSet;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::wire::ContentType;

use broker::{reckon_topics, BenchBroker};
use goals::{evaluate, Figures};
use latency::LatencyOptions;
use machine::Machine;
use memory::MemoryFigure;
use pipe::PipeOptions;
use reckon::ProcessorSettings;
use report::{
    BenchReport, ExactlyOnceFigure, MemoryRow, PairedRatio, ReckonExtra, ReplayFigure, Series,
    WorkloadInfo,
};
use workload::{produce_all, Workload};

/// One of the six measurements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Measurement {
    /// (a) the bare pipe.
    Pipe,
    /// (b) reckon's throughput.
    Reckon,
    /// (c) latency.
    Latency,
    /// (d) replay.
    Replay,
    /// (e) memory.
    Memory,
    /// (f) exactly-once.
    ExactlyOnce,
}

impl Measurement {
    /// Every measurement.
    pub const ALL: [Self; 6] = [
        Self::Pipe,
        Self::Reckon,
        Self::Latency,
        Self::Replay,
        Self::Memory,
        Self::ExactlyOnce,
    ];

    /// Parses `a`..`f` (or a name: `pipe`, `reckon`, `latency`, `replay`, `memory`, `eos`).
    pub fn parse(s: &str) -> Result<Self, String> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "a" | "pipe" => Self::Pipe,
            "b" | "reckon" | "throughput" => Self::Reckon,
            "c" | "latency" => Self::Latency,
            "d" | "replay" => Self::Replay,
            "e" | "memory" => Self::Memory,
            "f" | "eos" | "exactly-once" => Self::ExactlyOnce,
            other => {
                return Err(format!(
                    "unknown measurement {other:?}: expected a, b, c, d, e or f"
                ))
            }
        })
    }
}

/// Which broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrokerChoice {
    /// The in-process mock cluster.
    Embedded,
    /// A broker at `host:port[,...]`.
    External(String),
}

impl BrokerChoice {
    /// `embedded` or an address.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "" => Err("expected embedded or HOST:PORT".into()),
            "embedded" | "mock" => Ok(Self::Embedded),
            a => Ok(Self::External(a.to_string())),
        }
    }
}

/// How (e) runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemoryProbe {
    /// In this process (memory freed by earlier measurements may be reused: the growth can be
    /// under-counted).
    InProcess,
    /// In a fresh process: this program with these arguments, followed by
    /// `--memory-probe N --seed S`; it prints the [`MemoryFigure`] as JSON on stdout.
    Subprocess(Vec<std::ffi::OsString>),
}

/// What to measure and how.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// The broker.
    pub broker: BrokerChoice,
    /// librdkafka properties for every client (`-X`).
    pub properties: Vec<(String, String)>,
    /// Partitions of every topic.
    pub partitions: i32,
    /// Incidents of the throughput and replay workload.
    pub incidents: usize,
    /// Runs of each throughput measurement (a, b, d, f); medians are reported.
    pub repeat: usize,
    /// Offered rates of (c), reports/s.
    pub rates: Vec<f64>,
    /// Measured part of each latency run.
    pub duration: Duration,
    /// Warm-up before it.
    pub warmup: Duration,
    /// The paced feeder's `linger.ms`.
    pub feeder_linger_ms: u64,
    /// Also measure the bare pipe's latency at each rate.
    pub pipe_latency: bool,
    /// Sizes of (e), incidents.
    pub memory_incidents: Vec<usize>,
    /// How (e) runs.
    pub memory_probe: MemoryProbe,
    /// Measure (f) on the main broker instead of an embedded mock cluster.
    pub exactly_once_on_broker: bool,
    /// Which measurements.
    pub only: BTreeSet<Measurement>,
    /// Seed of the synthetic streams.
    pub seed: u64,
    /// Wire form of the reports.
    pub format: ContentType,
    /// The processor's settings (commit cycle, update format); the pipe commits offsets at the
    /// same interval.
    pub processor: ProcessorSettings,
    /// `fetch.wait.max.ms` of every consumer; `None`: 1 ms on the embedded cluster, the client
    /// default (500 ms) on a real broker. The mock cluster answers a fetch that found no data
    /// only after the full `fetch.wait.max.ms`, even when data arrives meanwhile (a real broker
    /// answers as soon as it has data), so with the default every hop through it would add up
    /// to 500 ms of latency that no real deployment sees.
    pub fetch_wait_ms: Option<u64>,
    /// Prefix of every topic and group the run creates.
    pub topic_prefix: String,
    /// The longest any single run may take.
    pub timeout: Duration,
    /// Print progress on stderr.
    pub progress: bool,
}

impl BenchConfig {
    /// The defaults: a few minutes on a 2-core machine.
    pub fn new(broker: BrokerChoice) -> Self {
        Self {
            broker,
            properties: Vec::new(),
            partitions: 4,
            incidents: 10_000,
            repeat: 3,
            rates: vec![1000.0, 5000.0],
            duration: Duration::from_secs(10),
            warmup: Duration::from_secs(2),
            feeder_linger_ms: 5,
            pipe_latency: true,
            memory_incidents: vec![100_000, 1_000_000],
            memory_probe: MemoryProbe::InProcess,
            exactly_once_on_broker: false,
            only: Measurement::ALL.into_iter().collect(),
            seed: 1,
            format: ContentType::Json,
            processor: ProcessorSettings::default(),
            fetch_wait_ms: None,
            topic_prefix: default_prefix(),
            timeout: Duration::from_secs(600),
            progress: true,
        }
    }

    fn wants(&self, m: Measurement) -> bool {
        self.only.contains(&m)
    }
}

/// `reckon-bench-<pid>-<unix seconds>`: unique per run on a shared broker.
pub fn default_prefix() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!("reckon-bench-{}-{secs}", std::process::id())
}

struct Run<'a> {
    cfg: &'a BenchConfig,
    started: Instant,
}

impl Run<'_> {
    fn say(&self, msg: &str) {
        if self.cfg.progress {
            eprintln!("[{:6.1}s] {msg}", self.started.elapsed().as_secs_f64());
        }
    }
}

/// The consumers' `fetch.wait.max.ms` on this broker, if the run sets one.
pub fn fetch_wait_ms(cfg: &BenchConfig, embedded: bool) -> Option<u64> {
    if cfg.properties.iter().any(|(k, _)| k == "fetch.wait.max.ms") {
        return None;
    }
    cfg.fetch_wait_ms.or(embedded.then_some(1))
}

fn start_broker(cfg: &BenchConfig, embedded: bool) -> Result<BenchBroker> {
    let is_embedded = embedded || cfg.broker == BrokerChoice::Embedded;
    let props = cfg.properties.clone();
    let b = match (&cfg.broker, embedded) {
        (BrokerChoice::External(addr), false) => BenchBroker::external(addr, props, cfg.partitions),
        _ => BenchBroker::embedded(cfg.partitions, props)?,
    };
    Ok(b.with_fetch_wait_ms(fetch_wait_ms(cfg, is_embedded)))
}

/// The processor settings of a run on `broker`.
fn settings(cfg: &BenchConfig, broker: &BenchBroker) -> ProcessorSettings {
    ProcessorSettings {
        fetch_wait_ms: broker.fetch_wait_ms(),
        ..cfg.processor
    }
}

/// The shared input of (a), (b), (d) and (f): the workload produced once to one topic.
struct Input {
    workload: Workload,
    topic: String,
    partitions: i32,
}

fn fill_input(run: &Run<'_>, broker: &BenchBroker, w: &Workload, name: &str) -> Result<Input> {
    let topic = format!("{}.{name}.reports", run.cfg.topic_prefix);
    let sizes: Vec<(&[u8], usize)> = w
        .messages
        .iter()
        .map(|m| (m.key.as_slice(), m.payload.len()))
        .collect();
    let partitions = broker.partitions_for(&sizes, run.cfg.partitions);
    broker.create_topic(&topic, partitions)?;
    let t = Instant::now();
    produce_all(&broker.kafka(Default::default()), &topic, w)?;
    run.say(&format!(
        "produced {} reports to {topic} ({partitions} partitions) in {:.1}s",
        w.messages.len(),
        t.elapsed().as_secs_f64()
    ));
    let truncated = broker.truncated_partitions(&topic)?;
    if !truncated.is_empty() {
        bail!(
            "partitions {truncated:?} of {topic} lost their oldest messages (the mock cluster \
             keeps 5 MiB per partition): give more --partitions or fewer --incidents"
        );
    }
    Ok(Input {
        workload: w.clone(),
        topic,
        partitions,
    })
}

fn pipe_run(run: &Run<'_>, broker: &BenchBroker, input: &Input, name: &str) -> Result<(u64, f64)> {
    let out = format!("{}.{name}.out", run.cfg.topic_prefix);
    broker.create_topic(&out, input.partitions)?;
    let o = PipeOptions {
        kafka: broker.kafka(Default::default()),
        input: input.topic.clone(),
        output: out,
        group: format!("{}-{name}", run.cfg.topic_prefix),
        expected: Some(input.workload.messages.len() as u64),
        commit_interval: run.cfg.processor.commit_interval,
        commit_max_records: run.cfg.processor.commit_max_records,
        idle_timeout: Duration::from_secs(60),
        fetch_wait_ms: broker.fetch_wait_ms(),
    };
    let r = pipe::run(&o, &AtomicBool::new(false), &AtomicBool::new(false))?;
    Ok((r.copied, r.seconds()))
}

fn reckon_run(
    run: &Run<'_>,
    broker: &BenchBroker,
    input: &Input,
    name: &str,
    exactly_once: bool,
) -> Result<reckon::ReckonRun> {
    let mut topics = reckon_topics(&run.cfg.topic_prefix, name);
    topics.reports_topic = input.topic.clone();
    broker.create_reckon_topics(&topics, input.partitions, true)?;
    let kafka = broker.kafka(topics);
    let group = format!("{}-{name}", run.cfg.topic_prefix);
    let r = reckon::throughput(
        &kafka,
        &group,
        exactly_once,
        &settings(run.cfg, broker),
        run.cfg.timeout,
    )?;
    if r.records < input.workload.messages.len() as u64 {
        bail!(
            "reckon processed {} records of {}",
            r.records,
            input.workload.messages.len()
        );
    }
    Ok(r)
}

fn memory_figure(cfg: &BenchConfig, n: usize) -> Result<MemoryFigure> {
    match &cfg.memory_probe {
        MemoryProbe::InProcess => Ok(memory::probe(n, cfg.seed)),
        MemoryProbe::Subprocess(cmd) => {
            let (program, args) = cmd.split_first().context("an empty probe command")?;
            let out = std::process::Command::new(program)
                .args(args)
                .arg("--memory-probe")
                .arg(n.to_string())
                .arg("--seed")
                .arg(cfg.seed.to_string())
                .stderr(std::process::Stdio::inherit())
                .output()
                .context("running the memory probe")?;
            if !out.status.success() {
                bail!("the memory probe failed: {}", out.status);
            }
            let line = String::from_utf8_lossy(&out.stdout);
            serde_json::from_str(line.trim()).with_context(|| format!("the probe said {line:?}"))
        }
    }
}

/// Runs the benchmark.
pub fn run(cfg: &BenchConfig) -> Result<BenchReport> {
    let run = Run {
        cfg,
        started: Instant::now(),
    };
    let mut machine = Machine::probe();
    run.say(&format!("machine: {}", machine.summary()));
    let mut notes: Vec<String> = Vec::new();
    let repeat = cfg.repeat.max(1);
    let eos_here = cfg.exactly_once_on_broker || matches!(cfg.broker, BrokerChoice::Embedded);
    let needs_broker = [
        Measurement::Pipe,
        Measurement::Reckon,
        Measurement::Latency,
        Measurement::Replay,
    ]
    .iter()
    .any(|m| cfg.wants(*m))
        || (cfg.wants(Measurement::ExactlyOnce) && eos_here);
    let broker = if needs_broker {
        Some(start_broker(cfg, false)?)
    } else {
        None
    };
    let broker_text = broker
        .as_ref()
        .map_or("none (no Kafka measurement asked for)".to_string(), |b| {
            b.describe()
        });
    if let Some(ms) = fetch_wait_ms(cfg, cfg.broker == BrokerChoice::Embedded) {
        if broker.is_some() {
            notes.push(format!(
                "every consumer runs with fetch.wait.max.ms={ms}{}",
                if cfg.broker == BrokerChoice::Embedded && cfg.fetch_wait_ms.is_none() {
                    ": librdkafka's mock cluster answers a fetch that found no data only after \
                     fetch.wait.max.ms, even when data arrives meanwhile (rdkafka_mock_handlers.c), \
                     so the client default of 500 ms would add up to 500 ms per hop that a real \
                     broker does not"
                } else {
                    ""
                }
            ));
        }
    }
    run.say(&format!("broker: {broker_text}"));

    let needs_input = cfg.wants(Measurement::Pipe)
        || cfg.wants(Measurement::Reckon)
        || cfg.wants(Measurement::Replay)
        || cfg.wants(Measurement::ExactlyOnce);
    let workload = needs_input.then(|| {
        let t = Instant::now();
        let w = Workload::generate(cfg.incidents, cfg.seed, cfg.format);
        run.say(&format!(
            "generated {} reports for {} incidents in {:.1}s",
            w.messages.len(),
            cfg.incidents,
            t.elapsed().as_secs_f64()
        ));
        w
    });
    let input = match (&broker, &workload) {
        (Some(b), Some(w))
            if cfg.wants(Measurement::Pipe)
                || cfg.wants(Measurement::Reckon)
                || cfg.wants(Measurement::Replay)
                || (cfg.wants(Measurement::ExactlyOnce) && eos_here) =>
        {
            Some(fill_input(&run, b, w, "input")?)
        }
        _ => None,
    };

    let workload_info = workload.as_ref().map(|w| WorkloadInfo {
        incidents: w.incidents,
        reports: w.messages.len(),
        mean_report_bytes: w.payload_bytes() as f64 / w.messages.len().max(1) as f64,
        format: w.format.mime().into(),
        seed: w.seed,
        partitions: input.as_ref().map(|i| i.partitions),
    });
    if let Some(i) = input.as_ref().filter(|i| i.partitions > cfg.partitions) {
        notes.push(format!(
            "the throughput input topic has {} partitions instead of {}: the mock cluster keeps \
             only the last 5 MiB of each partition (librdkafka's rdkafka_mock.c), so the \
             workload is spread until every message stays",
            i.partitions, cfg.partitions
        ));
    }

    // (a) and (b), interleaved: each pair runs side by side in time.
    let mut pipe_series = cfg.wants(Measurement::Pipe).then(Series::default);
    let mut reckon_series = cfg.wants(Measurement::Reckon).then(Series::default);
    let mut reckon_extra = None;
    let mut ratio =
        (cfg.wants(Measurement::Pipe) && cfg.wants(Measurement::Reckon)).then(PairedRatio::default);
    if let (Some(b), Some(input)) = (&broker, &input) {
        for i in 0..repeat {
            if !(cfg.wants(Measurement::Pipe) || cfg.wants(Measurement::Reckon)) {
                break;
            }
            let mut a_rate = None;
            if let Some(s) = pipe_series.as_mut() {
                let (n, secs) = pipe_run(&run, b, input, &format!("a{i}"))?;
                s.push(n, secs);
                a_rate = s.per_s.last().copied();
                run.say(&format!(
                    "(a) pipe run {}/{repeat}: {n} messages in {secs:.2}s = {} reports/s",
                    i + 1,
                    goals::fmt_num(a_rate.unwrap_or(0.0))
                ));
            }
            if let Some(s) = reckon_series.as_mut() {
                let r = reckon_run(&run, b, input, &format!("b{i}"), false)?;
                s.push(r.records, r.seconds);
                run.say(&format!(
                    "(b) reckon run {}/{repeat}: {} records, {} updates in {:.2}s = {} reports/s",
                    i + 1,
                    r.records,
                    r.updates,
                    r.seconds,
                    goals::fmt_num(r.per_s())
                ));
                reckon_extra = Some(ReckonExtra {
                    updates: r.updates,
                    checkpoints: r.checkpoints,
                });
                if let (Some(ratio), Some(a)) = (ratio.as_mut(), a_rate) {
                    ratio.push(r.per_s() / a);
                }
            }
        }
    }

    // (d)
    let mut replay_fig = None;
    if let (true, Some(b), Some(input)) = (cfg.wants(Measurement::Replay), &broker, &input) {
        let kafka = b.kafka(Default::default());
        let (mut rs, mut bare) = (Series::default(), Series::default());
        let (mut updates, mut incidents) = (0, 0);
        for i in 0..repeat {
            let fw = b.fetch_wait_ms();
            let r = replay::bare_read(&kafka, &input.topic, Duration::from_secs(60), fw)?;
            bare.push(r.messages, r.seconds);
            let d = replay::replay(&kafka, &input.topic, Duration::from_secs(60), fw)?;
            rs.push(d.messages, d.seconds);
            updates = d.updates;
            incidents = d.incidents;
            run.say(&format!(
                "(d) replay run {}/{repeat}: {} reports in {:.2}s = {} reports/s (bare read {} messages/s)",
                i + 1,
                d.messages,
                d.seconds,
                goals::fmt_num(d.per_s()),
                goals::fmt_num(r.per_s())
            ));
        }
        replay_fig = Some(ReplayFigure {
            replay: rs,
            bare_read: bare,
            updates,
            incidents,
        });
    }

    // (c)
    let mut latency_figs = Vec::new();
    if let (true, Some(b)) = (cfg.wants(Measurement::Latency), &broker) {
        for (k, rate) in cfg.rates.iter().enumerate() {
            let o = LatencyOptions {
                rate: *rate,
                duration: cfg.duration,
                warmup: cfg.warmup,
                linger_ms: cfg.feeder_linger_ms,
                seed: cfg.seed + 100 + k as u64,
                format: cfg.format,
                processor: settings(cfg, b),
            };
            if cfg.pipe_latency {
                let f = latency::pipe(b, &cfg.topic_prefix, &format!("c{k}-pipe"), &o)?;
                run.say(&format!(
                    "(c) pipe at {rate} reports/s: {:?}",
                    f.latency.map(|l| (l.p50_ms, l.p99_ms, l.p999_ms))
                ));
                latency_figs.push(f);
            }
            let f = latency::reckon(b, &cfg.topic_prefix, &format!("c{k}-reckon"), &o)?;
            run.say(&format!(
                "(c) reckon at {rate} reports/s: {:?}",
                f.latency.map(|l| (l.p50_ms, l.p99_ms, l.p999_ms))
            ));
            latency_figs.push(f);
        }
    }

    // (f)
    let mut eos_fig = None;
    if cfg.wants(Measurement::ExactlyOnce) {
        let own;
        let (eb, einput, where_) = if eos_here {
            (
                broker.as_ref().context("no broker")?,
                input.as_ref().context("no input")?,
                broker_text.clone(),
            )
        } else {
            run.say("(f) starting an embedded mock cluster for the exactly-once pair");
            let b = start_broker(cfg, true)?;
            let w = workload.as_ref().context("no workload")?;
            let i = fill_input(&run, &b, w, "eos-input")?;
            own = (b, i);
            notes.push(format!(
                "(f) was measured on an embedded mock cluster, not on {}: transactions cannot \
                 be assumed there (Tansu 0.6.0 has no EndTxn: a transaction never commits on \
                 it); --exactly-once-on-broker measures it on a broker that has them",
                match &cfg.broker {
                    BrokerChoice::External(a) => a.as_str(),
                    BrokerChoice::Embedded => "the main broker",
                }
            ));
            let d = own.0.describe();
            (&own.0, &own.1, d)
        };
        let (mut alo, mut eos, mut ratio_f) =
            (Series::default(), Series::default(), PairedRatio::default());
        let mut aborts = 0;
        for i in 0..repeat {
            let r0 = reckon_run(&run, eb, einput, &format!("f{i}-alo"), false)?;
            alo.push(r0.records, r0.seconds);
            let r1 = reckon_run(&run, eb, einput, &format!("f{i}-eos"), true)?;
            eos.push(r1.records, r1.seconds);
            aborts += r1.aborts;
            ratio_f.push(r1.per_s() / r0.per_s());
            run.say(&format!(
                "(f) pair {}/{repeat}: at-least-once {} reports/s, exactly-once {} reports/s",
                i + 1,
                goals::fmt_num(r0.per_s()),
                goals::fmt_num(r1.per_s())
            ));
        }
        eos_fig = Some(ExactlyOnceFigure {
            broker: where_,
            cost_pct: 100.0 * (1.0 - ratio_f.median),
            at_least_once: alo,
            exactly_once: eos,
            ratio: ratio_f,
            aborts,
        });
    }
    drop(input);
    drop(broker);

    // (e), last: with the broker gone, nothing else runs in this process.
    let mut memory_rows = Vec::new();
    if cfg.wants(Measurement::Memory) {
        for n in &cfg.memory_incidents {
            run.say(&format!("(e) folding {n} incidents' reports"));
            let f = memory_figure(cfg, *n)?;
            let method = match cfg.memory_probe {
                MemoryProbe::InProcess => "engine level, no Kafka, in the bench process",
                MemoryProbe::Subprocess(_) => "engine level, no Kafka, in a fresh process",
            };
            memory_rows.push(MemoryRow {
                bytes_per_incident: f.bytes_per_incident(),
                figure: f,
                method: method.into(),
            });
        }
    }

    machine.finish();
    let p99_at_5000 = latency_figs
        .iter()
        .find(|l| l.path == "reckon" && (l.rate - 5000.0).abs() < 0.5)
        .and_then(|l| l.latency.map(|s| s.p99_ms));
    let per_incident = |n: usize| {
        memory_rows
            .iter()
            .find(|m| m.figure.incidents == n)
            .map(|m| m.bytes_per_incident)
    };
    let figures = Figures {
        ratio: ratio.as_ref().map(|r| r.median),
        p99_at_5000_ms: p99_at_5000,
        replay_per_s: replay_fig.as_ref().map(|r| r.replay.median_per_s),
        bytes_per_incident_100k: per_incident(100_000),
        bytes_per_incident_1m: per_incident(1_000_000),
        exactly_once_cost_pct: eos_fig.as_ref().map(|f| f.cost_pct),
    };
    if cfg.wants(Measurement::Latency) && !cfg.rates.iter().any(|r| (r - 5000.0).abs() < 0.5) {
        notes.push(
            "the latency goal is set at 5,000 reports/s, which this run did not offer".into(),
        );
    }
    let processor_text = format!(
        "commit cycle every {} ms or {} records, updates as {}; feeder linger.ms={}",
        cfg.processor.commit_interval.as_millis(),
        cfg.processor.commit_max_records,
        cfg.processor.output_format.mime(),
        cfg.feeder_linger_ms
    );
    Ok(BenchReport {
        machine,
        broker: broker_text,
        processor: processor_text,
        partitions: cfg.partitions,
        workload: workload_info,
        pipe: pipe_series,
        reckon: reckon_series,
        reckon_extra,
        ratio,
        latency: latency_figs,
        replay: replay_fig,
        memory: memory_rows,
        exactly_once: eos_fig,
        notes,
        goals: evaluate(&figures),
        total_seconds: run.started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measurements_parse() {
        assert_eq!(Measurement::parse("a"), Ok(Measurement::Pipe));
        assert_eq!(Measurement::parse(" F "), Ok(Measurement::ExactlyOnce));
        assert_eq!(Measurement::parse("replay"), Ok(Measurement::Replay));
        assert!(Measurement::parse("g").is_err());
        assert_eq!(BrokerChoice::parse("embedded"), Ok(BrokerChoice::Embedded));
        assert_eq!(
            BrokerChoice::parse("127.0.0.1:9092"),
            Ok(BrokerChoice::External("127.0.0.1:9092".into()))
        );
        assert!(BrokerChoice::parse(" ").is_err());
    }
}
