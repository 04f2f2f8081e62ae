//! The pure core: linking, applying a report, estimating. No Kafka, no async runtime, no I/O, no
//! clock: the same reports in the same order always give the same updates.

pub mod actors;
pub mod affiliations;
pub mod engine;
pub mod error;
pub mod estimate;
pub mod gazetteer;
pub mod incident;
pub mod intern;
pub mod latest;
pub mod limits;
pub mod link;
pub mod model;
pub mod parties;
pub mod registry;
pub mod update;
pub mod view;

pub use engine::{Engine, Folded};
pub use error::{Rejected, ValidationError};
