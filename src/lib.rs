//! reckon: reads raw news reports about violent incidents, links them to incidents, keeps
//! per-incident state and publishes reconciled incident updates.
//!
//! - [`core`]: the pure, deterministic fold (model, linking, estimation, updates).
//! - [`adapters`]: Kafka and the other edges.
//! - [`bench`](mod@bench): `reckon bench`: throughput, latency, replay, memory and exactly-once figures.
//! - [`runtime`]: drives the core per input partition (changelog protocol, commit trigger).
//! - [`synth`]: a deterministic synthetic report stream for benchmarks and load tests.
//! - [`wire`]: the JSON and protobuf forms of reports and updates, and boundary validation.

pub mod adapters;
pub mod bench;
pub mod core;
pub mod runtime;
pub mod synth;
pub mod wire;
