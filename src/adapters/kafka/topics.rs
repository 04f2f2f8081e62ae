//! The topic layout and its creation or verification. The reports and changelog topics must have
//! the same number of partitions (the changelog is co-partitioned with the input); the updates and
//! changelog topics must be compacted (the latest record per key is the current value).

use std::collections::HashMap;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::KafkaError;
use rdkafka::ClientConfig;
use thiserror::Error;

use super::config::TopicArgs;

/// How long admin requests may take.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(15);

/// The topics and how they should be created.
#[derive(Debug, Clone)]
pub struct TopicLayout {
    /// Topic names.
    pub names: TopicArgs,
    /// Partitions of the reports and changelog topics (and of updates and dead letters).
    pub partitions: i32,
    /// Replication factor.
    pub replication: i32,
    /// `min.compaction.lag.ms` of the changelog: records younger than this are never compacted,
    /// so a committed state record is not removed while an uncommitted one follows it.
    pub changelog_min_compaction_lag_ms: u64,
}

impl TopicLayout {
    /// A layout with the given names and partitions, replication 1.
    pub fn new(names: TopicArgs, partitions: i32) -> Self {
        Self {
            names,
            partitions,
            replication: 1,
            changelog_min_compaction_lag_ms: 3_600_000,
        }
    }
}

/// What is wrong with the topics.
#[derive(Debug, Error)]
pub enum TopicError {
    /// A Kafka request failed.
    #[error("kafka: {0}")]
    Kafka(#[from] KafkaError),
    /// A topic is missing and creation was not asked for.
    #[error("topic {0} does not exist (run with --create-topics or create it)")]
    Missing(String),
    /// Creating a topic failed.
    #[error("creating topic {topic}: {reason}")]
    Create {
        /// The topic.
        topic: String,
        /// The broker's answer.
        reason: String,
    },
    /// The reports and changelog topics are not co-partitioned.
    #[error(
        "topic {changelog} has {changelog_partitions} partitions but {reports} has {reports_partitions}: \
         the changelog must be co-partitioned with the reports topic"
    )]
    NotCoPartitioned {
        /// Reports topic.
        reports: String,
        /// Its partitions.
        reports_partitions: usize,
        /// Changelog topic.
        changelog: String,
        /// Its partitions.
        changelog_partitions: usize,
    },
    /// A topic that must be compacted is not.
    #[error("topic {topic} has cleanup.policy={policy}; it must include compact")]
    NotCompacted {
        /// The topic.
        topic: String,
        /// Its policy.
        policy: String,
    },
}

fn partition_counts(
    admin: &AdminClient<DefaultClientContext>,
) -> Result<HashMap<String, usize>, KafkaError> {
    let md = admin.inner().fetch_metadata(None, ADMIN_TIMEOUT)?;
    Ok(md
        .topics()
        .iter()
        .filter(|t| t.error().is_none())
        .map(|t| (t.name().to_string(), t.partitions().len()))
        .collect())
}

/// Creates missing topics (when `create` is set) and verifies the layout: partitions of the
/// reports and changelog topics equal, updates and changelog compacted. Brokers that do not
/// answer config requests (the mock cluster) skip the compaction check with a warning.
pub async fn ensure_topics(
    config: &ClientConfig,
    layout: &TopicLayout,
    create: bool,
) -> Result<(), TopicError> {
    let admin: AdminClient<DefaultClientContext> = config.create()?;
    let names = &layout.names;
    let lag = layout.changelog_min_compaction_lag_ms.to_string();
    let wanted: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (names.reports_topic.as_str(), vec![]),
        (
            names.updates_topic.as_str(),
            vec![("cleanup.policy", "compact")],
        ),
        (
            names.changelog_topic.as_str(),
            vec![
                ("cleanup.policy", "compact"),
                ("min.compaction.lag.ms", lag.as_str()),
            ],
        ),
        (names.dead_letter_topic.as_str(), vec![]),
    ];
    let existing = tokio::task::block_in_place(|| partition_counts(&admin))?;
    let missing: Vec<&(&str, Vec<(&str, &str)>)> = wanted
        .iter()
        .filter(|(name, _)| !existing.contains_key(*name))
        .collect();
    if !missing.is_empty() {
        if !create {
            return Err(TopicError::Missing(missing[0].0.to_string()));
        }
        let new: Vec<NewTopic<'_>> = missing
            .iter()
            .map(|(name, cfg)| {
                cfg.iter().fold(
                    NewTopic::new(
                        name,
                        layout.partitions,
                        TopicReplication::Fixed(layout.replication),
                    ),
                    |t, (k, v)| t.set(k, v),
                )
            })
            .collect();
        let opts = AdminOptions::new().operation_timeout(Some(ADMIN_TIMEOUT));
        for result in admin.create_topics(new.iter(), &opts).await? {
            match result {
                // Another instance may have created it in the meantime.
                Ok(_) | Err((_, rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((topic, code)) => {
                    return Err(TopicError::Create {
                        topic,
                        reason: code.to_string(),
                    })
                }
            }
        }
    }
    let counts = wait_for_topics(&admin, &wanted.iter().map(|w| w.0).collect::<Vec<_>>()).await?;
    let reports = counts[names.reports_topic.as_str()];
    let changelog = counts[names.changelog_topic.as_str()];
    if reports != changelog {
        return Err(TopicError::NotCoPartitioned {
            reports: names.reports_topic.clone(),
            reports_partitions: reports,
            changelog: names.changelog_topic.clone(),
            changelog_partitions: changelog,
        });
    }
    verify_compaction(&admin, &[&names.updates_topic, &names.changelog_topic]).await
}

/// Waits until every topic appears in metadata (creation is asynchronous on some brokers).
async fn wait_for_topics(
    admin: &AdminClient<DefaultClientContext>,
    topics: &[&str],
) -> Result<HashMap<String, usize>, TopicError> {
    let mut last_missing = String::new();
    for _ in 0..50 {
        let counts = tokio::task::block_in_place(|| partition_counts(admin))?;
        match topics
            .iter()
            .find(|t| counts.get(**t).is_none_or(|n| *n == 0))
        {
            None => return Ok(counts),
            Some(t) => last_missing = (*t).to_string(),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(TopicError::Missing(last_missing))
}

async fn verify_compaction(
    admin: &AdminClient<DefaultClientContext>,
    topics: &[&str],
) -> Result<(), TopicError> {
    let specs: Vec<ResourceSpecifier<'_>> =
        topics.iter().map(|t| ResourceSpecifier::Topic(t)).collect();
    let opts = AdminOptions::new().request_timeout(Some(ADMIN_TIMEOUT));
    let results = match admin.describe_configs(specs.iter(), &opts).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "broker does not describe topic configs; compaction not verified");
            return Ok(());
        }
    };
    for (topic, result) in topics.iter().zip(results) {
        let resource = match result {
            Ok(r) => r,
            Err(code) => {
                tracing::warn!(topic, error = %code, "cannot describe topic config; compaction not verified");
                continue;
            }
        };
        let policy = resource
            .get("cleanup.policy")
            .and_then(|e| e.value.clone())
            .unwrap_or_else(|| "delete".into());
        if !policy.split(',').any(|p| p.trim() == "compact") {
            return Err(TopicError::NotCompacted {
                topic: (*topic).to_string(),
                policy,
            });
        }
    }
    Ok(())
}
