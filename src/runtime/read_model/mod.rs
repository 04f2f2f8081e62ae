//! The read model behind the HTTP query API: the latest update of every incident this instance
//! holds, a bounded history per incident, which partitions are assigned and restored, and a
//! hub of live events (a sequence, a ring buffer of recent events and a broadcast channel) for
//! server-sent events with exact resumption. The event types and subscriptions live in
//! [`events`].
//!
//! Kafka-free and HTTP-free. The processor feeds it, from its own thread and in order:
//! [`ReadModel::assign`] when a partition is assigned (it is restoring: not ready),
//! [`ReadModel::restored`] with the current update of each incident restored from the
//! changelog, [`ReadModel::apply`] for every update it publishes, [`ReadModel::revoke`] when a
//! partition goes (its incidents are dropped). Readers (HTTP handlers) take a read lock for a
//! moment and clone `Arc`s; the published JSON of each update is encoded once and shared.
//!
//! Memory: the model duplicates the published view of every incident this instance owns (its
//! JSON), plus `history_len` small entries per incident and `buffer_len` recent events. It
//! exists only when the HTTP API is enabled.
//!
//! Consistency: every change of the state and the event it emits happen under one write lock,
//! and a subscription takes its snapshot (or its replay from the ring buffer) and its
//! broadcast receiver under the same lock, so a subscriber sees every event after its starting
//! point exactly once, in order.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde::Serialize;
use tokio::sync::{broadcast, watch};

use crate::core::model::{CountryCode, IncidentId, ReportId, Timestamp};
use crate::core::update::{MergeNotice, Update};
use crate::core::view::Grade;
use crate::wire::json::encode_update;

pub mod events;

pub use events::{Event, EventFilter, EventKind, Snapshot, SnapshotReason, Start, Subscription};

/// Sizes of the read model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadModelConfig {
    /// Versions kept per incident in its history.
    pub history_len: usize,
    /// Recent events kept for resumption (`Last-Event-ID`).
    pub buffer_len: usize,
    /// Events a live subscriber may fall behind before it is resynchronised.
    pub broadcast_capacity: usize,
}

impl Default for ReadModelConfig {
    /// 100 versions per incident, 10,000 recent events, 1,024 events of slack per subscriber.
    fn default() -> Self {
        Self {
            history_len: 100,
            buffer_len: 10_000,
            broadcast_capacity: 1024,
        }
    }
}

/// What the filters of the list and of the live stream look at, taken from an update's view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// The incident's country (for an absorbed incident: the last one known here).
    pub country: Option<CountryCode>,
    /// The grade; `None` for an absorbed incident.
    pub grade: Option<Grade>,
    /// The newest `published_at` among the evidence ("last reported").
    pub last_reported: Option<Timestamp>,
    /// The latest event time.
    pub occurred_latest: Option<Timestamp>,
}

impl Summary {
    fn of(update: &Update, previous: Option<&Summary>) -> Self {
        match &update.view {
            Some(v) => Self {
                country: Some(v.location.country),
                grade: Some(v.grade),
                last_reported: v.evidence.iter().map(|e| e.published_at).max(),
                occurred_latest: Some(v.time.latest),
            },
            None => Self {
                country: previous.and_then(|p| p.country),
                grade: None,
                last_reported: previous.and_then(|p| p.last_reported),
                occurred_latest: previous.and_then(|p| p.occurred_latest),
            },
        }
    }
}

/// The latest update of one incident, encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Latest {
    /// The incident.
    pub incident_id: IncidentId,
    /// Its version.
    pub version: u64,
    /// The partition it belongs to.
    pub partition: i32,
    /// Whether the incident stands (it has a view; absorbed incidents do not).
    pub standing: bool,
    /// What filters look at.
    pub summary: Summary,
    /// The update as published, in JSON.
    pub json: Arc<str>,
}

