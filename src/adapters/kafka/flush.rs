//! Flushing a producer promptly. rust-rdkafka 0.39's `flush` polls in 100 ms slices that do
//! not return early (fede1024/rust-rdkafka#748, #777), so each flush costs at least 100 ms even
//! when every message is acknowledged within a millisecond; the processor flushes on every
//! commit cycle, which capped it near 5,000 records/s. This one asks librdkafka to send now and
//! serves delivery reports in 1 ms slices until nothing is in flight. A 1 ms `poll` mostly spins
//! (the remaining time is truncated to whole milliseconds), which is why the slices are only
//! taken while a flush waits; waiting in librdkafka instead measured slower (BENCHMARKS.md).

use std::time::{Duration, Instant};

use rdkafka::error::{KafkaError, KafkaResult, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, Producer, ProducerContext};

/// How long one wait for delivery reports lasts.
const SLICE: Duration = Duration::from_millis(1);

/// Waits until every message `producer` holds is delivered or failed (its delivery report
/// served), or `timeout` passes (then `KafkaError::Flush(OperationTimedOut)`).
pub fn flush<C: ProducerContext>(producer: &BaseProducer<C>, timeout: Duration) -> KafkaResult<()> {
    let deadline = Instant::now() + timeout;
    loop {
        // `rd_kafka_flush` with no wait: it wakes the broker threads and makes them send
        // what lingers now.
        match producer.flush(Duration::ZERO) {
            Ok(()) => {}
            Err(KafkaError::Flush(RDKafkaErrorCode::OperationTimedOut)) => {}
            Err(e) => return Err(e),
        }
        // Delivery reports still queued count as in flight until served.
        producer.poll(Duration::ZERO);
        if producer.in_flight_count() == 0 {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(KafkaError::Flush(RDKafkaErrorCode::OperationTimedOut));
        }
        producer.poll(SLICE);
    }
}
