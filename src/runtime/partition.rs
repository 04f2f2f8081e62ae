//! The fold of one input partition: one [`Engine`], the next input offset, and the incidents
//! changed since the last checkpoint. Kafka-free: the adapter hands it each record's offset,
//! payload and content-type header, in offset order, and publishes what it returns.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::core::actors::ActorNames;
use crate::core::gazetteer::Gazetteer;
use crate::core::model::{IncidentId, ReportId};
use crate::core::registry::SourceRegistry;
use crate::core::update::Update;
use crate::core::Engine;
use crate::runtime::changelog::{checkpoint_records, ChangelogError, ChangelogRecord, Restored};
use crate::wire::{decode_report, ContentType, DecodeError};

/// What processing one input record gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A report was decoded and folded: the updates to publish, in order (none when the report
    /// was seen before or changed no view).
    Updates {
        /// The report.
        report_id: ReportId,
        /// The updates.
        updates: Vec<Update>,
    },
    /// The record cannot be processed: it goes to the dead-letter topic with this reason.
    DeadLetter(DecodeError),
    /// The offset is below the next offset: this record is reflected in the state already
    /// (a redelivery after a seek). Nothing to publish.
    AlreadyProcessed,
}

/// The checkpoint a commit cycle writes for one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointBatch {
    /// The partition.
    pub partition: i32,
    /// Dirty incident records then the checkpoint record.
    pub records: Vec<ChangelogRecord>,
    /// The input offset the checkpoint resumes at.
    pub next_offset: i64,
}

/// The fold of one input partition.
#[derive(Debug)]
pub struct PartitionTask {
    partition: i32,
    engine: Engine,
    next_offset: i64,
    checkpointed: Option<i64>,
    dirty: BTreeSet<IncidentId>,
    processed: u64,
    at_end: bool,
}

/// A snapshot of a task, for status and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskStatus {
    /// The next input offset to process.
    pub next_offset: i64,
    /// The next offset of the last checkpoint written (or restored).
    pub checkpointed: Option<i64>,
    /// Standing incidents.
    pub live_incidents: usize,
    /// Incidents changed since the last checkpoint.
    pub dirty: usize,
    /// Records processed by this task since it was created.
    pub processed: u64,
    /// Whether the consumer reported the end of the input partition after the last record
    /// processed (cleared by the next record).
    pub at_end: bool,
}

impl PartitionTask {
    /// A task for a partition that has no state yet.
    pub fn new(partition: i32, registry: SourceRegistry) -> Self {
        Self::restore(partition, registry, Restored::default())
    }

    /// The task, writing each report under the standard place names of `places` before
    /// linking it.
    pub fn with_places(mut self, places: Arc<Gazetteer>) -> Self {
        self.engine = std::mem::take(&mut self.engine).with_places(places);
        self
    }

    /// The task, writing each report's responsibility claims under the actor ids of `actors`
    /// before applying it.
    pub fn with_actors(mut self, actors: Arc<ActorNames>) -> Self {
        self.engine = std::mem::take(&mut self.engine).with_actors(actors);
        self
    }

    /// A task resuming from restored state. Stale incidents (records left after the last
    /// checkpoint by a crash) are dirty from the start, so the first checkpoint repairs them.
    pub fn restore(partition: i32, registry: SourceRegistry, restored: Restored) -> Self {
        Self {
            partition,
            engine: Engine::restore(registry, restored.incidents),
            next_offset: restored.next_offset.unwrap_or(0),
            checkpointed: restored.next_offset,
            dirty: restored.stale.into_iter().collect(),
            processed: 0,
            at_end: false,
        }
    }

    /// The partition.
    pub fn partition(&self) -> i32 {
        self.partition
    }

    /// The next input offset to process.
    pub fn next_offset(&self) -> i64 {
        self.next_offset
    }

