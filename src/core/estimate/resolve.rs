//! Claims as estimation sees them: the claimant resolved through the source registry, with its
//! credibility and whether it is a party.

use std::borrow::Cow;

use crate::core::incident::{ClaimRecord, Incident};
use crate::core::model::{Assertion, Source, SourceId};
use crate::core::registry::SourceRegistry;

/// A standing claim with its claimant resolved.
pub struct Resolved<'a> {
    /// The stored statement.
    pub record: &'a ClaimRecord,
    /// What it asserts.
    pub assertion: &'a Assertion,
    /// The claimant after the registry.
    pub source: Cow<'a, Source>,
    /// The claimant's credibility in percent.
    pub credibility: u8,
}

impl Resolved<'_> {
    /// Whether this is a party claim.
    pub fn is_party(&self) -> bool {
        self.source.kind.is_party()
    }

    /// The claimant's independence group.
    pub fn root(&self) -> &SourceId {
        self.source.independence_root()
    }

    /// The claimant's id.
    pub fn claimant(&self) -> &SourceId {
        &self.source.id
    }

    /// Credibility as a weight; never zero, so every claim takes part in a median.
    pub fn weight(&self) -> u32 {
        u32::from(self.credibility.max(1))
    }
}

/// Resolves every standing claim of an incident, in the incident's claim order.
pub fn resolve<'a>(incident: &'a Incident, registry: &SourceRegistry) -> Vec<Resolved<'a>> {
    // Sized once: a filtered iterator would grow the list several times.
    let mut out = Vec::with_capacity(incident.claims.len());
    out.extend(incident.standing_claims().map(|record| {
        let source = if registry.is_empty() {
            Cow::Borrowed(&*record.claimant)
        } else {
            Cow::Owned(registry.resolve(&record.claimant))
        };
        let credibility = registry.credibility(&source);
        Resolved {
            record,
            assertion: &record.assertion,
            source,
            credibility,
        }
    }));
    out
}

/// Sum over independence groups of the highest credibility in each group.
pub fn group_weight<'a>(claims: impl Iterator<Item = &'a Resolved<'a>>) -> u32 {
    let mut best: Vec<(&SourceId, u32)> = Vec::new();
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
