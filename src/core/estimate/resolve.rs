//! Claims as estimation sees them: the claimant resolved through the source registry, with its
//! credibility and whether it is a party.

use smallvec::SmallVec;

use crate::core::incident::{ClaimRecord, Incident};
use crate::core::model::{Assertion, SourceId, SourceKind};
#[cfg(doc)]
use crate::core::parties::Parties;
use crate::core::registry::SourceRegistry;

/// A standing claim with its claimant resolved through the registry. Everything is borrowed
/// from the incident or the registry: claims are resolved on every report that touches them.
pub struct Resolved<'a> {
    /// The stored statement.
    pub record: &'a ClaimRecord,
    /// What it asserts.
    pub assertion: &'a Assertion,
    /// The claimant's kind, after the registry.
    pub kind: SourceKind,
    /// Whether its claims are party claims: by its kind, or because a claim of the incident
    /// called it or a source of its group a party ([`Parties`]).
    party: bool,
    /// The claimant's independence group, after the registry.
    root: &'a SourceId,
    /// The claimant's credibility in percent.
    pub credibility: u8,
}

impl<'a> Resolved<'a> {
    /// Whether this is a party claim.
    pub fn is_party(&self) -> bool {
        self.party
    }

    /// Whether this claim corroborates: not a party's, not a relay's
    /// ([`crate::core::model::SourceKind::corroborates`]), and not from a source the operator
    /// registered at credibility 0 (one it does not trust).
    pub fn corroborates(&self) -> bool {
        !self.party && self.kind.corroborates() && self.credibility > 0
    }

    /// The claimant's independence group: its affiliation if it has one.
    pub fn root(&self) -> &'a SourceId {
        self.root
    }

    /// The claimant's independence group when it is another source's, not its own.
    pub fn group(&self) -> Option<&'a SourceId> {
        (*self.root != self.record.claimant.id).then_some(self.root)
    }

    /// The claimant's id.
    pub fn claimant(&self) -> &SourceId {
        &self.record.claimant.id
    }

    /// Credibility as a weight; never zero, so every claim takes part in a median.
    pub fn weight(&self) -> u32 {
        u32::from(self.credibility.max(1))
    }
}

/// An incident's standing claims, resolved, grouped by what they assert: casualty counts,
/// then responsibility, cause and outcome, each group in the incident's claim order (by
/// claimant). Each estimate reads its own group, not every claim.
#[derive(Default)]
pub struct Claims<'a> {
    all: Vec<Resolved<'a>>,
    /// Where the responsibility, cause and outcome groups start in `all`.
    starts: [usize; 3],
}

impl<'a> Claims<'a> {
    /// Every standing claim.
    pub fn all(&self) -> &[Resolved<'_>] {
        &self.all
    }

    /// The casualty counts.
    pub fn casualties(&self) -> &[Resolved<'_>] {
        &self.all[..self.starts[0]]
    }

    /// The claims and denials of responsibility.
    pub fn responsibility(&self) -> &[Resolved<'_>] {
        &self.all[self.starts[0]..self.starts[1]]
    }

    /// The causes asserted.
    pub fn causes(&self) -> &[Resolved<'_>] {
        &self.all[self.starts[1]..self.starts[2]]
    }

    /// The attack outcomes asserted.
    pub fn outcomes(&self) -> &[Resolved<'_>] {
        &self.all[self.starts[2]..]
    }
}

/// Who speaks for a party in an incident, beyond the kind each claim gives its claimant: the
/// claimants any claim of the incident called a party, and every source of their groups (Amaq,
/// said to speak for the Islamic State, when a report called the Islamic State the
/// perpetrator). A kind the registry fixes is not overridden: the registry is where an
/// operator settles what a source is.
#[derive(Default, Clone)]
pub struct PartyRule<'a> {
    /// The independence groups of the claimants called parties. A claimant called a party is
    /// in its own group, as the incident's claim records carry it.
    roots: SmallVec<[&'a SourceId; 2]>,
}

impl<'a> PartyRule<'a> {
    /// The rule of an incident under a registry.
    pub fn of(incident: &'a Incident, registry: &'a SourceRegistry) -> Self {
        let ids = incident.parties.ids();
        if ids.is_empty() {
            return Self::default();
        }
        let roots = ids
            .iter()
            .filter(|p| registry.fixed_kind(p).is_none_or(SourceKind::is_party))
            .map(|p| registry.root_of(p, incident.affiliations.group_of(p)))
            .collect();
        Self { roots }
    }

    /// Whether a claimant of the group `root` is a party by the rule.
    #[inline]
    fn covers(&self, root: &SourceId) -> bool {
        self.roots.contains(&root)
    }
}

