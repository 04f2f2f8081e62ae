//! The live events of the read model, as server-sent-event subscribers receive them: each event
//! with its sequence number, the filters a subscriber may set, and how a subscription starts
//! (a snapshot, or a replay from the ring buffer) before the live broadcast takes over.

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::broadcast;

use super::Latest;
use crate::core::model::{CountryCode, IncidentId};
use crate::core::view::Grade;

/// A live event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// An update was published (or restored with a newly assigned partition).
    Update(Arc<Latest>),
    /// Partitions were revoked: their incidents are no longer held here.
    Revoked(Vec<i32>),
}

/// A live event with its sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Grows by one per event, from 1, in this process run.
    pub seq: u64,
    /// What happened.
    pub kind: EventKind,
}

/// Which events a subscriber wants. Empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Only incidents in this country (absorbed incidents: their last known country).
    pub country: Option<CountryCode>,
    /// Only incidents with this grade. Merge notices (absorbed incidents) always pass, so a
    /// subscriber learns that an incident it holds is gone.
    pub grade: Option<Grade>,
    /// Only this incident.
    pub incident: Option<IncidentId>,
}

impl EventFilter {
    /// Whether the latest update of an incident passes the filter.
    pub fn matches(&self, l: &Latest) -> bool {
        if self.incident.as_ref().is_some_and(|i| *i != l.incident_id) {
            return false;
        }
        if self.country.is_some() && self.country != l.summary.country {
            return false;
        }
        match (self.grade, l.summary.grade) {
            (Some(want), Some(got)) => want == got,
            _ => true,
        }
    }

    /// Whether an event passes the filter. Revocations always pass.
    pub fn matches_event(&self, e: &Event) -> bool {
        match &e.kind {
            EventKind::Update(l) => self.matches(l),
            EventKind::Revoked(_) => true,
        }
    }
}

/// Why a subscription starts with a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SnapshotReason {
    /// No `Last-Event-ID` was given.
    Initial,
    /// The id is not one of this process run's (another run, a future sequence, garbage).
    UnknownId,
    /// The id is older than the ring buffer reaches.
    TooOld,
    /// The subscriber fell behind the live broadcast further than the ring buffer reaches.
    Lagged,
}

/// The latest update of every incident matching a filter, at one point of the event sequence.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The sequence number this snapshot reflects: live events continue after it.
    pub seq: u64,
    /// Why it was taken.
    pub reason: SnapshotReason,
    /// Assigned partitions.
    pub partitions: Vec<i32>,
    /// The latest updates, sorted by incident id.
    pub updates: Vec<Arc<Latest>>,
}

/// Where a subscription starts.
#[derive(Debug)]
pub enum Start {
    /// With a snapshot.
    Snapshot(Snapshot),
    /// With the events after the subscriber's last one, from the ring buffer (filtered).
    Replay(Vec<Event>),
}

/// A live subscription: how it starts, then the broadcast of later events.
#[derive(Debug)]
pub struct Subscription {
    /// The first thing to send.
    pub start: Start,
    /// The sequence number the subscriber is at once `start` is sent.
    pub seq: u64,
    /// Later events (sequence numbers above `seq`).
    pub receiver: broadcast::Receiver<Arc<Event>>,
}