impl Latest {
    fn of(partition: i32, update: &Update, previous: Option<&Summary>) -> Arc<Self> {
        // The JSON encoder writes UTF-8 only.
        let json = match String::from_utf8(encode_update(update)) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        Arc::new(Self {
            incident_id: update.incident_id.clone(),
            version: update.version,
            partition,
            standing: update.view.is_some(),
            summary: Summary::of(update, previous),
            json: Arc::from(json),
        })
    }
}

/// One version in an incident's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    /// The version.
    pub version: u64,
    /// The sections that changed (empty for a version restored from the changelog).
    pub changes: Vec<String>,
    /// The reports that caused it (empty for a version restored from the changelog).
    pub caused_by: Vec<ReportId>,
    /// Set when this version records a merge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merge: Option<MergeNotice>,
    /// Whether this entry was rebuilt from the changelog rather than seen published.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub restored: bool,
}

/// An incident's history as held here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct History {
    /// The incident.
    pub incident_id: IncidentId,
    /// The partition it belongs to.
    pub partition: i32,
    /// The latest version.
    pub version: u64,
    /// How many versions are kept at most.
    pub history_len: usize,
    /// Whether the history goes back to version 1 (nothing was evicted or restored).
    pub complete: bool,
    /// The versions kept, oldest first.
    pub versions: Vec<HistoryEntry>,
}

struct Entry {
    latest: Arc<Latest>,
    history: VecDeque<HistoryEntry>,
}

/// Whether the instance is ready to answer for its partitions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Readiness {
    /// Whether the processor received an assignment at all (possibly an empty one).
    pub joined: bool,
    /// Assigned partitions.
    pub assigned: Vec<i32>,
    /// Assigned partitions whose restore has not finished.
    pub restoring: Vec<i32>,
}

impl Readiness {
    /// Ready: an assignment arrived and every assigned partition is restored.
    pub fn ready(&self) -> bool {
        self.joined && self.restoring.is_empty()
    }
}

/// One page of the list.
#[derive(Debug, Clone)]
pub struct Listing {
    /// Assigned partitions: the list covers their incidents.
    pub partitions: Vec<i32>,
    /// Partitions still restoring (their incidents may be missing).
    pub restoring: Vec<i32>,
    /// The matching standing incidents, sorted by id.
    pub incidents: Vec<Arc<Latest>>,
    /// When more matched than `limit`: the last id returned, to pass as `after`.
    pub next_after: Option<IncidentId>,
}

/// What the list returns.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// The filters (`incident` is ignored).
    pub filter: EventFilter,
    /// Only incidents last reported (newest evidence `published_at`) at or after this time.
    pub since: Option<Timestamp>,
    /// Only incidents with ids after this one.
    pub after: Option<IncidentId>,
    /// At most this many.
    pub limit: usize,
}

struct State {
    incidents: BTreeMap<IncidentId, Entry>,
    /// Assigned partitions: `true` once restored.
    partitions: BTreeMap<i32, bool>,
    joined: bool,
    seq: u64,
    ring: VecDeque<Arc<Event>>,
}

/// The read model. See the module documentation.
pub struct ReadModel {
    config: ReadModelConfig,
    epoch: String,
    state: RwLock<State>,
    sender: broadcast::Sender<Arc<Event>>,
    assignment: watch::Sender<Vec<i32>>,
}

impl fmt::Debug for ReadModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.read();
        f.debug_struct("ReadModel")
            .field("epoch", &self.epoch)
            .field("incidents", &s.incidents.len())
            .field("partitions", &s.partitions)
            .field("seq", &s.seq)
            .finish()
    }
}

/// An identifier of this process run: the wall clock and the process id, in hex. Event ids
/// carry it, so an id from another run is recognised as unknown.
fn new_epoch() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mixed = nanos ^ (u64::from(std::process::id()) << 40);
    format!("{:x}", mixed & 0xffff_ffff_ffff)
}

impl ReadModel {
    /// An empty read model with a fresh epoch.
    pub fn new(config: ReadModelConfig) -> Self {
        Self::with_epoch(config, new_epoch())
    }

