//! (c) End-to-end latency at a fixed offered rate. A paced feeder produces reports at `rate`
//! per second (on an absolute schedule, see [`super::pacing`]); a subscriber reads the updates
//! topic as any consumer would (a group-less reader, as `reckon subscribe` uses). A report's
//! latency runs from the moment it is handed to the producer to the moment the subscriber
//! receives the first update whose `caused_by` names it. Reports that change no view publish
//! nothing and are counted apart. The first `warmup` seconds are left out.
//!
//! The same schedule through the bare pipe (matched by a sequence header the pipe copies)
//! gives the latency of the Kafka hops alone on this broker, for comparison.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;

use crate::adapters::kafka::processor::{caught_up, input_end_offsets, Processor};
use crate::adapters::kafka::reader::{Record, StartAt, TopicReader};
use crate::adapters::kafka::KafkaArgs;
use crate::wire::{self, ContentType, CONTENT_TYPE_HEADER};

use super::broker::{reckon_topics, BenchBroker};
use super::pacing::{Pacer, Schedule};
use super::pipe::{self, reader_config, PipeOptions};
use super::reckon::{processor_config, wait_for, ProcessorSettings};
use super::stats::LatencySummary;
use super::workload::{feeder, send, seq_of, Workload, SEQ_HEADER};

/// What a latency run does.
#[derive(Debug, Clone, Copy)]
pub struct LatencyOptions {
    /// Offered reports per second.
    pub rate: f64,
    /// How long the measured part lasts.
    pub duration: Duration,
    /// How long before it, at the same rate, is left out.
    pub warmup: Duration,
    /// The feeder's `linger.ms`.
    pub linger_ms: u64,
    /// The seed of the stream.
    pub seed: u64,
    /// Report wire form.
    pub format: ContentType,
    /// The processor's settings (the pipe takes its commit interval and records).
    pub processor: ProcessorSettings,
}

/// One latency run's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct LatencyFigure {
    /// `reckon` or `pipe`.
    pub path: String,
    /// Offered rate, reports/s.
    pub rate: f64,
    /// Reports sent (warm-up included).
    pub sent: u64,
    /// The rate achieved by the feeder, reports/s.
    pub achieved_rate: f64,
    /// The largest lateness of the feeder against its schedule, ms.
    pub feeder_max_behind_ms: f64,
    /// Reports after the warm-up.
    pub measured_reports: u64,
    /// Of those, reports that published no update (they changed no view).
    pub without_update: u64,
    /// The latency distribution of the others.
    pub latency: Option<LatencySummary>,
}

/// Reads a topic from its (empty) beginning on its own thread, timestamping every record on
/// arrival, until stopped.
struct Collector {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Result<Vec<(Instant, Record)>>>,
    last: Arc<std::sync::Mutex<Instant>>,
}

impl Collector {
    /// Starts reading and returns once the reader has seen the end of every partition.
    fn start(kafka: &KafkaArgs, topic: &str, fetch_wait_ms: Option<u64>) -> Result<Self> {
        let config = reader_config(
            kafka,
            &[("group.id", "reckon-bench-subscriber")],
            fetch_wait_ms,
        );
        let topic = topic.to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let last = Arc::new(std::sync::Mutex::new(Instant::now()));
        let (ready_tx, ready_rx) = mpsc::channel::<()>();
        let (s, l) = (stop.clone(), last.clone());
        let thread = std::thread::Builder::new()
            .name("bench-subscriber".into())
            .spawn(move || -> Result<Vec<(Instant, Record)>> {
                let mut reader = TopicReader::open(
                    &config,
                    &topic,
                    StartAt::Beginning,
                    Duration::from_secs(15),
                )?;
                let mut got = Vec::new();
                let mut ready = Some(ready_tx);
                while !s.load(Ordering::Relaxed) {
                    if reader.caught_up() {
                        if let Some(tx) = ready.take() {
                            let _ = tx.send(());
                        }
                    }
                    if let Some(r) = reader.poll(Duration::from_millis(20))? {
                        let now = Instant::now();
                        got.push((now, r));
                        if let Ok(mut g) = l.lock() {
                            *g = now;
                        }
                    }
                }
                Ok(got)
            })
            .context("starting the subscriber")?;
        match ready_rx.recv_timeout(Duration::from_secs(60)) {
            Ok(()) => Ok(Self { stop, thread, last }),
            Err(_) => {
                stop.store(true, Ordering::Relaxed);
                match thread.join() {
                    Ok(Err(e)) => Err(e.context("the subscriber failed")),
                    _ => bail!("the subscriber did not reach the end of the topic in 60 s"),
                }
            }
        }
    }