/// Whether a claim of the incident other than `report_id`'s, or one of the claims the report
/// `superseded`, is a party claim by the incident's [`PartyRule`] alone, not by its own kind:
/// after a report named a new party, such a claim may have become a party claim since it was
/// digested, and the incident must be digested whole.
pub fn party_claims_by_rule(
    incident: &Incident,
    registry: &SourceRegistry,
    report_id: &crate::core::model::ReportId,
    superseded: &[ClaimRecord],
) -> bool {
    let rule = PartyRule::of(incident, registry);
    incident
        .claims
        .iter()
        .filter(|r| !r.report_id.same_copy(report_id))
        .chain(superseded)
        .any(|r| {
            let s = registry.resolve(&r.claimant);
            !s.kind.is_party() && !s.kind_fixed && rule.covers(s.root)
        })
}

/// Resolves one statement.
pub fn one<'a>(
    record: &'a ClaimRecord,
    registry: &'a SourceRegistry,
    parties: &PartyRule<'_>,
) -> Resolved<'a> {
    let source = registry.resolve(&record.claimant);
    let party = source.kind.is_party() || (!source.kind_fixed && parties.covers(source.root));
    Resolved {
        record,
        assertion: &record.assertion,
        kind: source.kind,
        party,
        root: source.root,
        credibility: source.credibility,
    }
}

/// Resolves every standing claim of an incident, grouped as [`Claims`] describes: the
/// incident keeps its claims sorted by kind of field, so each group is one run.
pub fn resolve<'a>(
    incident: &'a Incident,
    registry: &'a SourceRegistry,
    parties: &PartyRule<'_>,
) -> Claims<'a> {
    resolve_from(&incident.claims, registry, parties)
}

/// [`resolve`] without the casualty counts: responsibility, cause and outcome alone, for
/// digests that read no more. Their [`Claims::casualties`] is empty, and so [`Claims::all`]
/// lacks them too.
pub fn resolve_categorical<'a>(
    incident: &'a Incident,
    registry: &'a SourceRegistry,
    parties: &PartyRule<'_>,
) -> Claims<'a> {
    // Casualty counts are the first kind of field in the incident's order.
    let first = incident
        .claims
        .partition_point(|r| r.assertion.field_ref().kind() == 0);
    resolve_from(&incident.claims[first..], registry, parties)
}

fn resolve_from<'a>(
    records: &'a [ClaimRecord],
    registry: &'a SourceRegistry,
    parties: &PartyRule<'_>,
) -> Claims<'a> {
    // Sized once: a filtered iterator would grow the list several times.
    let mut all = Vec::with_capacity(records.len());
    // `starts[k]` is where group `k + 1` starts: set at its first claim or at the first of a
    // later group, else at the end (an empty group).
    let mut starts = [usize::MAX; 3];
    for record in records.iter().filter(|r| r.stands()) {
        let group = usize::from(record.assertion.field_ref().kind());
        for s in &mut starts[..group] {
            if *s == usize::MAX {
                *s = all.len();
            }
        }
        all.push(one(record, registry, parties));
    }
    for s in &mut starts {
        if *s == usize::MAX {
            *s = all.len();
        }
    }
    Claims { all, starts }
}

/// Sum over independence groups of the highest credibility in each group.
pub fn group_weight<'a>(claims: impl Iterator<Item = &'a Resolved<'a>>) -> u32 {
    let mut best: SmallVec<[(&SourceId, u32); 8]> = SmallVec::new();
    for c in claims {
        match best.iter_mut().find(|(r, _)| *r == c.root()) {
            Some((_, w)) => *w = (*w).max(c.weight()),
            None => best.push((c.root(), c.weight())),
        }
    }
    best.iter().map(|(_, w)| w).sum()
}

/// Number of distinct independence groups.
pub fn independent_count<'a>(claims: impl Iterator<Item = &'a Resolved<'a>> + Clone) -> u32 {
    let n = claims.clone().count();
    let distinct = if n <= 16 {
        // Small sets, the common case: compare pairwise instead of allocating.
        claims
            .clone()
            .enumerate()
            .filter(|(i, c)| !claims.clone().take(*i).any(|d| d.root() == c.root()))
            .count()
    } else {
        let mut roots: Vec<&SourceId> = claims.map(Resolved::root).collect();
        roots.sort_unstable();
        roots.dedup();
        roots.len()
    };
    u32::try_from(distinct).unwrap_or(u32::MAX)
}

/// Sorted, deduplicated claimant ids. Claims arrive sorted by claimant (the incident keeps them
/// so), so sorting is only a fallback.
pub fn claimant_ids<'a>(claims: impl Iterator<Item = &'a Resolved<'a>>) -> Vec<SourceId> {
    let mut ids: Vec<SourceId> = claims.map(|c| c.claimant().clone()).collect();
    if !ids.is_sorted() {
        ids.sort_unstable();
    }
    ids.dedup();
    ids
}