    /// Where the input partition should be read from: `None` means its beginning (the
    /// partition was never checkpointed).
    pub fn resume_offset(&self) -> Option<i64> {
        self.checkpointed
    }

    /// The engine (read-only).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// A snapshot for status and metrics.
    pub fn status(&self) -> TaskStatus {
        TaskStatus {
            next_offset: self.next_offset,
            checkpointed: self.checkpointed,
            live_incidents: self.engine.live_incidents(),
            dirty: self.dirty.len(),
            processed: self.processed,
            at_end: self.at_end,
        }
    }

    /// Processes the record at `offset`: its payload (`None` for a null value) and the value of
    /// its content-type header (`None` when absent: JSON). Records must come in offset order;
    /// gaps are fine (compacted input, transaction markers), offsets already processed give
    /// [`Outcome::AlreadyProcessed`].
    pub fn process(
        &mut self,
        offset: i64,
        payload: Option<&[u8]>,
        content_type: Option<&[u8]>,
    ) -> Outcome {
        self.at_end = false;
        if offset < self.next_offset {
            return Outcome::AlreadyProcessed;
        }
        self.next_offset = offset.saturating_add(1);
        self.processed += 1;
        let report = content_type_of(content_type)
            .and_then(|ct| decode_report(payload.unwrap_or_default(), ct));
        let report = match report {
            Ok(r) => r,
            Err(e) => return Outcome::DeadLetter(e),
        };
        let seen_before = self.engine.has_seen(&report.report_id);
        let updates = match self.engine.try_apply(&report) {
            Ok(u) => u,
            Err(e) => return Outcome::DeadLetter(e.into()),
        };
        for u in &updates {
            self.dirty.insert(u.incident_id.clone());
        }
        if updates.is_empty() && !seen_before {
            // The report changed an incident without changing its view. Every report adds
            // evidence, which is part of the view, so this should not happen; if it ever does,
            // the state change must still reach the changelog.
            if let Some(inc) = self
                .engine
                .incidents()
                .find(|i| i.evidence.iter().any(|e| e.report_id == report.report_id))
            {
                self.dirty.insert(inc.id.clone());
            }
        }
        Outcome::Updates {
            report_id: report.report_id,
            updates,
        }
    }

    /// Records that the consumer reached the end of the input partition, at `position` when
    /// known. Offsets between the last record and the end hold no record for us (transaction
    /// markers, compacted records): the task moves past them, so its checkpoint does too.
    pub fn reached_end(&mut self, position: Option<i64>) {
        self.at_end = true;
        if let Some(p) = position {
            self.next_offset = self.next_offset.max(p);
        }
    }

    /// Whether a checkpoint would write anything: changed incidents, or progress past the last
    /// checkpoint.
    pub fn needs_checkpoint(&self) -> bool {
        !self.dirty.is_empty()
            || self
                .checkpointed
                .map_or(self.next_offset > 0, |c| c != self.next_offset)
    }

    /// The records of a checkpoint at the current offset (dirty incidents, then the checkpoint
    /// record); `None` when there is nothing to write. The task counts them as written: if
    /// writing fails, the caller must restore the partition again (or stop).
    pub fn take_checkpoint(&mut self) -> Result<Option<CheckpointBatch>, ChangelogError> {
        if !self.needs_checkpoint() {
            return Ok(None);
        }
        let records =
            checkpoint_records(&self.dirty, |id| self.engine.incident(id), self.next_offset)?;
        self.dirty.clear();
        self.checkpointed = Some(self.next_offset);
        Ok(Some(CheckpointBatch {
            partition: self.partition,
            records,
            next_offset: self.next_offset,
        }))
    }
}

