//! The benchmark's input: the synthetic report stream ([`crate::synth`]) encoded as a feeder
//! sends it (keyed by region key, content-type header), and the feeder that produces it.

use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::adapters::kafka::sender::{TrackedProducer, KEY_PARTITIONER};
use crate::adapters::kafka::KafkaArgs;
use crate::synth::{generate, SynthConfig};
use crate::wire::{encode_report, ContentType, CONTENT_TYPE_HEADER};

/// Header carrying a message's index in the workload, so that the pipe's copies can be matched
/// to their originals (reckon ignores unknown headers).
pub const SEQ_HEADER: &str = "reckon-bench-seq";

/// Incidents per first-level region and day in every generated stream: the density of the
/// criterion fold benchmark (20,000 incidents over 400 regions and 90 days). Larger streams
/// cover more days, so linking meets as many candidates per report at every size.
pub const INCIDENTS_PER_REGION_DAY: f64 = 20_000.0 / (400.0 * 90.0);

/// Regions of every generated stream.
pub const REGIONS: usize = 400;

/// The synthetic configuration for `incidents` incidents at the benchmark's density.
pub fn synth_config(incidents: usize, seed: u64) -> SynthConfig {
    let days = (incidents as f64 / (REGIONS as f64 * INCIDENTS_PER_REGION_DAY)).ceil() as i64;
    SynthConfig {
        incidents,
        regions: REGIONS,
        seed,
        days: days.max(1),
    }
}

/// One report as a Kafka message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The region key.
    pub key: Vec<u8>,
    /// The encoded report.
    pub payload: Vec<u8>,
    /// The report id (what an update's `caused_by` names).
    pub report_id: String,
}

/// A generated stream, encoded.
#[derive(Debug, Clone)]
pub struct Workload {
    /// Incidents generated.
    pub incidents: usize,
    /// The seed.
    pub seed: u64,
    /// The wire form.
    pub format: ContentType,
    /// The messages, in stream order.
    pub messages: Vec<Message>,
}

impl Workload {
    /// Generates `incidents` incidents' reports, encoded as `format`.
    pub fn generate(incidents: usize, seed: u64, format: ContentType) -> Self {
        let messages = generate(synth_config(incidents, seed))
            .iter()
            .map(|r| Message {
                key: r.region_key().into_bytes(),
                payload: encode_report(r, format),
                report_id: r.report_id.as_str().to_string(),
            })
            .collect();
        Self {
            incidents,
            seed,
            format,
            messages,
        }
    }

    /// At least `n` messages: generates enough incidents for them (about 4.5 reports each) and
    /// keeps the first `n`.
    pub fn with_reports(n: usize, seed: u64, format: ContentType) -> Self {
        let mut incidents = n / 4 + 1;
        loop {
            let mut w = Self::generate(incidents, seed, format);
            if w.messages.len() >= n {
                w.messages.truncate(n);
                return w;
            }
            incidents = incidents * 3 / 2 + 1;
        }
    }

    /// Payload bytes in total.
    pub fn payload_bytes(&self) -> usize {
        self.messages.iter().map(|m| m.payload.len()).sum()
    }
}

/// The feeder's producer settings: those of `reckon feed` (idempotent, acks=all, murmur2 key
/// partitioner, `linger.ms`).
pub fn feeder(kafka: &KafkaArgs, linger_ms: u64) -> Result<TrackedProducer> {
    let linger = linger_ms.to_string();
    let config = kafka.client_config_with(&[
        ("enable.idempotence", "true"),
        ("acks", "all"),
        ("message.timeout.ms", "60000"),
        ("partitioner", KEY_PARTITIONER),
        ("linger.ms", linger.as_str()),
    ]);
    TrackedProducer::new(&config).context("creating the feeder")
}

/// Sends message `index` of a workload: key, payload, content type and sequence headers.
pub fn send(
    producer: &mut TrackedProducer,
    topic: &str,
    format: ContentType,
    index: usize,
    m: &Message,
) -> Result<()> {
    let seq = (index as u64).to_be_bytes();
    producer
        .send(
            topic,
            Some(&m.key),
            &m.payload,
            &[
                (CONTENT_TYPE_HEADER, format.mime().as_bytes()),
                (SEQ_HEADER, &seq),
            ],
            index,
        )
        .context("producing a report")
}

/// The sequence number a message carries in [`SEQ_HEADER`].
pub fn seq_of(value: &[u8]) -> Option<u64> {
    <[u8; 8]>::try_from(value).ok().map(u64::from_be_bytes)
}

/// Produces the whole workload to `topic` and waits until the broker acknowledged all of it.
pub fn produce_all(kafka: &KafkaArgs, topic: &str, w: &Workload) -> Result<()> {
    let mut p = feeder(kafka, 5)?;
    for (i, m) in w.messages.iter().enumerate() {
        send(&mut p, topic, w.format, i, m)?;
    }
    p.flush(Duration::from_secs(120))
        .with_context(|| format!("producing {} reports to {topic}", w.messages.len()))?;
    let failures = p.take_failures();
    if !failures.is_empty() {
        bail!(
            "{} report(s) were not delivered to {topic}; first: {}",
            failures.len(),
            failures[0].error
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn density_is_the_fold_benchmarks() {
        let c = synth_config(20_000, 7);
        assert_eq!((c.regions, c.days), (400, 90));
        assert_eq!(synth_config(1_000_000, 7).days, 4500);
        assert_eq!(synth_config(10, 7).days, 1);
    }

    #[test]
    fn workloads_are_keyed_and_sized() {
        let w = Workload::with_reports(1000, 3, ContentType::Json);
        assert_eq!(w.messages.len(), 1000);
        assert!(w.messages.iter().all(|m| !m.key.is_empty()));
        assert!(w.payload_bytes() > 100 * 1000);
        let ids: std::collections::HashSet<&str> =
            w.messages.iter().map(|m| m.report_id.as_str()).collect();
        assert_eq!(ids.len(), 1000);
        assert_eq!(seq_of(&42u64.to_be_bytes()), Some(42));
        assert_eq!(seq_of(b"x"), None);
    }
}
