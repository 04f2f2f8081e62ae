//! Updates: what is published each time an incident's reconciled view changes, and the digest
//! that tells whether it did and which sections changed.

use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

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
    /// The section's place in the order of sections, as a number: the derived order, cheaper
    /// to compare.
    #[inline]
    pub fn rank(self) -> u32 {
        Sections::bit(self)
    }

    /// The path named in an update's `changes`, e.g. `casualties.military.killed`.
    pub fn path(self) -> String {
        let name = match self {
            Self::Location => "location",
            Self::Time => "time",
            Self::EventTypes => "event_types",
            Self::Targets => "targets",
            Self::Casualties(p, h) => {
                let (p, h) = (p.as_str(), h.as_str());
                let mut s = String::with_capacity(12 + p.len() + h.len());
                s.push_str("casualties.");
                s.push_str(p);
                s.push('.');
                s.push_str(h);
                return s;
            }
            Self::Responsibility => "responsibility",
            Self::Cause => "cause",
            Self::Outcome => "outcome",
            Self::Grade => "grade",
            Self::Evidence => "evidence",
        };
        name.to_string()
    }
}

/// Every party and harm, in their declared order: the casualty sections a set can hold.
const PARTIES: [Party; 6] = [
    Party::Civilians,
    Party::Military,
    Party::SecurityForces,
    Party::ArmedGroup,
    Party::Attackers,
    Party::Unknown,
];
const HARMS: [Harm; 4] = [Harm::Killed, Harm::Wounded, Harm::Missing, Harm::Captured];

/// A set of sections, one bit each, iterated in section order: a report marks the sections it
/// touched without sorting or deduplicating them. Bits 0–3 are location, time, event types
/// and targets, 4–27 the casualty estimates by (party, harm), 28–32 responsibility, cause,
/// outcome, grade and evidence: the derived order of [`Section`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sections(u64);

impl Sections {
    /// The bit of a section.
    #[inline]
    fn bit(section: Section) -> u32 {
        match section {
            Section::Location => 0,
            Section::Time => 1,
            Section::EventTypes => 2,
            Section::Targets => 3,
            Section::Casualties(p, h) => 4 + (p as u32) * 4 + h as u32,
            Section::Responsibility => 28,
            Section::Cause => 29,
            Section::Outcome => 30,
            Section::Grade => 31,
            Section::Evidence => 32,
        }
    }

    /// The section of a bit.
    fn section(bit: u32) -> Option<Section> {
        Some(match bit {
            0 => Section::Location,
            1 => Section::Time,
            2 => Section::EventTypes,
            3 => Section::Targets,
            4..=27 => {
                let i = (bit - 4) as usize;
                Section::Casualties(PARTIES[i / 4], HARMS[i % 4])
            }
            28 => Section::Responsibility,
            29 => Section::Cause,
            30 => Section::Outcome,
            31 => Section::Grade,
            32 => Section::Evidence,
            _ => return None,
        })
    }

    /// Adds a section.
    pub fn insert(&mut self, section: Section) {
        self.0 |= 1 << Self::bit(section);
    }

    /// Removes a section.
    pub fn remove(&mut self, section: Section) {
        self.0 &= !(1 << Self::bit(section));
    }

    /// Whether the set holds a section.
    pub fn contains(&self, section: Section) -> bool {
        self.0 & (1 << Self::bit(section)) != 0
    }

    /// How many sections of the set come before `section` in section order.
    fn count_before(&self, section: Section) -> usize {
        (self.0 & ((1 << Self::bit(section)) - 1)).count_ones() as usize
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// The sections, in section order.
    pub fn iter(self) -> impl Iterator<Item = Section> {
        let mut rest = self.0;
        std::iter::from_fn(move || {
            while rest != 0 {
                let bit = rest.trailing_zeros();
                rest &= rest - 1;
                if let Some(s) = Self::section(bit) {
                    return Some(s);
                }
            }
            None
        })
    }
}

impl Extend<Section> for Sections {
    fn extend<I: IntoIterator<Item = Section>>(&mut self, iter: I) {
        for s in iter {
            self.insert(s);
        }
    }
}

/// A fixed, seedless word-at-a-time hash (the FxHash step: rotate, xor, multiply), so digests
/// are the same in every process and every build. Digests are stored in the state changelog:
/// changing this function changes every digest once (a spurious version per incident).
struct StableHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl StableHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for StableHasher {
    fn finish(&self) -> u64 {
        // A final avalanche so that short inputs still spread over all 64 bits.
        let mut z = self.0;
        z = (z ^ (z >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
        z ^ (z >> 33)
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 56));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn write_i64(&mut self, i: i64) {
        self.add(i as u64);
    }
    fn write_isize(&mut self, i: isize) {
        self.add(i as u64);
    }
}

/// A stable hasher, for hashing a sequence of values without collecting them first.
pub(crate) fn stable_hasher() -> impl Hasher {
    StableHasher(0)
}

/// A stable 64-bit hash of a value.
pub fn stable_hash<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut h = StableHasher(0);
    value.hash(&mut h);
    h.finish()
}

/// Per-section hashes of a view. The engine keeps one per incident, of the last view it
/// published, and takes it section by section from the state (see
/// [`crate::core::estimate::section_hashes`]); [`Digest::of`] takes it from a view, to compare
/// two views. Held as the set of sections present and their hashes in section order, inline for
/// a typical incident's dozen sections: the digest is read and written at every report, and a
/// list of its own would be one more allocation to reach. Stored (serialised) as the list of
/// `(section, hash)` pairs in section order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Digest {
    /// The sections present, one bit each ([`Sections`]).
    present: Sections,
    /// Their hashes, in section order.
    hashes: SmallVec<[u64; DIGEST_INLINE]>,
}

