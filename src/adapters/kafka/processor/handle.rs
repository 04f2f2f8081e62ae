//! Starting the processor thread, its poll loop, and the handle callers stop and wait on.

#[allow(clippy::wildcard_imports)]
use super::*;

/// The processor's entry point.
#[derive(Debug)]
pub struct Processor;

impl Processor {
    /// Creates the clients, joins the group and starts the processor thread. Topics must
    /// exist (see [`crate::adapters::kafka::topics::ensure_topics`]).
    pub fn start(config: ProcessorConfig) -> Result<ProcessorHandle, ProcessorError> {
        let kafka = &config.kafka;
        let client_id = format!("reckon-{}", config.instance_id);
        let mut producer_settings: Vec<(&str, String)> = vec![
            ("client.id", client_id.clone()),
            ("enable.idempotence", "true".into()),
            // The Java client's partitioner: updates of one incident land where any Kafka
            // client would put them.
            ("partitioner", "murmur2_random".into()),
            ("linger.ms", "5".into()),
        ];
        if config.exactly_once {
            producer_settings.push(("transactional.id", config.transactional_id()));
        }
        let producer_config = kafka.client_config_with(
            &producer_settings
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect::<Vec<_>>(),
        );
        let outputs = Outputs::new(
            &producer_config,
            kafka.topics.clone(),
            config.output_format,
            config.exactly_once,
            config.request_timeout,
        )?;
        let mut consumer_settings: Vec<(&str, &str)> = vec![
            ("group.id", config.group_id.as_str()),
            ("client.id", client_id.as_str()),
            // The position comes from the changelog checkpoint; commits are for lag only and
            // are made by the commit cycle.
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("auto.offset.reset", "earliest"),
            ("isolation.level", "read_committed"),
            // Eager rebalancing: a revoke hands every partition over at once.
            ("partition.assignment.strategy", "roundrobin"),
            // End-of-partition events tell when the input is processed to its end (listed
            // watermarks cannot: Tansu 0.6.0 lists a batch's base offset + 1).
            ("enable.partition.eof", "true"),
            ("statistics.interval.ms", "5000"),
        ];
        consumer_settings.extend(
            config
                .consumer_properties
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        let consumer_config = kafka.client_config_with(&consumer_settings);
        let restore_config = kafka.client_config_with(&[("client.id", client_id.as_str())]);
        let shared = Arc::new(Shared::default());
        let worker = Worker {
            policy: CommitPolicy::new(
                config.commit_interval,
                config.commit_max_records,
                Instant::now(),
            ),
            config: config.clone(),
            restore_config,
            outputs,
            tasks: BTreeMap::new(),
            resuming: BTreeMap::new(),
            poisoned: false,
            fatal: None,
            status: Status::default(),
            shared: shared.clone(),
        };
        let consumer: BaseConsumer<ProcessorContext> =
            consumer_config.create_with_context(ProcessorContext {
                worker: Mutex::new(worker),
            })?;
        consumer.subscribe(&[kafka.topics.reports_topic.as_str()])?;
        tracing::info!(
            group_id = %config.group_id,
            instance_id = %config.instance_id,
            brokers = %kafka.brokers,
            reports_topic = %kafka.topics.reports_topic,
            exactly_once = config.exactly_once,
            output_format = config.output_format.mime(),
            "processor started"
        );
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("reckon-processor".into())
            .spawn(move || run_loop(consumer, &thread_shared))
            .map_err(|e| ProcessorError::Fatal(format!("spawning the processor thread: {e}")))?;
        Ok(ProcessorHandle {
            shared,
            thread: Some(thread),
            kafka: config.kafka,
        })
    }
}

pub(super) fn poll_loop(
    consumer: &BaseConsumer<ProcessorContext>,
    shared: &Shared,
) -> Result<(), ProcessorError> {
    let ctx = consumer.context().clone();
    while !shared.stop.load(Ordering::Relaxed) {
        if let Some(e) = ctx.worker().fatal.take() {
            return Err(e);
        }
        // The worker is not locked during poll: rebalance callbacks lock it.
        match consumer.poll(Duration::from_millis(20)) {
            None => {}
            Some(Ok(msg)) => ctx.worker().handle(consumer, &msg)?,
            Some(Err(KafkaError::PartitionEOF(p))) => {
                // Offsets past the last record (transaction markers) are skipped by the
                // client: the position says where the partition really ends.
                let position = consumer.position().ok().and_then(|tpl| {
                    tpl.find_partition(&ctx.worker().config.kafka.topics.reports_topic, p)
                        .and_then(|e| e.offset().to_raw())
                        .filter(|o| *o >= 0)
                });
                let mut w = ctx.worker();
                // Nothing past the checkpoint: resumed where it should.
                w.resuming.remove(&p);
                if let Some(t) = w.tasks.get_mut(&p) {
                    t.reached_end(position);
                }
            }
            Some(Err(KafkaError::MessageConsumptionFatal(code))) => {
                return Err(ProcessorError::Fatal(code.to_string()));
            }
            Some(Err(e)) => tracing::warn!(error = %e, "consumer error"),
        }
        if let Some((code, reason)) = consumer.client().fatal_error() {
            return Err(ProcessorError::Fatal(format!("{code:?}: {reason}")));
        }
        let mut w = ctx.worker();
        w.outputs.poll();
        if !w.resuming.is_empty() {
            w.probe_silent(consumer)?;
        }
        if w.policy.due(Instant::now()) {
            w.commit(consumer, false)?;
        }
    }
    Ok(())
}

pub(super) fn run_loop(
    consumer: BaseConsumer<ProcessorContext>,
    shared: &Shared,
) -> Result<Status, ProcessorError> {
    let ctx = consumer.context().clone();
    let mut result = poll_loop(&consumer, shared);
    if result.is_ok() {
        tracing::info!("stopping: final commit cycle");
        result = ctx.worker().commit(&consumer, true);
    }
    if let Err(e) = &result {
        tracing::error!(error = %e, "processor failed; no further checkpoint is written");
        ctx.worker().poisoned = true;
    }
    // Leave the group: dropping the consumer closes it, and the revoke callback runs then (its
    // commit cycle has nothing left to write after the one above).
    drop(consumer);
    let mut w = ctx.worker();
    if w.outputs.in_transaction() {
        let _ = w.outputs.abort_transaction();
    }
    if result.is_ok() {
        if let Some(e) = w.fatal.take() {
            result = Err(e);
        }
    }
    w.tasks.clear();
    if let Some(rm) = &w.config.read_model {
        rm.revoke_all();
    }
    w.publish_status();
    let status = w.status.clone();
    drop(w);
    tracing::info!(
        records = status.records,
        updates = status.updates,
        dead_letters = status.dead_letters,
        "processor stopped"
    );
    result.map(|()| status)
}

/// A running processor.
#[derive(Debug)]
pub struct ProcessorHandle {
    pub(super) shared: Arc<Shared>,
    pub(super) thread: Option<JoinHandle<Result<Status, ProcessorError>>>,
    pub(super) kafka: KafkaArgs,
}

impl ProcessorHandle {
    /// What the processor is doing now.
    pub fn status(&self) -> Status {
        lock(&self.shared.status).clone()
    }

