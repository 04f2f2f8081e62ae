//! Kafka client settings shared by every command: bootstrap brokers, librdkafka properties
//! passed through as kcat's `-X` does (so SASL and SSL need no code), and topic names.

use rdkafka::ClientConfig;

/// Parses `key=value`.
fn parse_property(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, got {s:?}")),
    }
}

/// Connection settings.
#[derive(Debug, Clone, clap::Args)]
pub struct KafkaArgs {
    /// Bootstrap brokers, `host:port[,host:port...]`.
    #[arg(
        short = 'b',
        long = "brokers",
        env = "RECKON_BROKERS",
        default_value = "localhost:9092"
    )]
    pub brokers: String,
    /// A librdkafka property, `KEY=VALUE`; repeatable (e.g. `-X security.protocol=SASL_SSL`).
    /// In the environment: comma-separated.
    #[arg(
        short = 'X',
        value_name = "KEY=VALUE",
        env = "RECKON_KAFKA_PROPERTIES",
        value_delimiter = ',',
        value_parser = parse_property
    )]
    pub properties: Vec<(String, String)>,
    /// Topic names.
    #[command(flatten)]
    pub topics: TopicArgs,
}

impl KafkaArgs {
    /// Settings for a given broker list and default topics (used by tests and the demo).
    pub fn for_brokers(brokers: impl Into<String>) -> Self {
        Self {
            brokers: brokers.into(),
            properties: Vec::new(),
            topics: TopicArgs::default(),
        }
    }

    /// A client configuration with the brokers and every `-X` property applied. Properties
    /// are applied last, so they override anything the command sets before calling this.
    pub fn client_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.brokers);
        for (k, v) in &self.properties {
            c.set(k, v);
        }
        c
    }

    /// Like [`Self::client_config`], with `extra` settings applied before the `-X` properties.
    pub fn client_config_with(&self, extra: &[(&str, &str)]) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.brokers);
        for (k, v) in extra {
            c.set(*k, *v);
        }
        for (k, v) in &self.properties {
            c.set(k, v);
        }
        c
    }
}

/// The four topics.
#[derive(Debug, Clone, clap::Args)]
pub struct TopicArgs {
    /// Raw reports topic (keyed by region key).
    #[arg(long, env = "RECKON_REPORTS_TOPIC", default_value = "reckon.reports")]
    pub reports_topic: String,
    /// Reconciled updates topic (keyed by incident id, compacted).
    #[arg(long, env = "RECKON_UPDATES_TOPIC", default_value = "reckon.updates")]
    pub updates_topic: String,
    /// State changelog topic (co-partitioned with the reports topic, compacted).
    #[arg(
        long,
        env = "RECKON_CHANGELOG_TOPIC",
        default_value = "reckon.changelog"
    )]
    pub changelog_topic: String,
    /// Dead-letter topic for undecodable or invalid input.
    #[arg(
        long,
        env = "RECKON_DEAD_LETTER_TOPIC",
        default_value = "reckon.dead-letters"
    )]
    pub dead_letter_topic: String,
}

impl Default for TopicArgs {
    fn default() -> Self {
        Self {
            reports_topic: "reckon.reports".into(),
            updates_topic: "reckon.updates".into(),
            changelog_topic: "reckon.changelog".into(),
            dead_letter_topic: "reckon.dead-letters".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_pass_through_and_override() {
        let mut args = KafkaArgs::for_brokers("b:1");
        args.properties = vec![
            parse_property("security.protocol=SASL_SSL").unwrap(),
            parse_property("client.id=x=y").unwrap(),
        ];
        let c = args.client_config_with(&[("client.id", "reckon")]);
        assert_eq!(c.get("bootstrap.servers"), Some("b:1"));
        assert_eq!(c.get("security.protocol"), Some("SASL_SSL"));
        assert_eq!(c.get("client.id"), Some("x=y"));
        assert!(parse_property("novalue").is_err());
        assert!(parse_property("=v").is_err());
    }
}