    /// An empty read model with a given epoch (tests). The epoch must not contain `-`.
    pub fn with_epoch(config: ReadModelConfig, epoch: impl Into<String>) -> Self {
        let config = ReadModelConfig {
            history_len: config.history_len.max(1),
            buffer_len: config.buffer_len.max(1),
            broadcast_capacity: config.broadcast_capacity.max(1),
        };
        let (sender, _) = broadcast::channel(config.broadcast_capacity);
        let (assignment, _) = watch::channel(Vec::new());
        Self {
            config,
            epoch: epoch.into().replace('-', ""),
            state: RwLock::new(State {
                incidents: BTreeMap::new(),
                partitions: BTreeMap::new(),
                joined: false,
                seq: 0,
                ring: VecDeque::new(),
            }),
            sender,
            assignment,
        }
    }

    /// The sizes in use.
    pub fn config(&self) -> ReadModelConfig {
        self.config
    }

    /// This process run's epoch.
    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// The SSE id of an event: `<epoch>-<seq>`.
    pub fn event_id(&self, seq: u64) -> String {
        format!("{}-{seq}", self.epoch)
    }

    /// The sequence number of an SSE id of this run; `None` for an id of another run or
    /// anything else.
    pub fn parse_event_id(&self, id: &str) -> Option<u64> {
        let (epoch, seq) = id.trim().rsplit_once('-')?;
        if epoch != self.epoch || seq.is_empty() || !seq.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        seq.parse().ok()
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        // A panic while holding the lock leaves consistent data (every change is a single
        // insert or remove after the values are built).
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Watches the assigned partitions (for announcing them to peers).
    pub fn assignment(&self) -> watch::Receiver<Vec<i32>> {
        self.assignment.subscribe()
    }

    fn publish_assignment(&self, s: &State) {
        let now: Vec<i32> = s.partitions.keys().copied().collect();
        self.assignment.send_if_modified(|old| {
            if *old == now {
                false
            } else {
                *old = now;
                true
            }
        });
    }

    fn emit(&self, s: &mut State, kind: EventKind) {
        s.seq += 1;
        let event = Arc::new(Event { seq: s.seq, kind });
        if s.ring.len() >= self.config.buffer_len {
            s.ring.pop_front();
        }
        s.ring.push_back(event.clone());
        // No receivers is fine.
        let _ = self.sender.send(event);
    }

    /// An assignment arrived (possibly an empty one): the instance has joined its group.
    pub fn joined(&self) {
        self.write().joined = true;
    }

    /// A partition was assigned: it restores now (the instance is not ready until it is
    /// restored).
    pub fn assign(&self, partition: i32) {
        let mut s = self.write();
        s.joined = true;
        s.partitions.insert(partition, false);
        self.publish_assignment(&s);
    }

    /// A partition's restore finished: `latest` holds the current update of each of its
    /// incidents (see [`crate::core::Engine::current_updates`]). Incidents held at a higher
    /// version stay as they are (after an aborted transaction the same versions come again).
    /// Each restored incident that is new here, or changed, is emitted as a live event.
    pub fn restored(&self, partition: i32, latest: impl IntoIterator<Item = Update>) {
        let mut s = self.write();
        s.joined = true;
        s.partitions.insert(partition, true);
        for u in latest {
            let held = s.incidents.get(&u.incident_id);
            if held.is_some_and(|e| e.latest.version >= u.version) {
                continue;
            }
            let latest = Latest::of(partition, &u, held.map(|e| &e.latest.summary));
            let mut history = VecDeque::new();
            history.push_back(HistoryEntry {
                version: u.version,
                changes: u.changes,
                caused_by: u.caused_by,
                merge: u.merge,
                restored: true,
            });
            s.incidents.insert(
                u.incident_id,
                Entry {
                    latest: latest.clone(),
                    history,
                },
            );
            self.emit(&mut s, EventKind::Update(latest));
        }
        self.publish_assignment(&s);
    }

    /// A partition was revoked: its incidents are dropped and subscribers are told.
    pub fn revoke(&self, partition: i32) {
        let mut s = self.write();
        let was_assigned = s.partitions.remove(&partition).is_some();
        let before = s.incidents.len();
        s.incidents.retain(|_, e| e.latest.partition != partition);
        if was_assigned || s.incidents.len() != before {
            self.emit(&mut s, EventKind::Revoked(vec![partition]));
        }
        self.publish_assignment(&s);
    }

    /// Every partition was revoked (the processor stopped or lost its assignment).
    pub fn revoke_all(&self) {
        let partitions: Vec<i32> = self.read().partitions.keys().copied().collect();
        for p in partitions {
            self.revoke(p);
        }
    }

    /// An update was published for an incident of `partition`. Versions at or below the one
    /// held are ignored (a redelivery after an aborted transaction republishes them).
    pub fn apply(&self, partition: i32, update: &Update) {
        let mut s = self.write();
        let held = s.incidents.get(&update.incident_id);
        if held.is_some_and(|e| e.latest.version >= update.version) {
            return;
        }
        let latest = Latest::of(partition, update, held.map(|e| &e.latest.summary));
        let entry_history = HistoryEntry {
            version: update.version,
            changes: update.changes.clone(),
            caused_by: update.caused_by.clone(),
            merge: update.merge.clone(),
            restored: false,
        };
        let history_len = self.config.history_len;
        let entry = s
            .incidents
            .entry(update.incident_id.clone())
            .or_insert_with(|| Entry {
                latest: latest.clone(),
                history: VecDeque::new(),
            });
        entry.latest = latest.clone();
        if entry.history.len() >= history_len {
            entry.history.pop_front();
        }
        entry.history.push_back(entry_history);
        self.emit(&mut s, EventKind::Update(latest));
    }

    /// The latest update of an incident held here.
    pub fn get(&self, id: &IncidentId) -> Option<Arc<Latest>> {
        self.read().incidents.get(id).map(|e| e.latest.clone())
    }

    /// The history of an incident held here.
    pub fn history(&self, id: &IncidentId) -> Option<History> {
        let s = self.read();
        let e = s.incidents.get(id)?;
        let versions: Vec<HistoryEntry> = e.history.iter().cloned().collect();
        let complete = versions
            .first()
            .is_some_and(|h| h.version == 1 && !h.restored);
        Some(History {
            incident_id: id.clone(),
            partition: e.latest.partition,
            version: e.latest.version,
            history_len: self.config.history_len,
            complete,
            versions,
        })
    }

    /// The standing incidents held here that match `q`, sorted by id.
    pub fn list(&self, q: &ListQuery) -> Listing {
        let s = self.read();
        let range = match &q.after {
            Some(a) => s
                .incidents
                .range::<IncidentId, _>((std::ops::Bound::Excluded(a), std::ops::Bound::Unbounded))
                .collect::<Vec<_>>(),
            None => s.incidents.iter().collect(),
        };
        let mut incidents = Vec::new();
        let mut next_after = None;
        let filter = EventFilter {
            incident: None,
            ..q.filter.clone()
        };
        for (_, e) in range {
            let l = &e.latest;
            if !l.standing || !filter.matches(l) {
                continue;
            }
            if let Some(since) = q.since {
                if l.summary.last_reported.is_none_or(|t| t < since) {
                    continue;
                }
            }
            if incidents.len() >= q.limit {
                next_after = incidents
                    .last()
                    .map(|l: &Arc<Latest>| l.incident_id.clone());
                break;
            }
            incidents.push(l.clone());
        }
        Listing {
            partitions: s.partitions.keys().copied().collect(),
            restoring: restoring(&s),
            incidents,
            next_after,
        }
    }

    /// Whether every assigned partition is restored.
    pub fn readiness(&self) -> Readiness {
        let s = self.read();
        Readiness {
            joined: s.joined,
            assigned: s.partitions.keys().copied().collect(),
            restoring: restoring(&s),
        }
    }

    /// The latest sequence number.
    pub fn seq(&self) -> u64 {
        self.read().seq
    }

    /// Number of incidents held (absorbed ones included).
    pub fn len(&self) -> usize {
        self.read().incidents.len()
    }

    /// Whether no incident is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Subscribes to live events. `last_event_id` is the SSE id of the last event the
    /// subscriber saw: within the ring buffer, the subscription replays exactly the events
    /// after it; otherwise (absent, another run's, too old) it starts with a snapshot.
    pub fn subscribe(&self, last_event_id: Option<&str>, filter: &EventFilter) -> Subscription {
        let reason = match last_event_id {
            None => SnapshotReason::Initial,
            Some(id) => match self.parse_event_id(id) {
                Some(seq) => return self.resume(seq, filter, SnapshotReason::TooOld),
                None => SnapshotReason::UnknownId,
            },
        };
        let s = self.read();
        self.snapshot_locked(&s, filter, reason)
    }

    /// Resumes after sequence number `seq` (a subscriber that lagged, or a `Last-Event-ID`
    /// of this run): replays from the ring buffer when it still holds every event after
    /// `seq`, otherwise starts with a snapshot for `reason`.
    pub fn resume(&self, seq: u64, filter: &EventFilter, reason: SnapshotReason) -> Subscription {
        let s = self.read();
        if seq > s.seq {
            // A sequence number this run has not reached: not one of ours.
            return self.snapshot_locked(&s, filter, SnapshotReason::UnknownId);
        }
        let oldest = s.ring.front().map_or(s.seq + 1, |e| e.seq);
        if seq + 1 < oldest {
            return self.snapshot_locked(&s, filter, reason);
        }
        let events: Vec<Event> = s
            .ring
            .iter()
            .filter(|e| e.seq > seq && filter.matches_event(e))
            .map(|e| (**e).clone())
            .collect();
        Subscription {
            start: Start::Replay(events),
            seq: s.seq,
            receiver: self.sender.subscribe(),
        }
    }

    fn snapshot_locked(
        &self,
        s: &State,
        filter: &EventFilter,
        reason: SnapshotReason,
    ) -> Subscription {
        let updates: Vec<Arc<Latest>> = s
            .incidents
            .values()
            .filter(|e| filter.matches(&e.latest))
            .map(|e| e.latest.clone())
            .collect();
        Subscription {
            start: Start::Snapshot(Snapshot {
                seq: s.seq,
                reason,
                partitions: s.partitions.keys().copied().collect(),
                updates,
            }),
            seq: s.seq,
            receiver: self.sender.subscribe(),
        }
    }
}

fn restoring(s: &State) -> Vec<i32> {
    s.partitions
        .iter()
        .filter(|(_, done)| !**done)
        .map(|(p, _)| *p)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::registry::SourceRegistry;
    use crate::core::Engine;

    const SEED: &str = include_str!("../../../tests/fixtures/seed-2017-iraq.jsonl");

    fn seed_updates() -> Vec<Update> {
        let mut e = Engine::new(SourceRegistry::default());
        SEED.lines()
            .flat_map(|l| e.apply(&crate::wire::json::decode_report(l.as_bytes()).unwrap()))
            .collect()
    }

    fn model(history: usize, buffer: usize) -> ReadModel {
        ReadModel::with_epoch(
            ReadModelConfig {
                history_len: history,
                buffer_len: buffer,
                broadcast_capacity: 16,
            },
            "e1",
        )
    }

    #[test]
    fn readiness_follows_assign_restore_and_revoke() {
        let m = model(10, 10);
        assert!(!m.readiness().ready(), "not ready before any assignment");
        m.joined();
        assert!(m.readiness().ready(), "an empty assignment is ready");
        m.assign(0);
        m.assign(1);
        assert_eq!(m.readiness().restoring, vec![0, 1]);
        assert!(!m.readiness().ready());
        m.restored(0, vec![]);
        assert_eq!(m.readiness().restoring, vec![1]);
        m.restored(1, vec![]);
        assert!(m.readiness().ready());
        m.revoke(1);
        assert_eq!(m.readiness().assigned, vec![0]);
        assert!(m.readiness().ready());
    }

    #[test]
    fn apply_keeps_latest_and_bounded_history_and_ignores_old_versions() {
        let m = model(2, 100);
        m.assign(0);
        m.restored(0, vec![]);
        let updates = seed_updates();
        for u in &updates {
            m.apply(0, u);
        }
        // Every incident's latest is the last update published for it.
        let mut last: BTreeMap<IncidentId, &Update> = BTreeMap::new();
        for u in &updates {
            last.insert(u.incident_id.clone(), u);
        }
        assert_eq!(m.len(), last.len());
        for (id, u) in &last {
            let l = m.get(id).unwrap();
            assert_eq!(l.version, u.version);
            assert_eq!(l.json.as_bytes(), encode_update(u).as_slice());
        }
        // Replaying changes nothing and emits nothing.
        let seq = m.seq();
        for u in &updates {
            m.apply(0, u);
        }
        assert_eq!(m.seq(), seq);
        // History is bounded.
        let busiest = last.values().max_by_key(|u| u.version).unwrap();
        let h = m.history(&busiest.incident_id).unwrap();
        assert!(h.versions.len() <= 2);
        assert_eq!(h.versions.last().unwrap().version, busiest.version);
    }

    #[test]
    fn restored_then_revoked() {
        let mut e = Engine::new(SourceRegistry::default());
        for l in SEED.lines() {
            e.apply(&crate::wire::json::decode_report(l.as_bytes()).unwrap());
        }
        let m = model(10, 100);
        m.assign(3);
        m.restored(3, e.current_updates());
        assert_eq!(m.len(), 3);
        let any = m.list(&ListQuery {
            limit: 10,
            ..ListQuery::default()
        });
        assert_eq!(any.incidents.len(), 3);
        assert!(any.incidents.iter().all(|l| l.partition == 3));
        m.revoke(3);
        assert!(m.is_empty());
        assert!(m.readiness().assigned.is_empty());
    }

    #[test]
    fn event_ids_and_resumption() {
        let m = model(10, 3);
        m.assign(0);
        m.restored(0, vec![]);
        let updates = seed_updates();
        assert!(updates.len() >= 5);
        for u in &updates[..5] {
            m.apply(0, u);
        }
        assert_eq!(m.seq(), 5);
        assert_eq!(m.parse_event_id("e1-4"), Some(4));
        assert_eq!(m.parse_event_id("e2-4"), None);
        assert_eq!(m.parse_event_id("e1-"), None);
        assert_eq!(m.parse_event_id("e1-+4"), None);
        assert_eq!(m.parse_event_id("garbage"), None);
        assert_eq!(m.parse_event_id("e1-99999999999999999999999"), None);
        let all = EventFilter::default();
        // Within the buffer (3 events: 3, 4, 5): exactly the later ones.
        match m.subscribe(Some("e1-3"), &all).start {
            Start::Replay(ev) => assert_eq!(ev.iter().map(|e| e.seq).collect::<Vec<_>>(), [4, 5]),
            other => panic!("{other:?}"),
        }
        match m.subscribe(Some("e1-2"), &all).start {
            Start::Replay(ev) => {
                assert_eq!(ev.iter().map(|e| e.seq).collect::<Vec<_>>(), [3, 4, 5])
            }
            other => panic!("{other:?}"),
        }
        match m.subscribe(Some("e1-5"), &all).start {
            Start::Replay(ev) => assert!(ev.is_empty()),
            other => panic!("{other:?}"),
        }
        // Too old, unknown, future.
        for (id, reason) in [
            ("e1-1", SnapshotReason::TooOld),
            ("zz-3", SnapshotReason::UnknownId),
            ("e1-6", SnapshotReason::UnknownId),
        ] {
            match m.subscribe(Some(id), &all).start {
                Start::Snapshot(s) => {
                    assert_eq!(s.reason, reason, "{id}");
                    assert_eq!(s.seq, 5);
                }
                other => panic!("{id}: {other:?}"),
            }
        }
    }
}
