//! Updates: what is published each time an incident's reconciled view changes, and the digest
//! that tells whether it did and which sections changed.

use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};

use crate::core::limits::SCHEMA_VERSION;
use crate::core::model::{Harm, IncidentId, Party, ReportId};
use crate::core::view::IncidentView;

/// A section of the view, the unit in which changes are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// Location.
    Location,
    /// Time.
    Time,
    /// Event types.
    EventTypes,
    /// Targets.
    Targets,
    /// One casualty estimate.
    Casualties(Party, Harm),
    /// Responsibility.
    Responsibility,
    /// Cause.
    Cause,
    /// Outcome.
    Outcome,
    /// Grade (with the count of independent claimants).
    Grade,
    /// Evidence (provenance).
    Evidence,
}

impl Section {
    /// The path named in an update's `changes`, e.g. `casualties.military.killed`.
    pub fn path(self) -> String {
        match self {
            Self::Location => "location".into(),
            Self::Time => "time".into(),
            Self::EventTypes => "event_types".into(),
            Self::Targets => "targets".into(),
            Self::Casualties(p, h) => format!("casualties.{}.{}", p.as_str(), h.as_str()),
            Self::Responsibility => "responsibility".into(),
            Self::Cause => "cause".into(),
            Self::Outcome => "outcome".into(),
            Self::Grade => "grade".into(),
            Self::Evidence => "evidence".into(),
        }
    }
}

/// FNV-1a, 64-bit: a fixed, seedless hash, so digests are the same in every process.
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// A stable 64-bit hash of a value.
pub fn stable_hash<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    value.hash(&mut h);
    h.finish()
}

/// Per-section hashes of a view, sorted by section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digest(pub Vec<(Section, u64)>);

impl Digest {
    /// Digests a view.
    pub fn of(view: &IncidentView) -> Self {
        let mut d = vec![
            (Section::Location, stable_hash(&view.location)),
            (Section::Time, stable_hash(&view.time)),
            (Section::EventTypes, stable_hash(&view.event_types)),
            (Section::Targets, stable_hash(&view.targets)),
        ];
        for e in &view.casualties {
            d.push((Section::Casualties(e.party, e.outcome), stable_hash(e)));
        }
        d.push((Section::Responsibility, stable_hash(&view.responsibility)));
        d.push((Section::Cause, stable_hash(&view.cause)));
        d.push((Section::Outcome, stable_hash(&view.outcome)));
        d.push((
            Section::Grade,
            stable_hash(&(view.grade, view.independent_claimants)),
        ));
        d.push((Section::Evidence, stable_hash(&view.evidence)));
        d.sort_unstable_by_key(|(s, _)| *s);
        Self(d)
    }

    /// The sections that differ between `self` (old) and `new`, in section order.
    pub fn changes(&self, new: &Digest) -> Vec<Section> {
        let mut out = Vec::new();
        let (mut i, mut j) = (0, 0);
        let (a, b) = (&self.0, &new.0);
        while i < a.len() || j < b.len() {
            match (a.get(i), b.get(j)) {
                (Some(x), Some(y)) if x.0 == y.0 => {
                    if x.1 != y.1 {
                        out.push(x.0);
                    }
                    i += 1;
                    j += 1;
                }
                (Some(x), Some(y)) if x.0 < y.0 => {
                    out.push(x.0);
                    i += 1;
                }
                (Some(_), Some(y)) => {
                    out.push(y.0);
                    j += 1;
                }
                (Some(x), None) => {
                    out.push(x.0);
                    i += 1;
                }
                (None, Some(y)) => {
                    out.push(y.0);
                    j += 1;
                }
                (None, None) => break,
            }
        }
        out
    }
}

/// A merge, as subscribers are told of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeNotice {
    /// This incident took in the listed incidents, which now point here.
    Absorbed {
        /// The incidents absorbed, sorted.
        incidents: Vec<IncidentId>,
    },
    /// This incident was merged into another; its id now points at the survivor.
    AbsorbedInto {
        /// The survivor.
        incident_id: IncidentId,
    },
}

/// One published incident update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Update {
    /// The schema version of this message.
    pub schema_version: u32,
    /// The incident.
    pub incident_id: IncidentId,
    /// Grows by exactly one per change of the view.
    pub version: u64,
    /// The full reconciled view; absent when the incident was absorbed into another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view: Option<IncidentView>,
    /// The sections that changed since the previous version (`merged` for a merge).
    pub changes: Vec<String>,
    /// The reports that caused this version.
    pub caused_by: Vec<ReportId>,
    /// Set when this version records a merge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merge: Option<MergeNotice>,
}

impl Update {
    /// Builds an update at the current schema version.
    pub fn new(
        incident_id: IncidentId,
        version: u64,
        view: Option<IncidentView>,
        changes: Vec<String>,
        caused_by: Vec<ReportId>,
        merge: Option<MergeNotice>,
    ) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            incident_id,
            version,
            view,
            changes,
            caused_by,
            merge,
        }
    }
}
