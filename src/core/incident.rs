//! The incident aggregate: its evidence set, each claimant's latest claim per field, and what
//! the linker knows of it. Applying a report here is pure bookkeeping; estimation reads it.
//! The state is kept compact (shared sources and names, lists with little spare room) because
//! an engine holds every incident of its partitions in memory.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::core::affiliations::Affiliations;
use crate::core::estimate::GradeTally;
use crate::core::intern::Interner;
use crate::core::link::{Features, Profile};
use crate::core::model::{
    Assertion, Claim, FieldRef, IncidentId, Report, ReportId, Source, SourceId, Timestamp,
};
use crate::core::parties::Parties;
use crate::core::update::{Digest, Section, Sections};
use crate::core::view::Evidence;

/// Spare items the evidence and claims lists are grown by beyond what a report needs: one
/// reallocation then serves about two reports, for ~60 bytes per incident.
const SPARE: usize = 1;

/// A claimant's standing statement on one field: a claim, or a retraction of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClaimRecord {
    /// The claimant, as this statement describes it, with the group the incident's
    /// affiliations put it in as its affiliation ([`Affiliations`]).
    pub claimant: Arc<Source>,
    /// When the claimant stated it.
    pub stated_at: Timestamp,
    /// The report it came from.
    pub report_id: ReportId,
    /// What it asserts; a retraction withdraws the claimant's claim on the field.
    pub assertion: Assertion,
}

impl ClaimRecord {
    /// The record of a claim; `claimant` is the shared copy of its claimant when the caller
    /// has one at hand, else it is interned.
    fn from_claim(
        claim: &Claim,
        source: &Source,
        report_id: &ReportId,
        claimant: Option<Arc<Source>>,
        interner: &mut Interner,
    ) -> Self {
        let assertion = match &claim.assertion {
            Assertion::Responsibility { actor, stance } => Assertion::Responsibility {
                actor: interner.actor_id(actor),
                stance: *stance,
            },
            a => a.clone(),
        };
        Self {
            claimant: claimant.unwrap_or_else(|| interner.source(source)),
            stated_at: claim.stated_at,
            report_id: report_id.clone(),
            assertion,
        }
    }

    /// The sort key of the claims list: kind of field, claimant, field. Estimation reads one
    /// kind of field at a time, so each kind is one run of the list, sorted by claimant.
    fn key(&self) -> (u8, &SourceId, FieldRef<'_>) {
        let field = self.assertion.field_ref();
        (field.kind(), &self.claimant.id, field)
    }

    /// Whether this statement is a standing claim, not a retraction.
    pub fn stands(&self) -> bool {
        !self.assertion.is_retraction()
    }

    /// Whether this statement supersedes `other` (same claimant and field): the later
    /// `stated_at` wins, then the greater report id, so arrival order never matters.
    fn supersedes(&self, other: &ClaimRecord) -> bool {
        (self.stated_at, &self.report_id) > (other.stated_at, &other.report_id)
    }
}

/// Inserts `item` at `at`; a full list first grows by `extra` items. It grows into a new
/// allocation, the items moved around the new one, rather than by `realloc`: these lists are
/// small, so the allocator moves them anyway, and its `realloc` costs about three times an
/// allocation and a free. It grows at most once per report, so this is most of the growth.
fn insert_growing<T>(list: &mut Vec<T>, at: usize, item: T, extra: usize) {
    if list.len() < list.capacity() {
        list.insert(at, item);
        return;
    }
    let mut grown = Vec::with_capacity(list.len() + extra.max(1));
    let mut old = std::mem::take(list).into_iter();
    grown.extend(old.by_ref().take(at));
    grown.push(item);
    grown.extend(old);
    *list = grown;
}

/// What adding a report to an incident did, beside the sections it touched.
#[derive(Debug, Clone, Copy)]
pub struct Added {
    /// Whether every claim the report kept was new to the incident (none replaced a standing
    /// statement): then the claims only grew.
    pub only_new: bool,
    /// Whether the incident's time window for linking changed.
    pub window: bool,
    /// Whether a claimant's group changed for claims the incident held before: the report
    /// gave an affiliation its earlier reports did not. Every section is then digested.
    pub regrouped: bool,
    /// Whether the report called a claimant a party that no claim of the incident had: earlier
    /// claims of its group may have become party claims ([`crate::core::parties`]).
    pub named_party: bool,
}

