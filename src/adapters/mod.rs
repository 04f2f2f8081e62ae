//! Adapters at the edge: Kafka (topics, clients, the embedded mock cluster).

pub mod kafka;