/// Sections a digest holds without an allocation: the nine every view has, and three casualty
/// estimates.
const DIGEST_INLINE: usize = 12;

impl Digest {
    /// A digest of the given `(section, hash)` pairs, in any order; the last hash given for a
    /// section wins.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (Section, u64)>) -> Self {
        let mut d = Self::default();
        for (section, hash) in pairs {
            d.set(section, Some(hash));
        }
        d
    }

    /// Digests a view.
    pub fn of(view: &IncidentView) -> Self {
        let mut d = Self::from_pairs([
            (Section::Location, stable_hash(&view.location)),
            (Section::Time, stable_hash(&view.time)),
            (Section::EventTypes, stable_hash(&view.event_types)),
            (Section::Targets, stable_hash(&view.targets)),
            (Section::Responsibility, stable_hash(&view.responsibility)),
            (Section::Cause, stable_hash(&view.cause)),
            (Section::Outcome, stable_hash(&view.outcome)),
            (
                Section::Grade,
                stable_hash(&(view.grade, view.independent_claimants)),
            ),
            (Section::Evidence, stable_hash(&view.evidence)),
        ]);
        for e in &view.casualties {
            d.set(
                Section::Casualties(e.party, e.outcome),
                Some(stable_hash(e)),
            );
        }
        d
    }

    /// Whether the digest holds no section (nothing was published yet).
    pub fn is_empty(&self) -> bool {
        self.present.is_empty()
    }

    /// The sections held, in section order.
    pub fn sections(&self) -> Sections {
        self.present
    }

    /// The `(section, hash)` pairs, in section order.
    pub fn pairs(&self) -> impl Iterator<Item = (Section, u64)> + '_ {
        self.present.iter().zip(self.hashes.iter().copied())
    }

    /// Where a section's hash is, or would go, in `hashes`.
    fn slot(&self, section: Section) -> usize {
        self.present.count_before(section)
    }

    /// The hash kept for a section, `None` when the view has no such section.
    pub fn get(&self, section: Section) -> Option<u64> {
        self.present
            .contains(section)
            .then(|| self.hashes[self.slot(section)])
    }

    /// Sets a section's hash (`None`: the view has no such section); says whether it changed.
    fn set(&mut self, section: Section, hash: Option<u64>) -> bool {
        let i = self.slot(section);
        match (self.present.contains(section), hash) {
            (true, Some(h)) => std::mem::replace(&mut self.hashes[i], h) != h,
            (true, None) => {
                self.hashes.remove(i);
                self.present.remove(section);
                true
            }
            (false, Some(h)) => {
                self.hashes.insert(i, h);
                self.present.insert(section);
                true
            }
            (false, None) => false,
        }
    }

    /// Takes in fresh hashes of some sections (`None` for a section the view no longer has)
    /// and appends those that changed to `changed`, in the order given.
    pub fn refresh(&mut self, fresh: &[(Section, Option<u64>)], changed: &mut Vec<Section>) {
        if self.present.is_empty() && fresh.is_sorted_by(|a, b| a.0 < b.0) {
            // A first digest (a new incident), given in section order as the fold gives it:
            // each hash goes at the end, with no search for its place.
            for &(section, hash) in fresh {
                if let Some(h) = hash {
                    self.hashes.push(h);
                    self.present.insert(section);
                    changed.push(section);
                }
            }
            return;
        }
        for &(section, hash) in fresh {
            if self.set(section, hash) {
                changed.push(section);
            }
        }
    }

    /// Drops spare room a list of spilled hashes holds.
    pub fn compact(&mut self) {
        self.hashes.shrink_to_fit();
    }

    /// The sections that differ between `self` (old) and `new`, in section order.
    pub fn changes(&self, new: &Digest) -> Vec<Section> {
        let mut all = self.present;
        all.extend(new.present.iter());
        all.iter().filter(|s| self.get(*s) != new.get(*s)).collect()
    }
}