/// One incident's state. Serialisable: it is what the state changelog stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    /// Its id.
    pub id: IncidentId,
    /// The version of the last update published for it (0 before the first).
    pub version: u64,
    /// Whether a report named this id explicitly. Explicit incidents are never absorbed.
    pub explicit: bool,
    /// The report that opened it: `(published_at, report_id)`. The earliest-opened incident
    /// survives a merge.
    pub opened: (Timestamp, ReportId),
    /// What the linker knows of it.
    pub profile: Profile,
    /// Linked reports, sorted by `published_at` then `report_id`.
    pub evidence: Vec<Evidence>,
    /// Standing statements, sorted by kind of field, claimant, then field.
    pub claims: Vec<ClaimRecord>,
    /// Digest of the last published view, section by section.
    pub digest: Digest,
    /// What the grade was last computed from (not stored: a restored incident is graded from
    /// its claims at its next report).
    #[serde(skip)]
    pub grade: GradeTally,
    /// Set once the incident was merged into another: the survivor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absorbed_into: Option<IncidentId>,
    /// The affiliations its reports stated for claimants: each claim record carries its
    /// claimant's, whichever report gave it.
    #[serde(default, skip_serializing_if = "Affiliations::is_empty")]
    pub affiliations: Affiliations,
    /// The claimants its reports called parties: their claims, and their groups', are party
    /// claims whichever report called them so.
    #[serde(default, skip_serializing_if = "Parties::is_empty")]
    pub parties: Parties,
}

impl Incident {
    /// A new, empty incident opened by `report`.
    pub fn open(id: IncidentId, explicit: bool, report: &Report, features: &Features) -> Self {
        Self {
            id,
            version: 0,
            explicit,
            opened: (report.published_at, report.report_id.clone()),
            profile: Profile::new(features),
            evidence: Vec::new(),
            claims: Vec::new(),
            digest: Digest::default(),
            grade: GradeTally::default(),
            absorbed_into: None,
            affiliations: Affiliations::default(),
            parties: Parties::default(),
        }
    }

