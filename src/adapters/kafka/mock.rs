//! The embedded broker: librdkafka's mock cluster, in-process on loopback. No install needed; it
//! does not support admin requests, so topics are created through the mock API.

use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;

use super::config::TopicArgs;

/// A running mock cluster with reckon's topics created.
pub struct EmbeddedCluster {
    cluster: MockCluster<'static, DefaultProducerContext>,
}

impl EmbeddedCluster {
    /// Starts a one-broker mock cluster and creates the four topics with `partitions` each.
    pub fn start(topics: &TopicArgs, partitions: i32) -> Result<Self, rdkafka::error::KafkaError> {
        let cluster = MockCluster::new(1)?;
        for t in [
            &topics.reports_topic,
            &topics.updates_topic,
            &topics.changelog_topic,
            &topics.dead_letter_topic,
        ] {
            cluster.create_topic(t, partitions, 1)?;
        }
        Ok(Self { cluster })
    }

    /// The bootstrap servers to connect to.
    pub fn bootstrap_servers(&self) -> String {
        self.cluster.bootstrap_servers()
    }
}
