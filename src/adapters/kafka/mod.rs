//! Kafka adapter: client configuration (`-b`, `-X` passthrough), topic layout and creation, and
//! the embedded mock cluster used by `reckon demo` and the fast tests, and the processor
//! (`processor`, with its producer in `output` and the state restore in `restore`), and the
//! instances topic through which instances find each other for interactive queries
//! (`instances`).

pub mod config;
pub mod feeder;
pub mod flush;
pub mod instances;
pub mod latest;
pub mod mock;
pub mod output;
pub mod partitioner;
pub mod processor;
pub mod reader;
pub mod restore;
pub mod sender;
pub mod topics;
pub mod update_filter;

pub use config::{KafkaArgs, TopicArgs};
pub use topics::{ensure_topics, TopicError, TopicLayout};