    /// Adds a report: evidence, linking features and claims. Adds to `touched` every section
    /// of the view the report may have changed; a section left out has not changed.
    /// Pushes onto `superseded` the standing casualty claims of earlier reports that the
    /// report's claims replaced: with the report's own claims, they are what changed in
    /// each casualty estimate.
    pub fn add_report(
        &mut self,
        report: &Report,
        features: &Features,
        interner: &mut Interner,
        touched: &mut Sections,
        superseded: &mut Vec<ClaimRecord>,
    ) -> Added {
        let profile = self.profile.add(features);
        for (changed, section) in [
            (profile.location, Section::Location),
            (profile.time, Section::Time),
            (profile.event_types, Section::EventTypes),
            (profile.targets, Section::Targets),
        ] {
            if changed {
                touched.insert(section);
            }
        }
        if self.add_evidence(Evidence {
            published_at: report.published_at,
            report_id: report.report_id.clone(),
            publisher: interner.source_id(&report.publisher.id),
            publisher_kind: report.publisher.kind,
        }) {
            touched.insert(Section::Evidence);
        }
        // Affiliations and parties are learnt from every claim, kept or not, so that a
        // claimant's group and party status do not depend on which of its statements stand.
        let mut learnt = false;
        let mut named_party = false;
        for claim in &report.claims {
            let c = &claim.claimant;
            if self.parties.would_learn(c) {
                named_party |= self.parties.learn(&interner.source_id(&c.id));
            }
            if let Some(a) = c
                .affiliated_with
                .as_ref()
                .filter(|a| self.affiliations.would_change(&c.id, a))
            {
                // Shared copies: the incident keeps them.
                let (id, a) = (interner.source_id(&c.id), interner.source_id(a));
                learnt |= self.affiliations.learn(&id, &a);
            }
        }
        // A new link may move any source of its group (a chain learnt from its far end).
        let regrouped = learnt && self.regroup(interner);
        // Where the report's last claim kept went: its claimant is the shared copy the next
        // claim most likely needs, as a report's claims mostly share one claimant.
        let mut last: Option<usize> = None;
        let mut only_new = true;
        for (n, claim) in report.claims.iter().enumerate() {
            let field = claim.assertion.field_ref();
            let sections = match field {
                FieldRef::Casualties { party, outcome } => {
                    [Some(Section::Casualties(party, outcome)), None]
                }
                FieldRef::Responsibility { .. } => [Some(Section::Responsibility), None],
                // Responsibility is disputed by a non-party's non-hostile cause.
                FieldRef::Cause => [Some(Section::Cause), Some(Section::Responsibility)],
                FieldRef::Outcome => [Some(Section::Outcome), None],
            };
            // Room for this claim and the report's later ones, should they all be new.
            let room = report.claims.len() - n;
            if let Some((at, old)) = self.add_claim(claim, &report.report_id, last, room, interner)
            {
                last = Some(at);
                only_new &= old.is_none();
                if let Some(old) = old.filter(|o| {
                    matches!(o.assertion, Assertion::Casualties { .. })
                        && !o.report_id.same_copy(&report.report_id)
                }) {
                    superseded.push(old);
                }
                touched.extend(sections.into_iter().flatten());
                // The grade and the count of independent claimants read every claim.
                touched.insert(Section::Grade);
            }
        }
        // Claims that superseded standing ones left more slots spare than the list keeps: give
        // them back, as incidents are many. (Rare: most claims are new.)
        if self.claims.capacity() - self.claims.len() > SPARE {
            self.claims.shrink_to(self.claims.len() + SPARE);
        }
        Added {
            only_new,
            window: profile.window,
            regrouped,
            named_party,
        }
    }

    /// Drops spare capacity (after a merge or a restore). Lists grow by a few items per report
    /// and slack in thousands of incidents adds up, so they keep at most [`SPARE`] items.
    fn compact(&mut self) {
        self.evidence.shrink_to_fit();
        self.claims.shrink_to_fit();
    }

    /// Adds a linked report; says whether it was not there before.
    fn add_evidence(&mut self, e: Evidence) -> bool {
        match self.evidence.binary_search(&e) {
            Ok(_) => false,
            Err(pos) => {
                insert_growing(&mut self.evidence, pos, e, 1 + SPARE);
                true
            }
        }
    }

    /// Keeps a report's claim if it supersedes the claimant's standing statement on the field;
    /// if it did, returns where the record went and the statement it replaced. The record's
    /// claimant is the shared copy held by the record at `hint` when it is the same source,
    /// else by a record next to the claim's place (found by the same search), else interned.
    /// A full list grows by `room` items and [`SPARE`]: the list then grows once per report at
    /// most, not once per claim, and only when a claim is new (each growth is a reallocation).
    fn add_claim(
        &mut self,
        claim: &Claim,
        report_id: &ReportId,
        hint: Option<usize>,
        room: usize,
        interner: &mut Interner,
    ) -> Option<(usize, Option<ClaimRecord>)> {
        let field = claim.assertion.field_ref();
        let key = (field.kind(), &claim.claimant.id, field);
        let found = self.claims.binary_search_by(|r| r.key().cmp(&key));
        if let Ok(i) = found {
            let standing = &self.claims[i];
            if (claim.stated_at, report_id) <= (standing.stated_at, &standing.report_id) {
                return None;
            }
        }
        let at = found.unwrap_or_else(|i| i);
        let source = self.affiliations.apply(&claim.claimant);
        let claimant = [hint, at.checked_sub(1), Some(at)]
            .into_iter()
            .flatten()
            .filter_map(|i| self.claims.get(i))
            .find(|r| *r.claimant == *source)
            .map(|r| r.claimant.clone());
        let record = ClaimRecord::from_claim(claim, &source, report_id, claimant, interner);
        let old = match found {
            Ok(i) => Some(std::mem::replace(&mut self.claims[i], record)),
            Err(i) => {
                insert_growing(&mut self.claims, i, record, room + SPARE);
                None
            }
        };
        Some((at, old))
    }