    /// Whether the processor thread has ended (after a stop request or an error).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Asks the processor to stop; [`Self::shutdown`] or [`Self::wait`] then returns.
    pub fn request_stop(&self) {
        self.shared.stop.store(true, Ordering::Relaxed);
    }

    /// Stops: runs a last commit cycle for every partition, leaves the group, and returns the
    /// final status (or the error that stopped the processor).
    pub fn shutdown(self) -> Result<Status, ProcessorError> {
        self.request_stop();
        self.wait()
    }

    /// Waits until the processor thread ends.
    pub fn wait(mut self) -> Result<Status, ProcessorError> {
        match self.thread.take() {
            Some(t) => t.join().map_err(|_| ProcessorError::Panicked)?,
            None => Ok(self.status()),
        }
    }

    /// Waits until the checkpoints of this processor cover the whole reports topic as it is
    /// now (every partition's checkpoint at its high watermark), or the processor ends.
    pub fn wait_until_caught_up(&self, timeout: Duration) -> Result<(), ProcessorError> {
        let ends = input_end_offsets(&self.kafka, Duration::from_secs(10))?;
        let deadline = Instant::now() + timeout;
        loop {
            let status = self.status();
            if caught_up(&[&status], &ends) {
                return Ok(());
            }
            if self.is_finished() {
                return Err(ProcessorError::Fatal(
                    "the processor stopped before catching up".into(),
                ));
            }
            if Instant::now() >= deadline {
                return Err(ProcessorError::Timeout(
                    timeout,
                    format!("ends {ends:?}, status {:?}", status.partitions),
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ProcessorHandle {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            self.shared.stop.store(true, Ordering::Relaxed);
            let _ = t.join();
        }
    }
}

/// The `(low, high)` watermarks of every partition of the reports topic.
pub fn input_end_offsets(
    kafka: &KafkaArgs,
    timeout: Duration,
) -> Result<BTreeMap<i32, (i64, i64)>, ProcessorError> {
    let consumer: BaseConsumer = kafka.client_config().create()?;
    let topic = &kafka.topics.reports_topic;
    // Every topic's metadata: asking for one by name can auto-create it on some brokers.
    let md = consumer.fetch_metadata(None, timeout)?;
    let mut out = BTreeMap::new();
    for t in md.topics().iter().filter(|t| t.name() == topic) {
        for p in t.partitions() {
            out.insert(p.id(), consumer.fetch_watermarks(topic, p.id(), timeout)?);
        }
    }
    if out.is_empty() {
        return Err(ProcessorError::Fatal(format!(
            "topic {topic} has no partitions"
        )));
    }
    Ok(out)
}

/// Whether the processors in `statuses` (one per instance of the group) have processed and
/// checkpointed every partition to its end: the consumer reported the end of the partition
/// after the last record, everything processed is checkpointed, and the checkpoint is at or
/// past the listed high watermark in `ends` (from [`input_end_offsets`]). The end-of-partition
/// event is what makes this right on brokers whose listed watermarks fall short (Tansu); the
/// watermark is what makes it right for records produced after an earlier end event.
pub fn caught_up(statuses: &[&Status], ends: &BTreeMap<i32, (i64, i64)>) -> bool {
    ends.iter().all(|(p, (low, high))| {
        high <= low
            || statuses.iter().any(|s| {
                s.partitions.get(p).is_some_and(|t| {
                    t.at_end && t.checkpointed == Some(t.next_offset) && t.next_offset >= *high
                })
            })
    })
}
