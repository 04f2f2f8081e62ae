//! Kafka adapter: client configuration (`-b`, `-X` passthrough), topic layout and creation, and
//! the embedded mock cluster used by `reckon demo` and the fast tests.

pub mod config;
pub mod feeder;
pub mod latest;
pub mod mock;
pub mod reader;
pub mod sender;
pub mod topics;
pub mod update_filter;

pub use config::{KafkaArgs, TopicArgs};
pub use topics::{ensure_topics, TopicError, TopicLayout};