    /// Keeps `record` if it supersedes the claimant's standing statement on the field; says
    /// whether it did.
    fn upsert(&mut self, record: ClaimRecord) -> bool {
        match self.claims.binary_search_by(|r| r.key().cmp(&record.key())) {
            Ok(i) => {
                let newer = record.supersedes(&self.claims[i]);
                if newer {
                    self.claims[i] = record;
                }
                newer
            }
            Err(i) => {
                self.claims.reserve_exact(1);
                self.claims.insert(i, record);
                true
            }
        }
    }

    /// Gives every claim record the group the incident's affiliations put its claimant in;
    /// says whether any changed.
    fn regroup(&mut self, interner: &mut Interner) -> bool {
        let mut changed = false;
        for r in &mut self.claims {
            if let std::borrow::Cow::Owned(s) = self.affiliations.apply(&r.claimant) {
                r.claimant = interner.source(&s);
                changed = true;
            }
        }
        changed
    }

    /// Restores the sort orders the binary searches rely on and the profile's comparison keys
    /// (after decoding a stored state).
    pub fn normalise(&mut self) {
        self.profile.rekey();
        self.evidence.sort();
        self.evidence.dedup();
        self.claims.sort_by(|a, b| a.key().cmp(&b.key()));
        self.claims.dedup_by(|a, b| a.key() == b.key());
        // A state stored before incidents kept their affiliations holds them in its records
        // only; a record's affiliation is its group, so learning it changes no group.
        for r in &self.claims {
            if let Some(a) = &r.claimant.affiliated_with {
                self.affiliations.learn(&r.claimant.id, a);
            }
            // Likewise the parties, which its records name by kind.
            if self.parties.would_learn(&r.claimant) {
                self.parties.learn(&r.claimant.id);
            }
        }
        self.compact();
    }

    /// Takes in everything `other` holds (on merge); `other` is left empty, pointing here.
    pub fn absorb(&mut self, other: &mut Incident, interner: &mut Interner) {
        self.profile.absorb(&other.profile);
        for e in std::mem::take(&mut other.evidence) {
            self.add_evidence(e);
        }
        for r in std::mem::take(&mut other.claims) {
            self.upsert(r);
        }
        // Each side's claimants take the affiliations the other's reports gave.
        for (claimant, affiliation) in std::mem::take(&mut other.affiliations).iter() {
            self.affiliations.learn(claimant, affiliation);
        }
        for party in std::mem::take(&mut other.parties).ids() {
            self.parties.learn(party);
        }
        self.regroup(interner);
        if other.opened < self.opened {
            // Keep the earliest opening so survivor choice stays order-independent.
            self.opened = other.opened.clone();
        }
        self.compact();
        other.absorbed_into = Some(self.id.clone());
        other.digest = Digest::default();
        other.grade.forget();
    }

    /// The standing claims (retractions left out).
    pub fn standing_claims(&self) -> impl Iterator<Item = &ClaimRecord> {
        self.claims.iter().filter(|r| r.stands())
    }

    /// Whether the incident still stands (was not merged into another).
    pub fn is_live(&self) -> bool {
        self.absorbed_into.is_none()
    }
}

#[cfg(all(test, target_pointer_width = "64"))]
mod tests {
    use super::*;

    /// Incidents keep a claim record per claimant and field, and evidence per report: their
    /// sizes are most of the state per incident, so growing them is a decision, not a slip.
    #[test]
    fn claim_records_and_evidence_stay_small() {
        assert_eq!(std::mem::size_of::<Assertion>(), 16);
        assert_eq!(std::mem::size_of::<ClaimRecord>(), 40);
        assert_eq!(std::mem::size_of::<Evidence>(), 32);
    }
}
