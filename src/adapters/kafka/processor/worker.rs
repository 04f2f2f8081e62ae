//! The worker: one partition task per assigned partition, the commit cycle, resuming at a
//! checkpoint.

#[allow(clippy::wildcard_imports)]
use super::*;

/// How long a partition assigned at a checkpoint may stay silent (no record, no end event)
/// before the processor reads from an earlier offset.
pub(super) const RESUME_PROBE_AFTER: Duration = Duration::from_millis(500);

/// A partition assigned at checkpoint `target`, read from `from` (`from <= target`).
///
/// A compliant broker returns the record at `target` first (or the next one, past a gap).
/// Tansu 0.6.0 does not: a fetch at an offset inside a record batch returns the *following*
/// batches, silently skipping the rest of that batch, and a fetch inside the last batch returns
/// nothing at all. So when the first record is past `target` (or nothing comes), the partition
/// is read again from further back (1, 2, 4, ... records before `target`) until a record at or
/// before `target` arrives: the task skips what it already reflects. On a compliant broker
/// this costs at most one extra seek, when the checkpoint sits on a gap (a transaction marker).
#[derive(Debug, Clone, Copy)]
pub(super) struct Resume {
    pub(super) target: i64,
    pub(super) from: i64,
    pub(super) since: Instant,
}

/// Everything the processor thread and its rebalance callback share.
pub(super) struct Worker {
    pub(super) config: ProcessorConfig,
    pub(super) restore_config: ClientConfig,
    pub(super) outputs: Outputs,
    pub(super) tasks: BTreeMap<i32, PartitionTask>,
    /// Partitions assigned at a checkpoint, until a record (or the end) shows the broker really
    /// resumed there.
    pub(super) resuming: BTreeMap<i32, Resume>,
    pub(super) policy: CommitPolicy,
    /// Set when the processor can no longer write consistent state: no more checkpoints.
    pub(super) poisoned: bool,
    /// An error raised in a callback, for the loop to stop on.
    pub(super) fatal: Option<ProcessorError>,
    pub(super) status: Status,
    pub(super) shared: Arc<Shared>,
}

impl Worker {
    pub(super) fn topic(&self) -> &str {
        &self.config.kafka.topics.reports_topic
    }

    pub(super) fn publish_status(&mut self) {
        self.status.partitions = self.tasks.iter().map(|(p, t)| (*p, t.status())).collect();
        *lock(&self.shared.status) = self.status.clone();
        metrics::gauge!(m::ASSIGNED_PARTITIONS).set(self.tasks.len() as f64);
    }

    /// Checks a partition that is resuming at a checkpoint: `Ok(true)` when the record at
    /// `offset` (`None`: nothing arrived in time) may be processed, `Ok(false)` when the
    /// partition was moved back to read from earlier.
    pub(super) fn check_resume(
        &mut self,
        consumer: &BaseConsumer<ProcessorContext>,
        partition: i32,
        offset: Option<i64>,
    ) -> Result<bool, ProcessorError> {
        let Some(r) = self.resuming.get_mut(&partition) else {
            return Ok(true);
        };
        if offset.is_some_and(|o| o <= r.target) || r.from <= 0 {
            self.resuming.remove(&partition);
            return Ok(true);
        }
        let distance = (r.target - r.from).max(0);
        let from = (r.target - (distance * 2).max(1)).max(0);
        if distance == 0 {
            tracing::info!(
                partition,
                checkpoint = r.target,
                first_offset = offset,
                "the broker did not resume the partition at its checkpoint; reading from earlier offsets"
            );
        }
        r.from = from;
        r.since = Instant::now();
        let topic = self.config.kafka.topics.reports_topic.clone();
        if let Err(e) = consumer.seek(
            &topic,
            partition,
            Offset::Offset(from),
            self.config.request_timeout,
        ) {
            // Tried again after the probe interval.
            tracing::debug!(partition, from, error = %e, "seek failed");
        }
        Ok(false)
    }

