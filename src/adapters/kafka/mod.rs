//! Kafka adapter: client configuration (`-b`, `-X` passthrough), topic layout and creation, and
//! the embedded mock cluster used by `reckon demo` and the fast tests.

pub mod config;
pub mod mock;
pub mod topics;

pub use config::{KafkaArgs, TopicArgs};
pub use topics::{ensure_topics, TopicError, TopicLayout};
