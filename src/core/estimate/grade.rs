//! The overall grade of an incident, in the spirit of Airwars. Reasons: `docs/reconciliation.md`.

use std::hash::BuildHasher;

use smallvec::SmallVec;

use super::categorical::{backed_actors, groups_disagree};
use super::resolve::{Claims, Resolved};
use crate::core::model::{Assertion, SourceId};
use crate::core::view::Grade;

/// Whether responsibility, cause or outcome is contested, read straight from the claims: the
/// same rule as the reconciled fields' `contested` flags, without building them.
pub fn contested(claims: &Claims<'_>) -> bool {
    let actors = claims
        .responsibility()
        .iter()
        .filter_map(|c| match c.assertion {
            Assertion::Responsibility { actor, stance } => Some((c, actor, *stance)),
            _ => None,
        });
    let causes = claims.causes().iter().filter_map(|c| match c.assertion {
        Assertion::Cause { cause } => cause.competing().map(|k| (c.root(), k)),
        _ => None,
    });
    let outcomes = claims.outcomes().iter().filter_map(|c| match c.assertion {
        Assertion::Outcome { outcome } => outcome.competing().map(|k| (c.root(), k)),
        _ => None,
    });
    groups_disagree(backed_actors(actors)) || groups_disagree(causes) || groups_disagree(outcomes)
}

/// Grades an incident from its standing claims, given whether any categorical field is
/// contested, and counts its independent claimants: the grade section of the view.
pub fn grade(claims: &[Resolved<'_>], contested: bool) -> (Grade, u32) {
    GradeTally::of(claims, contested).graded()
}

/// What the grade is computed from: the incident's independence groups, how many hold a
/// claimant that corroborates (not a party, not a relay), whether a non-party authority speaks, and whether a categorical field
/// is contested. The engine keeps one per incident, so that a report whose claims are all new
/// and come from groups surely new to the incident grades it without reading every claim
/// ([`GradeTally::with_new`]). A cache of what the claims give: it takes no part in equality.
#[derive(Debug, Clone, Copy, Default)]
pub struct GradeTally {
    /// One bit per independence group, chosen by a hash of its root: a clear bit says a group
    /// is new to the incident; a set one only that it may not be.
    roots: u64,
    /// Independence groups.
    groups: u32,
    /// Groups in which a claimant that corroborates speaks (not a party, not a relay).
    voiced: u32,
    /// Whether a non-party authority speaks.
    authority: bool,
    /// Whether responsibility, cause or outcome is contested.
    contested: bool,
    /// Whether the tally is current: unset until a full grading (a restored incident, or after
    /// a path that does not keep it).
    known: bool,
}

impl PartialEq for GradeTally {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for GradeTally {}

/// The bit of an independence group in [`GradeTally::roots`]. Any hash does: a bit only ever rules
/// a group in as possibly present, and then the claims are read.
fn root_bit(root: &SourceId) -> u64 {
    1 << (foldhash::fast::FixedState::default().hash_one(root.as_str()) & 63)
}

impl GradeTally {
    /// The tally of an incident's standing claims, in one pass: each independence group once,
    /// with whether a non-party claimant speaks in it. Claims come sorted by claimant within
    /// each kind of field, so a claim usually shares its group with the claim before it, and
    /// the list of groups is searched only on a change.
    pub fn of(claims: &[Resolved<'_>], contested: bool) -> Self {
        let mut groups: SmallVec<[(&SourceId, bool); 16]> = SmallVec::new();
        let mut last = usize::MAX;
        let mut tally = Self {
            contested,
            known: true,
            ..Self::default()
        };
        for c in claims {
            let root = c.root();
            let found = match groups.get(last) {
                Some((r, _)) if *r == root => Some(last),
                _ => groups.iter().position(|(r, _)| *r == root),
            };
            let i = found.unwrap_or_else(|| {
                tally.roots |= root_bit(root);
                groups.push((root, false));
                groups.len() - 1
            });
            if c.corroborates() {
                groups[i].1 = true;
                tally.authority |= c.kind.is_authority();
            }
            last = i;
        }
        tally.groups = u32::try_from(groups.len()).unwrap_or(u32::MAX);
        let voiced = groups.iter().filter(|(_, voiced)| *voiced).count();
        tally.voiced = u32::try_from(voiced).unwrap_or(u32::MAX);
        tally
    }

    /// The grade and the number of independence groups.
    pub fn graded(&self) -> (Grade, u32) {
        let grade = if self.contested {
            Grade::Contested
        } else if self.voiced >= 2 && self.authority {
            Grade::Confirmed
        } else if self.voiced >= 2 {
            Grade::Fair
        } else {
            Grade::Weak
        };
        (grade, self.groups)
    }

    /// Whether responsibility, cause or outcome was contested.
    pub fn contested(&self) -> bool {
        self.contested
    }

    /// Whether the tally is current.
    pub fn is_known(&self) -> bool {
        self.known
    }

    /// Marks the tally as no longer current.
    pub fn forget(&mut self) {
        self.known = false;
    }

    /// The tally after claims were added that are all new to the incident (none replaced a
    /// standing statement), given whether a categorical field is now contested: exact, or
    /// `None` when a claim's group may already be there (its bit is set), and only reading
    /// every claim can tell. Retractions are skipped: one that replaced nothing stands for no
    /// claim. The tally must be current.
    pub fn with_new<'a>(
        mut self,
        added: impl Iterator<Item = Resolved<'a>>,
        contested: bool,
    ) -> Option<Self> {
        debug_assert!(self.known);
        self.contested = contested;
        // The groups this report opened: those the bits cannot tell apart from older ones.
        let mut opened: SmallVec<[(&SourceId, bool); 4]> = SmallVec::new();
        for c in added.filter(|c| !c.assertion.is_retraction()) {
            let root = c.root();
            let voices = c.corroborates();
            match opened.iter_mut().find(|(r, _)| *r == root) {
                Some((_, voiced)) => {
                    if voices && !*voiced {
                        *voiced = true;
                        self.voiced += 1;
                    }
                }
                None => {
                    let bit = root_bit(root);
                    if self.roots & bit != 0 {
                        return None;
                    }
                    self.roots |= bit;
                    self.groups += 1;
                    self.voiced += u32::from(voices);
                    opened.push((root, voices));
                }
            }
            if voices {
                self.authority |= c.kind.is_authority();
            }
        }
        Some(self)
    }
}
