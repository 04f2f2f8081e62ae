//! The runtime: drives the core per input partition, without Kafka. The Kafka processor
//! (`crate::adapters::kafka::processor`) feeds it records and publishes what it returns.
//!
//! - [`partition`]: one partition's fold (engine, next offset, dirty incidents) and what each
//!   record gives: updates or a dead letter.
//! - [`changelog`]: the state changelog protocol (record formats, the restore fold).
//! - [`cycle`]: when to run a commit cycle.
//! - [`read_model`]: what the HTTP query API serves (latest update and history per incident,
//!   readiness, live events with resumption); exists only with `--http-addr`.

pub mod changelog;
pub mod cycle;
pub mod partition;
pub mod read_model;

pub use changelog::{ChangelogError, ChangelogRecord, RestoreFold, Restored};
pub use cycle::CommitPolicy;
pub use partition::{CheckpointBatch, Outcome, PartitionTask, TaskStatus};
pub use read_model::{ReadModel, ReadModelConfig};