impl Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.pairs())
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let pairs: Vec<(Section, u64)> = Vec::deserialize(deserializer)?;
        Ok(Self::from_pairs(pairs))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn every_section() -> Vec<Section> {
        use crate::core::model::{Harm as H, Party as P};
        // Every variant, so a new one added without a rank fails the test below.
        let mut all = vec![
            Section::Location,
            Section::Time,
            Section::EventTypes,
            Section::Targets,
        ];
        for p in [
            P::Civilians,
            P::Military,
            P::SecurityForces,
            P::ArmedGroup,
            P::Attackers,
            P::Unknown,
        ] {
            for h in [H::Killed, H::Wounded, H::Missing, H::Captured] {
                all.push(Section::Casualties(p, h));
            }
        }
        all.extend([
            Section::Responsibility,
            Section::Cause,
            Section::Outcome,
            Section::Grade,
            Section::Evidence,
        ]);
        all
    }

    #[test]
    fn rank_orders_sections_as_their_derived_order() {
        let all = every_section();
        for a in &all {
            for b in &all {
                assert_eq!(a.cmp(b), a.rank().cmp(&b.rank()), "{a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn a_set_of_sections_holds_each_once_in_section_order() {
        let mut all = every_section();
        let mut set = Sections::default();
        assert!(set.is_empty());
        // Inserted in reverse and twice over, read back once each, sorted.
        set.extend(all.iter().rev().copied());
        set.extend(all.iter().copied());
        all.sort();
        assert_eq!(set.iter().collect::<Vec<_>>(), all);
    }

    #[test]
    fn refresh_adds_updates_and_removes_sections() {
        let c = Section::Casualties(Party::Civilians, Harm::Killed);
        let m = Section::Casualties(Party::Military, Harm::Wounded);
        let mut d = Digest::from_pairs([(Section::Grade, 3), (Section::Location, 1), (c, 2)]);
        let mut changed = Vec::new();
        d.refresh(
            &[
                (Section::Location, Some(1)),
                (c, None),
                (m, Some(5)),
                (Section::Grade, Some(4)),
                (Section::Evidence, Some(6)),
            ],
            &mut changed,
        );
        assert_eq!(changed, vec![c, m, Section::Grade, Section::Evidence]);
        assert_eq!(
            d.pairs().collect::<Vec<_>>(),
            vec![
                (Section::Location, 1),
                (m, 5),
                (Section::Grade, 4),
                (Section::Evidence, 6)
            ]
        );
        assert_eq!((d.get(m), d.get(c)), (Some(5), None));
        changed.clear();
        d.refresh(&[(c, None), (m, Some(5))], &mut changed);
        assert!(changed.is_empty());
    }

    #[test]
    fn a_digest_of_every_section_holds_each_hash_in_its_place() {
        // More sections than are held inline: the hashes spill to the heap, in order.
        let all = every_section();
        let d = Digest::from_pairs(all.iter().rev().zip(0u64..).map(|(s, h)| (*s, h)));
        let n = all.len() as u64;
        for (i, s) in all.iter().enumerate() {
            assert_eq!(d.get(*s), Some(n - 1 - i as u64), "{s:?}");
        }
        let mut fewer = d.clone();
        let mut changed = Vec::new();
        fewer.refresh(&[(all[5], None), (all[0], Some(99))], &mut changed);
        assert_eq!(changed, vec![all[5], all[0]]);
        assert_eq!(d.changes(&fewer), vec![all[0], all[5]]);
        assert_eq!(fewer.changes(&d), vec![all[0], all[5]]);
        assert!(d.changes(&d).is_empty());
    }

    #[test]
    fn a_digest_is_stored_as_its_pairs_in_section_order() {
        let c = Section::Casualties(Party::Civilians, Harm::Killed);
        let d = Digest::from_pairs([(Section::Evidence, 3), (c, 2), (Section::Location, 1)]);
        let json = serde_json::to_string(&d).unwrap();
        // The form a digest had when it was a list of pairs: stored states read back alike.
        assert_eq!(
            json,
            r#"[["location",1],[{"casualties":["civilians","killed"]},2],["evidence",3]]"#
        );
        let back: Digest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, d);
        assert!(serde_json::from_str::<Digest>("[]").unwrap().is_empty());
    }
}