    /// Probes partitions that stayed silent since they were assigned at a checkpoint.
    pub(super) fn probe_silent(
        &mut self,
        consumer: &BaseConsumer<ProcessorContext>,
    ) -> Result<(), ProcessorError> {
        let silent: Vec<i32> = self
            .resuming
            .iter()
            .filter(|(_, r)| r.since.elapsed() >= RESUME_PROBE_AFTER)
            .map(|(p, _)| *p)
            .collect();
        for p in silent {
            self.check_resume(consumer, p, None)?;
        }
        Ok(())
    }

    /// Processes one input record.
    pub(super) fn handle(
        &mut self,
        consumer: &BaseConsumer<ProcessorContext>,
        msg: &BorrowedMessage<'_>,
    ) -> Result<(), ProcessorError> {
        let partition = msg.partition();
        if !self.check_resume(consumer, partition, Some(msg.offset()))? {
            return Ok(());
        }
        let started = Instant::now();
        let Some(task) = self.tasks.get_mut(&partition) else {
            // Fetched before its partition was revoked: the new owner processes it.
            return Ok(());
        };
        let content_type = msg.headers().and_then(|h| {
            h.iter()
                .filter(|h| h.key.eq_ignore_ascii_case(CONTENT_TYPE_HEADER))
                .last()
                .and_then(|h| h.value)
        });
        let offset = msg.offset();
        let outcome = task.process(offset, msg.payload(), content_type);
        metrics::counter!(m::RECORDS_CONSUMED, "partition" => partition.to_string()).increment(1);
        match outcome {
            Outcome::AlreadyProcessed => {
                tracing::debug!(partition, offset, "record already reflected in the state");
                return Ok(());
            }
            Outcome::Updates { report_id, updates } => {
                metrics::counter!(m::REPORTS_PROCESSED).increment(1);
                if updates.is_empty() {
                    tracing::debug!(partition, offset, report_id = %report_id, "report changed no view");
                }
                for u in &updates {
                    self.outputs.send_update(u)?;
                    if let Some(rm) = &self.config.read_model {
                        rm.apply(partition, u);
                    }
                    tracing::debug!(
                        partition,
                        offset,
                        report_id = %report_id,
                        incident_id = %u.incident_id,
                        version = u.version,
                        "update"
                    );
                }
                self.status.updates += updates.len() as u64;
                metrics::counter!(m::UPDATES_PUBLISHED).increment(updates.len() as u64);
                if let Some(ts) = msg.timestamp().to_millis() {
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_millis() as i64)
                        .unwrap_or(ts);
                    metrics::histogram!(m::END_TO_END_SECONDS)
                        .record((now - ts).max(0) as f64 / 1000.0);
                }
            }
            Outcome::DeadLetter(error) => {
                tracing::warn!(
                    partition,
                    offset,
                    reason_code = error.reason_code(),
                    reason = %error,
                    "dead letter"
                );
                let source = SourceRecord {
                    topic: msg.topic(),
                    partition,
                    offset,
                    key: msg.key(),
                    payload: msg.payload(),
                    headers: msg.headers(),
                };
                self.outputs.send_dead_letter(&source, &error)?;
                self.status.dead_letters += 1;
                metrics::counter!(m::DEAD_LETTERS, "reason" => error.reason_code()).increment(1);
            }
        }
        self.status.records += 1;
        self.policy.record();
        metrics::histogram!(m::PROCESSING_SECONDS).record(started.elapsed().as_secs_f64());
        Ok(())
    }

    /// The commit cycle for every partition. `sync` waits for the offset commit (on revoke
    /// and shutdown, when the partitions are about to go).
    pub(super) fn commit(
        &mut self,
        consumer: &BaseConsumer<ProcessorContext>,
        sync: bool,
    ) -> Result<(), ProcessorError> {
        let result = self.commit_inner(consumer, sync);
        // The interval runs from the end of a cycle: a cycle slower than the interval (a slow
        // broker) must not make every record trigger the next one.
        self.policy.committed(Instant::now());
        self.publish_status();
        result
    }

    pub(super) fn commit_inner(
        &mut self,
        consumer: &BaseConsumer<ProcessorContext>,
        sync: bool,
    ) -> Result<(), ProcessorError> {
        if self.poisoned {
            return Ok(());
        }
        let started = Instant::now();
        let transactional = self.outputs.transactional();
        if !transactional {
            // (a) Everything published so far is acknowledged before a checkpoint passes it;
            // this also acknowledges the previous cycle's changelog records and checkpoint.
            if let Err(e) = self.outputs.flush() {
                self.poisoned = true;
                return Err(e.into());
            }
        } else if !self.outputs.in_transaction()
            && !self.tasks.values().any(PartitionTask::needs_checkpoint)
        {
            return Ok(());
        }
        // (b) The changed incidents and a checkpoint per partition.
        let mut offsets = TopicPartitionList::new();
        let mut written = 0usize;
        let topic = self.topic().to_string();
        for task in self.tasks.values_mut() {
            let Some(batch) = task.take_checkpoint()? else {
                continue;
            };
            for r in &batch.records {
                self.outputs.send_changelog(batch.partition, r)?;
            }
            written += batch.records.len();
            offsets.add_partition_offset(
                &topic,
                batch.partition,
                Offset::Offset(batch.next_offset),
            )?;
            tracing::debug!(
                partition = batch.partition,
                next_offset = batch.next_offset,
                records = batch.records.len(),
                "checkpoint"
            );
        }
        if transactional {
            let group = consumer
                .group_metadata()
                .ok_or_else(|| ProcessorError::Fatal("no consumer group metadata".into()))?;
            let t = Instant::now();
            match self.outputs.commit_transaction(&offsets, &group) {
                Ok(()) => {
                    metrics::histogram!(m::TRANSACTION_SECONDS).record(t.elapsed().as_secs_f64());
                }
                Err(e) if e.is_abortable() => {
                    tracing::warn!(error = %e, "aborting the transaction and restoring every partition");
                    self.outputs.abort_transaction()?;
                    self.status.aborts += 1;
                    self.reset_all(consumer)?;
                    return Ok(());
                }
                Err(e) => {
                    self.poisoned = true;
                    return Err(e.into());
                }
            }
        } else {
            if offsets.count() == 0 {
                return Ok(());
            }
            // The checkpoint's acknowledgement is awaited by the next cycle's first flush, before
            // any later checkpoint is written, so the processing thread does not wait for it
            // twice per cycle. On revoke and shutdown the partitions go now: wait here.
            if sync {
                if let Err(e) = self.outputs.flush() {
                    // Some checkpoint may be missing: no later one may be written over it.
                    self.poisoned = true;
                    return Err(e.into());
                }
            }
            // (c) Offsets, for lag visibility.
            let mode = if sync {
                CommitMode::Sync
            } else {
                CommitMode::Async
            };
            if let Err(e) = consumer.commit(&offsets, mode) {
                tracing::warn!(error = %e, "offset commit failed (the changelog checkpoint stands)");
            }
        }
        if offsets.count() > 0 {
            self.status.checkpoints += 1;
        }
        metrics::histogram!(m::COMMIT_SECONDS).record(started.elapsed().as_secs_f64());
        tracing::trace!(records = written, "commit cycle");
        Ok(())
    }

    /// Restores `partitions` from the changelog and returns where to read each one from.
    pub(super) fn restore(
        &mut self,
        partitions: &[i32],
    ) -> Result<Vec<(i32, Offset)>, ProcessorError> {
        let fresh: Vec<i32> = partitions
            .iter()
            .copied()
            .filter(|p| !self.tasks.contains_key(p))
            .collect();
        if let Some(rm) = &self.config.read_model {
            rm.joined();
            for p in &fresh {
                rm.assign(*p);
            }
        }
        let started = Instant::now();
        let restored = restore_partitions(
            &self.restore_config,
            &self.config.kafka.topics.changelog_topic,
            &fresh,
            self.config.restore_timeout,
        )?;
        for (p, r) in restored {
            tracing::info!(
                partition = p,
                incidents = r.incidents.len(),
                next_offset = r.next_offset,
                changelog_records = r.records,
                discarded = r.discarded,
                stale = r.stale.len(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "restored partition"
            );
            if r.discarded > 0 {
                tracing::warn!(
                    partition = p,
                    discarded = r.discarded,
                    "changelog records after the last checkpoint were discarded (a crash during a commit cycle); they are rewritten at the next checkpoint"
                );
            }
            let task = PartitionTask::restore(p, self.config.registry.clone(), r)
                .with_places(self.config.places.clone())
                .with_actors(self.config.actors.clone());
            if let Some(rm) = &self.config.read_model {
                rm.restored(p, task.engine().current_updates());
            }
            self.tasks.insert(p, task);
            self.status.restores += 1;
        }
        let now = Instant::now();
        let mut starts = Vec::with_capacity(partitions.len());
        for p in partitions {
            let offset = match self.tasks.get(p) {
                // A task kept over a cooperative rebalance resumes where it is.
                Some(t) if !fresh.contains(p) => Some(t.next_offset()),
                Some(t) => t.resume_offset(),
                None => None,
            };
            match offset {
                Some(o) if o > 0 => {
                    self.resuming.insert(
                        *p,
                        Resume {
                            target: o,
                            from: o,
                            since: now,
                        },
                    );
                    starts.push((*p, Offset::Offset(o)));
                }
                _ => {
                    self.resuming.remove(p);
                    starts.push((*p, Offset::Beginning));
                }
            }
        }
        Ok(starts)
    }

    /// After an aborted transaction: drops every task, restores them from the changelog and
    /// moves the consumer back to the restored checkpoints.
    pub(super) fn reset_all(
        &mut self,
        consumer: &BaseConsumer<ProcessorContext>,
    ) -> Result<(), ProcessorError> {
        let partitions: Vec<i32> = self.tasks.keys().copied().collect();
        self.tasks.clear();
        self.resuming.clear();
        let topic = self.topic().to_string();
        for (p, offset) in self.restore(&partitions)? {
            consumer.seek(&topic, p, offset, self.config.request_timeout)?;
        }
        self.publish_status();
        Ok(())
    }

    pub(super) fn on_assign(
        &mut self,
        consumer: &BaseConsumer<ProcessorContext>,
        tpl: &TopicPartitionList,
    ) -> Result<(), ProcessorError> {
        let topic = self.topic().to_string();
        let partitions = input_partitions(tpl, &topic);
        metrics::counter!(m::REBALANCES, "kind" => "assign").increment(1);
        tracing::info!(?partitions, "partitions assigned");
        let starts = self.restore(&partitions)?;
        let mut assignment = TopicPartitionList::new();
        for (p, offset) in starts {
            assignment.add_partition_offset(&topic, p, offset)?;
        }
        match consumer.rebalance_protocol() {
            RebalanceProtocol::Cooperative => consumer.incremental_assign(&assignment)?,
            _ => consumer.assign(&assignment)?,
        }
        self.policy.committed(Instant::now());
        self.publish_status();
        Ok(())
    }

    pub(super) fn on_revoke(
        &mut self,
        consumer: &BaseConsumer<ProcessorContext>,
        tpl: &TopicPartitionList,
    ) -> Result<(), ProcessorError> {
        let topic = self.topic().to_string();
        let partitions = input_partitions(tpl, &topic);
        metrics::counter!(m::REBALANCES, "kind" => "revoke").increment(1);
        let lost = consumer.assignment_lost();
        tracing::info!(?partitions, lost, "partitions revoked");
        let result = if lost {
            // Another instance may own them already: writing their changelog now could
            // interleave with its records. Their unsaved progress is redone by the new owner.
            if self.outputs.in_transaction() {
                let _ = self.outputs.abort_transaction();
            }
            Ok(())
        } else {
            self.commit(consumer, true)
        };
        for p in &partitions {
            self.tasks.remove(p);
            self.resuming.remove(p);
            if let Some(rm) = &self.config.read_model {
                rm.revoke(*p);
            }
        }
        let unassign = match consumer.rebalance_protocol() {
            RebalanceProtocol::Cooperative => consumer.incremental_unassign(tpl),
            _ => consumer.unassign(),
        };
        self.publish_status();
        result?;
        unassign?;
        Ok(())
    }
}

/// The partitions of the input topic `topic` in a rebalance's list.
fn input_partitions(tpl: &TopicPartitionList, topic: &str) -> Vec<i32> {
    tpl.elements_for_topic(topic)
        .iter()
        .map(|e| e.partition())
        .collect()
}