    /// Waits until no record came for `quiet` (at most `timeout`), then stops.
    fn finish(self, quiet: Duration, timeout: Duration) -> Result<Vec<(Instant, Record)>> {
        let deadline = Instant::now() + timeout;
        loop {
            let last = self
                .last
                .lock()
                .map(|g| *g)
                .unwrap_or_else(|_| Instant::now());
            if last.elapsed() >= quiet || Instant::now() >= deadline || self.thread.is_finished() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .join()
            .map_err(|_| anyhow!("the subscriber panicked"))?
    }
}

/// Sends the workload on the schedule; returns when each message was handed to the producer,
/// the schedule's start and the feeder's largest lateness.
fn feed_paced(
    kafka: &KafkaArgs,
    topic: &str,
    w: &Workload,
    o: &LatencyOptions,
) -> Result<(Vec<Instant>, Instant, Duration)> {
    let mut producer = feeder(kafka, o.linger_ms)?;
    let schedule = Schedule {
        rate: o.rate,
        count: w.messages.len() as u64,
    };
    let mut pacer = Pacer::start(schedule);
    let mut sent = Vec::with_capacity(w.messages.len());
    while let Some(i) = pacer.wait_next() {
        let i = i as usize;
        sent.push(Instant::now());
        send(&mut producer, topic, w.format, i, &w.messages[i])?;
    }
    producer
        .flush(Duration::from_secs(60))
        .context("flushing the feeder")?;
    let failures = producer.take_failures();
    if !failures.is_empty() {
        bail!("{} report(s) were not delivered", failures.len());
    }
    Ok((sent, pacer.started(), pacer.max_behind()))
}

fn figure(
    path: &str,
    o: &LatencyOptions,
    sent: &[Instant],
    start: Instant,
    behind: Duration,
    received: &[Option<Instant>],
) -> LatencyFigure {
    let cutoff = start + o.warmup;
    let mut samples = Vec::new();
    let mut measured = 0u64;
    let mut without = 0u64;
    for (s, r) in sent.iter().zip(received) {
        if *s < cutoff {
            continue;
        }
        measured += 1;
        match r {
            Some(r) => samples.push(r.saturating_duration_since(*s).as_secs_f64() * 1000.0),
            None => without += 1,
        }
    }
    let span = match (sent.first(), sent.last()) {
        (Some(a), Some(b)) if b > a => b.duration_since(*a).as_secs_f64(),
        _ => 0.0,
    };
    LatencyFigure {
        path: path.into(),
        rate: o.rate,
        sent: sent.len() as u64,
        achieved_rate: if span > 0.0 {
            (sent.len() as f64 - 1.0) / span
        } else {
            0.0
        },
        feeder_max_behind_ms: behind.as_secs_f64() * 1000.0,
        measured_reports: measured,
        without_update: without,
        latency: LatencySummary::of_ms(&mut samples),
    }
}

fn workload(o: &LatencyOptions) -> Workload {
    let n = (o.rate * (o.duration + o.warmup).as_secs_f64()).round() as usize;
    Workload::with_reports(n.max(1), o.seed, o.format)
}

/// reckon's latency at `o.rate`, on fresh topics named after `run`.
pub fn reckon(
    broker: &BenchBroker,
    prefix: &str,
    run: &str,
    o: &LatencyOptions,
) -> Result<LatencyFigure> {
    let topics = reckon_topics(prefix, run);
    broker.create_reckon_topics(&topics, broker.partitions(), false)?;
    let kafka = broker.kafka(topics);
    let w = workload(o);
    let handle = Processor::start(processor_config(
        &kafka,
        &format!("{prefix}-{run}"),
        false,
        &o.processor,
    ))
    .context("starting reckon")?;
    let partitions = broker.partitions() as usize;
    wait_for(
        &handle,
        Duration::from_secs(120),
        "partitions are assigned",
        |s| s.partitions.len() >= partitions,
    )?;
    let collector = Collector::start(
        &kafka,
        &kafka.topics.updates_topic,
        o.processor.fetch_wait_ms,
    )?;
    let (sent, start, behind) = feed_paced(&kafka, &kafka.topics.reports_topic, &w, o)?;
    let ends = input_end_offsets(&kafka, Duration::from_secs(15))?;
    wait_for(&handle, Duration::from_secs(300), "caught up", |s| {
        caught_up(&[s], &ends)
    })?;
    let records = collector.finish(Duration::from_millis(500), Duration::from_secs(60))?;
    handle.shutdown().context("stopping reckon")?;
    let index: HashMap<&str, usize> = w
        .messages
        .iter()
        .enumerate()
        .map(|(i, m)| (m.report_id.as_str(), i))
        .collect();
    let mut received: Vec<Option<Instant>> = vec![None; sent.len()];
    for (at, r) in &records {
        let Some(payload) = r.payload.as_deref() else {
            continue;
        };
        let ct = r
            .header(CONTENT_TYPE_HEADER)
            .map_or(Ok(ContentType::Json), |v| {
                ContentType::parse(&String::from_utf8_lossy(v))
            })
            .context("an update's content type")?;
        let u = wire::decode_update(payload, ct).context("decoding an update")?;
        for id in &u.caused_by {
            if let Some(&i) = index.get(id.as_str()) {
                let slot = &mut received[i];
                if slot.is_none() {
                    *slot = Some(*at);
                }
            }
        }
    }
    Ok(figure("reckon", o, &sent, start, behind, &received))
}

/// The bare pipe's latency at `o.rate`, on fresh topics named after `run`.
pub fn pipe(
    broker: &BenchBroker,
    prefix: &str,
    run: &str,
    o: &LatencyOptions,
) -> Result<LatencyFigure> {
    let input = format!("{prefix}.{run}.in");
    let output = format!("{prefix}.{run}.out");
    broker.create_topic(&input, broker.partitions())?;
    broker.create_topic(&output, broker.partitions())?;
    let kafka = broker.kafka(Default::default());
    let w = workload(o);
    let options = PipeOptions {
        kafka: kafka.clone(),
        input: input.clone(),
        output: output.clone(),
        group: format!("{prefix}-{run}"),
        expected: None,
        commit_interval: o.processor.commit_interval,
        commit_max_records: o.processor.commit_max_records,
        idle_timeout: Duration::from_secs(60),
        fetch_wait_ms: o.processor.fetch_wait_ms,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let assigned = Arc::new(AtomicBool::new(false));
    let (s, a) = (stop.clone(), assigned.clone());
    let thread = std::thread::Builder::new()
        .name("bench-pipe".into())
        .spawn(move || pipe::run(&options, &s, &a))
        .context("starting the pipe")?;
    let deadline = Instant::now() + Duration::from_secs(120);
    while !assigned.load(Ordering::Relaxed) {
        if thread.is_finished() || Instant::now() > deadline {
            stop.store(true, Ordering::Relaxed);
            return match thread.join() {
                Ok(Err(e)) => Err(e),
                _ => Err(anyhow!("the pipe was not assigned partitions in 120 s")),
            };
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let collector = Collector::start(&kafka, &output, o.processor.fetch_wait_ms)?;
    let fed = feed_paced(&kafka, &input, &w, o);
    let records = collector.finish(Duration::from_millis(500), Duration::from_secs(60));
    stop.store(true, Ordering::Relaxed);
    let piped = thread.join().map_err(|_| anyhow!("the pipe panicked"))?;
    let (sent, start, behind) = fed?;
    let records = records?;
    piped?;
    let mut received: Vec<Option<Instant>> = vec![None; sent.len()];
    for (at, r) in &records {
        if let Some(i) = r.header(SEQ_HEADER).and_then(seq_of) {
            if let Some(slot) = received.get_mut(i as usize) {
                slot.get_or_insert(*at);
            }
        }
    }
    Ok(figure("pipe", o, &sent, start, behind, &received))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warm_up_is_left_out_and_silent_reports_counted_apart() {
        let o = LatencyOptions {
            rate: 1000.0,
            duration: Duration::from_secs(1),
            warmup: Duration::from_millis(10),
            linger_ms: 0,
            seed: 1,
            format: ContentType::Json,
            processor: ProcessorSettings::default(),
        };
        let start = Instant::now();
        let ms = Duration::from_millis;
        let sent = vec![start, start + ms(20), start + ms(30), start + ms(40)];
        let received = vec![
            Some(start + ms(100)), // warm-up: left out
            Some(start + ms(22)),
            None,
            Some(start + ms(48)),
        ];
        let f = figure("reckon", &o, &sent, start, ms(3), &received);
        assert_eq!(f.sent, 4);
        assert_eq!(f.measured_reports, 3);
        assert_eq!(f.without_update, 1);
        let l = f.latency.unwrap();
        assert_eq!(l.count, 2);
        assert!((l.p50_ms - 2.0).abs() < 1e-9);
        assert!((l.p99_ms - 8.0).abs() < 1e-9);
        assert!((f.achieved_rate - 75.0).abs() < 1e-6);
        assert!((f.feeder_max_behind_ms - 3.0).abs() < 1e-9);
    }
}