/// The content type named by a header value; JSON when there is no header.
pub fn content_type_of(header: Option<&[u8]>) -> Result<ContentType, DecodeError> {
    match header {
        None => Ok(ContentType::Json),
        Some(bytes) => match std::str::from_utf8(bytes) {
            Ok(s) => ContentType::parse(s),
            Err(_) => Err(DecodeError::ContentType(
                String::from_utf8_lossy(bytes).into_owned(),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::changelog::restore;

    const SEED: &str = include_str!("../../tests/fixtures/seed-2017-iraq.jsonl");

    fn seed() -> Vec<&'static [u8]> {
        SEED.lines().map(str::as_bytes).collect()
    }

    fn task() -> PartitionTask {
        PartitionTask::new(0, SourceRegistry::default())
    }

    fn updates(o: Outcome) -> Vec<Update> {
        match o {
            Outcome::Updates { updates, .. } => updates,
            other => panic!("expected updates, got {other:?}"),
        }
    }

    #[test]
    fn folds_reports_like_the_engine() {
        let mut t = task();
        let mut e = Engine::new(SourceRegistry::default());
        for (i, line) in seed().into_iter().enumerate() {
            let got = updates(t.process(i as i64, Some(line), None));
            let want = e.apply(&crate::wire::json::decode_report(line).unwrap());
            assert_eq!(got, want);
        }
        assert_eq!(t.next_offset(), 5);
        assert_eq!(t.engine().views(), e.views());
    }

    #[test]
    fn reports_are_linked_under_the_gazetteers_names() {
        let places = Gazetteer::from_json(
            br#"[{"country": "IQ", "admin1": "Baghdad", "place": "Sadr City", "aliases": ["Thawra"]}]"#,
        )
        .unwrap();
        let report = |id: &str, place: &str| {
            format!(
                r#"{{"report_id": "{id}", "publisher": {{"id": "p-{id}"}},
                    "published_at": "2017-08-14T00:00:00Z",
                    "incident": {{"occurred_at": "2017-08-13T00:00:00Z",
                                  "location": {{"country": "IQ", "place": "{place}"}}}},
                    "claims": []}}"#
            )
        };
        let lines = [report("a", "Sadr City"), report("b", "al-Thawra")];
        let mut plain = task();
        let mut t = task().with_places(Arc::new(places));
        for (i, line) in lines.iter().enumerate() {
            updates(plain.process(i as i64, Some(line.as_bytes()), None));
            updates(t.process(i as i64, Some(line.as_bytes()), None));
        }
        assert_eq!(plain.engine().views().len(), 2);
        let views = t.engine().views();
        assert_eq!(views.len(), 1);
        assert_eq!(views[0].region, "iq/baghdad");
        assert_eq!(views[0].evidence.len(), 2);
    }

    #[test]
    fn responsibility_is_applied_under_the_actor_tables_ids() {
        let actors =
            ActorNames::from_json(br#"[{"id": "islamic-state", "aliases": ["isis"]}]"#).unwrap();
        let report = |id: &str, actor: &str| {
            format!(
                r#"{{"report_id": "{id}", "publisher": {{"id": "p-{id}"}},
                    "published_at": "2017-08-14T00:00:00Z",
                    "incident": {{"occurred_at": "2017-08-13T00:00:00Z",
                                  "location": {{"country": "IQ", "place": "Karrada"}}}},
                    "claims": [{{"claimant": {{"id": "c-{id}", "kind": "government"}},
                                "kind": "responsibility", "actor": "{actor}",
                                "stance": "attributed"}}]}}"#
            )
        };
        let lines = [report("a", "islamic-state"), report("b", "ISIS")];
        let mut plain = task();
        let mut t = task().with_actors(Arc::new(actors));
        for (i, line) in lines.iter().enumerate() {
            updates(plain.process(i as i64, Some(line.as_bytes()), None));
            updates(t.process(i as i64, Some(line.as_bytes()), None));
        }
        assert!(plain.engine().views()[0].responsibility.contested);
        let views = t.engine().views();
        let r = &views[0].responsibility;
        assert!(!r.contested);
        assert_eq!(r.actors.len(), 1);
        assert_eq!(r.actors[0].attributed_by.len(), 2);
    }

    #[test]
    fn garbage_goes_to_the_dead_letter_topic_and_the_stream_keeps_going() {
        let mut t = task();
        // (payload, content-type header, expected reason code)
        type Case<'a> = (&'a [u8], Option<&'a [u8]>, &'a str);
        let cases: Vec<Case<'_>> = vec![
            (b"{not json", None, "malformed_json"),
            (
                b"\x08\x96\x01\xff\xff",
                Some(b"application/x-protobuf"),
                "malformed_protobuf",
            ),
            (b"{}", Some(b"text/plain"), "content_type"),
            (b"{}", Some(b"\xff\xfe"), "content_type"),
            (b"{\"report_id\":\"\"}", None, "malformed_json"),
        ];
        for (i, (payload, ct, code)) in cases.iter().enumerate() {
            match t.process(i as i64, Some(payload), *ct) {
                Outcome::DeadLetter(e) => assert_eq!(e.reason_code(), *code, "{e}"),
                other => panic!("case {i}: expected a dead letter, got {other:?}"),
            }
        }
        let big = vec![b' '; crate::core::limits::MAX_MESSAGE_BYTES + 1];
        match t.process(10, Some(&big), None) {
            Outcome::DeadLetter(e) => assert_eq!(e.reason_code(), "too_large"),
            other => panic!("expected a dead letter, got {other:?}"),
        }
        match t.process(11, None, None) {
            Outcome::DeadLetter(_) => {}
            other => panic!("a null value is a dead letter, got {other:?}"),
        }
        // A valid report after the garbage is processed; the offsets moved on.
        assert!(!updates(t.process(12, Some(seed()[0]), None)).is_empty());
        assert_eq!(t.next_offset(), 13);
        // Dead letters change no incident, but the offsets need a checkpoint.
        assert_eq!(t.status().dirty, 1);
    }

    #[test]
    fn a_report_for_a_full_incident_is_a_dead_letter() {
        use crate::core::limits::MAX_REPORTS_PER_INCIDENT;
        let mut t = task();
        let first = std::str::from_utf8(seed()[0]).unwrap();
        let old_id = "southfront-2017-08-14-karbala-security-source";
        let mut last = None;
        for i in 0..=MAX_REPORTS_PER_INCIDENT {
            // A different claimant behind every report: the largest state per report.
            let line = first
                .replace(old_id, &format!("report-{i}"))
                .replace("iraqi-security-source", &format!("source-{i}"));
            let outcome = t.process(i as i64, Some(line.as_bytes()), None);
            if i < MAX_REPORTS_PER_INCIDENT {
                let mut u = updates(outcome);
                assert!(!u.is_empty(), "report {i}");
                last = u.pop();
            } else {
                match outcome {
                    Outcome::DeadLetter(e) => {
                        assert_eq!(e.reason_code(), "incident_full");
                        assert!(e.to_string().contains("already holds 500 reports"), "{e}");
                    }
                    other => panic!("expected a dead letter, got {other:?}"),
                }
            }
        }
        assert_eq!(t.next_offset(), MAX_REPORTS_PER_INCIDENT as i64 + 1);
        // What the bound is for: a full incident's update and state fit in the 1,000,000-byte
        // message Kafka clients and brokers default to.
        let last = last.expect("updates");
        for ct in [ContentType::Json, ContentType::Protobuf] {
            let n = crate::wire::encode_update(&last, ct).len();
            assert!(n < 1_000_000, "{ct:?} update of {n} bytes");
        }
        let batch = t.take_checkpoint().unwrap().expect("a checkpoint");
        for r in &batch.records {
            let n = r.value.as_ref().map_or(0, Vec::len);
            assert!(n < 1_000_000, "changelog record {} of {n} bytes", r.key);
        }
    }

    #[test]
    fn duplicates_and_redeliveries_publish_nothing() {
        let mut t = task();
        let first = seed()[0];
        assert!(!updates(t.process(0, Some(first), None)).is_empty());
        // The same report again at a new offset (a feeder retry): seen, nothing published.
        assert!(updates(t.process(1, Some(first), None)).is_empty());
        // An offset already processed (redelivery after a seek): skipped outright.
        assert_eq!(
            t.process(1, Some(seed()[1]), None),
            Outcome::AlreadyProcessed
        );
        assert_eq!(t.next_offset(), 2);
        // Gaps are fine.
        assert!(!updates(t.process(7, Some(seed()[1]), None)).is_empty());
        assert_eq!(t.next_offset(), 8);
        // The end of the partition past a transaction marker moves the offset on; a record
        // clears the end mark.
        t.reached_end(Some(9));
        assert!(t.status().at_end);
        assert_eq!(t.next_offset(), 9);
        t.reached_end(Some(3));
        assert_eq!(t.next_offset(), 9, "never backwards");
        t.process(9, Some(seed()[2]), None);
        assert!(!t.status().at_end);
    }

    #[test]
    fn checkpoints_write_dirty_incidents_and_restore_to_the_same_task() {
        let mut t = task();
        assert!(!t.needs_checkpoint());
        assert_eq!(t.take_checkpoint().unwrap(), None);
        let lines = seed();
        for (i, line) in lines.iter().take(3).enumerate() {
            t.process(i as i64, Some(line), None);
        }
        let first = t.take_checkpoint().unwrap().unwrap();
        assert_eq!(first.next_offset, 3);
        assert_eq!(first.records.last().unwrap().key, "checkpoint");
        assert_eq!(first.records.len(), t.engine().incidents().count() + 1);
        assert!(!t.needs_checkpoint());
        // A dead letter alone moves the checkpoint but writes no incident.
        t.process(3, Some(b"nope"), None);
        let second = t.take_checkpoint().unwrap().unwrap();
        assert_eq!(second.records.len(), 1);
        assert_eq!(second.next_offset, 4);

        let log: Vec<ChangelogRecord> = first.records.into_iter().chain(second.records).collect();
        let restored = restore(
            log.iter()
                .enumerate()
                .map(|(i, r)| (i as i64, Some(r.key.as_bytes()), r.value.as_deref())),
        )
        .unwrap();
        let mut back = PartitionTask::restore(0, SourceRegistry::default(), restored);
        assert_eq!(back.resume_offset(), Some(4));
        assert!(!back.needs_checkpoint());
        // Both continue identically.
        let a = updates(t.process(4, Some(lines[4]), None));
        let b = updates(back.process(4, Some(lines[4]), None));
        assert_eq!(a, b);
        assert!(!a.is_empty());
    }

    #[test]
    fn stale_incidents_are_rewritten_at_the_first_checkpoint() {
        let id = IncidentId::parse("iq-stale-1").unwrap();
        let restored = Restored {
            next_offset: Some(9),
            stale: vec![id.clone()],
            ..Restored::default()
        };
        let mut t = PartitionTask::restore(0, SourceRegistry::default(), restored);
        assert!(t.needs_checkpoint());
        let batch = t.take_checkpoint().unwrap().unwrap();
        assert_eq!(batch.next_offset, 9);
        assert_eq!(
            batch.records,
            vec![
                ChangelogRecord::tombstone(&id),
                ChangelogRecord::checkpoint(9)
            ]
        );
    }

    #[test]
    fn content_type_headers() {
        assert_eq!(content_type_of(None).unwrap(), ContentType::Json);
        assert_eq!(
            content_type_of(Some(b"application/x-protobuf")).unwrap(),
            ContentType::Protobuf
        );
        assert_eq!(
            content_type_of(Some(b"application/json; charset=utf-8")).unwrap(),
            ContentType::Json
        );
        assert!(content_type_of(Some(b"text/csv")).is_err());
    }
}
