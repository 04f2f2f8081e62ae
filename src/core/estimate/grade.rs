//! The overall grade of an incident, in the spirit of Airwars. Reasons: `docs/reconciliation.md`.

use smallvec::SmallVec;

use super::categorical::two_or_more;
use super::resolve::{Claims, Resolved};
use crate::core::model::{Assertion, SourceId, Stance};
use crate::core::view::Grade;

/// Whether responsibility, cause or outcome is contested, read straight from the claims: the
/// same rule as the reconciled fields' `contested` flags, without building them.
pub fn contested(claims: &Claims<'_>) -> bool {
    let actors = claims
        .responsibility()
        .iter()
        .filter_map(|c| match c.assertion {
            Assertion::Responsibility { actor, stance } if *stance != Stance::Denied => Some(actor),
            _ => None,
        });
    let causes = claims.causes().iter().filter_map(|c| match c.assertion {
        Assertion::Cause { cause } if cause.is_assertion() => Some(*cause),
        _ => None,
    });
    let outcomes = claims.outcomes().iter().filter_map(|c| match c.assertion {
        Assertion::Outcome { outcome } => Some(*outcome),
        _ => None,
    });
    two_or_more(actors) || two_or_more(causes) || two_or_more(outcomes)
}

/// Grades an incident from its standing claims, given whether any categorical field is
/// contested, and counts its independent claimants: the grade section of the view.
pub fn grade(claims: &[Resolved<'_>], contested: bool) -> (Grade, u32) {
    // One pass over the claims: each independence group once, with whether a non-party
    // claimant speaks in it. Claims come sorted by claimant within each kind of field, so a
    // claim usually shares its group with the claim before it, and the list of groups is
    // searched only on a change.
    let mut groups: SmallVec<[(&SourceId, bool); 16]> = SmallVec::new();
    let mut last = usize::MAX;
    let mut authority = false;
    for c in claims {
        let root = c.root();
        let found = match groups.get(last) {
            Some((r, _)) if *r == root => Some(last),
            _ => groups.iter().position(|(r, _)| *r == root),
        };
        let i = found.unwrap_or_else(|| {
            groups.push((root, false));
            groups.len() - 1
        });
        if !c.is_party() {
            groups[i].1 = true;
            authority |= c.kind.is_authority();
        }
        last = i;
    }
    let independent = groups.iter().filter(|(_, non_party)| *non_party).count();
    let grade = if contested {
        Grade::Contested
    } else if independent >= 2 && authority {
        Grade::Confirmed
    } else if independent >= 2 {
        Grade::Fair
    } else {
        Grade::Weak
    };
    (grade, u32::try_from(groups.len()).unwrap_or(u32::MAX))
}
