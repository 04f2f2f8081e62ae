//! Metric names and descriptions, in one place: the processor records them, the Prometheus
//! exporter serves them, and the Grafana dashboard in `deploy/` may only use names listed here
//! (a test checks that). Names follow Prometheus conventions: `_total` for counters, base units
//! (`_seconds`) in the name.

use std::net::SocketAddr;
use std::time::Duration;

use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use axum::Router;
use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::sync::watch;

/// Records consumed from the reports topic, by partition.
pub const RECORDS_CONSUMED: &str = "reckon_records_consumed_total";
/// Reports decoded and folded.
pub const REPORTS_PROCESSED: &str = "reckon_reports_processed_total";
/// Records sent to the dead-letter topic, by reason code.
pub const DEAD_LETTERS: &str = "reckon_dead_letters_total";
/// Incident updates published.
pub const UPDATES_PUBLISHED: &str = "reckon_updates_published_total";
/// Time to decode, fold and encode one record.
pub const PROCESSING_SECONDS: &str = "reckon_processing_duration_seconds";
/// From the report's Kafka timestamp to its update being handed to the producer.
pub const END_TO_END_SECONDS: &str = "reckon_end_to_end_latency_seconds";
/// Consumer lag per partition, from librdkafka statistics.
pub const CONSUMER_LAG: &str = "reckon_consumer_lag_records";
/// Incidents held per partition.
pub const INCIDENTS: &str = "reckon_incidents";
/// Changelog records still to read while restoring a partition.
pub const RESTORE_REMAINING: &str = "reckon_restore_remaining_records";
/// Changelog records read while restoring.
pub const RESTORE_RECORDS: &str = "reckon_restore_records_total";
/// Duration of a commit cycle (flush, changelog, checkpoint, offsets).
pub const COMMIT_SECONDS: &str = "reckon_commit_duration_seconds";
/// Duration of a transaction commit under `--exactly-once`.
pub const TRANSACTION_SECONDS: &str = "reckon_transaction_duration_seconds";
/// Rebalances, by kind (`assign`, `revoke`).
pub const REBALANCES: &str = "reckon_rebalances_total";
/// Partitions currently assigned to this instance.
pub const ASSIGNED_PARTITIONS: &str = "reckon_assigned_partitions";

/// Every metric name this build exports.
pub const ALL: &[&str] = &[
    RECORDS_CONSUMED,
    REPORTS_PROCESSED,
    DEAD_LETTERS,
    UPDATES_PUBLISHED,
    PROCESSING_SECONDS,
    END_TO_END_SECONDS,
    CONSUMER_LAG,
    INCIDENTS,
    RESTORE_REMAINING,
    RESTORE_RECORDS,
    COMMIT_SECONDS,
    TRANSACTION_SECONDS,
    REBALANCES,
    ASSIGNED_PARTITIONS,
];

/// Histogram buckets for per-record processing: 1 µs to 100 ms.
const PROCESSING_BUCKETS: &[f64] = &[
    1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 1e-2, 1e-1,
];
/// Histogram buckets for latencies and commits: 1 ms to 60 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// Registers the descriptions of every metric with the installed recorder.
pub fn describe() {
    describe_counter!(RECORDS_CONSUMED, "Records consumed from the reports topic");
    describe_counter!(REPORTS_PROCESSED, "Reports decoded and folded");
    describe_counter!(
        DEAD_LETTERS,
        "Records sent to the dead-letter topic, by reason"
    );
    describe_counter!(UPDATES_PUBLISHED, "Incident updates published");
    describe_histogram!(
        PROCESSING_SECONDS,
        Unit::Seconds,
        "Time to decode, fold and encode one record"
    );
    describe_histogram!(
        END_TO_END_SECONDS,
        Unit::Seconds,
        "From a report's Kafka timestamp to its update being produced"
    );
    describe_gauge!(CONSUMER_LAG, "Consumer lag per partition, in records");
    describe_gauge!(INCIDENTS, "Incidents held per partition");
    describe_gauge!(
        RESTORE_REMAINING,
        "Changelog records still to read while restoring a partition"
    );
    describe_counter!(RESTORE_RECORDS, "Changelog records read while restoring");
    describe_histogram!(
        COMMIT_SECONDS,
        Unit::Seconds,
        "Duration of a commit cycle: flush, changelog, checkpoint, offsets"
    );
    describe_histogram!(
        TRANSACTION_SECONDS,
        Unit::Seconds,
        "Duration of a transaction commit under --exactly-once"
    );
    describe_counter!(REBALANCES, "Consumer group rebalances, by kind");
    describe_gauge!(ASSIGNED_PARTITIONS, "Partitions assigned to this instance");
}

/// A Prometheus recorder builder with reckon's histogram buckets.
pub fn recorder() -> Result<PrometheusBuilder, BuildError> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(PROCESSING_SECONDS.into()), PROCESSING_BUCKETS)?
        .set_buckets_for_metric(Matcher::Full(END_TO_END_SECONDS.into()), LATENCY_BUCKETS)?
        .set_buckets_for_metric(Matcher::Full(COMMIT_SECONDS.into()), LATENCY_BUCKETS)?
        .set_buckets_for_metric(Matcher::Full(TRANSACTION_SECONDS.into()), LATENCY_BUCKETS)
}

/// Why the metrics endpoint could not start.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// The recorder could not be built or installed (one per process).
    #[error("installing the metrics recorder: {0}")]
    Recorder(#[from] BuildError),
    /// The address could not be bound.
    #[error("binding {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// The running metrics endpoint: `GET /metrics` in the Prometheus text format. It serves until
/// dropped.
#[derive(Debug)]
pub struct Endpoint {
    local_addr: SocketAddr,
    handle: PrometheusHandle,
    _stop: watch::Sender<bool>,
}

impl Endpoint {
    /// Installs reckon's recorder for this process and serves it on `addr`, through the same
    /// connection loop as the HTTP API (with its deadline on request headers). Must be called
    /// inside a tokio runtime.
    pub fn start(addr: SocketAddr) -> Result<Self, EndpointError> {
        let bind = |source| EndpointError::Bind { addr, source };
        let std_listener = std::net::TcpListener::bind(addr).map_err(bind)?;
        std_listener.set_nonblocking(true).map_err(bind)?;
        let listener = tokio::net::TcpListener::from_std(std_listener).map_err(bind)?;
        let local_addr = listener.local_addr().map_err(bind)?;
        let handle = recorder()?.install_recorder()?;
        describe();
        let (stop, stopped) = watch::channel(false);
        let render = handle.clone();
        let app = Router::new().route(
            "/metrics",
            get(move || {
                let body = render.render();
                async move { ([(CONTENT_TYPE, "text/plain; version=0.0.4")], body) }
            }),
        );
        tokio::spawn(crate::adapters::http::serve::serve(
            listener,
            app,
            Duration::from_secs(10),
            stopped.clone(),
        ));
        // Histograms are kept as summaries of recent samples; upkeep drains old ones.
        let upkeep = handle.clone();
        let mut upkeep_stop = stopped;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tokio::select! {
                    _ = tick.tick() => upkeep.run_upkeep(),
                    _ = upkeep_stop.changed() => break,
                }
            }
        });
        Ok(Self {
            local_addr,
            handle,
            _stop: stop,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The current metrics in the Prometheus text format.
    pub fn render(&self) -> String {
        self.handle.render()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_prometheus_conventions() {
        for name in ALL {
            assert!(name.starts_with("reckon_"), "{name}");
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{name}"
            );
        }
        let mut sorted = ALL.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ALL.len(), "no duplicates");
    }
}
