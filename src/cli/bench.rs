//! `reckon bench`: measures throughput against a bare pipe, end-to-end latency, replay speed,
//! memory per incident and the cost of `--exactly-once`, on one broker in one run, and prints
//! each figure with its unit and the goals it meets or misses. The work is in
//! [`reckon::bench`].

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use reckon::bench::reckon::ProcessorSettings;
use reckon::bench::{self, BenchConfig, BrokerChoice, Measurement, MemoryProbe};
use reckon::wire::ContentType;

use super::feed::WireFormat;
use super::run::{init_logging, LogFormat};

fn parse_property(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, got {s:?}")),
    }
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.trim().replace('_', "").parse::<f64>() {
        Ok(r) if r > 0.0 && r.is_finite() => Ok(r),
        _ => Err(format!("expected a positive rate in reports/s, got {s:?}")),
    }
}

fn parse_count(s: &str) -> Result<usize, String> {
    let t = s.trim().replace('_', "").to_ascii_lowercase();
    let (digits, mult) = match t.strip_suffix('m') {
        Some(d) => (d.to_string(), 1_000_000),
        None => match t.strip_suffix('k') {
            Some(d) => (d.to_string(), 1_000),
            None => (t.clone(), 1),
        },
    };
    match digits.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n * mult),
        _ => Err(format!(
            "expected a positive count such as 100000, 100k or 1m, got {s:?}"
        )),
    }
}

fn parse_secs(s: &str) -> Result<Duration, String> {
    match s.trim().trim_end_matches('s').parse::<f64>() {
        Ok(v) if v >= 0.0 && v.is_finite() => Ok(Duration::from_secs_f64(v)),
        _ => Err(format!("expected seconds, got {s:?}")),
    }
}

/// Arguments of `reckon bench`.
///
/// Defaults finish in a few minutes on a 2-core machine. Nothing asserts a speed: every figure
/// is printed with its unit, against the goals, with PASS or MISS.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The broker: `embedded` starts librdkafka's mock cluster in this process; `HOST:PORT`
    /// uses a running broker (e.g. Tansu).
    #[arg(short = 'b', long = "broker", default_value = "embedded", value_parser = BrokerChoice::parse)]
    broker: BrokerChoice,
    /// A librdkafka property for every client, `KEY=VALUE`; repeatable.
    #[arg(short = 'X', value_name = "KEY=VALUE", value_parser = parse_property)]
    properties: Vec<(String, String)>,
    /// Which measurements, comma-separated: a (pipe), b (reckon), c (latency), d (replay),
    /// e (memory), f (exactly-once). Default: all.
    #[arg(long, value_delimiter = ',', value_parser = Measurement::parse)]
    only: Vec<Measurement>,
    /// Incidents of the throughput and replay workload (about 4.5 reports each).
    #[arg(long, default_value = "10000", value_parser = parse_count)]
    incidents: usize,
    /// Runs of each throughput measurement; the median is reported.
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// Partitions of every topic created.
    #[arg(long, default_value_t = 4)]
    partitions: i32,
    /// Offered rates of the latency runs, reports/s, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1000,5000", value_parser = parse_rate)]
    rates: Vec<f64>,
    /// Seconds measured at each rate.
    #[arg(long, default_value = "10", value_parser = parse_secs)]
    duration: Duration,
    /// Seconds of warm-up at each rate, left out of the figures.
    #[arg(long, default_value = "2", value_parser = parse_secs)]
    warmup: Duration,
    /// `linger.ms` of the paced feeder (`reckon feed` uses 5).
    #[arg(long, default_value_t = 5)]
    feeder_linger_ms: u64,
    /// Skip the bare pipe's latency runs (by default each rate is offered to both).
    #[arg(long)]
    no_pipe_latency: bool,
    /// Sizes of the memory measurement, incidents, comma-separated (`100k`, `1m` work).
    #[arg(long, value_delimiter = ',', default_value = "100k,1m", value_parser = parse_count)]
    memory_incidents: Vec<usize>,
    /// Measure exactly-once on the broker given with `-b` rather than on an embedded mock
    /// cluster (Tansu 0.6.0 has no EndTxn: transactions cannot commit on it).
    #[arg(long)]
    exactly_once_on_broker: bool,
    /// Wire form of the reports.
    #[arg(long, value_enum, default_value = "json")]
    format: WireFormat,
    /// Wire form of the updates reckon publishes.
    #[arg(long, value_enum, default_value = "json")]
    output_format: WireFormat,
    /// The processor's longest time between commit cycles (`reckon run`'s default: 100); the
    /// pipe commits its offsets at the same interval.
    #[arg(long, default_value_t = 100)]
    commit_interval_ms: u64,
    /// The processor's most records between commit cycles (`reckon run`'s default: 1000).
    #[arg(long, default_value_t = 1000)]
    commit_max_records: u64,
    /// Seed of the synthetic streams.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Prefix of the topics and groups created (default: unique per run).
    #[arg(long)]
    topic_prefix: Option<String>,
    /// Print the findings as one JSON document on stdout.
    #[arg(long)]
    json: bool,
    /// `fetch.wait.max.ms` of every consumer (default: 1 on the embedded cluster, whose empty
    /// fetches wait this long even when data arrives; the client default on a real broker).
    #[arg(long)]
    fetch_wait_ms: Option<u64>,
    /// Record the processor's own metrics (as `reckon run --metrics-addr` does) and print its
    /// commit-cycle, processing and end-to-end summaries on stderr at the end: what bounds a
    /// figure. Recording costs a little per record.
    #[arg(long)]
    processor_metrics: bool,
    /// No progress lines on stderr.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Internal: fold N incidents' reports in this process and print the memory figure as
    /// JSON (the memory measurement runs each size in a fresh process).
    #[arg(long, hide = true, value_name = "N")]
    memory_probe: Option<usize>,
}

