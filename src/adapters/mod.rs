//! Adapters at the edge: Kafka (topics, clients, the embedded mock cluster) and metrics.

pub mod kafka;
pub mod metrics;
