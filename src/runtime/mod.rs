//! The runtime: drives the core per input partition, without Kafka. The Kafka processor
//! (`crate::adapters::kafka::processor`) feeds it records and publishes what it returns.
//!
//! - [`partition`]: one partition's fold (engine, next offset, dirty incidents) and what each
//!   record gives: updates or a dead letter.
//! - [`changelog`]: the state changelog protocol (record formats, the restore fold).
//! - [`cycle`]: when to run a commit cycle.

pub mod changelog;
pub mod cycle;
pub mod partition;

pub use changelog::{ChangelogError, ChangelogRecord, RestoreFold, Restored};
pub use cycle::CommitPolicy;
pub use partition::{CheckpointBatch, Outcome, PartitionTask, TaskStatus};
