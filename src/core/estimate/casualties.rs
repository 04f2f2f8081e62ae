//! Low / best / high per (party, harm). Rules and reasons: `docs/reconciliation.md`.

use super::resolve::{claimant_ids, independent_count, Resolved};
use crate::core::model::{Assertion, Contribution, Harm, Party, SourceId};
use crate::core::view::{CasualtyEstimate, ClaimEntry, Figure};

fn figure<'a>(value: u32, backers: impl Iterator<Item = &'a Resolved<'a>> + Clone) -> Figure {
    Figure {
        value,
        party_claims_only: backers.clone().next().is_some()
            && backers.clone().all(|c| c.is_party()),
        sources: claimant_ids(backers),
    }
}

/// Weighted lower median of the points of one representative claim per independence group.
fn weighted_median(pool: &[(&Resolved<'_>, Contribution)]) -> u32 {
    // Representative per group: most credible, then the group's own voice (the Islamic State
    // over Amaq, which speaks for it), then smallest claimant id.
    fn rank<'a>(c: &'a Resolved<'_>) -> (u32, bool, std::cmp::Reverse<&'a SourceId>) {
        (
            c.weight(),
            c.claimant() == c.root(),
            std::cmp::Reverse(c.claimant()),
        )
    }
    let mut reps: Vec<&(&Resolved<'_>, Contribution)> = Vec::new();
    for item in pool {
        match reps.iter_mut().find(|r| r.0.root() == item.0.root()) {
            Some(r) => {
                if rank(item.0) > rank(r.0) {
                    *r = item;
                }
            }
            None => reps.push(item),
        }
    }
    reps.sort_by(|a, b| (a.1.point, a.0.claimant()).cmp(&(b.1.point, b.0.claimant())));
    let total: u32 = reps.iter().map(|r| r.0.weight()).sum();
    let mut cum = 0;
    for r in &reps {
        cum += r.0.weight();
        if cum * 2 >= total {
            return r.1.point;
        }
    }
    reps.last().map_or(0, |r| r.1.point)
}

/// Estimates one (party, harm) from its standing claims.
pub fn estimate(party: Party, outcome: Harm, claims: &[&Resolved<'_>]) -> CasualtyEstimate {
    let coded: Vec<(&Resolved<'_>, Contribution)> = claims
        .iter()
        .filter_map(|c| match c.assertion {
            Assertion::Casualties { count, .. } => count.contribution().map(|k| (*c, k)),
            _ => None,
        })
        .collect();
    let non_party: Vec<(&Resolved<'_>, Contribution)> = coded
        .iter()
        .filter(|(c, _)| !c.is_party())
        .copied()
        .collect();
    // Party claims never set low or best while any non-party figure exists.
    let pool = if non_party.is_empty() {
        &coded
    } else {
        &non_party
    };

    let (low, best, high) = if pool.is_empty() {
        (None, None, None)
    } else {
        let best_value = weighted_median(pool);
        let best = figure(
            best_value,
            pool.iter()
                .filter(|(_, k)| k.point == best_value)
                .map(|(c, _)| *c),
        );
        let low_value = pool.iter().filter_map(|(_, k)| k.low).min();
        let low = match low_value {
            // An "up to" figure can be the best below every lower bound given ("at least 10"
            // against "up to 5"): the low is then the best, as low never exceeds best.
            Some(v) if v > best_value => best.clone(),
            Some(v) => figure(
                v,
                pool.iter()
                    .filter(|(_, k)| k.low == Some(v))
                    .map(|(c, _)| *c),
            ),
            // Only "up to" figures: nothing bounds the count from below.
            None => figure(0, pool.iter().map(|(c, _)| *c)),
        };
        let high_value = coded.iter().map(|(_, k)| k.high).max().unwrap_or(0);
        let high = figure(
            high_value,
            coded
                .iter()
                .filter(|(_, k)| k.high == high_value)
                .map(|(c, _)| *c),
        );
        (Some(low), Some(best), Some(high))
    };

    let max_lo = coded.iter().map(|(_, k)| k.consistent.0).max();
    let min_hi = coded.iter().filter_map(|(_, k)| k.consistent.1).min();
    let disputed = matches!((max_lo, min_hi), (Some(lo), Some(hi)) if lo > hi);

    CasualtyEstimate {
        party,
        outcome,
        low,
        best,
        high,
        claimants: independent_count(claims.iter().copied()),
        confirmed: non_party.iter().any(|(c, _)| c.corroborates()),
        party_claims_only: !claims.is_empty() && claims.iter().all(|c| c.is_party()),
        disputed,
        claims: claims
            .iter()
            .filter_map(|c| match c.assertion {
                Assertion::Casualties { count, .. } => Some(ClaimEntry {
                    claimant: c.claimant().clone(),
                    claimant_kind: c.kind,
                    group: c.group().cloned(),
                    party_claim: c.is_party(),
                    count: *count,
                    stated_at: c.record.stated_at,
                    report_id: c.record.report_id.clone(),
                }),
                _ => None,
            })
            .collect(),
    }
}
