//! The consumer context: rebalance callbacks (restore on assign, commit on revoke) and
//! librdkafka statistics.

#[allow(clippy::wildcard_imports)]
use super::*;

/// The consumer context: rebalance callbacks drive the worker; statistics feed the lag gauge.
pub struct ProcessorContext {
    pub(super) worker: Mutex<Worker>,
}

impl ProcessorContext {
    pub(super) fn worker(&self) -> MutexGuard<'_, Worker> {
        lock(&self.worker)
    }
}

impl ClientContext for ProcessorContext {
    fn stats(&self, stats: Statistics) {
        let w = self.worker();
        if let Some(t) = stats.topics.get(w.topic()) {
            for (p, s) in &t.partitions {
                if *p >= 0 && s.consumer_lag >= 0 {
                    metrics::gauge!(m::CONSUMER_LAG, "partition" => p.to_string())
                        .set(s.consumer_lag as f64);
                }
            }
        }
        for (p, t) in &w.tasks {
            metrics::gauge!(m::INCIDENTS, "partition" => p.to_string())
                .set(t.engine().live_incidents() as f64);
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        // End-of-partition events are asked for (they tell when the input is processed).
        if matches!(error, KafkaError::PartitionEOF(_))
            || reason.contains("reached end of partition")
        {
            return;
        }
        tracing::error!(error = %error, reason, "consumer error");
    }
}

impl ConsumerContext for ProcessorContext {
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        tpl: &mut TopicPartitionList,
    ) {
        let mut w = self.worker();
        let result = match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => w.on_assign(consumer, tpl),
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => w.on_revoke(consumer, tpl),
            other => {
                tracing::error!(error = ?other, "rebalance error");
                w.tasks.clear();
                if let Some(rm) = &w.config.read_model {
                    rm.revoke_all();
                }
                w.publish_status();
                consumer.unassign().map_err(ProcessorError::from)
            }
        };
        if let Err(e) = result {
            tracing::error!(error = %e, "rebalance failed; stopping");
            w.poisoned = true;
            w.fatal.get_or_insert(e);
        }
    }
}
