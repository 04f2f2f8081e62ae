//! Adapters at the edge: Kafka (topics, clients, the embedded mock cluster), the HTTP query API
//! and metrics.

pub mod http;
pub mod kafka;
pub mod metrics;