/// Runs the command.
pub fn run(args: Args) -> Result<ExitCode> {
    if let Some(n) = args.memory_probe {
        let f = bench::memory::probe(n, args.seed);
        println!("{}", serde_json::to_string(&f)?);
        return Ok(ExitCode::SUCCESS);
    }
    // Group-less readers ask for end-of-partition events, which librdkafka's default context
    // reports as errors: they are not.
    init_logging(LogFormat::Text, "warn,rdkafka::client=off");
    let mut cfg = BenchConfig::new(args.broker);
    cfg.properties = args.properties;
    if !args.only.is_empty() {
        cfg.only = args.only.into_iter().collect::<BTreeSet<_>>();
    }
    cfg.incidents = args.incidents;
    cfg.repeat = args.repeat.max(1);
    cfg.partitions = args.partitions.max(1);
    cfg.rates = args.rates;
    cfg.duration = args.duration;
    cfg.warmup = args.warmup;
    cfg.feeder_linger_ms = args.feeder_linger_ms;
    cfg.pipe_latency = !args.no_pipe_latency;
    cfg.memory_incidents = args.memory_incidents;
    cfg.exactly_once_on_broker = args.exactly_once_on_broker;
    cfg.format = ContentType::from(args.format);
    cfg.seed = args.seed;
    cfg.fetch_wait_ms = args.fetch_wait_ms;
    cfg.processor = ProcessorSettings {
        commit_interval: Duration::from_millis(args.commit_interval_ms.max(1)),
        commit_max_records: args.commit_max_records.max(1),
        output_format: args.output_format.into(),
        fetch_wait_ms: None,
    };
    cfg.progress = !args.quiet;
    if let Some(p) = args.topic_prefix {
        cfg.topic_prefix = p;
    }
    let exe = std::env::current_exe().context("finding this program for the memory probe")?;
    cfg.memory_probe = MemoryProbe::Subprocess(vec![exe.into_os_string(), "bench".into()]);
    let metrics = if args.processor_metrics {
        let handle = metrics_exporter_prometheus::PrometheusBuilder::new()
            .install_recorder()
            .context("installing the metrics recorder")?;
        reckon::adapters::metrics::describe();
        Some(handle)
    } else {
        None
    };
    let report = bench::run(&cfg)?;
    if let Some(h) = metrics {
        eprintln!("processor metrics (all runs of this process):");
        for line in h.render().lines().filter(|l| {
            !l.starts_with('#')
                && [
                    "reckon_commit_duration_seconds",
                    "reckon_processing_duration_seconds",
                    "reckon_end_to_end_latency_seconds",
                    "reckon_transaction_duration_seconds",
                ]
                .iter()
                .any(|m| l.starts_with(m))
        }) {
            eprintln!("  {line}");
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.to_text());
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_rates_and_durations_parse() {
        assert_eq!(parse_count("100k"), Ok(100_000));
        assert_eq!(parse_count("1m"), Ok(1_000_000));
        assert_eq!(parse_count("1_000"), Ok(1000));
        assert!(parse_count("0").is_err());
        assert_eq!(parse_rate("5000"), Ok(5000.0));
        assert!(parse_rate("-1").is_err());
        assert_eq!(parse_secs("2.5s"), Ok(Duration::from_millis(2500)));
        assert!(parse_property("novalue").is_err());
    }
}
